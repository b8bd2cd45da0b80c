package htmlout

import (
	"bytes"
	"strconv"

	"github.com/polyrpc/polyrpc/internal/gen/doc/htmlesc"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// The rows of field and enum value tables are the bulk of a large page.
// Text is escaped as html.EscapeString escapes it (htmlesc.HTML), comments go
// through writeComment, links through htmlesc.HrefAttr.

// writeFieldRows writes the rows of a message's field table, oneof members
// grouped under a row for their oneof: the groups of FieldGroups, found
// without building them.
func (v *Page) writeFieldRows(b *bytes.Buffer, m *model.Message, defaults bool) {
	var group *model.Oneof
	for i, f := range m.Fields {
		if i == 0 || f.Oneof != oneofName(group) {
			group = oneofNamed(m, f.Oneof)
			if o := group; o != nil {
				b.WriteString("\n<tr class=\"oneof\" id=\"")
				htmlesc.HTML(b, o.Anchor)
				b.WriteString("\" data-kind=\"oneof\"><td colspan=\"")
				if defaults {
					b.WriteString("6")
				} else {
					b.WriteString("5")
				}
				b.WriteString("\"><span class=\"kind\">oneof</span> <code>")
				htmlesc.HTML(b, o.Name)
				b.WriteString("</code> <small>at most one of these fields is set</small><div class=\"doc\">")
				v.writeComment(b, o.Description)
				b.WriteString("</div>")
				writeRules(b, o.Rules, htmlesc.HTML)
				writeOptions(b, o.Options, htmlesc.HTML)
				b.WriteString("</td></tr>")
			}
		}
		b.WriteString("\n")
		v.fieldRow(b, group != nil, f, defaults)
	}
}

// writeValueRows writes the rows of an enum's value table.
func (v *Page) writeValueRows(b *bytes.Buffer, e *model.Enum) {
	for _, val := range e.Values {
		b.WriteString("\n")
		v.valueRow(b, val)
	}
}

func (v *Page) fieldRow(b *bytes.Buffer, inOneof bool, f *model.Field, defaults bool) {
	b.WriteString(`<tr id="`)
	htmlesc.HTML(b, f.Anchor)
	b.WriteString(`"`)
	if inOneof {
		b.WriteString(` class="in-oneof"`)
	}
	b.WriteString("><td>")
	writeInt(b, f.Number)
	b.WriteString("</td><td><code>")
	htmlesc.HTML(b, f.Name)
	b.WriteString("</code>")
	if f.Deprecated {
		b.WriteString(deprecatedBadge)
	}
	if f.JSONName != f.Name {
		b.WriteString(`<div class="json">JSON <code>`)
		htmlesc.HTML(b, f.JSONName)
		b.WriteString("</code></div>")
	}
	b.WriteString("</td><td>")
	v.writeType(b, f.Type)
	b.WriteString("</td><td>")
	writeLabelCell(b, f)
	b.WriteString("</td>")
	if defaults {
		b.WriteString("<td>")
		if f.Default != "" {
			b.WriteString("<code>")
			htmlesc.HTML(b, f.Default)
			b.WriteString("</code>")
		}
		b.WriteString("</td>")
	}
	b.WriteString(`<td><div class="doc">`)
	v.writeComment(b, f.Description)
	b.WriteString("</div>")
	v.writeResourceRef(b, f.ResourceReference)
	writeRules(b, f.Rules, htmlesc.HTML)
	writeOptions(b, f.Options, htmlesc.HTML)
	b.WriteString("</td></tr>")
}

func (v *Page) valueRow(b *bytes.Buffer, e *model.EnumValue) {
	b.WriteString(`<tr id="`)
	htmlesc.HTML(b, e.Anchor)
	b.WriteString(`"><td>`)
	writeInt(b, e.Number)
	b.WriteString("</td><td><code>")
	htmlesc.HTML(b, e.Name)
	b.WriteString("</code>")
	if e.Deprecated {
		b.WriteString(deprecatedBadge)
	}
	if e.AliasOf != "" {
		b.WriteString(` <small>alias of <code>`)
		htmlesc.HTML(b, e.AliasOf)
		b.WriteString(`</code></small>`)
	}
	b.WriteString(`</td><td><div class="doc">`)
	v.writeComment(b, e.Description)
	b.WriteString("</div>")
	writeOptions(b, e.Options, htmlesc.HTML)
	b.WriteString("</td></tr>")
}

// writeInt writes a field or enum value number in decimal.
func writeInt(b *bytes.Buffer, n int32) {
	var d [12]byte
	b.Write(strconv.AppendInt(d[:0], int64(n), 10))
}

// writeType writes the type of a table row: a link to its definition, or
// code naming it.
func (v *Page) writeType(b *bytes.Buffer, t model.TypeRef) {
	if l := v.typeLink(t); l.ok() {
		writeStrings(b, `<a class="type `, t.Kind, `" href="`)
		v.writeHref(b, l)
		b.WriteString(`" title="`)
		htmlesc.HTML(b, t.FullName)
		b.WriteString(`"><code>`)
		htmlesc.HTML(b, t.Name)
		b.WriteString("</code></a>")
		return
	}
	if t.Kind == "scalar" {
		b.WriteString("<code>")
		htmlesc.HTML(b, t.Name)
		b.WriteString("</code>")
		return
	}
	writeStrings(b, `<code class="type `, t.Kind, `"`)
	if t.FullName != "" {
		b.WriteString(` title="`)
		htmlesc.HTML(b, t.FullName)
		b.WriteString(`"`)
	}
	b.WriteString(">")
	htmlesc.HTML(b, t.Name)
	b.WriteString("</code>")
}

// writeRules writes a list of validation rules, each escaped with esc.
func writeRules(b *bytes.Buffer, rules []string, esc func(*bytes.Buffer, string)) {
	if len(rules) == 0 {
		return
	}
	b.WriteString(`<ul class="rules" aria-label="Validation rules">`)
	for _, r := range rules {
		b.WriteString("<li>")
		esc(b, r)
		b.WriteString("</li>")
	}
	b.WriteString("</ul>")
}

// writeOptions writes a list of options, names and values escaped with esc.
func writeOptions(b *bytes.Buffer, opts []model.Option, esc func(*bytes.Buffer, string)) {
	if len(opts) == 0 {
		return
	}
	b.WriteString(`<dl class="options" aria-label="Options"><dt class="cap">Options</dt><dd class="cap"></dd>`)
	for _, o := range opts {
		b.WriteString("<dt><code>")
		esc(b, o.Name)
		b.WriteString("</code></dt><dd><code>")
		esc(b, o.Value)
		b.WriteString("</code></dd>")
	}
	b.WriteString("</dl>")
}

// writeStrings writes parts in order, without joining them first.
func writeStrings(b *bytes.Buffer, parts ...string) {
	for _, p := range parts {
		b.WriteString(p)
	}
}

// oneofNamed is the oneof of m named name (the last one, as FieldGroups),
// or nil.
func oneofNamed(m *model.Message, name string) *model.Oneof {
	var found *model.Oneof
	if name != "" {
		for _, o := range m.Oneofs {
			if o.Name == name {
				found = o
			}
		}
	}
	return found
}

func oneofName(o *model.Oneof) string {
	if o == nil {
		return ""
	}
	return o.Name
}
