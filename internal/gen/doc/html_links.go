package doc

import (
	"bytes"
	"net/url"
	"path"
	"strings"
)

// docLinks are the documents of a run made ready for the links of the
// HTML table of contents: every document lists every other one, so the
// links are put together from path segments split and escaped once per
// run, not once per pair of documents.
type docLinks struct {
	docs []DocumentRef
	ext  string
	segs [][]string // per document: its path with ext, split at "/"
	esc  [][]string // the same segments path-escaped and normalised as escURL does
}

func newDocLinks(docs []DocumentRef, ext string) *docLinks {
	l := &docLinks{docs: docs, ext: ext, segs: make([][]string, len(docs)), esc: make([][]string, len(docs))}
	var b bytes.Buffer
	for i, d := range docs {
		segs := strings.Split(d.Path+ext, "/")
		esc := make([]string, len(segs))
		for j, s := range segs {
			b.Reset()
			normURL(&b, url.PathEscape(s))
			esc[j] = b.String()
		}
		l.segs[i], l.esc[i] = segs, esc
	}
	return l
}

// of reports whether l was made for these documents and extension.
func (l *docLinks) of(docs []DocumentRef, ext string) bool {
	return l != nil && l.ext == ext && len(l.docs) == len(docs) && (len(docs) == 0 || &l.docs[0] == &docs[0])
}

// docLinks returns the document links of the run for v.
func (r *renderer) docLinks(v *view) *docLinks {
	r.linksOnce.Do(func() { r.links = newDocLinks(v.Documents, v.ext) })
	if r.links.of(v.Documents, v.ext) {
		return r.links
	}
	return newDocLinks(v.Documents, v.ext)
}

// tocLinker writes the links from one document to the documents of the
// run: escURL(v.DocHref(path)), without building strings.
type tocLinker struct {
	links *docLinks
	root  bool     // the document is at the top: every link is "./" + path
	dir   []string // otherwise the directories of the document
}

func newTOCLinker(v *view, links *docLinks) tocLinker {
	t := tocLinker{links: links}
	if dir := path.Dir(v.Path + v.ext); dir == "." {
		t.root = true
	} else {
		t.dir = strings.Split(dir, "/")
	}
	return t
}

// write writes the link to document i, as relPath builds it.
func (t *tocLinker) write(b *bytes.Buffer, i int) {
	esc := t.links.esc[i]
	if t.root {
		b.WriteString("./")
		writeJoined(b, esc)
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
	} else if len(esc)-n < 2 || esc[n] != ".." {
		b.WriteString("./") // as relPath, unless the path climbs already
	}
	writeJoined(b, esc[n:])
}

func writeJoined(b *bytes.Buffer, segs []string) {
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(s)
	}
}

// link is where a reference points: an anchor in the document at rel (a
// relative path, "" for this document), or a URL. Written out it is
// rel + "#" + anchor, or url: Href and TypeHref without building the
// string.
type link struct {
	rel, anchor, url string
	found            bool
}

func (l link) ok() bool { return l.found || l.url != "" }

// anchorLink is the link to a documented element, as Href.
func (v *view) anchorLink(anchor string) link {
	doc, ok := v.index[anchor]
	if !ok {
		return link{}
	}
	l := link{anchor: anchor, found: true}
	if doc != v.Path {
		l.rel = relPath(v.Path+v.ext, doc+v.ext)
	}
	return l
}

// typeLink is the link of a type reference, as TypeHref.
func (v *view) typeLink(t TypeRef) link {
	if t.FullName == "" {
		return link{}
	}
	if l := v.anchorLink(t.FullName); l.found {
		return l
	}
	return link{url: t.URL}
}

// writeURL writes the link as escURL writes its string.
func (l link) writeURL(b *bytes.Buffer) {
	if !l.found {
		escURL(b, l.url)
		return
	}
	normURL(b, l.rel)
	b.WriteByte('#')
	normURL(b, l.anchor)
}

// writeHref writes the link as writeHrefAttr writes its string.
func (l link) writeHref(b *bytes.Buffer) {
	if !l.found {
		writeHrefAttr(b, l.url)
		return
	}
	writeHrefBytes(b, l.rel)
	b.WriteByte('#')
	writeHrefBytes(b, l.anchor)
}
