package doc

import (
	"bytes"
	"testing"
)

// TestTOCLinks: the table of contents links every document to every other
// one as escURL(DocHref(path)) would, for ordinary and awkward paths.
func TestTOCLinks(t *testing.T) {
	paths := []string{
		"index", "acme/v1/index", "acme/v2/index", "acme/index", "other/v1/index", "acme/v1/deep/er/index",
		"a b/c#d?e/index", "x%41/y+z&w/index", `q"u'o<t>e/index`, "javascript:alert(1)", "a:b/c",
		"a//b/index", "./a/index", "../up/index", "a/./b/index", "a/../b", "é/漢/index", "",
	}
	docs := make([]DocumentRef, len(paths))
	for i, p := range paths {
		docs[i] = DocumentRef{Title: p, Path: p}
	}
	r := &renderer{}
	for _, from := range paths {
		v := &view{Document: &Document{Path: from, Documents: docs}, ext: ".html", r: r}
		links := newTOCLinker(v, r.docLinks(v))
		for i, d := range docs {
			var want, got bytes.Buffer
			escURL(&want, v.DocHref(d.Path))
			links.write(&got, i)
			if got.String() != want.String() {
				t.Errorf("from %q to %q: %q, want %q", from, d.Path, got.String(), want.String())
			}
		}
	}
	if r.links == nil || !r.links.of(docs, ".html") {
		t.Error("the run's document links were not kept")
	}
}
