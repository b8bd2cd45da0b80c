package doc

import (
	"bytes"
	"testing"
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
