package mdout

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/polyrpc/polyrpc/internal/gen/doc/comment"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// Writers of the small Markdown pieces of the built-in page. Each writes
// the same bytes as the helper it names, without building the string when
// the input needs no escaping.

// mdCodeSpecial marks the bytes that make comment.MDCode do more than wrap
// its input in single backticks.
var mdCodeSpecial = byteSet("`|\n")

// mdEscapeSpecial marks the bytes that Escape escapes.
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

// writeMDCode writes comment.MDCode(s, cell).
func writeMDCode(w *bytes.Buffer, s string, cell bool) {
	if hasAny(s, &mdCodeSpecial) {
		w.WriteString(comment.MDCode(s, cell))
		return
	}
	w.WriteByte('`')
	w.WriteString(s)
	w.WriteByte('`')
}

// writeMDCode3 writes comment.MDCode(a+b+c, cell).
func writeMDCode3(w *bytes.Buffer, a, b, c string, cell bool) {
	if hasAny(a, &mdCodeSpecial) || hasAny(b, &mdCodeSpecial) || hasAny(c, &mdCodeSpecial) {
		w.WriteString(comment.MDCode(a+b+c, cell))
		return
	}
	w.WriteByte('`')
	w.WriteString(a)
	w.WriteString(b)
	w.WriteString(c)
	w.WriteByte('`')
}

// writeMDEscape writes Escape(s).
func writeMDEscape(w *bytes.Buffer, s string) {
	n, start, ascii := w.Len(), 0, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			ascii = false
		} else if mdEscapeSpecial[c] {
			w.WriteString(s[start:i])
			w.WriteByte('\\')
			start = i
		}
	}
	w.WriteString(s[start:])
	if !ascii && !utf8.ValidString(s) {
		w.Truncate(n)
		w.WriteString(Escape(s)) // it also replaces invalid bytes
	}
}

// writeMDFragment writes comment.MDURL("#" + anchor + suffix); suffix holds no
// character that comment.MDURL escapes.
func writeMDFragment(w *bytes.Buffer, anchor, suffix string) {
	w.WriteByte('#')
	w.WriteString(comment.MDURL(anchor))
	w.WriteString(suffix)
}

// writeMDType writes Type(v, t, cell).
func writeMDType(w *bytes.Buffer, v *model.Page, t model.TypeRef, cell bool) {
	writeMDLinked(w, v.TypeHref(t), t.Name, cell)
}

// writeMDLink writes Link(v, anchor, text, cell).
func writeMDLink(w *bytes.Buffer, v *model.Page, anchor, text string, cell bool) {
	writeMDLinked(w, v.Href(anchor), text, cell)
}

// writeMDCell writes CellAll(v, desc, rules, opts).
func writeMDCell(w *bytes.Buffer, v *model.Page, desc string, rules []string, opts []model.Option) {
	if len(rules) == 0 && len(opts) == 0 {
		w.WriteString(comment.MDCell(desc, v.Href))
		return
	}
	w.WriteString(CellAll(v, desc, rules, opts))
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
	w.WriteString(comment.MDURL(href))
	w.WriteByte(')')
}

// pathSafe marks the bytes that url.PathEscape and comment.MDURL leave alone in
// a path segment.
var pathSafe = byteSet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")

var notPathSafe = func() (set [256]bool) {
	for i := range set {
		set[i] = !pathSafe[i]
	}
	return set
}()

// plainPath reports whether p is a relative slash-separated path of
// non-empty segments other than "." and "..", made of bytes in pathSafe
// only: a path that RelPath and comment.MDURL do not need to clean or escape.
func plainPath(p string) bool {
	if p == "" {
		return false
	}
	seg := 0
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			if !pathSafe[p[i]] {
				return false
			}
			continue
		}
		if s := p[seg:i]; s == "" || s == "." || s == ".." {
			return false
		}
		seg = i + 1
	}
	return true
}

// docHrefs writes the links from one document to the others of the run:
// comment.MDURL(v.DocHref(p)), computed without building strings when the
// paths are plain.
type docHrefs struct {
	v     *model.Page
	plain bool     // v.Path and v.Ext are plain
	dir   []string // directories of v.Path
}

func newDocHrefs(v *model.Page) docHrefs {
	h := docHrefs{v: v, plain: plainPath(v.Path) && !hasAny(v.Ext, &notPathSafe)}
	if i := strings.LastIndexByte(v.Path, '/'); h.plain && i >= 0 {
		h.dir = strings.Split(v.Path[:i], "/")
	}
	return h
}

func (h *docHrefs) write(w *bytes.Buffer, p string) {
	if !h.plain || !plainPath(p) {
		w.WriteString(comment.MDURL(h.v.DocHref(p)))
		return
	}
	// As RelPath: the directories shared with this document are left
	// out, the others are climbed with "../".
	pos, i := 0, 0
	for i < len(h.dir) {
		j := strings.IndexByte(p[pos:], '/')
		if j < 0 || p[pos:pos+j] != h.dir[i] {
			break
		}
		pos += j + 1
		i++
	}
	if up := len(h.dir) - i; up > 0 {
		for ; up > 0; up-- {
			w.WriteString("../")
		}
	} else {
		w.WriteString("./")
	}
	w.WriteString(p[pos:])
	w.WriteString(h.v.Ext)
}

// Escape escapes Markdown punctuation in plain text (headings, link text).
func Escape(s string) string {
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

// Type is a type reference as Markdown: a code span, linked when its
// definition is reachable.
func Type(v *model.Page, t model.TypeRef, cell bool) string {
	code := comment.MDCode(t.Name, cell)
	if h := v.TypeHref(t); h != "" {
		return "[" + code + "](" + comment.MDURL(h) + ")"
	}
	return code
}

// Link is a Markdown link to an element by anchor, or a code span when it
// is not documented.
func Link(v *model.Page, anchor, text string, cell bool) string {
	code := comment.MDCode(text, cell)
	if h := v.Href(anchor); h != "" {
		return "[" + code + "](" + comment.MDURL(h) + ")"
	}
	return code
}

// CellAll is a table cell with a description, validation rules and
// options, separated by line breaks.
func CellAll(v *model.Page, desc string, rules []string, opts []model.Option) string {
	var parts []string
	if d := comment.MDCell(desc, v.Href); d != "" {
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
