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
