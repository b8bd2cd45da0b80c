package comment

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/polyrpc/polyrpc/internal/gen/doc/doctest"
)

// gfmRaw renders Markdown as GitHub does before its sanitizer: raw HTML
// kept, so that any markup a cell lets through shows.
var gfmRaw = goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))

// cellElements are the elements a cell may render to.
var cellElements = map[atom.Atom]bool{
	atom.Ul: true, atom.Ol: true, atom.Li: true, atom.Pre: true, atom.Code: true, atom.Br: true,
	atom.A: true, atom.Em: true, atom.Strong: true, atom.Del: true, atom.Img: true,
}

// checkCell renders MDCell(src) as the second cell of a table row and
// checks that the row stays one row of two cells, and that only the
// markup of lists, code, line breaks, links and emphasis comes out.
func checkCell(t *testing.T, src string) (cell *nethtml.Node) {
	t.Helper()
	c := MDCell(src, testResolve)
	if strings.ContainsAny(c, "\n\r") {
		t.Fatalf("MDCell(%q) = %q: a line break ends the row", src, c)
	}
	var out bytes.Buffer
	if err := gfmRaw.Convert([]byte("| a | b |\n|---|---|\n| x | "+c+" |\n"), &out); err != nil {
		t.Fatal(err)
	}
	doc, err := nethtml.Parse(&out)
	if err != nil {
		t.Fatal(err)
	}
	var trs, tds []*nethtml.Node
	doctest.Walk(doc, func(n *nethtml.Node) {
		if n.Type != nethtml.ElementNode {
			return
		}
		switch n.DataAtom {
		case atom.Tr:
			trs = append(trs, n)
		case atom.Td:
			tds = append(tds, n)
		}
	})
	if len(trs) != 2 || len(tds) != 2 {
		t.Fatalf("MDCell(%q) = %q: %d rows and %d cells, want 2 and 2", src, c, len(trs), len(tds))
	}
	doctest.Walk(tds[1], func(n *nethtml.Node) {
		if n == tds[1] || n.Type != nethtml.ElementNode {
			return
		}
		if !cellElements[n.DataAtom] {
			t.Errorf("MDCell(%q) = %q: element <%s> in the cell", src, c, n.Data)
		}
		for _, a := range n.Attr {
			switch {
			case a.Key == "href" || a.Key == "src":
				if !strings.HasPrefix(a.Val, "#") && !strings.HasPrefix(a.Val, "other.html#") && !strings.HasPrefix(a.Val, "https://") &&
					!strings.HasPrefix(a.Val, "http://") && !strings.HasPrefix(a.Val, "mailto:") {
					t.Errorf("MDCell(%q) = %q: %s=%q", src, c, a.Key, a.Val)
				}
			case a.Key == "start" && n.DataAtom == atom.Ol, a.Key == "alt", a.Key == "title":
			default:
				t.Errorf("MDCell(%q) = %q: attribute %s on <%s>", src, c, a.Key, n.Data)
			}
		}
	})
	return tds[1]
}

// TestMDCellBlocksSafe renders comments with lists and code blocks, made
// of pieces that matter to them and to Markdown, in a table cell.
func TestMDCellBlocksSafe(t *testing.T) {
	pieces := []string{
		"a", "Word", " ", "   ", "    ", "\t", "\n", "\n\n", "`", "``", "```", "~~~", "* ", "- ", "+ ", "1. ", "2) ", "10. ",
		"  - ", "<", ">", "&", "|", "\\", "\\|", "<b>", "</li>", "</ul>", "<pre>", "<script>x</script>", "<img src=x onerror=y>",
		"[a](#known.Anchor)", "[d](javascript:x)", "*", "_", "**", "---", "***", "https://e.com", "<https://e.com>",
		"[r]: javascript:x", "]:", "<br>", "\xff",
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 3000 {
		var b strings.Builder
		for range 1 + rng.IntN(14) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		checkCell(t, b.String())
		if t.Failed() {
			return
		}
	}
}

func FuzzMDCell(f *testing.F) {
	for _, s := range []string{"* a\n* b", "1. x\n2. y\n   - z", "text\n\n    code | x\n", "```\nfenced <b>\n```", "- `a\n- b`"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		checkCell(t, src)
	})
}

// TestMDCellBlocks checks the lists and code blocks of a cell.
func TestMDCellBlocks(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"Forms:\n\n* one\n* two\n\nAfter.", "Forms:<ul><li>one</li><li>two</li></ul>After."},
		{"Steps:\n1. a\n2. b", "Steps:<ol><li>a</li><li>b</li></ol>"},
		{"3. c\n4. d", `<ol start="3"><li>c</li><li>d</li></ol>`},
		{"- a\n  - b\n- c", "<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>"},
		{"- a\nlazy", "<ul><li>a lazy</li></ul>"},
		{"x\n\n    code <b> | y\n\nz", "x<pre>`code <b> \\| y`</pre>z"},
		{"```go\nf(`x`)\n\n  g()\n```", "<pre>``f(`x`)``<br><br>`  g()`</pre>"},
		{"p\n2. not a list", "p 2. not a list"},
		{"- `a\n- b`", "<ul><li>\\`a</li><li>b\\`</li></ul>"},
		{"* <script>", "<ul><li>&lt;script&gt;</li></ul>"},
		{"***", "***"},
	} {
		if got := MDCell(tc.src, testResolve); got != tc.want {
			t.Errorf("MDCell(%q):\ngot  %q\nwant %q", tc.src, got, tc.want)
		}
		checkCell(t, tc.src)
	}
}
