package doc

import (
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/polyrpc/polyrpc/internal/gen/doc/doctest"
)

// htmlDoc is a parsed generated page.
type htmlDoc struct {
	name  string
	root  *html.Node
	ids   map[string]int
	links []string
}

func parseHTML(t *testing.T, name, src string) *htmlDoc {
	t.Helper()
	root, err := html.Parse(strings.NewReader(src))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	d := &htmlDoc{name: name, root: root, ids: map[string]int{}}
	doctest.Walk(root, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		for _, a := range n.Attr {
			switch a.Key {
			case "id":
				d.ids[a.Val]++
			case "href":
				if n.DataAtom == atom.A {
					d.links = append(d.links, a.Val)
				}
			}
		}
	})
	return d
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// checkHTMLSet checks every HTML document of one run: unique ids, links
// that resolve (in the page and across documents), and no executable
// markup besides the page's own script.
func checkHTMLSet(t *testing.T, files map[string]string) {
	t.Helper()
	docs := map[string]*htmlDoc{}
	for name, src := range files {
		if strings.HasSuffix(name, ".html") {
			docs[name] = parseHTML(t, name, src)
		}
	}
	if len(docs) == 0 {
		t.Fatal("no HTML generated")
	}
	for name, d := range docs {
		for id, n := range d.ids {
			if n > 1 {
				t.Errorf("%s: id %q used %d times", name, id, n)
			}
		}
		for _, l := range d.links {
			u, err := url.Parse(l)
			if err != nil {
				t.Errorf("%s: bad link %q: %v", name, l, err)
				continue
			}
			switch {
			case u.Scheme == "https":
				continue // reference documentation of well-known types, comment links
			case u.Scheme != "":
				if u.Scheme != "http" && u.Scheme != "mailto" {
					t.Errorf("%s: link with scheme %q: %q", name, u.Scheme, l)
				}
				continue
			}
			target := d
			if u.Path != "" {
				p := path.Join(path.Dir(name), u.Path)
				target = docs[p]
				if target == nil {
					t.Errorf("%s: link %q points at %s, which was not generated", name, l, p)
					continue
				}
			}
			if u.Fragment != "" && target.ids[u.Fragment] == 0 {
				t.Errorf("%s: link %q: no element with id %q in %s", name, l, u.Fragment, target.name)
			}
			if u.Path == "" && u.Fragment == "" {
				t.Errorf("%s: empty link %q", name, l)
			}
		}
		checkInert(t, d)
	}
}

var dangerousScheme = regexp.MustCompile(`(?i)^\s*(javascript|vbscript|data|file):`)

// checkInert fails on any markup that could run code, other than the one
// inline script of the page itself.
func checkInert(t *testing.T, d *htmlDoc) {
	t.Helper()
	scripts, styles := 0, 0
	doctest.Walk(d.root, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.DataAtom {
		case atom.Script:
			scripts++
			if _, ok := attr(n, "src"); ok {
				t.Errorf("%s: script with src", d.name)
			}
		case atom.Style:
			styles++
		case atom.Iframe, atom.Object, atom.Embed, atom.Img, atom.Svg, atom.Math, atom.Form, atom.Link, atom.Base, atom.Meta:
			if n.DataAtom == atom.Meta && n.Parent != nil && n.Parent.DataAtom == atom.Head {
				break
			}
			t.Errorf("%s: unexpected <%s> element", d.name, n.Data)
		case atom.A:
			if _, ok := attr(n, "href"); !ok {
				t.Errorf("%s: <a> without href", d.name)
			}
		case atom.Input:
			if id, _ := attr(n, "id"); id != "rpcdoc-search" {
				t.Errorf("%s: unexpected <input> %v", d.name, n.Attr)
			}
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(strings.ToLower(a.Key), "on") {
				t.Errorf("%s: event handler attribute %s=%q on <%s>", d.name, a.Key, a.Val, n.Data)
			}
			switch a.Key {
			case "href", "src", "action", "formaction", "xlink:href":
				if dangerousScheme.MatchString(a.Val) {
					t.Errorf("%s: dangerous URL %s=%q on <%s>", d.name, a.Key, a.Val, n.Data)
				}
			case "style":
				t.Errorf("%s: style attribute on <%s>", d.name, n.Data)
			}
		}
	})
	if scripts != 1 {
		t.Errorf("%s: %d <script> elements, want exactly the page's own one", d.name, scripts)
	}
	if styles != 1 {
		t.Errorf("%s: %d <style> elements, want 1", d.name, styles)
	}
}

func TestHTMLStructure(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			files := generate(t, compileRequest(t, "format=html,layout="+layoutOf(tc.param), goldenFiles...))
			checkHTMLSet(t, files)
		})
	}
}

func layoutOf(param string) string {
	for _, p := range strings.Split(param, ",") {
		if v, ok := strings.CutPrefix(p, "layout="); ok {
			return v
		}
	}
	return "single"
}

// TestHostileCommentsInert checks the hostile file in detail: its text is
// shown, but none of it is markup.
func TestHostileCommentsInert(t *testing.T) {
	files := generate(t, compileRequest(t, "", "hostile/v1/hostile.proto"))
	src := files["index.html"]
	d := parseHTML(t, "index.html", src)
	checkInert(t, d)
	// The script element's text is the page's own; comments must not add
	// alert calls to it.
	doctest.Walk(d.root, func(n *html.Node) {
		if n.DataAtom == atom.Script && n.FirstChild != nil && strings.Contains(n.FirstChild.Data, "alert") {
			t.Errorf("comment text reached the page script")
		}
		if n.DataAtom == atom.A {
			if href, ok := attr(n, "href"); ok && (strings.Contains(strings.ToLower(href), "script") || strings.HasPrefix(href, "data")) {
				t.Errorf("unsafe link kept: %q", href)
			}
		}
	})
	// Comment text stays visible as text.
	for _, want := range []string{"raw link", "bold", "https://example.com/?a=1&amp;b=2"} {
		if !strings.Contains(src, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Code blocks keep their content, escaped.
	if !strings.Contains(src, `&lt;script&gt;alert(&#34;in code&#34;)&lt;/script&gt;`) && !strings.Contains(src, `&lt;script&gt;alert(&quot;in code&quot;)&lt;/script&gt;`) {
		t.Errorf("fenced code in a comment was not kept as escaped text")
	}
}

// mdAnchors returns the anchors a Markdown document defines.
var (
	// GitHub drops id attributes but keeps name, so anchors carry both.
	mdAnchorRe = regexp.MustCompile(`<a id="([^"]+)" name="([^"]+)"></a>`)
	mdLinkRe   = regexp.MustCompile(`\]\(([^)\s]+)\)`)
)

// TestMarkdownStructure checks that links resolve and every table row has
// as many cells as its header.
func TestMarkdownStructure(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			files := generate(t, compileRequest(t, "format=markdown,layout="+layoutOf(tc.param), goldenFiles...))
			anchors := map[string]map[string]bool{}
			for name, src := range files {
				anchors[name] = map[string]bool{}
				for _, m := range mdAnchorRe.FindAllStringSubmatch(src, -1) {
					if m[1] != m[2] {
						t.Errorf("%s: anchor id %q and name %q differ", name, m[1], m[2])
					}
					if anchors[name][m[1]] {
						t.Errorf("%s: anchor %q defined twice", name, m[1])
					}
					anchors[name][m[1]] = true
				}
			}
			var names []string
			for n := range files {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, name := range names {
				src := files[name]
				checkMarkdownTables(t, name, src)
				inFence := false
				for _, line := range strings.Split(src, "\n") {
					if strings.HasPrefix(line, "```") {
						inFence = !inFence
					}
					if inFence {
						continue
					}
					for _, m := range mdLinkRe.FindAllStringSubmatch(line, -1) {
						u, err := url.Parse(m[1])
						if err != nil {
							t.Errorf("%s: bad link %q", name, m[1])
							continue
						}
						if u.Scheme != "" {
							if u.Scheme != "https" && u.Scheme != "http" {
								t.Errorf("%s: link with scheme %q", name, m[1])
							}
							continue
						}
						target := name
						if u.Path != "" {
							target = path.Join(path.Dir(name), u.Path)
							if _, ok := files[target]; !ok {
								t.Errorf("%s: link %q to missing document %s", name, m[1], target)
								continue
							}
						}
						if u.Fragment != "" && !anchors[target][u.Fragment] {
							t.Errorf("%s: link %q: no anchor %q in %s", name, m[1], u.Fragment, target)
						}
					}
				}
			}
		})
	}
}

// checkMarkdownTables counts the unescaped pipes of GitHub table rows.
func checkMarkdownTables(t *testing.T, name, src string) {
	t.Helper()
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		if i+1 < len(lines) && strings.HasPrefix(lines[i], "|") && strings.HasPrefix(lines[i+1], "|-") || (i+1 < len(lines) && strings.HasPrefix(lines[i+1], "|--:")) {
			want := doctest.Cells(lines[i])
			for j := i + 2; j < len(lines) && strings.HasPrefix(lines[j], "|"); j++ {
				if got := doctest.Cells(lines[j]); got != want {
					t.Errorf("%s:%d: table row has %d cells, header has %d:\n%s", name, j+1, got, want, lines[j])
				}
				if !strings.HasSuffix(lines[j], "|") {
					t.Errorf("%s:%d: table row does not end with |", name, j+1)
				}
			}
		}
	}
}
