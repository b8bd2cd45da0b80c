// Package mdout writes the built-in Markdown page of a document (GitHub
// Flavored Markdown), written in Go rather than as a template. Its helpers
// (Type, Link, CellAll, Escape) are also what custom Markdown templates
// call; the writers give the same bytes without building strings, only
// for speed, which the tests check against the helpers.
package mdout

import (
	"bytes"
	"html"
	"strconv"

	"github.com/polyrpc/polyrpc/internal/gen/doc/comment"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// The built-in Markdown page: its head (up to the first file section), one
// section per file, and its tail. They are written in Go; the named
// templates "md-head", "md-file" and "md-tail" of the built-in set call
// these writers so that custom templates can use them.

// WriteHead writes the head of the page: its title, the other documents
// of the run and the table of contents.
func WriteHead(w *bytes.Buffer, v *model.Page) error {
	w.WriteString("# ")
	writeMDEscape(w, v.Title)
	if len(v.Documents) > 1 {
		w.WriteString("\n\nDocuments:")
		hrefs := newDocHrefs(v)
		for _, d := range v.Documents {
			w.WriteByte(' ')
			if d.Path == v.Path {
				w.WriteString("**")
				writeMDEscape(w, d.Title)
				w.WriteString("**")
				continue
			}
			w.WriteByte('[')
			writeMDEscape(w, d.Title)
			w.WriteString("](")
			hrefs.write(w, d.Path)
			w.WriteByte(')')
		}
	}
	w.WriteString("\n\n## Table of contents\n")
	if len(v.Files) == 0 {
		w.WriteString("\nNo files are documented here.\n")
	}
	for _, f := range v.Files {
		writeTOCEntry(w, "\n- [", f.Name, f.Anchor, "")
		for _, s := range f.Services {
			writeTOCEntry(w, "\n  - service [", s.Name, s.Anchor, "")
			for _, m := range s.Methods {
				writeTOCEntry(w, "\n    - rpc [", m.Name, m.Anchor, "")
			}
		}
		for _, m := range f.Messages {
			writeTOCEntry(w, "\n  - message [", m.Name, m.Anchor, "")
		}
		for _, e := range f.Enums {
			writeTOCEntry(w, "\n  - enum [", e.Name, e.Anchor, "")
		}
		if len(f.Extensions) > 0 {
			w.WriteString("\n  - [extensions](")
			writeMDFragment(w, f.Anchor, ".extensions")
			w.WriteByte(')')
		}
	}
	return nil
}

// writeTOCEntry writes prefix, the name as a code span and the link to
// the anchor in this document.
func writeTOCEntry(w *bytes.Buffer, prefix, name, anchor, suffix string) {
	w.WriteString(prefix)
	writeMDCode(w, name, false)
	w.WriteString("](")
	writeMDFragment(w, anchor, suffix)
	w.WriteByte(')')
}

// WriteTail writes the tail of the page.
func WriteTail(w *bytes.Buffer, v *model.Page) error {
	w.WriteByte('\n')
	return nil
}

// WriteFile writes the section of one file.
func WriteFile(w *bytes.Buffer, v *model.Page, f *model.File) error {
	writeMDAnchor(w, "\n\n", f.Anchor, "")
	w.WriteString("\n\n## file ")
	writeMDCode(w, f.Name, false)
	writeDeprecatedHeading(w, f.Deprecated)
	w.WriteString("\n\n| | |\n|---|---|")
	if f.Package != "" {
		w.WriteString("\n| Package | ")
		writeMDCode(w, f.Package, true)
		w.WriteString(" |")
	}
	w.WriteString("\n| Syntax | ")
	if f.Edition != "" {
		writeMDCode3(w, "edition ", f.Edition, "", true)
	} else {
		writeMDCode(w, f.Syntax, true)
	}
	w.WriteString(" |")
	if len(f.Features) > 0 {
		w.WriteString("\n| Features | ")
		for i, o := range f.Features {
			if i > 0 {
				w.WriteString(", ")
			}
			writeMDCode3(w, o.Name, " = ", o.Value, true)
		}
		w.WriteString(" |")
	}
	if len(f.Imports) > 0 {
		w.WriteString("\n| Imports | ")
		for i, imp := range f.Imports {
			if i > 0 {
				w.WriteString(", ")
			}
			writeMDLink(w, v, "file:"+imp, imp, true)
		}
		w.WriteString(" |")
	}
	writeMDDescription(w, v, f.Description)
	for _, c := range f.DetachedComments {
		w.WriteString("\n\n")
		w.WriteString(comment.MDBlock(c, v.Href))
	}
	writeMDOptions(w, f.Options)
	writeMDFileResources(w, f.Resources)
	for _, s := range f.Services {
		writeMDService(w, v, s)
	}
	for _, m := range f.Messages {
		writeMDMessage(w, v, m)
	}
	for _, e := range f.Enums {
		writeMDEnum(w, v, e)
	}
	if len(f.Extensions) > 0 {
		writeMDAnchor(w, "\n\n", f.Anchor, ".extensions")
		w.WriteString("\n\n### extensions declared in ")
		writeMDCode(w, f.Name, false)
		w.WriteByte('\n')
		writeMDExtensions(w, v, f.Extensions)
	}
	return nil
}

func writeMDService(w *bytes.Buffer, v *model.Page, s *model.Service) {
	writeMDAnchor(w, "\n\n", s.Anchor, "")
	w.WriteString("\n\n### service ")
	writeMDCode(w, s.Name, false)
	writeDeprecatedHeading(w, s.Deprecated)
	w.WriteString("\n\n")
	writeMDCode(w, s.FullName, false)
	writeMDDescription(w, v, s.Description)
	writeMDServiceAPI(w, s)
	writeMDOptions(w, s.Options)
	for _, m := range s.Methods {
		writeMDMethod(w, v, m)
	}
}

func writeMDMethod(w *bytes.Buffer, v *model.Page, m *model.Method) {
	writeMDAnchor(w, "\n\n", m.Anchor, "")
	w.WriteString("\n\n#### rpc ")
	writeMDCode(w, m.Name, false)
	w.WriteString(" — _")
	w.WriteString(model.StreamingLabel(m.Streaming))
	w.WriteByte('_')
	writeDeprecatedHeading(w, m.Deprecated)
	if l := m.IdempotencyLabel(); l != "" {
		w.WriteString(" — _")
		w.WriteString(l)
		w.WriteByte('_')
	}
	w.WriteString("\n\n")
	stream := ""
	if m.ClientStreams() {
		stream = "stream "
	}
	writeMDCode3(w, m.Name, "(", stream, false)
	writeMDType(w, v, m.Request, false)
	stream = ""
	if m.ServerStreams() {
		stream = "stream "
	}
	writeMDCode3(w, ") returns (", stream, "", false)
	writeMDType(w, v, m.Response, false)
	writeMDCode(w, ")", false)
	writeMDDescription(w, v, m.Description)
	w.WriteString("\n\n- Procedure: ")
	writeMDCode(w, m.Procedure, false)
	w.WriteString("\n- Protocols: ")
	for i, p := range m.Protocols {
		if i > 0 {
			w.WriteString(", ")
		}
		w.WriteString(p.Name)
		w.WriteString(" (")
		for j, h := range p.HTTP {
			if j > 0 {
				w.WriteString(", ")
			}
			w.WriteString(h)
		}
		w.WriteByte(')')
	}
	if m.ConnectGet != "" {
		w.WriteString("\n- Connect GET: ")
		writeMDCode3(w, "GET ", m.ConnectGet, "", false)
	}
	writeMDSignatures(w, v, m)
	writeMDHTTPRules(w, v, m.HTTPRules)
	writeMDPathParams(w, v, m.HTTPRules)
	writeMDExamples(w, m)
	writeMDOptions(w, m.Options)
}

func writeMDMessage(w *bytes.Buffer, v *model.Page, m *model.Message) {
	defaults := m.HasDefaults()
	writeMDAnchor(w, "\n\n", m.Anchor, "")
	w.WriteString("\n\n### message ")
	writeMDCode(w, m.Name, false)
	writeDeprecatedHeading(w, m.Deprecated)
	w.WriteString("\n\n")
	writeMDCode(w, m.FullName, false)
	writeMDParent(w, v, m.Parent)
	writeMDDescription(w, v, m.Description)
	writeMDResource(w, m.Resource, "")
	if len(m.Rules) > 0 {
		w.WriteString("\n\nValidation:\n")
		for _, r := range m.Rules {
			w.WriteString("\n- ")
			writeMDCode(w, r, false)
		}
	}
	if len(m.Fields) > 0 {
		if defaults {
			w.WriteString("\n\n| # | Field | JSON | Type | Label | Default | Description |\n|--:|---|---|---|---|---|---|")
		} else {
			w.WriteString("\n\n| # | Field | JSON | Type | Label | Description |\n|--:|---|---|---|---|---|")
		}
		// The rows follow Message.FieldGroups: a run of fields of the same
		// oneof is headed by a row for the oneof.
		group := ""
		for i, f := range m.Fields {
			if i == 0 || f.Oneof != group {
				var o *model.Oneof
				if f.Oneof != "" {
					for _, c := range m.Oneofs {
						if c.Name == f.Oneof {
							o = c
						}
					}
				}
				group = ""
				if o != nil {
					group = o.Name
					writeMDAnchor(w, "\n| | ", o.Anchor, "")
					w.WriteString("**oneof** ")
					writeMDCode(w, o.Name, true)
					w.WriteString(" | | | |")
					if defaults {
						w.WriteString(" |")
					}
					w.WriteByte(' ')
					writeMDCell(w, v, "At most one of these fields is set.\n\n"+o.Description, o.Rules, o.Options)
					w.WriteString(" |")
				}
			}
			writeMDField(w, v, f, defaults)
		}
	} else {
		w.WriteString("\n\nNo fields.")
	}
	if len(m.NestedMessages) > 0 || len(m.NestedEnums) > 0 {
		w.WriteString("\n\nNested types: ")
		for i, t := range m.NestedMessages {
			if i > 0 {
				w.WriteString(", ")
			}
			writeMDType(w, v, t, false)
		}
		if len(m.NestedMessages) > 0 && len(m.NestedEnums) > 0 {
			w.WriteString(", ")
		}
		for i, t := range m.NestedEnums {
			if i > 0 {
				w.WriteString(", ")
			}
			writeMDType(w, v, t, false)
		}
	}
	writeMDReserved(w, m.ReservedRanges, m.ReservedNames)
	if len(m.ExtensionRanges) > 0 {
		w.WriteString("\n\nExtension ranges: ")
		for i, r := range m.ExtensionRanges {
			if i > 0 {
				w.WriteString(", ")
			}
			writeMDCode(w, r, false)
		}
	}
	if len(m.Extensions) > 0 {
		w.WriteString("\n\nExtensions declared in ")
		writeMDCode(w, m.Name, false)
		w.WriteString(":\n")
		writeMDExtensions(w, v, m.Extensions)
	}
	writeMDOptions(w, m.Options)
}

// writeMDField writes the table row of a message field.
func writeMDField(w *bytes.Buffer, v *model.Page, f *model.Field, defaults bool) {
	w.WriteString("\n| ")
	w.WriteString(strconv.Itoa(int(f.Number)))
	writeMDAnchor(w, " | ", f.Anchor, "")
	if f.Oneof != "" {
		w.WriteString("↳ ")
	}
	writeMDCode(w, f.Name, true)
	if f.Deprecated {
		w.WriteString(" **deprecated**")
	}
	w.WriteString(" | ")
	writeMDCode(w, f.JSONName, true)
	w.WriteString(" | ")
	writeMDType(w, v, f.Type, true)
	w.WriteString(" | ")
	writeMDLabel(w, f)
	w.WriteString(" |")
	if defaults {
		w.WriteByte(' ')
		if f.Default != "" {
			writeMDCode(w, f.Default, true)
		}
		w.WriteString(" |")
	}
	w.WriteByte(' ')
	start := w.Len()
	writeMDCell(w, v, f.Description, f.Rules, f.Options)
	writeMDResourceRef(w, v, f.ResourceReference, start)
	w.WriteString(" |")
}

func writeMDEnum(w *bytes.Buffer, v *model.Page, e *model.Enum) {
	writeMDAnchor(w, "\n\n", e.Anchor, "")
	w.WriteString("\n\n### enum ")
	writeMDCode(w, e.Name, false)
	writeDeprecatedHeading(w, e.Deprecated)
	if e.Closed {
		w.WriteString(" — _closed_")
	}
	w.WriteString("\n\n")
	writeMDCode(w, e.FullName, false)
	writeMDParent(w, v, e.Parent)
	writeMDDescription(w, v, e.Description)
	w.WriteString("\n\n| Number | Name | Description |\n|--:|---|---|")
	for _, ev := range e.Values {
		w.WriteString("\n| ")
		w.WriteString(strconv.Itoa(int(ev.Number)))
		writeMDAnchor(w, " | ", ev.Anchor, "")
		writeMDCode(w, ev.Name, true)
		if ev.Deprecated {
			w.WriteString(" **deprecated**")
		}
		if ev.AliasOf != "" {
			w.WriteString(" (alias of ")
			writeMDCode(w, ev.AliasOf, true)
			w.WriteByte(')')
		}
		w.WriteString(" | ")
		writeMDCell(w, v, ev.Description, nil, ev.Options)
		w.WriteString(" |")
	}
	writeMDReserved(w, e.ReservedRanges, e.ReservedNames)
	writeMDOptions(w, e.Options)
}

// writeMDExtensions writes the table of extensions, after a newline.
func writeMDExtensions(w *bytes.Buffer, v *model.Page, fs []*model.Field) {
	w.WriteString("\n| # | Extension | Extends | Type | Label | Description |\n|--:|---|---|---|---|---|")
	for _, f := range fs {
		w.WriteString("\n| ")
		w.WriteString(strconv.Itoa(int(f.Number)))
		writeMDAnchor(w, " | ", f.Anchor, "")
		writeMDCode(w, f.FullName, true)
		if f.Deprecated {
			w.WriteString(" **deprecated**")
		}
		w.WriteString(" | ")
		if f.Extendee != nil {
			writeMDType(w, v, *f.Extendee, true)
		} else {
			writeMDCode(w, "", true)
		}
		w.WriteString(" | ")
		writeMDType(w, v, f.Type, true)
		w.WriteString(" | ")
		w.WriteString(f.Label)
		for _, fb := range f.Behaviors {
			w.WriteString(" **")
			writeMDEscape(w, model.BehaviorLabel(fb))
			w.WriteString("**")
		}
		w.WriteString(" | ")
		start := w.Len()
		writeMDCell(w, v, f.Description, f.Rules, f.Options)
		writeMDResourceRef(w, v, f.ResourceReference, start)
		w.WriteString(" |")
	}
}

// writeMDParent writes the link to the enclosing message, if any.
func writeMDParent(w *bytes.Buffer, v *model.Page, parent string) {
	if parent != "" {
		w.WriteString(" · nested in ")
		writeMDLink(w, v, parent, parent, false)
	}
}

// writeMDDescription writes a comment as Markdown blocks after a blank
// line, if there is one.
func writeMDDescription(w *bytes.Buffer, v *model.Page, desc string) {
	if desc != "" {
		w.WriteString("\n\n")
		w.WriteString(comment.MDBlock(desc, v.Href))
	}
}

func writeDeprecatedHeading(w *bytes.Buffer, deprecated bool) {
	if deprecated {
		w.WriteString(" — **deprecated**")
	}
}

// writeMDOptions writes the list of set options, if any.
func writeMDOptions(w *bytes.Buffer, opts []model.Option) {
	if len(opts) == 0 {
		return
	}
	w.WriteString("\n\nOptions:\n")
	for _, o := range opts {
		w.WriteString("\n- ")
		writeMDCode(w, o.Name, false)
		w.WriteString(" = ")
		writeMDCode(w, o.Value, false)
	}
}

// writeMDReserved writes the reserved numbers and names, if any.
func writeMDReserved(w *bytes.Buffer, ranges, names []string) {
	if len(ranges) == 0 && len(names) == 0 {
		return
	}
	w.WriteString("\n\nReserved: ")
	for i, r := range ranges {
		if i > 0 {
			w.WriteString(", ")
		}
		writeMDCode(w, r, false)
	}
	if len(ranges) > 0 && len(names) > 0 {
		w.WriteString("; ")
	}
	for i, n := range names {
		if i > 0 {
			w.WriteString(", ")
		}
		writeMDCode(w, strconv.Quote(n), false)
	}
}

// writeMDAnchor writes prefix and an empty HTML anchor element for
// anchor+suffix.
func writeMDAnchor(w *bytes.Buffer, prefix, anchor, suffix string) {
	a := html.EscapeString(anchor)
	w.WriteString(prefix)
	w.WriteString(`<a id="`)
	w.WriteString(a)
	w.WriteString(suffix)
	w.WriteString(`" name="`)
	w.WriteString(a)
	w.WriteString(suffix)
	w.WriteString(`"></a>`)
}
