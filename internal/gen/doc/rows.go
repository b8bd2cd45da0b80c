package doc

import (
	"bytes"
	"strconv"
	"strings"
)

// The rows of field and enum value tables are the bulk of a large page.
// Text is escaped as html.EscapeString escapes it (escHTML), comments go
// through writeComment, links through writeHrefAttr.

// writeFieldRows writes the rows of a message's field table, oneof members
// grouped under a row for their oneof: the groups of FieldGroups, found
// without building them.
func (v *view) writeFieldRows(b *bytes.Buffer, m *Message, defaults bool) {
	var group *Oneof
	for i, f := range m.Fields {
		if i == 0 || f.Oneof != group.nameOrEmpty() {
			group = m.oneof(f.Oneof)
			if o := group; o != nil {
				b.WriteString("\n<tr class=\"oneof\" id=\"")
				escHTML(b, o.Anchor)
				b.WriteString("\" data-kind=\"oneof\"><td colspan=\"")
				if defaults {
					b.WriteString("7")
				} else {
					b.WriteString("6")
				}
				b.WriteString("\"><span class=\"kind\">oneof</span> <code>")
				escHTML(b, o.Name)
				b.WriteString("</code> <small>at most one of these fields is set</small><div class=\"doc\">")
				v.writeComment(b, o.Description)
				b.WriteString("</div>")
				writeRules(b, o.Rules, escHTML)
				writeOptions(b, o.Options, escHTML)
				b.WriteString("</td></tr>")
			}
		}
		b.WriteString("\n")
		v.fieldRow(b, group != nil, f, defaults)
	}
}

// oneof is the oneof of m named name (the last one, as FieldGroups), or
// nil.
func (m *Message) oneof(name string) *Oneof {
	var found *Oneof
	if name != "" {
		for _, o := range m.Oneofs {
			if o.Name == name {
				found = o
			}
		}
	}
	return found
}

func (o *Oneof) nameOrEmpty() string {
	if o == nil {
		return ""
	}
	return o.Name
}

// writeValueRows writes the rows of an enum's value table.
func (v *view) writeValueRows(b *bytes.Buffer, e *Enum) {
	for _, val := range e.Values {
		b.WriteString("\n")
		v.valueRow(b, val)
	}
}

func (v *view) fieldRow(b *bytes.Buffer, inOneof bool, f *Field, defaults bool) {
	b.WriteString(`<tr id="`)
	escHTML(b, f.Anchor)
	b.WriteString(`"`)
	if inOneof {
		b.WriteString(` class="in-oneof"`)
	}
	b.WriteString("><td>")
	writeInt(b, f.Number)
	b.WriteString("</td><td><code>")
	escHTML(b, f.Name)
	b.WriteString("</code>")
	if f.Deprecated {
		b.WriteString(deprecatedBadge)
	}
	b.WriteString("</td><td><code>")
	escHTML(b, f.JSONName)
	b.WriteString("</code></td><td>")
	v.writeType(b, f.Type)
	b.WriteString("</td><td>")
	switch {
	case f.Label != "":
		escHTML(b, f.Label)
	case f.Oneof != "":
		b.WriteString("oneof")
	}
	b.WriteString("</td>")
	if defaults {
		b.WriteString("<td>")
		if f.Default != "" {
			b.WriteString("<code>")
			escHTML(b, f.Default)
			b.WriteString("</code>")
		}
		b.WriteString("</td>")
	}
	b.WriteString(`<td><div class="doc">`)
	v.writeComment(b, f.Description)
	b.WriteString("</div>")
	writeRules(b, f.Rules, escHTML)
	writeOptions(b, f.Options, escHTML)
	b.WriteString("</td></tr>")
}

func (v *view) valueRow(b *bytes.Buffer, e *EnumValue) {
	b.WriteString(`<tr id="`)
	escHTML(b, e.Anchor)
	b.WriteString(`"><td>`)
	writeInt(b, e.Number)
	b.WriteString("</td><td><code>")
	escHTML(b, e.Name)
	b.WriteString("</code>")
	if e.Deprecated {
		b.WriteString(deprecatedBadge)
	}
	if e.AliasOf != "" {
		b.WriteString(` <small>alias of <code>`)
		escHTML(b, e.AliasOf)
		b.WriteString(`</code></small>`)
	}
	b.WriteString(`</td><td><div class="doc">`)
	v.writeComment(b, e.Description)
	b.WriteString("</div>")
	writeOptions(b, e.Options, escHTML)
	b.WriteString("</td></tr>")
}

// writeInt writes a field or enum value number in decimal.
func writeInt(b *bytes.Buffer, n int32) {
	var d [12]byte
	b.Write(strconv.AppendInt(d[:0], int64(n), 10))
}

// writeType writes the type of a table row: a link to its definition, or
// code naming it.
func (v *view) writeType(b *bytes.Buffer, t TypeRef) {
	if l := v.typeLink(t); l.ok() {
		writeStrings(b, `<a class="type `, t.Kind, `" href="`)
		v.writeHref(b, l)
		b.WriteString(`" title="`)
		escHTML(b, t.FullName)
		b.WriteString(`"><code>`)
		escHTML(b, t.Name)
		b.WriteString("</code></a>")
		return
	}
	if t.Kind == "scalar" {
		b.WriteString("<code>")
		escHTML(b, t.Name)
		b.WriteString("</code>")
		return
	}
	writeStrings(b, `<code class="type `, t.Kind, `"`)
	if t.FullName != "" {
		b.WriteString(` title="`)
		escHTML(b, t.FullName)
		b.WriteString(`"`)
	}
	b.WriteString(">")
	escHTML(b, t.Name)
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
func writeOptions(b *bytes.Buffer, opts []Option, esc func(*bytes.Buffer, string)) {
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

// writeHrefAttr writes a URL built by the generator for a quoted
// attribute: only fragments, relative paths and http(s) and mailto URLs
// are accepted (others become "#"), and bytes outside the URL character
// set are percent-encoded.
func writeHrefAttr(b *bytes.Buffer, u string) {
	if !strings.HasPrefix(u, "#") && !strings.HasPrefix(u, "./") && !strings.HasPrefix(u, "../") && !absoluteSafeURL(u) {
		b.WriteString("#")
		return
	}
	writeHrefBytes(b, u)
}

// writeHrefBytes writes u with the bytes outside the URL character set
// percent-encoded with upper-case hex digits; the result needs no more
// escaping in a quoted attribute.
func writeHrefBytes(b *bytes.Buffer, u string) {
	const upperHex = "0123456789ABCDEF"
	last := 0
	for i := 0; i < len(u); i++ {
		c := u[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~:/?#[]@!$()*+,;=%", c) >= 0 {
			continue
		}
		b.WriteString(u[last:i])
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
		last = i + 1
	}
	b.WriteString(u[last:])
}

// writeStrings writes parts in order, without joining them first.
func writeStrings(b *bytes.Buffer, parts ...string) {
	for _, p := range parts {
		b.WriteString(p)
	}
}
