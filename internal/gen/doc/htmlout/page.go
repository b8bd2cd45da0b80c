// Package htmlout writes the built-in HTML page of a document: a head
// with the style sheet, search box and table of contents, one section per
// file, and a tail with the script; and the search index of a run of
// several documents (search.go). The page is written in Go instead of
// html/template, for speed (DESIGN.md, decision 16), with the escaping
// html/template would apply (package htmlesc); custom HTML templates call
// these writers through their named templates.
package htmlout

import (
	"bytes"
	htmltemplate "html/template"
	"strconv"
	"strings"
	"sync"

	"github.com/polyrpc/polyrpc/internal/gen/doc/comment"
	"github.com/polyrpc/polyrpc/internal/gen/doc/htmlesc"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
	"github.com/polyrpc/polyrpc/templates"
)

// Values are escaped as html/template escapes them in the same place:
// htmlesc.Text for text and attribute values, htmlesc.Fragment after a '#'
// in an href, htmlesc.URL for whole links. Comments are HTML already
// (writeComment).

// Page writes the built-in HTML page of one document. Its parts (WriteHead,
// WriteFile for each file, WriteTail) may be written in parallel.
type Page struct {
	*model.Page
	run  *Run
	html htmlState
}

// NewPage returns the writer of the page of p, one of the run's.
func NewPage(p *model.Page, run *Run) *Page { return &Page{Page: p, run: run} }

// Run is what the HTML pages of one run share: the links to the
// run's documents, made once.
type Run struct {
	linksOnce sync.Once
	links     *docLinks
	// SearchIndex is the path of the run's search index from the output
	// root (search.go), or "" when each page indexes itself.
	SearchIndex string
}

// assets are the style sheet and script of the page, as html/template
// writes the "style" and "script" templates inside <style> and <script>
// (it drops their comments).
var assets = sync.OnceValues(func() (style, script string) {
	t := htmltemplate.Must(htmltemplate.New("").ParseFS(templates.FS, "html/*.css.tmpl", "html/*.js.tmpl"))
	htmltemplate.Must(t.New("assets").Parse(`<style>{{template "style"}}{{template "style-layout"}}</style>` +
		`<script>{{template "script"}}{{template "script-nav"}}{{template "script-search"}}</script>`))
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "assets", nil); err != nil {
		panic(err)
	}
	style, script, _ = strings.Cut(strings.TrimSuffix(strings.TrimPrefix(b.String(), "<style>"), "</script>"), "</style><script>")
	return style, script
})

// WriteHead writes the page up to the first file section.
func WriteHead(b *bytes.Buffer, v *Page) error {
	style, _ := assets()
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" +
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" +
		"<meta name=\"color-scheme\" content=\"light dark\">\n" +
		"<meta name=\"generator\" content=\"protoc-gen-rpcdoc\">\n<title>")
	htmlesc.Text(b, v.Title)
	if v.Title != v.SiteTitle {
		b.WriteString(" · ")
		htmlesc.Text(b, v.SiteTitle)
	}
	b.WriteString("</title>\n<style>")
	b.WriteString(style)
	b.WriteString("</style>\n</head>\n<body>\n" +
		"<a class=\"skip\" href=\"#rpcdoc-main\">Skip to content</a>\n<header id=\"rpcdoc-header\">\n" +
		"<button id=\"rpcdoc-menu\" type=\"button\" aria-controls=\"rpcdoc-nav\" aria-expanded=\"false\" aria-label=\"Table of contents\">&#9776;</button>\n" +
		"<a class=\"brand\" href=\"#rpcdoc-top\">")
	htmlesc.Text(b, v.SiteTitle)
	b.WriteString("</a>\n" +
		"<input id=\"rpcdoc-search\" type=\"search\" placeholder=\"Search names and comments  ( / )\" aria-label=\"Search names and comments\" autocomplete=\"off\" spellcheck=\"false\"" +
		" role=\"combobox\" aria-controls=\"rpcdoc-results\" aria-expanded=\"false\" aria-autocomplete=\"list\"")
	v.writeSearchAttrs(b)
	b.WriteString(">\n</header>\n<div id=\"rpcdoc-layout\">\n<nav id=\"rpcdoc-nav\" aria-label=\"Table of contents\">\n" +
		"<ol id=\"rpcdoc-results\" role=\"listbox\" aria-label=\"Search results\" hidden></ol>\n<div id=\"rpcdoc-toc\">")
	if len(v.Documents) > 1 {
		b.WriteString("\n<h2>Documents</h2>\n<ul class=\"docs\">")
		links := v.linker()
		for i, d := range v.Documents {
			b.WriteString("\n<li><a href=\"")
			links.write(b, i, htmlesc.NormURL)
			b.WriteString(`"`)
			if d.Path == v.Path {
				b.WriteString(` aria-current="page"`)
			}
			b.WriteString(">")
			htmlesc.Text(b, d.Title)
			b.WriteString("</a></li>")
		}
		b.WriteString("\n</ul>")
	}
	for _, f := range v.Files {
		writeTOCFile(b, f)
	}
	b.WriteString("\n</div>\n</nav>\n<main id=\"rpcdoc-main\">\n<h1 id=\"rpcdoc-top\">")
	htmlesc.Text(b, v.Title)
	b.WriteString("</h1>")
	if len(v.Files) == 0 {
		b.WriteString("\n<p class=\"empty\">No files are documented here.</p>")
	}
	return nil
}

// writeTOCFile writes the table of contents entry of one file.
func writeTOCFile(b *bytes.Buffer, f *model.File) {
	b.WriteString("\n<h2><a href=\"#")
	htmlesc.Fragment(b, f.Anchor)
	b.WriteString(`">`)
	writeBreakable(b, f.Name)
	b.WriteString("</a></h2>\n<ul>")
	for _, s := range f.Services {
		tocEntry(b, "\n<li class=\"k-service\">", s.Anchor, "S", s.Name, s.FullName)
		if len(s.Methods) > 0 {
			b.WriteString("<ul>")
			for _, m := range s.Methods {
				tocEntry(b, `<li class="k-method">`, m.Anchor, "M", m.Name, m.FullName)
				b.WriteString("</li>")
			}
			b.WriteString("\n</ul>")
		}
		b.WriteString("</li>")
	}
	writeTOCTypes(b, f)
	if len(f.Extensions) > 0 {
		b.WriteString("\n<li class=\"k-ext\"><a href=\"#")
		htmlesc.Fragment(b, f.Anchor)
		b.WriteString(".extensions\"><span class=\"k\">X</span>Extensions</a></li>")
	}
	b.WriteString("\n</ul>")
}

// tocEntry writes open, then a link to anchor labelled with kind and name,
// with the full name as its title.
func tocEntry(b *bytes.Buffer, open, anchor, kind, name, fullName string) {
	b.WriteString(open)
	b.WriteString(`<a href="#`)
	htmlesc.Fragment(b, anchor)
	b.WriteString(`" title="`)
	htmlesc.Text(b, fullName)
	writeStrings(b, `"><span class="k">`, kind, "</span>")
	writeBreakable(b, name)
	b.WriteString("</a>")
}

// WriteTail writes the page after the last file section.
func WriteTail(b *bytes.Buffer, v *Page) error {
	_, script := assets()
	b.WriteString("\n<footer><p>Generated by protoc-gen-rpcdoc.</p></footer>\n</main>\n</div>\n<script>")
	b.WriteString(script)
	b.WriteString("</script>\n</body>\n</html>\n")
	return nil
}

const deprecatedBadge = ` <span class="badge deprecated">deprecated</span>`

// WriteFile writes the section of one file.
func WriteFile(b *bytes.Buffer, v *Page, f *model.File) error {
	b.WriteString("\n<section class=\"file\" id=\"")
	htmlesc.Text(b, f.Anchor)
	b.WriteString("\" data-kind=\"file\">\n<h2><span class=\"kind\">file</span> ")
	htmlesc.Text(b, f.Name)
	if f.Deprecated {
		b.WriteString(deprecatedBadge)
	}
	b.WriteString("</h2>\n<dl class=\"meta\">")
	if f.Package != "" {
		b.WriteString("<dt>Package</dt><dd><code>")
		htmlesc.Text(b, f.Package)
		b.WriteString("</code></dd>")
	}
	b.WriteString("\n<dt>Syntax</dt><dd><code>")
	if f.Edition != "" {
		b.WriteString("edition ")
		htmlesc.Text(b, f.Edition)
	} else {
		htmlesc.Text(b, f.Syntax)
	}
	b.WriteString("</code></dd>")
	if len(f.Features) > 0 {
		b.WriteString(`<dt>Features</dt><dd><ul class="inline">`)
		for _, o := range f.Features {
			b.WriteString("<li><code>")
			htmlesc.Text(b, o.Name)
			b.WriteString(" = ")
			htmlesc.Text(b, o.Value)
			b.WriteString("</code></li>")
		}
		b.WriteString("</ul></dd>")
	}
	if len(f.Imports) > 0 {
		b.WriteString(`<dt>Imports</dt><dd><ul class="inline">`)
		for _, imp := range f.Imports {
			b.WriteString("<li>")
			if l := v.anchorLink("file:" + imp); l.ok() {
				b.WriteString(`<a href="`)
				v.writeURL(b, l)
				b.WriteString(`"><code>`)
				htmlesc.Text(b, imp)
				b.WriteString("</code></a>")
			} else {
				b.WriteString("<code>")
				htmlesc.Text(b, imp)
				b.WriteString("</code>")
			}
			b.WriteString("</li>")
		}
		b.WriteString("</ul></dd>")
	}
	b.WriteString("\n</dl>")
	v.writeDoc(b, f.Description)
	for _, c := range f.DetachedComments {
		v.writeDoc(b, c)
	}
	writeOptions(b, f.Options, htmlesc.Text)
	writeFileResources(b, f.Resources)
	for _, s := range f.Services {
		v.writeService(b, s)
	}
	for _, m := range f.Messages {
		v.writeMessage(b, m)
	}
	for _, e := range f.Enums {
		v.writeEnum(b, e)
	}
	if len(f.Extensions) > 0 {
		b.WriteString("\n<section class=\"element extensions\" id=\"")
		htmlesc.Text(b, f.Anchor)
		b.WriteString(".extensions\">\n<h3><span class=\"kind\">extensions</span> declared in ")
		htmlesc.Text(b, f.Name)
		b.WriteString("</h3>")
		v.writeExtTable(b, f.Extensions)
		b.WriteString("\n</section>")
	}
	b.WriteString("\n</section>")
	return nil
}

// writeDoc writes a comment as a doc block, or nothing for no comment.
func (v *Page) writeDoc(b *bytes.Buffer, src string) {
	n := b.Len()
	b.WriteString(`<div class="doc">`)
	if v.writeComment(b, src) == 0 {
		b.Truncate(n)
		return
	}
	b.WriteString("</div>")
}

// writeComment writes a comment as Comment returns it, and how many bytes
// that is.
func (v *Page) writeComment(b *bytes.Buffer, src string) int {
	return comment.WriteHTML(b, src, v.htmlState().href)
}

// writeHeading writes the heading line of an element up to its badges:
// "<hN><span class="kind">KIND</span> NAME".
func writeHeading(b *bytes.Buffer, open, kind, name string) {
	writeStrings(b, open, `<span class="kind">`, kind, "</span> ")
	htmlesc.Text(b, name)
}

// writeAnchorLink writes the " #" link of an element heading and closes it.
func writeAnchorLink(b *bytes.Buffer, anchor, fullName, end string) {
	b.WriteString(` <a class="anchor" href="#`)
	htmlesc.Fragment(b, anchor)
	b.WriteString(`" aria-label="Link to `)
	htmlesc.Text(b, fullName)
	writeStrings(b, `">#</a>`, end)
}

// writeSectionOpen writes the opening tag of an element's section.
func writeSectionOpen(b *bytes.Buffer, class, anchor, kind string) {
	writeStrings(b, "\n<section class=\"element ", class, "\" id=\"")
	htmlesc.Text(b, anchor)
	writeStrings(b, `" data-kind="`, kind, "\">\n")
}

func (v *Page) writeService(b *bytes.Buffer, s *model.Service) {
	writeSectionOpen(b, "service", s.Anchor, "service")
	writeHeading(b, "<h3>", "service", s.Name)
	if s.Deprecated {
		b.WriteString(deprecatedBadge)
	}
	writeAnchorLink(b, s.Anchor, s.FullName, "</h3>")
	b.WriteString("\n<p class=\"fqn\"><code>")
	htmlesc.Text(b, s.FullName)
	b.WriteString("</code></p>")
	v.writeDoc(b, s.Description)
	writeServiceAPI(b, s)
	writeOptions(b, s.Options, htmlesc.Text)
	for _, m := range s.Methods {
		v.writeMethod(b, m)
	}
	b.WriteString("\n</section>")
}

func (v *Page) writeMethod(b *bytes.Buffer, m *model.Method) {
	writeSectionOpen(b, "method", m.Anchor, "method")
	writeHeading(b, "<h4>", "rpc", m.Name)
	b.WriteString(` <span class="badge stream `)
	htmlesc.Text(b, m.Streaming)
	b.WriteString(`">`)
	htmlesc.Text(b, model.StreamingLabel(m.Streaming))
	b.WriteString("</span>")
	if m.Deprecated {
		b.WriteString(deprecatedBadge)
	}
	if l := m.IdempotencyLabel(); l != "" {
		b.WriteString(` <span class="badge idem">`)
		htmlesc.Text(b, l)
		b.WriteString("</span>")
	}
	writeAnchorLink(b, m.Anchor, m.FullName, "</h4>")
	b.WriteString("\n<p class=\"sig\"><code>")
	htmlesc.Text(b, m.Name)
	b.WriteString("(</code>")
	if m.ClientStreams() {
		b.WriteString("<code>stream </code>")
	}
	v.writeTypeRef(b, m.Request)
	b.WriteString("<code>) returns (</code>")
	if m.ServerStreams() {
		b.WriteString("<code>stream </code>")
	}
	v.writeTypeRef(b, m.Response)
	b.WriteString("<code>)</code></p>")
	v.writeDoc(b, m.Description)
	b.WriteString("\n<dl class=\"call\">\n<dt>Procedure</dt><dd><code>")
	htmlesc.Text(b, m.Procedure)
	b.WriteString("</code></dd>\n<dt>Protocols</dt><dd><ul class=\"inline protocols\">")
	for _, p := range m.Protocols {
		b.WriteString("<li>")
		htmlesc.Text(b, p.Name)
		b.WriteString(" <small>(")
		for i, h := range p.HTTP {
			if i > 0 {
				b.WriteString(", ")
			}
			htmlesc.Text(b, h)
		}
		b.WriteString(")</small></li>")
	}
	b.WriteString("</ul></dd>")
	if m.ConnectGet != "" {
		b.WriteString("\n<dt>Connect GET</dt><dd><code class=\"url\">GET ")
		htmlesc.Text(b, m.ConnectGet)
		b.WriteString("</code></dd>")
	}
	v.writeSignatures(b, m)
	v.writeHTTPRules(b, m.HTTPRules)
	b.WriteString("\n</dl>")
	writeExamples(b, m)
	writeOptions(b, m.Options, htmlesc.Text)
	b.WriteString("\n</section>")
}

// writeParent writes " · nested in PARENT", linked when the parent is
// documented.
func (v *Page) writeParent(b *bytes.Buffer, parent string) {
	if parent == "" {
		return
	}
	b.WriteString(" · nested in ")
	l := v.anchorLink(parent)
	if l.ok() {
		b.WriteString(`<a href="`)
		v.writeURL(b, l)
		b.WriteString(`">`)
	}
	b.WriteString("<code>")
	htmlesc.Text(b, parent)
	b.WriteString("</code>")
	if l.ok() {
		b.WriteString("</a>")
	}
}

func (v *Page) writeMessage(b *bytes.Buffer, m *model.Message) {
	writeSectionOpen(b, "message", m.Anchor, "message")
	writeHeading(b, "<h3>", "message", m.Name)
	if m.Deprecated {
		b.WriteString(deprecatedBadge)
	}
	writeAnchorLink(b, m.Anchor, m.FullName, "</h3>")
	b.WriteString("\n<p class=\"fqn\"><code>")
	htmlesc.Text(b, m.FullName)
	b.WriteString("</code>")
	v.writeParent(b, m.Parent)
	b.WriteString("</p>")
	v.writeDoc(b, m.Description)
	writeResourceCard(b, m.Resource, "")
	writeRules(b, m.Rules, htmlesc.Text)
	if len(m.Fields) > 0 {
		defaults := m.HasDefaults()
		b.WriteString("\n<div class=\"table-wrap\"><table class=\"fields\">\n" +
			"<thead><tr><th class=\"num\">#</th><th>Field</th><th>Type</th><th>Label</th>")
		if defaults {
			b.WriteString("<th>Default</th>")
		}
		b.WriteString("<th>Description</th></tr></thead>\n<tbody>\n")
		v.writeFieldRows(b, m, defaults)
		b.WriteString("\n</tbody>\n</table></div>")
	} else {
		b.WriteString("\n<p class=\"empty\">No fields.</p>")
	}
	if len(m.NestedMessages) > 0 || len(m.NestedEnums) > 0 {
		b.WriteString("\n<p class=\"nested\">Nested types: ")
		for i, t := range m.NestedMessages {
			if i > 0 {
				b.WriteString(", ")
			}
			v.writeTypeRef(b, t)
		}
		if len(m.NestedMessages) > 0 && len(m.NestedEnums) > 0 {
			b.WriteString(", ")
		}
		for i, t := range m.NestedEnums {
			if i > 0 {
				b.WriteString(", ")
			}
			v.writeTypeRef(b, t)
		}
		b.WriteString("</p>")
	}
	writeReserved(b, m.ReservedRanges, m.ReservedNames)
	if len(m.ExtensionRanges) > 0 {
		b.WriteString("\n<p class=\"reserved\">Extension ranges: ")
		writeCodeList(b, m.ExtensionRanges, "<code>", "</code>")
		b.WriteString("</p>")
	}
	if len(m.Extensions) > 0 {
		b.WriteString("\n<h4 class=\"sub\">Extensions declared in ")
		htmlesc.Text(b, m.Name)
		b.WriteString("</h4>")
		v.writeExtTable(b, m.Extensions)
	}
	writeOptions(b, m.Options, htmlesc.Text)
	b.WriteString("\n</section>")
}

func (v *Page) writeEnum(b *bytes.Buffer, e *model.Enum) {
	writeSectionOpen(b, "enum", e.Anchor, "enum")
	writeHeading(b, "<h3>", "enum", e.Name)
	if e.Deprecated {
		b.WriteString(deprecatedBadge)
	}
	if e.Closed {
		b.WriteString(` <span class="badge closed" title="Unknown values are not accepted">closed</span>`)
	}
	writeAnchorLink(b, e.Anchor, e.FullName, "</h3>")
	b.WriteString("\n<p class=\"fqn\"><code>")
	htmlesc.Text(b, e.FullName)
	b.WriteString("</code>")
	v.writeParent(b, e.Parent)
	b.WriteString("</p>")
	v.writeDoc(b, e.Description)
	b.WriteString("\n<div class=\"table-wrap\"><table class=\"values\">\n" +
		"<thead><tr><th class=\"num\">Number</th><th>Name</th><th>Description</th></tr></thead>\n<tbody>\n")
	v.writeValueRows(b, e)
	b.WriteString("\n</tbody>\n</table></div>")
	writeReserved(b, e.ReservedRanges, e.ReservedNames)
	writeOptions(b, e.Options, htmlesc.Text)
	b.WriteString("\n</section>")
}

// writeReserved writes the reserved numbers and names of a message or enum.
func writeReserved(b *bytes.Buffer, ranges, names []string) {
	if len(ranges) == 0 && len(names) == 0 {
		return
	}
	b.WriteString("\n<p class=\"reserved\">Reserved: ")
	writeCodeList(b, ranges, "<code>", "</code>")
	if len(ranges) > 0 && len(names) > 0 {
		b.WriteString("; ")
	}
	writeCodeList(b, names, `<code>"`, `"</code>`)
	b.WriteString("</p>")
}

// writeCodeList writes items separated by ", ", each between open and end.
func writeCodeList(b *bytes.Buffer, items []string, open, end string) {
	for i, s := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(open)
		htmlesc.Text(b, s)
		b.WriteString(end)
	}
}

// writeExtTable writes the table of extensions declared in a file or a
// message.
func (v *Page) writeExtTable(b *bytes.Buffer, exts []*model.Field) {
	b.WriteString("\n<div class=\"table-wrap\"><table class=\"fields\">\n" +
		"<thead><tr><th class=\"num\">#</th><th>Extension</th><th>Extends</th><th>Type</th><th>Label</th><th>Description</th></tr></thead>\n<tbody>")
	for _, f := range exts {
		b.WriteString("\n<tr id=\"")
		htmlesc.Text(b, f.Anchor)
		b.WriteString("\" data-kind=\"extension\">\n<td class=\"num\">")
		b.WriteString(strconv.Itoa(int(f.Number)))
		b.WriteString("</td>\n<td><code class=\"name\">")
		htmlesc.Text(b, f.FullName)
		b.WriteString("</code>")
		if f.Deprecated {
			b.WriteString(deprecatedBadge)
		}
		b.WriteString("</td>\n<td>")
		if f.Extendee != nil {
			v.writeTypeRef(b, *f.Extendee)
		} else {
			b.WriteString(`<code class="type "></code>`)
		}
		b.WriteString("</td>\n<td>")
		v.writeTypeRef(b, f.Type)
		b.WriteString("</td>\n<td>")
		if f.Label != "" {
			b.WriteString(`<span class="label">`)
			htmlesc.Text(b, f.Label)
			b.WriteString("</span>")
		}
		writeBehaviors(b, f.Behaviors, htmlesc.Text)
		b.WriteString("</td>\n<td><div class=\"doc\">")
		v.writeComment(b, f.Description)
		b.WriteString("</div>")
		v.writeResourceRef(b, f.ResourceReference)
		writeRules(b, f.Rules, htmlesc.Text)
		writeOptions(b, f.Options, htmlesc.Text)
		b.WriteString("</td>\n</tr>")
	}
	b.WriteString("\n</tbody>\n</table></div>")
}

// writeTypeRef writes a type reference outside the table rows: a link to
// its definition, or code naming it.
func (v *Page) writeTypeRef(b *bytes.Buffer, t model.TypeRef) {
	if l := v.typeLink(t); l.ok() {
		b.WriteString(`<a class="type `)
		htmlesc.Text(b, t.Kind)
		b.WriteString(`" href="`)
		v.writeURL(b, l)
		b.WriteString(`" title="`)
		htmlesc.Text(b, t.FullName)
		b.WriteString(`"><code>`)
		htmlesc.Text(b, t.Name)
		b.WriteString("</code></a>")
		return
	}
	b.WriteString(`<code class="type `)
	htmlesc.Text(b, t.Kind)
	b.WriteString(`"`)
	if t.FullName != "" {
		b.WriteString(` title="`)
		htmlesc.Text(b, t.FullName)
		b.WriteString(`"`)
	}
	b.WriteString(">")
	htmlesc.Text(b, t.Name)
	b.WriteString("</code>")
}
