package doc

import (
	"bytes"
	"html"
	"strconv"
	"strings"
)

// The rows of field and enum value tables are the bulk of a large page.
// Text goes through html.EscapeString's rules (escHTML), comments through
// Comment, URLs through hrefAttr.

// writeFieldRows writes the rows of a message's field table, oneof members
// grouped under a row for their oneof.
func (v *view) writeFieldRows(b *bytes.Buffer, m *Message, defaults bool) {
	for _, g := range m.FieldGroups() {
		if o := g.Oneof; o != nil {
			span := "6"
			if defaults {
				span = "7"
			}
			writeStrings(b, "\n<tr class=\"oneof\" id=\"", html.EscapeString(o.Anchor), "\" data-kind=\"oneof\"><td colspan=\"", span, "\">")
			writeStrings(b, "<span class=\"kind\">oneof</span> <code>", html.EscapeString(o.Name), "</code> <small>at most one of these fields is set</small><div class=\"doc\">")
			b.WriteString(string(v.Comment(o.Description)))
			b.WriteString("</div>")
			writeRules(b, o.Rules, escHTML)
			writeOptions(b, o.Options, escHTML)
			b.WriteString("</td></tr>")
		}
		for _, f := range g.Fields {
			b.WriteString("\n")
			v.fieldRow(b, g, f, defaults)
		}
	}
}

// writeValueRows writes the rows of an enum's value table.
func (v *view) writeValueRows(b *bytes.Buffer, e *Enum) {
	for _, val := range e.Values {
		b.WriteString("\n")
		v.valueRow(b, val)
	}
}

func (v *view) fieldRow(b *bytes.Buffer, g FieldGroup, f *Field, defaults bool) {
	b.WriteString(`<tr id="`)
	b.WriteString(html.EscapeString(f.Anchor))
	b.WriteString(`"`)
	if g.Oneof != nil {
		b.WriteString(` class="in-oneof"`)
	}
	b.WriteString("><td>")
	b.WriteString(strconv.Itoa(int(f.Number)))
	b.WriteString("</td><td><code>")
	b.WriteString(html.EscapeString(f.Name))
	b.WriteString("</code>")
	if f.Deprecated {
		b.WriteString(` <span class="badge deprecated">deprecated</span>`)
	}
	b.WriteString("</td><td><code>")
	b.WriteString(html.EscapeString(f.JSONName))
	b.WriteString("</code></td><td>")
	v.writeType(b, v.Ref(f.Type))
	b.WriteString("</td><td>")
	switch {
	case f.Label != "":
		b.WriteString(html.EscapeString(f.Label))
	case f.Oneof != "":
		b.WriteString("oneof")
	}
	b.WriteString("</td>")
	if defaults {
		b.WriteString("<td>")
		if f.Default != "" {
			writeStrings(b, "<code>", html.EscapeString(f.Default), "</code>")
		}
		b.WriteString("</td>")
	}
	b.WriteString(`<td><div class="doc">`)
	b.WriteString(string(v.Comment(f.Description)))
	b.WriteString("</div>")
	writeRules(b, f.Rules, escHTML)
	writeOptions(b, f.Options, escHTML)
	b.WriteString("</td></tr>")
}

func (v *view) valueRow(b *bytes.Buffer, e *EnumValue) {
	b.WriteString(`<tr id="`)
	b.WriteString(html.EscapeString(e.Anchor))
	b.WriteString(`"><td>`)
	b.WriteString(strconv.Itoa(int(e.Number)))
	b.WriteString("</td><td><code>")
	b.WriteString(html.EscapeString(e.Name))
	b.WriteString("</code>")
	if e.Deprecated {
		b.WriteString(` <span class="badge deprecated">deprecated</span>`)
	}
	if e.AliasOf != "" {
		writeStrings(b, ` <small>alias of <code>`, html.EscapeString(e.AliasOf), `</code></small>`)
	}
	b.WriteString(`</td><td><div class="doc">`)
	b.WriteString(string(v.Comment(e.Description)))
	b.WriteString("</div>")
	writeOptions(b, e.Options, escHTML)
	b.WriteString("</td></tr>")
}

func (v *view) writeType(b *bytes.Buffer, r refView) {
	if r.Href != "" {
		writeStrings(b, `<a class="type `, r.Kind, `" href="`, hrefAttr(r.Href), `" title="`, html.EscapeString(r.FQN), `"><code>`)
		b.WriteString(html.EscapeString(r.Name))
		b.WriteString("</code></a>")
		return
	}
	if r.Kind == "scalar" {
		writeStrings(b, "<code>", html.EscapeString(r.Name), "</code>")
		return
	}
	writeStrings(b, `<code class="type `, r.Kind, `"`)
	if r.FQN != "" {
		writeStrings(b, ` title="`, html.EscapeString(r.FQN), `"`)
	}
	writeStrings(b, ">", html.EscapeString(r.Name), "</code>")
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

// hrefAttr makes a URL built by the generator safe inside a quoted
// attribute: bytes outside the URL character set are percent-encoded,
// and only fragments, relative paths and http(s) URLs are accepted.
func hrefAttr(u string) string {
	if !strings.HasPrefix(u, "#") && !strings.HasPrefix(u, "./") && !strings.HasPrefix(u, "../") && !absoluteSafeURL(u) {
		return "#"
	}
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-._~:/?#[]@!$()*+,;=%", c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)|0x100, 16)[1:]))
		}
	}
	return html.EscapeString(b.String())
}

// writeStrings writes parts in order, without joining them first.
func writeStrings(b *bytes.Buffer, parts ...string) {
	for _, p := range parts {
		b.WriteString(p)
	}
}
