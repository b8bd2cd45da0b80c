package model

import (
	"net/url"
	"path"
	"sort"
	"strings"
)

// Page is one document as one format renders it: the document, the file
// name extension of the format, and the document of the run that holds
// each element, for links.
type Page struct {
	*Document
	Ext   string
	Index map[string]string // anchor -> document path (no extension)
}

// Href returns the link to an element by anchor from this document, or ""
// when the element is not documented anywhere in this run.
func (p *Page) Href(anchor string) string {
	doc, ok := p.Index[anchor]
	if !ok {
		return ""
	}
	if doc == p.Path {
		return "#" + anchor
	}
	return RelPath(p.Path+p.Ext, doc+p.Ext) + "#" + anchor
}

// TypeHref links a type reference: its definition in this run, or the
// reference documentation of a well-known type, or "" (plain text).
func (p *Page) TypeHref(t TypeRef) string {
	if t.FullName == "" {
		return ""
	}
	if h := p.Href(t.FullName); h != "" {
		return h
	}
	return t.URL
}

// DocHref links another document of the run.
func (p *Page) DocHref(to string) string {
	return RelPath(p.Path+p.Ext, to+p.Ext)
}

// RelPath is the relative URL from the document at from to the one at to.
func RelPath(from, to string) string {
	fromDir := path.Dir(from)
	if fromDir == "." {
		return "./" + escapePath(to)
	}
	// Share the common directory prefix.
	fp := strings.Split(fromDir, "/")
	tp := strings.Split(to, "/")
	i := 0
	for i < len(fp) && i < len(tp)-1 && fp[i] == tp[i] {
		i++
	}
	segs := make([]string, 0, len(tp)-i)
	for _, seg := range tp[i:] {
		segs = append(segs, url.PathEscape(seg)) // file names may hold '#', '?', '%' or spaces
	}
	rel := strings.Repeat("../", len(fp)-i) + strings.Join(segs, "/")
	if !strings.HasPrefix(rel, "../") {
		rel = "./" + rel
	}
	return rel
}

// escapePath percent-escapes each segment of a slash-separated path.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return strings.Join(segs, "/")
}

// Documents groups files into the documents of a layout (LayoutSingle,
// LayoutPackage or LayoutFile). name is the base name of every document
// (the name= option) and siteTitle the title of the run (title=).
func Documents(files []*File, layout, name, siteTitle string) []*Document {
	var docs []*Document
	newDoc := func(title, p string) *Document {
		d := &Document{SchemaVersion: SchemaVersion, Title: title, SiteTitle: siteTitle, Path: p, Layout: layout}
		docs = append(docs, d)
		return d
	}
	switch layout {
	case LayoutPackage:
		byPkg := map[string]*Document{}
		for _, f := range files {
			d, ok := byPkg[f.Package]
			if !ok {
				p := name
				title := f.Package
				if f.Package != "" {
					p = strings.ReplaceAll(f.Package, ".", "/") + "/" + name
				} else {
					title = "(no package)"
				}
				d = newDoc(title, p)
				byPkg[f.Package] = d
			}
			d.Files = append(d.Files, f)
		}
		sort.SliceStable(docs, func(i, j int) bool { return docs[i].Path < docs[j].Path })
	case LayoutFile:
		for _, f := range files {
			d := newDoc(f.Name, strings.TrimSuffix(f.Name, ".proto"))
			d.Files = []*File{f}
		}
	default:
		d := newDoc(siteTitle, name)
		d.Files = files
	}
	refs := make([]DocumentRef, len(docs))
	for i, d := range docs {
		refs[i] = DocumentRef{Title: d.Title, Path: d.Path}
	}
	for _, d := range docs {
		d.Documents = refs
		if d.Files == nil {
			d.Files = []*File{}
		}
	}
	return docs
}

// Anchors maps every anchor to the document that holds it.
func Anchors(docs []*Document) map[string]string {
	idx := map[string]string{}
	for _, d := range docs {
		for _, f := range d.Files {
			idx[f.Anchor] = d.Path
			for _, s := range f.Services {
				idx[s.Anchor] = d.Path
				for _, m := range s.Methods {
					idx[m.Anchor] = d.Path
				}
			}
			for _, m := range f.Messages {
				idx[m.Anchor] = d.Path
				for _, fl := range m.Fields {
					idx[fl.Anchor] = d.Path
				}
				for _, o := range m.Oneofs {
					idx[o.Anchor] = d.Path
				}
				for _, x := range m.Extensions {
					idx[x.Anchor] = d.Path
				}
			}
			for _, e := range f.Enums {
				idx[e.Anchor] = d.Path
				for _, v := range e.Values {
					idx[v.Anchor] = d.Path
				}
			}
			for _, x := range f.Extensions {
				idx[x.Anchor] = d.Path
			}
			for _, r := range f.Resources {
				idx[r.Anchor] = d.Path
			}
		}
	}
	return idx
}

// Layout values.
const (
	LayoutSingle  = "single"
	LayoutPackage = "package"
	LayoutFile    = "file"
)
