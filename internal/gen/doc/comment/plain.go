package comment

import (
	"bytes"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/polyrpc/polyrpc/internal/gen/doc/htmlesc"
)

// plainParagraphs renders, without the Markdown parser, comments whose
// only Markdown is paragraphs, code spans and brackets that cannot form a
// link; it gives the HTML the parser and sanitize would. ok is false when
// the text may hold anything else.
//
// The comment is read as the parser reads it. Paragraphs are separated by
// blank lines. Every line must start with something that cannot open a
// block (a letter, digits not followed by "." or ")" and a space or the
// end of the line, an opening parenthesis or quote, "[", or fewer than
// three backticks) and must not end in a space (which the parser drops or
// turns into a line break). Outside code spans no character may start
// emphasis, strikethrough, an escape, an entity or a link: "*", "~", "\",
// "&" before a name or "#", "](", "]:", "][", "]" at the end of a line
// before "(http", a bracketed full name ("[a.b]": a cross-reference, see
// xref.go), "://" (a bare URL) and "_" other than between two letters or
// digits. Other brackets are text. "<" is text, as escapeRawHTML makes it. Every code span
// closes on its own line with a run of as many backticks, so that it is
// the span the parser finds. No control characters other than newlines,
// and valid UTF-8.
func plainParagraphs(src string) (string, bool) {
	if !plainText(src) {
		return "", false
	}
	b := plainBuffers.Get().(*bytes.Buffer)
	defer plainBuffers.Put(b)
	b.Reset()
	writePlainParagraphs(b, src)
	return b.String(), true
}

var plainBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writePlainParagraphs writes the HTML of a comment that plainText
// accepted.
func writePlainParagraphs(b *bytes.Buffer, src string) {
	for rest, more := src, true; more; {
		var para string
		para, rest, more = strings.Cut(rest, "\n\n")
		rest = strings.TrimLeft(rest, "\n") // more blank lines are one break
		b.WriteString("<p>")
		for lines, lmore := para, true; lmore; {
			var line string
			line, lines, lmore = strings.Cut(lines, "\n")
			writePlainLine(b, line)
			if lmore {
				b.WriteByte('\n')
			}
		}
		b.WriteString("</p>\n")
	}
}

// plainSpecial marks the bytes plainText must look at.
var plainSpecial = func() (t [256]bool) {
	for c := 0; c < ' '; c++ {
		t[c] = true
	}
	for _, c := range []byte("`*~\\_&]\x7f") {
		t[c] = true
	}
	for c := utf8.RuneSelf; c < 256; c++ {
		t[c] = true
	}
	return t
}()

// plainText checks what plainParagraphs documents.
func plainText(src string) bool {
	if src == "" || !plainStart(src) || strings.Contains(src, "://") {
		return false // a bare URL becomes a link
	}
	ascii := true
	for i := 0; i < len(src); i++ {
		c := src[i]
		if !plainSpecial[c] {
			continue
		}
		switch c {
		case '\n': // i > 0: a line starts with no newline
			if src[i-1] == ' ' {
				return false
			}
			j := i + 1
			for j < len(src) && src[j] == '\n' {
				j++ // blank lines between paragraphs
			}
			if j == len(src) || !plainStart(src[j:]) {
				return false
			}
			i = j - 1
		case '`':
			n := runLen(src, i, '`')
			eol := strings.IndexByte(src[i+n:], '\n')
			if eol < 0 {
				eol = len(src)
			} else {
				eol += i + n
			}
			end := findRun(src[:eol], i+n, n)
			if end < 0 {
				return false
			}
			for _, c := range []byte(src[i+n : end]) {
				if c < ' ' || c == 0x7f {
					return false
				}
				if c >= utf8.RuneSelf {
					ascii = false
				}
			}
			i = end + n - 1
		case '*', '~', '\\', 0x7f:
			return false
		case '_':
			if i == 0 || i == len(src)-1 || !isAlnum(src[i-1]) || !isAlnum(src[i+1]) {
				return false
			}
		case '&':
			if i+1 < len(src) && (isAlnum(src[i+1]) || src[i+1] == '#') {
				return false
			}
		case ']':
			if i+1 < len(src) && (src[i+1] == '(' || src[i+1] == ':' || src[i+1] == '[') {
				return false // a link, a definition or a reference
			}
			if i+1 < len(src) && src[i+1] == '\n' && splitLinkAt(src, i+1) || shortcutNameBefore(src, i) {
				return false // a link split across lines, a cross-reference
			}
		default:
			if c < ' ' {
				return false
			}
			ascii = false
		}
	}
	return src[len(src)-1] != ' ' && (ascii || utf8.ValidString(src))
}

// plainStart reports whether the line at the start of s starts with
// something that cannot open a block.
func plainStart(s string) bool {
	switch c := s[0]; {
	case c == '`':
		return runLen(s, 0, '`') < 3
	case '0' <= c && c <= '9':
		j := 0
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		// Not an ordered list item.
		return j == len(s) || s[j] != '.' && s[j] != ')' || j+1 < len(s) && s[j+1] != ' ' && s[j+1] != '\n'
	case c == '(' || c == '"' || c == '\'' || c == '[':
		return true
	case c < utf8.RuneSelf:
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLetter(r)
}

// writePlainLine writes a line of a comment that plainText accepted.
func writePlainLine(b *bytes.Buffer, l string) {
	for {
		i := strings.IndexByte(l, '`')
		if i < 0 {
			escapeString(b, l)
			return
		}
		escapeString(b, l[:i])
		n := runLen(l, i, '`')
		end := findRun(l, i+n, n)
		code := l[i+n : end]
		if len(code) > 1 && code[0] == ' ' && code[len(code)-1] == ' ' && strings.Trim(code, " ") != "" {
			code = code[1 : len(code)-1]
		}
		b.WriteString("<code>")
		escapeString(b, code)
		b.WriteString("</code>")
		l = l[end+n:]
	}
}

// escapeString writes s escaped as html.EscapeString escapes it.
func escapeString(b *bytes.Buffer, s string) { htmlesc.HTML(b, s) }
