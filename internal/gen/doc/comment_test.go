package doc

import (
	"bytes"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	nethtml "golang.org/x/net/html"
)

// The fast path must give the same HTML as the Markdown parser.
func TestPlainParagraphsMatchParser(t *testing.T) {
	for _, src := range []string{
		"One line.",
		"Two lines\nin one paragraph.",
		"First paragraph.\n\nSecond one, with \"quotes\" and 'apostrophes'.",
		"Ratio: 3/4 - roughly; see http://example.com = fine + more # not a heading!",
		"Unicode ünïcødé text.",
		"Set field_name and other_field | or a pipe.",
	} {
		fast, ok := plainParagraphs(src)
		if !ok {
			t.Errorf("%q: fast path not taken", src)
			continue
		}
		slow := sanitize(goldmarkHTML(t, src), nil)
		if fast != slow {
			t.Errorf("%q:\nfast %q\nslow %q", src, fast, slow)
		}
	}
	for _, src := range []string{"- list", "1. list", "# heading", "Title\n===", "a *b*", "a\n\n\nb", "    code", "a\n---", "_em_ here", "a _b_ c", "a|b\n-|-"} {
		if _, ok := plainParagraphs(src); ok {
			t.Errorf("%q: fast path taken for Markdown", src)
		}
	}
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
		checkInertHTML(t, string(commentHTML(src, resolve)))
		// The Markdown output stays inert even for a renderer that passes
		// raw HTML through.
		var md bytes.Buffer
		if err := unsafeMarkdown.Convert([]byte(mdBlock(src, resolve)), &md); err != nil {
			t.Fatal(err)
		}
		checkInertHTML(t, md.String())
		cell := mdCell(src, resolve)
		if strings.Contains(cell, "\n") {
			t.Errorf("table cell spans lines: %q", cell)
		}
		if cells("|"+cell+"|") != 1 {
			t.Errorf("table cell splits: %q", cell)
		}
	})
}

var unsafeMarkdown = goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))

func checkInertHTML(t *testing.T, out string) {
	t.Helper()
	root, err := nethtml.Parse(strings.NewReader("<!DOCTYPE html><html><body>" + out + "</body></html>"))
	if err != nil {
		t.Fatal(err)
	}
	walk(root, func(n *nethtml.Node) {
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
			if a.Key == "href" && !strings.HasPrefix(a.Val, "#") && !absoluteSafeURL(a.Val) {
				t.Errorf("href %q in %q", a.Val, out)
			}
		}
	})
}
