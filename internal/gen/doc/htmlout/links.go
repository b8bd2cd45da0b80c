package htmlout

import (
	"bytes"
	"net/url"
	"path"
	"strings"
	"sync"

	"github.com/polyrpc/polyrpc/internal/gen/doc/htmlesc"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// docLinks are the documents of a run made ready for the links of the
// HTML table of contents: every document lists every other one, so the
// links are put together from path segments split and path-escaped once
// per run, not once per pair of documents.
type docLinks struct {
	docs  []model.DocumentRef
	ext   string
	segs  [][]string // per document: its path with ext, split at "/"
	esc   [][]string // the same segments path-escaped (url.PathEscape)
	index map[string]int
}

func newDocLinks(docs []model.DocumentRef, ext string) *docLinks {
	l := &docLinks{docs: docs, ext: ext, segs: make([][]string, len(docs)), esc: make([][]string, len(docs)), index: make(map[string]int, len(docs))}
	for i, d := range docs {
		segs := strings.Split(d.Path+ext, "/")
		esc := make([]string, len(segs))
		for j, s := range segs {
			esc[j] = url.PathEscape(s)
		}
		l.segs[i], l.esc[i] = segs, esc
		if _, dup := l.index[d.Path]; !dup {
			l.index[d.Path] = i
		}
	}
	return l
}

// of reports whether l was made for these documents and extension.
func (l *docLinks) of(docs []model.DocumentRef, ext string) bool {
	return l != nil && l.ext == ext && len(l.docs) == len(docs) && (len(docs) == 0 || &l.docs[0] == &docs[0])
}

// docLinks returns the document links of the run for v.
func (r *Run) docLinks(v *Page) *docLinks {
	r.linksOnce.Do(func() { r.links = newDocLinks(v.Documents, v.Ext) })
	if r.links.of(v.Documents, v.Ext) {
		return r.links
	}
	return newDocLinks(v.Documents, v.Ext)
}

// tocLinker writes the links from one document to the documents of the
// run, v.DocHref(path) escaped with the escaper given, without building
// strings.
type tocLinker struct {
	links *docLinks
	root  bool     // the document is at the top: every link is "./" + path
	dir   []string // otherwise the directories of the document
}

func newTOCLinker(v *Page, links *docLinks) tocLinker {
	t := tocLinker{links: links}
	if dir := path.Dir(v.Path + v.Ext); dir == "." {
		t.root = true
	} else {
		t.dir = strings.Split(dir, "/")
	}
	return t
}

// write writes the link to document i as RelPath builds it, each path
// segment escaped with esc (which must leave "./" and "../" alone).
func (t *tocLinker) write(b *bytes.Buffer, i int, esc func(*bytes.Buffer, string)) {
	segEsc := t.links.esc[i]
	if t.root {
		b.WriteString("./")
		writeJoined(b, segEsc, esc)
		return
	}
	segs := t.links.segs[i]
	n := 0
	for n < len(t.dir) && n < len(segs)-1 && t.dir[n] == segs[n] {
		n++
	}
	if up := len(t.dir) - n; up > 0 {
		for ; up > 0; up-- {
			b.WriteString("../")
		}
	} else if len(segEsc)-n < 2 || segEsc[n] != ".." {
		b.WriteString("./") // as RelPath, unless the path climbs already
	}
	writeJoined(b, segEsc[n:], esc)
}

func writeJoined(b *bytes.Buffer, segs []string, esc func(*bytes.Buffer, string)) {
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('/')
		}
		esc(b, s)
	}
}

// htmlState is what the HTML writers of one document make once, on first
// use, for all the parts of the document (written in parallel).
type htmlState struct {
	once  sync.Once
	links tocLinker
	href  func(anchor string) string // v.Href, for comment.WriteHTML
}

func (v *Page) htmlState() *htmlState {
	v.html.once.Do(func() {
		v.html.links = newTOCLinker(v, v.run.docLinks(v))
		v.html.href = v.Href
	})
	return &v.html
}

// linker is the tocLinker of this document.
func (v *Page) linker() *tocLinker { return &v.htmlState().links }

// link is where a reference points: an anchor in this document or in
// another document of the run, or a URL. Written out it is what Href and
// TypeHref return, without building the string.
type link struct {
	anchor, url string
	found       bool   // the anchor is documented; otherwise url, if any
	doc         int    // index among the run's documents of the one holding anchor, or -1
	rel         string // with doc -1: the relative path to that document, "" for this one
}

func (l link) ok() bool { return l.found || l.url != "" }

// anchorLink is the link to a documented element, as Href.
func (v *Page) anchorLink(anchor string) link {
	doc, ok := v.Index[anchor]
	if !ok {
		return link{}
	}
	l := link{anchor: anchor, found: true, doc: -1}
	if doc != v.Path {
		if i, ok := v.linker().links.index[doc]; ok {
			l.doc = i
		} else {
			l.rel = model.RelPath(v.Path+v.Ext, doc+v.Ext)
		}
	}
	return l
}

// typeLink is the link of a type reference, as TypeHref.
func (v *Page) typeLink(t model.TypeRef) link {
	if t.FullName == "" {
		return link{}
	}
	if l := v.anchorLink(t.FullName); l.found {
		return l
	}
	return link{url: t.URL}
}

// writeLink writes a link: a URL through check, which also decides whether
// it is allowed, and the parts of a link to an anchor through esc.
func (v *Page) writeLink(b *bytes.Buffer, l link, check, esc func(*bytes.Buffer, string)) {
	if !l.found {
		check(b, l.url)
		return
	}
	if l.doc >= 0 {
		v.linker().write(b, l.doc, esc)
	} else {
		esc(b, l.rel)
	}
	b.WriteByte('#')
	esc(b, l.anchor)
}

// writeURL writes a link as htmlesc.URL writes its string.
func (v *Page) writeURL(b *bytes.Buffer, l link) { v.writeLink(b, l, htmlesc.URL, htmlesc.NormURL) }

// writeHref writes a link as htmlesc.HrefAttr writes its string.
func (v *Page) writeHref(b *bytes.Buffer, l link) {
	v.writeLink(b, l, htmlesc.HrefAttr, htmlesc.HrefBytes)
}
