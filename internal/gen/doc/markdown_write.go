package doc

import "bytes"

// Writers of the small Markdown pieces of the built-in page. Each writes
// the same bytes as the helper it names, without building the string when
// the input needs no escaping.

// mdCodeSpecial marks the bytes that make mdCode do more than wrap its
// input in single backticks.
var mdCodeSpecial = byteSet("`|\n")

// mdEscapeSpecial marks the bytes that mdEscape escapes.
var mdEscapeSpecial = byteSet("\\`*_{}[]()#+-!|<>")

func byteSet(s string) (set [256]bool) {
	for i := 0; i < len(s); i++ {
		set[s[i]] = true
	}
	return set
}

func hasAny(s string, set *[256]bool) bool {
	for i := 0; i < len(s); i++ {
		if set[s[i]] {
			return true
		}
	}
	return false
}

// writeMDCode writes mdCode(s, cell).
func writeMDCode(w *bytes.Buffer, s string, cell bool) {
	if hasAny(s, &mdCodeSpecial) {
		w.WriteString(mdCode(s, cell))
		return
	}
	w.WriteByte('`')
	w.WriteString(s)
	w.WriteByte('`')
}

// writeMDCode3 writes mdCode(a+b+c, cell).
func writeMDCode3(w *bytes.Buffer, a, b, c string, cell bool) {
	if hasAny(a, &mdCodeSpecial) || hasAny(b, &mdCodeSpecial) || hasAny(c, &mdCodeSpecial) {
		w.WriteString(mdCode(a+b+c, cell))
		return
	}
	w.WriteByte('`')
	w.WriteString(a)
	w.WriteString(b)
	w.WriteString(c)
	w.WriteByte('`')
}

// writeMDEscape writes mdEscape(s).
func writeMDEscape(w *bytes.Buffer, s string) {
	if hasAny(s, &mdEscapeSpecial) {
		w.WriteString(mdEscape(s))
		return
	}
	w.WriteString(s)
}

// writeMDFragment writes mdURL("#" + anchor + suffix); suffix holds no
// character that mdURL escapes.
func writeMDFragment(w *bytes.Buffer, anchor, suffix string) {
	w.WriteByte('#')
	w.WriteString(mdURL(anchor))
	w.WriteString(suffix)
}

// writeMDType writes v.MDType(t, cell).
func writeMDType(w *bytes.Buffer, v *view, t TypeRef, cell bool) {
	writeMDLinked(w, v.TypeHref(t), t.Name, cell)
}

// writeMDLink writes v.MDLink(anchor, text, cell).
func writeMDLink(w *bytes.Buffer, v *view, anchor, text string, cell bool) {
	writeMDLinked(w, v.Href(anchor), text, cell)
}

// writeMDLinked writes text as a code span, linked to href unless it is
// empty.
func writeMDLinked(w *bytes.Buffer, href, text string, cell bool) {
	if href == "" {
		writeMDCode(w, text, cell)
		return
	}
	w.WriteByte('[')
	writeMDCode(w, text, cell)
	w.WriteString("](")
	w.WriteString(mdURL(href))
	w.WriteByte(')')
}
