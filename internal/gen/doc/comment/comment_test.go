package comment

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	nethtml "golang.org/x/net/html"

	"github.com/polyrpc/polyrpc/internal/gen/doc/doctest"
	"github.com/polyrpc/polyrpc/internal/gen/doc/htmlesc"
)

// The fast path must give the same HTML as the Markdown parser.
func TestPlainParagraphsMatchParser(t *testing.T) {
	for _, src := range []string{
		"One line.",
		"Two lines\nin one paragraph.",
		"First paragraph.\n\nSecond one, with \"quotes\" and 'apostrophes'.",
		"Ratio: 3/4 - roughly; see example.com = fine + more # not a heading!",
		"Unicode ünïcødé text.",
		"Set field_name and other_field | or a pipe.",
		"The `name` of the `Foo`, e.g. `projects/*/locations/*`.",
		"See [Foo] and [0, 100] and [a.].\n[Baz] starts a line.",
		"`code` starts a line and `` a ` b `` has a backtick.",
		"Code ` x ` keeps one space: `  y  ` and ` ` and `a_*b*_c`.",
		"Text <b>bold</b> & more > less; `<i>` in code.",
		"2023 was a year.\n42 is the answer.",
		"(Optional) \"Quoted\" and 'single'.",
		"ÉLAN starts with a letter.",
		"Paragraphs\n\n\n\nwith blank lines between.",
		"Section\n4.1 of RFC 5880, version\n1.1.gcp.",
	} {
		fast, ok := plainParagraphs(src)
		if !ok {
			t.Errorf("%q: fast path not taken", src)
			continue
		}
		if slow := markdownHTML(src, nil); fast != slow {
			t.Errorf("%q:\nfast %q\nslow %q", src, fast, slow)
		}
	}
	for _, src := range []string{
		"- list", "1. list", "# heading", "Title\n===", "a *b*", "a\n\n\n", "\n\nb", "    code", "a\n1.", "a\n2) b", "a\n---", "_em_ here", "a _b_ c", "a|b\n-|-",
		"trailing  \nspaces", "trailing \nspace", "end ", "a\n", "\na", "",
		"[x](http://example.com)", "[x]: http://example.com\n\n[x]", "[x\ny]: /u", "a &amp; b", "a &#42; b",
		"a \\* b", "~~gone~~", "tab\there", "cr\rhere", "nul\x00here", "bad \xff utf8",
		"```\nfence\n```", "`open\nclose`", "`` `` ` unbalanced", "1) list", "2. item", "> quote", "<div>html</div>",
		"a `b`_c", "x_", "_x", "a__b c_",
		"See [Foo][google.api.Foo].", "[Bar][]", "A [google.api.Foo] shortcut.", "see http://example.com", "[x]\n(https://e.com)",
	} {
		if _, ok := plainParagraphs(src); ok {
			t.Errorf("%q: fast path taken for Markdown", src)
		}
	}
}

// TestPlainParagraphsAgree: on texts made of pieces that matter to
// Markdown, and on the fuzz corpus, whenever the fast path is taken it
// gives what the parser gives.
func TestPlainParagraphsAgree(t *testing.T) {
	pieces := []string{
		"a", "Word", "b1", "é", "ß", "_", "x_y", "`", "``", "```", " ", " ", "\n", "\n\n", "\n\n\n", "1.1", "3)", "[", "]", "(", ")", ":", "&",
		"&amp;", "#", "<", ">", "*", "~", "\\", "!", "1.", "2)", "7", "|", "-", "\"", "'", ";", "=", "+", "\t", "http://x.y",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	taken := 0
	check := func(src string) {
		fast, ok := plainParagraphs(src)
		if !ok {
			return
		}
		taken++
		if slow := markdownHTML(src, nil); fast != slow {
			t.Errorf("%q:\nfast %q\nslow %q", src, fast, slow)
		}
	}
	for range 20000 {
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		check(b.String())
	}
	for _, src := range corpusComments(t) {
		check(src)
	}
	if taken < 1000 {
		t.Errorf("fast path taken only %d times", taken)
	}
}

// FuzzPlainParagraphs compares the fast path with the parser.
func FuzzPlainParagraphs(f *testing.F) {
	for _, seed := range []string{"a `b` [c][d.e] f_g", "A\n\n`x` y", "1 < 2 & 3 > 2", "[a]b](c)", "[a.b] [c.d\n] [e]\n(https://f)"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if fast, ok := plainParagraphs(src); ok {
			if slow := markdownHTML(src, nil); fast != slow {
				t.Errorf("%q:\nfast %q\nslow %q", src, fast, slow)
			}
		}
	})
}

// fuzzCorpus reads the first string of each input saved for a fuzz
// target.
func fuzzCorpus(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) < 2 || !strings.HasPrefix(lines[1], "string(") {
			t.Fatalf("%s: no string input", e.Name())
		}
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		out = append(out, s)
	}
	return out
}

// corpusComments are the fuzz corpus inputs of comments, and the comments
// of the proto sources of the documentation fuzzer, as Clean
// leaves them.
func corpusComments(t *testing.T) []string {
	out := fuzzCorpus(t, filepath.Join("testdata", "fuzz", "FuzzCommentInert"))
	// The documentation fuzzer is package doc's.
	for _, src := range fuzzCorpus(t, filepath.Join("..", "testdata", "fuzz", "FuzzDocSource")) {
		var lines []string
		for _, l := range strings.Split(src, "\n") {
			if _, c, ok := strings.Cut(l, "//"); ok {
				lines = append(lines, c)
			} else if len(lines) > 0 {
				out = append(out, Clean(strings.Join(lines, "\n")))
				lines = lines[:0]
			}
		}
		out = append(out, src)
	}
	return out
}

func goldmarkHTML(t *testing.T, src string) string {
	t.Helper()
	var b bytes.Buffer
	if err := markdown.Convert([]byte(src), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// FuzzCommentInert: whatever a comment holds, its HTML has no element or
// attribute that can run code, and its Markdown forms keep table cells on
// one line with pipes escaped.
func FuzzCommentInert(f *testing.F) {
	for _, seed := range []string{
		"<script>alert(1)</script>",
		"[a](javascript:alert(1)) [b]( JaVaScRiPt:alert(2)) ![i](data:text/html,x)",
		"<img src=x onerror=alert(1)>",
		"[ref]: javascript:alert(5)\n\n[x][ref]",
		"```\n<script>\n```\n<svg onload=alert(1)>",
		"a | b\n--|--\n<b onclick=x>c</b>",
		"[x](&#106;avascript:alert(1)) <javascript:alert(7)>",
		"`code | pipe` and ` unbalanced",
		"<a href=\"javascript:alert(4)\">raw</a>",
		"[<b>x</b>][known.Anchor] [y][.un.known] [known.Anchor][] [a.b]\n(javascript:alert(8)) https://e.com/\"<x> javascript://e.com",
	} {
		f.Add(seed)
	}
	resolve := func(a string) string {
		if a == "known.Anchor" {
			return "#known.Anchor"
		}
		return ""
	}
	f.Fuzz(func(t *testing.T, src string) {
		checkInertHTML(t, string(HTML(src, resolve)), false)
		// The Markdown output stays inert even for a renderer that passes
		// raw HTML through.
		var md bytes.Buffer
		if err := unsafeMarkdown.Convert([]byte(MDBlock(src, resolve)), &md); err != nil {
			t.Fatal(err)
		}
		// A reader's renderer links bare http(s) text as it sees fit (goldmark
		// links "https://#.a", which GitHub does not); that is no script.
		checkInertHTML(t, md.String(), true)
		cell := MDCell(src, resolve)
		if strings.Contains(cell, "\n") {
			t.Errorf("table cell spans lines: %q", cell)
		}
		if doctest.Cells("|"+cell+"|") != 1 {
			t.Errorf("table cell splits: %q", cell)
		}
	})
}

var unsafeMarkdown = goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))

func checkInertHTML(t *testing.T, out string, autolinked bool) {
	t.Helper()
	root, err := nethtml.Parse(strings.NewReader("<!DOCTYPE html><html><body>" + out + "</body></html>"))
	if err != nil {
		t.Fatal(err)
	}
	doctest.Walk(root, func(n *nethtml.Node) {
		if n.Type != nethtml.ElementNode {
			return
		}
		switch n.Data {
		case "script", "style", "iframe", "object", "embed", "img", "svg", "math", "form", "input", "link", "meta", "base":
			t.Errorf("element <%s> in %q", n.Data, out)
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(strings.ToLower(a.Key), "on") || a.Key == "style" || a.Key == "src" {
				t.Errorf("attribute %s in %q", a.Key, out)
			}
			lower := strings.ToLower(a.Val)
			if autolinked && (strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://")) {
				continue
			}
			if a.Key == "href" && !strings.HasPrefix(a.Val, "#") && !htmlesc.AbsoluteSafeURL(a.Val) {
				t.Errorf("href %q in %q", a.Val, out)
			}
		}
	})
}

// TestSanitizeSimpleAgrees: on the parser's HTML for texts made of
// Markdown pieces, and on hand-written HTML, sanitizeSimple either declines
// or gives what sanitize gives.
func TestSanitizeSimpleAgrees(t *testing.T) {
	pieces := []string{
		"a", "Word", "é", " ", "\n", "\n\n", "* ", "- ", "1. ", "# ", "> ", "    ", "```", "~~", "**", "*", "_", "`", "|", "---",
		"[a](#x)", "[b](https://e.com)", "[c](#known.Anchor)", "[d](https://e.com/?a=1&b=<2>)", "[e](mailto:x@y)", "[f](javascript:x)",
		"[g](#known%2EAnchor)", "[h](http://e.com \"t\")", "[i](<a b>)", "](", "[", "![i](x.png)", "<b>", "<!-- c -->", "&copy;", "&#34;", "&amp;", "&lt;", "\"", "'", ">",
		"\\", "\\*", "  \n", "a|b\n-|-\n", "\t", "\r", "\x00",
	}
	rng := rand.New(rand.NewPCG(3, 4))
	simple := 0
	check := func(h string) {
		out, ok := sanitizeSimple(nil, []byte(h), testResolve)
		if !ok {
			return
		}
		simple++
		if want := sanitize([]byte(h), testResolve); string(out) != want {
			t.Errorf("%q:\nsimple   %q\nsanitize %q", h, out, want)
		}
	}
	for range 20000 {
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		check(goldmarkHTML(t, escapeRawHTML(b.String())))
	}
	for _, src := range corpusComments(t) {
		check(goldmarkHTML(t, escapeRawHTML(src)))
	}
	// And HTML made of pieces, not all of which the renderer writes.
	tags := []string{
		"<a href=\"", "\">", "\"", "</a>", "<p>", "</p>", "<br />", "<br>", "<code>", "<A HREF=\"", "<a  href=\"", "<img src=\"",
		"&amp;", "&quot;", "&lt;", "&gt;", "&", "&lt", "&#39;", "'", "<", ">", "x", " ", "\n", "\r", "\x00", "\t", "é",
		"#known.Anchor", "#other", "javascript:", "https://h/", "mailto:", "<!-- c -->",
	}
	for range 20000 {
		var b strings.Builder
		for range 1 + rng.IntN(10) {
			b.WriteString(tags[rng.IntN(len(tags))])
		}
		check(b.String())
	}
	for _, h := range []string{
		"<p>a &quot;b&quot; 'c' &lt;d&gt; &amp;e</p>\n", "<p>x<br />\ny</p>\n<hr />\n", "<pre><code>a\n</code></pre>\n",
		"<h1>t</h1><ul>\n<li>a</li>\n</ul>", "<a href=\"#known.Anchor\">k</a></a>", "<a href=\"https://x.y/?a=1&amp;b=&quot;\">x</a>",
		"<a href=\"#x&copy;\">c</a>", "<a href=\"javascript:x\"><a href=\"#\">n</a></a>", "<a href=\"\">e</a>", "<a href='x'>q</a>", "<P>upper</P>", "<p>a &copy; b</p>", "<p class=x>", "<br/>", "<p>&#39;</p>", "a > b",
		"<table>\n<thead>\n<tr>\n<th>a</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>b</td>\n</tr>\n</tbody>\n</table>\n",
	} {
		check(h)
	}
	if simple < 5000 {
		t.Errorf("sanitizeSimple accepted only %d inputs", simple)
	}
}

func testResolve(a string) string {
	if a == "known.Anchor" {
		return "other.html#known.Anchor"
	}
	return ""
}

// FuzzSanitizeSimple compares sanitizeSimple with sanitize on any HTML.
func FuzzSanitizeSimple(f *testing.F) {
	for _, seed := range []string{"<a href=\"#known.Anchor\">k</a>", "<a href=\"https://a.b/?x&amp;y\">l</a>", "<p>a &quot;b&quot; 'c'</p>\n", "<br /><hr />", "<code>&lt;x&gt;</code>", "<p>&amp</p>", "<em>a</em\n>"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if out, ok := sanitizeSimple(nil, []byte(h), testResolve); ok {
			if want := sanitize([]byte(h), testResolve); string(out) != want {
				t.Errorf("%q:\nsimple   %q\nsanitize %q", h, out, want)
			}
		}
	})
}

// TestMarkdownHelpersAgree: the Markdown helpers give what their
// straightforward forms (comment_ref_test.go) give, on texts made of
// pieces that matter to them and on the fuzz corpus.
func TestMarkdownHelpersAgree(t *testing.T) {
	pieces := []string{
		"a", "Word", "é", " ", "   ", "\n", "\n\n", "`", "``", "```", "~~~", "    ```", "<", ">", "&", "&amp;", "|", "\\", "\\|",
		"[a](#known.Anchor)", "[b](#other)", "[c](https://e.com)", "[d](javascript:x)", "](", "[", "]", "]:", "[r]: http://x",
		"[r]: javascript:x", "  [s]: <https://y>", "(", ")", "* ", "#", "<br><br>", "\t",
		"](  <#known.Anchor>", "](&lt;https://e.com&gt;)", "](\t#known.Anchor)", "](\f", "](#known.Anchor", "#known.Anchor", "https://e.com", "\xff",
	}
	rng := rand.New(rand.NewPCG(5, 6))
	check := func(src string) {
		if got, want := MDBlock(src, testResolve), refMdBlock(src, testResolve); got != want {
			t.Errorf("MDBlock(%q):\ngot  %q\nwant %q", src, got, want)
		}
		if got, want := MDCell(src, testResolve), refMdCell(src, testResolve); got != want {
			t.Errorf("MDCell(%q):\ngot  %q\nwant %q", src, got, want)
		}
		if got, want := escapeRawHTML(src), refEscapeRawHTML(src); got != want {
			t.Errorf("escapeRawHTML(%q):\ngot  %q\nwant %q", src, got, want)
		}
	}
	for range 20000 {
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		check(b.String())
	}
	for _, src := range corpusComments(t) {
		check(src)
	}
	for _, src := range benchComments() {
		check(src)
	}
}

// TestWriteCommentHTML: writing a comment to a buffer gives what
// HTML returns.
func TestWriteCommentHTML(t *testing.T) {
	srcs := append(benchComments(), corpusComments(t)...)
	srcs = append(srcs, "", "  \n ", "[x]: https://example.com", "Plain.", "See [it](#known.Anchor).")
	var b bytes.Buffer
	for _, src := range srcs {
		b.Reset()
		b.WriteString("prefix")
		n := WriteHTML(&b, src, testResolve)
		want := string(HTML(src, testResolve))
		if got := b.String(); got != "prefix"+want || n != len(want) {
			t.Errorf("%q: wrote %q (%d), want %q", src, got, n, want)
		}
	}
}

// FuzzMarkdownHelpers compares the Markdown helpers with their
// straightforward forms.
func FuzzMarkdownHelpers(f *testing.F) {
	for _, seed := range []string{"a `b|c` | d\n\n```\n<x>\n", "[a](#known.Anchor) [r]: javascript:x", "x\\\n~~~\ny"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if got, want := MDBlock(src, testResolve), refMdBlock(src, testResolve); got != want {
			t.Errorf("MDBlock(%q):\ngot  %q\nwant %q", src, got, want)
		}
		if got, want := MDCell(src, testResolve), refMdCell(src, testResolve); got != want {
			t.Errorf("MDCell(%q):\ngot  %q\nwant %q", src, got, want)
		}
		if got, want := escapeRawHTML(src), refEscapeRawHTML(src); got != want {
			t.Errorf("escapeRawHTML(%q):\ngot  %q\nwant %q", src, got, want)
		}
	})
}

// TestCommentCache: comments rendered by the parser are kept only when
// their HTML does not depend on the document's links.
func TestCommentCache(t *testing.T) {
	linked := "See [the thing](#known.Anchor), **now**."
	other := func(a string) string {
		if a == "known.Anchor" {
			return "elsewhere.html#known.Anchor"
		}
		return ""
	}
	for range 2 {
		for _, c := range []struct {
			resolve func(string) string
			want    string
		}{
			{testResolve, `<p>See <a href="other.html#known.Anchor" rel="nofollow noopener">the thing</a>, <strong>now</strong>.</p>` + "\n"},
			{other, `<p>See <a href="elsewhere.html#known.Anchor" rel="nofollow noopener">the thing</a>, <strong>now</strong>.</p>` + "\n"},
			{nil, `<p>See <span class="link-removed" title="not documented here: known.Anchor">the thing</span>, <strong>now</strong>.</p>` + "\n"},
		} {
			if got := string(HTML(linked, c.resolve)); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		}
	}
	if _, ok := renderedComments.get(linked); ok {
		t.Errorf("a comment with a link to an anchor was kept")
	}
	plain := "Some **bold** and [an external link](https://example.com/x) text."
	want := markdownHTML(plain, nil)
	for _, resolve := range []func(string) string{nil, testResolve, other} {
		if got := string(HTML(plain, resolve)); got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	}
	if h, ok := renderedComments.get(plain); !ok || h != want {
		t.Errorf("kept %q, %v; want %q", h, ok, want)
	}
}

// TestCommentConcurrent renders comments from several goroutines, as a
// parallel build does.
func TestCommentConcurrent(t *testing.T) {
	comments := benchComments()
	want := make([]string, len(comments))
	for i, c := range comments {
		want[i] = markdownHTML(c, testResolve)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 3 * len(comments) {
				i := (k + g*7) % len(comments)
				if got := string(HTML(comments[i], testResolve)); got != want[i] {
					t.Errorf("%q:\ngot  %q\nwant %q", comments[i], got, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}
