package htmlout

import (
	"bytes"
	"testing"

	"github.com/polyrpc/polyrpc/internal/gen/doc/htmlesc"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// TestDocumentLinks: the table of contents links every document to every
// other one as htmlesc.URL(DocHref(path)) would, and links to elements are
// written as htmlesc.URL(Href(anchor)) and htmlesc.HrefAttr(Href(anchor))
// would, for ordinary and awkward paths.
func TestDocumentLinks(t *testing.T) {
	paths := []string{
		"index", "acme/v1/index", "acme/v2/index", "acme/index", "other/v1/index", "acme/v1/deep/er/index",
		"a b/c#d?e/index", "x%41/y+z&w/index", `q"u'o<t>e/index`, "javascript:alert(1)", "a:b/c",
		"a//b/index", "./a/index", "../up/index", "a/./b/index", "a/../b", "é/漢/index", "",
	}
	docs := make([]model.DocumentRef, len(paths))
	index := map[string]string{}
	for i, p := range paths {
		docs[i] = model.DocumentRef{Title: p, Path: p}
		index["acme.v1.T"+p] = p
		index["file:"+p+"%4/+&x.proto"] = p
	}
	index["outside.v1.T"] = "not/a/document/of/the/run" // Href still links it
	r := &Run{}
	for _, from := range paths {
		v := &Page{Page: &model.Page{Document: &model.Document{Path: from, Documents: docs}, Ext: ".html", Index: index}, run: r}
		for i, d := range docs {
			var want, got bytes.Buffer
			htmlesc.URL(&want, v.DocHref(d.Path))
			v.linker().write(&got, i, htmlesc.NormURL)
			if got.String() != want.String() {
				t.Errorf("from %q to %q: %q, want %q", from, d.Path, got.String(), want.String())
			}
		}
		for anchor := range index {
			l := v.anchorLink(anchor)
			var want, got bytes.Buffer
			htmlesc.URL(&want, v.Href(anchor))
			v.writeURL(&got, l)
			if got.String() != want.String() {
				t.Errorf("from %q to %q: URL %q, want %q", from, anchor, got.String(), want.String())
			}
			want.Reset()
			got.Reset()
			htmlesc.HrefAttr(&want, v.Href(anchor))
			v.writeHref(&got, l)
			if got.String() != want.String() {
				t.Errorf("from %q to %q: href %q, want %q", from, anchor, got.String(), want.String())
			}
		}
	}
	if r.links == nil || !r.links.of(docs, ".html") {
		t.Error("the run's document links were not kept")
	}
}

// TestTypeLinks: type references link like TypeHref: to their definition,
// else to the reference URL of a well-known type (if it is a safe one),
// else nowhere.
func TestTypeLinks(t *testing.T) {
	docs := []model.DocumentRef{{Path: "a/index"}, {Path: "b/index"}}
	v := &Page{run: &Run{},
		Page: &model.Page{Document: &model.Document{Path: "a/index", Documents: docs}, Ext: ".html", Index: map[string]string{"a.T": "a/index", "b.T": "b/index"}}}
	for _, tr := range []model.TypeRef{
		{Name: "string"}, {Name: "T", FullName: "a.T"}, {Name: "b.T", FullName: "b.T"},
		{Name: "Any", FullName: "google.protobuf.Any", URL: "https://protobuf.dev/x#Any"},
		{Name: "X", FullName: "x.X", URL: "javascript:alert(1)"}, {Name: "Y", FullName: "y.Y"},
	} {
		l := v.typeLink(tr)
		if l.ok() != (v.TypeHref(tr) != "") {
			t.Errorf("%+v: link %v, TypeHref %q", tr, l.ok(), v.TypeHref(tr))
			continue
		}
		var want, got bytes.Buffer
		htmlesc.URL(&want, v.TypeHref(tr))
		v.writeURL(&got, l)
		if l.ok() && got.String() != want.String() {
			t.Errorf("%+v: %q, want %q", tr, got.String(), want.String())
		}
	}
}
