package doc

import (
	"bytes"
	"fmt"
	"html"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"github.com/polyrpc/polyrpc/internal/gen/doc/comment"
	"github.com/polyrpc/polyrpc/internal/gen/doc/htmlesc"
	"github.com/polyrpc/polyrpc/internal/gen/doc/htmlout"
	"github.com/polyrpc/polyrpc/internal/gen/doc/jsonout"
	"github.com/polyrpc/polyrpc/internal/gen/doc/mdout"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
	"github.com/polyrpc/polyrpc/internal/gen/doc/openapiout"
	"github.com/polyrpc/polyrpc/templates"
)

// view is what the templates execute on: one document plus the link
// resolution for it.
type view struct {
	*model.Document
	page *model.Page

	r      *renderer
	format Format

	html *htmlout.Page // the built-in HTML page
	json jsonout.Frame // made by the JSON writer on first use
}

// fileView is the data of the "file" and "md-file" templates: one file
// of the document, with the document's view for links.
type fileView struct {
	*view
	File *model.File
}

// Section is the HTML of one file of the document.
func (v *view) Section(f *model.File) (htmltemplate.HTML, error) {
	s, err := v.section(f)
	return htmltemplate.HTML(s), err
}

// MDSection is the Markdown of one file of the document.
func (v *view) MDSection(f *model.File) (string, error) {
	var buf bytes.Buffer
	err := mdout.WriteFile(&buf, v.page, f)
	return buf.String(), err
}

// Href returns the link to an element by anchor from this document, or ""
// when the element is not documented anywhere in this run.
func (v *view) Href(anchor string) string { return v.page.Href(anchor) }

// TypeHref links a type reference: its definition in this run, or the
// reference documentation of a well-known type, or "" (plain text).
func (v *view) TypeHref(t model.TypeRef) string { return v.page.TypeHref(t) }

// DocHref links another document of the run.
func (v *view) DocHref(p string) string { return v.page.DocHref(p) }

func (v *view) section(f *model.File) (string, error) {
	var buf bytes.Buffer
	err := v.r.renderFile(&buf, v, f)
	return buf.String(), err
}

var funcs = map[string]any{
	"mdcode":    comment.MDCode,
	"join":      strings.Join,
	"streaming": model.StreamingLabel,
	"add":       func(a, b int) int { return a + b },
	"upper":     strings.ToUpper,
	"hasPrefix": strings.HasPrefix,
	"mdesc":     mdout.Escape,
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

	htmlRun htmlout.Run // what the HTML pages of the run share

	openapiTypes    *openapiout.Types // with format=openapi: the types of the run
	apiVersion      string
	baseURL         string
	openapiSegments bool
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
func (r *renderer) renderFile(w *bytes.Buffer, v *view, f *model.File) error {
	if v.format == FormatMarkdown {
		return mdout.WriteFile(w, v.page, f)
	}
	return htmlout.WriteFile(w, v.html, f)
}

// refView is a resolved type reference for templates.
type refView struct {
	Name string
	Href string
	Kind string
	FQN  string
}

// Ref resolves a type reference from this document.
func (v *view) Ref(t model.TypeRef) refView {
	return refView{Name: t.Name, Href: v.TypeHref(t), Kind: t.Kind, FQN: t.FullName}
}

// MDType is a type reference as Markdown: a code span, linked when its
// definition is reachable.
func (v *view) MDType(t model.TypeRef, cell bool) string { return mdout.Type(v.page, t, cell) }

// MDLink is a Markdown link to an element by anchor, or a code span when it
// is not documented.
func (v *view) MDLink(anchor, text string, cell bool) string {
	return mdout.Link(v.page, anchor, text, cell)
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
func (v *view) MDCellAll(desc string, rules []string, opts []model.Option) string {
	return mdout.CellAll(v.page, desc, rules, opts)
}

// MDHead is the built-in Markdown head of the document: its title, the
// other documents of the run and the table of contents.
func (v *view) MDHead() string {
	var buf bytes.Buffer
	mdout.WriteHead(&buf, v.page)
	return buf.String()
}

// MDTail is the built-in Markdown tail of the document.
func (v *view) MDTail() string {
	var buf bytes.Buffer
	mdout.WriteTail(&buf, v.page)
	return buf.String()
}

// PageHead is the built-in HTML of the page up to the first file section,
// for custom templates ("page-head").
func (v *view) PageHead() (htmltemplate.HTML, error) {
	var b bytes.Buffer
	err := htmlout.WriteHead(&b, v.html)
	return htmltemplate.HTML(b.String()), err
}

// PageTail is the built-in HTML of the page after the last file section,
// for custom templates ("page-tail").
func (v *view) PageTail() (htmltemplate.HTML, error) {
	var b bytes.Buffer
	err := htmlout.WriteTail(&b, v.html)
	return htmltemplate.HTML(b.String()), err
}
