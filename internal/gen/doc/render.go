package doc

import (
	"bytes"
	"fmt"
	"html"
	htmltemplate "html/template"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"
	texttemplate "text/template"

	"github.com/polyrpc/polyrpc/internal/gen/doc/comment"
	"github.com/polyrpc/polyrpc/internal/gen/doc/htmlesc"
	"github.com/polyrpc/polyrpc/templates"
)

// view is what the templates execute on: one document plus the link
// resolution for it.
type view struct {
	*Document
	ext   string
	index map[string]string // anchor -> document path (no extension)

	r      *renderer
	format Format

	html      htmlState // made by the HTML writers on first use
	jsonFrame jsonFrame // made by the JSON writers on first use
}

// fileView is the data of the "file" and "md-file" templates: one file
// of the document, with the document's view for links.
type fileView struct {
	*view
	File *File
}

// Section is the HTML of one file of the document.
func (v *view) Section(f *File) (htmltemplate.HTML, error) {
	s, err := v.section(f)
	return htmltemplate.HTML(s), err
}

// MDSection is the Markdown of one file of the document.
func (v *view) MDSection(f *File) (string, error) {
	var buf bytes.Buffer
	err := writeMDFile(&buf, v, f)
	return buf.String(), err
}

func (v *view) section(f *File) (string, error) {
	var buf bytes.Buffer
	err := v.r.renderFile(&buf, v, f)
	return buf.String(), err
}

// Href returns the link to an element by anchor from this document, or ""
// when the element is not documented anywhere in this run.
func (v *view) Href(anchor string) string {
	doc, ok := v.index[anchor]
	if !ok {
		return ""
	}
	if doc == v.Path {
		return "#" + anchor
	}
	return relPath(v.Path+v.ext, doc+v.ext) + "#" + anchor
}

// TypeHref links a type reference: its definition in this run, or the
// reference documentation of a well-known type, or "" (plain text).
func (v *view) TypeHref(t TypeRef) string {
	if t.FullName == "" {
		return ""
	}
	if h := v.Href(t.FullName); h != "" {
		return h
	}
	return t.URL
}

// DocHref links another document of the run.
func (v *view) DocHref(p string) string {
	return relPath(v.Path+v.ext, p+v.ext)
}

// relPath is the relative URL from the document at from to the one at to.
func relPath(from, to string) string {
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

var funcs = map[string]any{
	"mdcode":    comment.MDCode,
	"join":      strings.Join,
	"streaming": streamingLabel,
	"add":       func(a, b int) int { return a + b },
	"upper":     strings.ToUpper,
	"hasPrefix": strings.HasPrefix,
	"mdesc":     mdEscape,
	"attr":      html.EscapeString,
	"url":       htmlesc.PageURL,
	"mdurl":     comment.MDURL,
	"mdref":     mdRef,
}

// mdRef is a resolved reference as Markdown inside a table cell.
func mdRef(r refView) string {
	code := comment.MDCode(r.Name, true)
	if r.Href != "" {
		return "[" + code + "](" + comment.MDURL(r.Href) + ")"
	}
	return code
}

// streamingLabel is the badge text of a streaming kind.
func streamingLabel(s string) string {
	switch s {
	case "client_streaming":
		return "client streaming"
	case "server_streaming":
		return "server streaming"
	case "bidi_streaming":
		return "bidi streaming"
	}
	return "unary"
}

// mdEscape escapes Markdown punctuation in plain text (headings, link text).
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '{', '}', '[', ']', '(', ')', '#', '+', '-', '!', '|', '<', '>':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

var (
	builtinHTML = htmltemplate.Must(htmltemplate.New("").Funcs(funcs).ParseFS(templates.FS, "html/*.tmpl"))
	builtinMD   = texttemplate.Must(texttemplate.New("").Funcs(funcs).ParseFS(templates.FS, "markdown/*.tmpl"))
)

const (
	htmlEntry = "page.html.tmpl"
	mdEntry   = "page.md.tmpl"
)

// renderer executes the templates of one run.
type renderer struct {
	html      *htmltemplate.Template
	htmlEntry string
	md        *texttemplate.Template
	mdEntry   string
	json      *texttemplate.Template // only with a custom JSON template
	jsonEntry string

	linksOnce sync.Once
	links     *docLinks // the documents of the run, for HTML tables of contents
}

func newRenderer(opts *Options) (*renderer, error) {
	r := &renderer{html: builtinHTML, htmlEntry: htmlEntry, md: builtinMD, mdEntry: mdEntry}
	if src, ok := opts.Templates[FormatHTML]; ok {
		// A fresh set: executed templates cannot be cloned.
		t, err := htmltemplate.New("").Funcs(funcs).ParseFS(templates.FS, "html/*.tmpl")
		if err == nil {
			_, err = t.New("custom").Parse(src)
		}
		if err != nil {
			return nil, fmt.Errorf("option template: html template: %v", err)
		}
		r.html, r.htmlEntry = t, "custom"
	}
	if src, ok := opts.Templates[FormatMarkdown]; ok {
		t, err := texttemplate.New("").Funcs(funcs).ParseFS(templates.FS, "markdown/*.tmpl")
		if err == nil {
			_, err = t.New("custom").Parse(src)
		}
		if err != nil {
			return nil, fmt.Errorf("option template: markdown template: %v", err)
		}
		r.md, r.mdEntry = t, "custom"
	}
	if src, ok := opts.Templates[FormatJSON]; ok {
		t, err := texttemplate.New("custom").Funcs(funcs).Parse(src)
		if err != nil {
			return nil, fmt.Errorf("option template: json template: %v", err)
		}
		r.json, r.jsonEntry = t, "custom"
	}
	return r, nil
}

// renderFile writes the section of one file.
func (r *renderer) renderFile(w *bytes.Buffer, v *view, f *File) error {
	if v.format == FormatMarkdown {
		return writeMDFile(w, v, f)
	}
	return writeHTMLFile(w, v, f)
}

// layout groups files into documents.
func layout(opts *Options, files []*File) []*Document {
	var docs []*Document
	newDoc := func(title, p string) *Document {
		d := &Document{SchemaVersion: SchemaVersion, Title: title, SiteTitle: opts.Title, Path: p, Layout: opts.Layout}
		docs = append(docs, d)
		return d
	}
	switch opts.Layout {
	case LayoutPackage:
		byPkg := map[string]*Document{}
		for _, f := range files {
			d, ok := byPkg[f.Package]
			if !ok {
				p := opts.Name
				title := f.Package
				if f.Package != "" {
					p = strings.ReplaceAll(f.Package, ".", "/") + "/" + opts.Name
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
		d := newDoc(opts.Title, opts.Name)
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

// anchorIndex maps every anchor to the document that holds it.
func anchorIndex(docs []*Document) map[string]string {
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
		}
	}
	return idx
}

// refView is a resolved type reference for templates.
type refView struct {
	Name string
	Href string
	Kind string
	FQN  string
}

// Ref resolves a type reference from this document.
func (v *view) Ref(t TypeRef) refView {
	return refView{Name: t.Name, Href: v.TypeHref(t), Kind: t.Kind, FQN: t.FullName}
}

// MDType is a type reference as Markdown: a code span, linked when its
// definition is reachable.
func (v *view) MDType(t TypeRef, cell bool) string {
	code := comment.MDCode(t.Name, cell)
	if h := v.TypeHref(t); h != "" {
		return "[" + code + "](" + comment.MDURL(h) + ")"
	}
	return code
}

// MDLink is a Markdown link to an element by anchor, or a code span when it
// is not documented.
func (v *view) MDLink(anchor, text string, cell bool) string {
	code := comment.MDCode(text, cell)
	if h := v.Href(anchor); h != "" {
		return "[" + code + "](" + comment.MDURL(h) + ")"
	}
	return code
}

// HasDefaults reports whether any field declares a default value.
func (m *Message) HasDefaults() bool {
	for _, f := range m.Fields {
		if f.Default != "" {
			return true
		}
	}
	return false
}

// IdempotencyLabel is the readable idempotency level.
func (m *Method) IdempotencyLabel() string {
	switch m.Idempotency {
	case "NO_SIDE_EFFECTS":
		return "no side effects"
	case "IDEMPOTENT":
		return "idempotent"
	}
	return ""
}

// ClientStreams and ServerStreams tell which side sends a stream.
func (m *Method) ClientStreams() bool {
	return m.Streaming == "client_streaming" || m.Streaming == "bidi_streaming"
}

func (m *Method) ServerStreams() bool {
	return m.Streaming == "server_streaming" || m.Streaming == "bidi_streaming"
}

// Comment renders a Markdown comment as inert HTML. Links to anchors
// (#acme.v1.Foo) point at the document that holds the element, or lose
// their target when it is not documented.
func (v *view) Comment(src string) htmltemplate.HTML {
	return comment.HTML(src, v.Href)
}

// MDBlock is a comment as Markdown blocks.
func (v *view) MDBlock(src string) string { return comment.MDBlock(src, v.Href) }

// MDCell is a comment for one Markdown table cell.
func (v *view) MDCell(src string) string { return comment.MDCell(src, v.Href) }

// MDCellAll is a table cell with a description, validation rules and
// options, separated by line breaks.
func (v *view) MDCellAll(desc string, rules []string, opts []Option) string {
	var parts []string
	if d := v.MDCell(desc); d != "" {
		parts = append(parts, d)
	}
	for _, r := range rules {
		parts = append(parts, "rule: "+comment.MDCode(r, true))
	}
	for _, o := range opts {
		parts = append(parts, comment.MDCode(o.Name+" = "+o.Value, true))
	}
	return strings.Join(parts, "<br>")
}
