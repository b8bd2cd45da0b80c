package doc

import (
	"bytes"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
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
// "&" before a name or "#", "](" and "]:" (with no link reference
// definition, a bracket is text) and "_" other than between two letters
// or digits. "<" is text, as escapeRawHTML makes it. Every code span
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

// plainText checks what plainParagraphs documents.
func plainText(src string) bool {
	if src == "" {
		return false
	}
	ascii := true
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case c < ' ' && c != '\n' || c == 0x7f:
			return false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	if !ascii && !utf8.ValidString(src) {
		return false
	}
	for rest, more := src, true; more; {
		var line string
		line, rest, more = strings.Cut(rest, "\n")
		if line == "" {
			// Blank lines only between paragraphs.
			if !more || strings.TrimLeft(rest, "\n") == "" {
				return false
			}
			continue
		}
		if !plainLine(line) {
			return false
		}
	}
	return src[0] != '\n'
}

// plainLine checks one non-empty line.
func plainLine(l string) bool {
	if l[len(l)-1] == ' ' {
		return false
	}
	switch c := l[0]; {
	case c == '`':
		if runLen(l, 0, '`') >= 3 {
			return false
		}
	case '0' <= c && c <= '9':
		j := 0
		for j < len(l) && '0' <= l[j] && l[j] <= '9' {
			j++
		}
		if j < len(l) && (l[j] == '.' || l[j] == ')') && (j+1 == len(l) || l[j+1] == ' ') {
			return false // an ordered list item
		}
	case c == '(' || c == '"' || c == '\'' || c == '[':
	case c < utf8.RuneSelf:
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	default:
		r, _ := utf8.DecodeRuneInString(l)
		if !unicode.IsLetter(r) {
			return false
		}
	}
	for i := 0; i < len(l); i++ {
		switch l[i] {
		case '`':
			n := runLen(l, i, '`')
			end := findRun(l, i+n, n)
			if end < 0 {
				return false
			}
			i = end + n - 1
		case '*', '~', '\\':
			return false
		case '_':
			if i == 0 || i == len(l)-1 || !isAlnum(l[i-1]) || !isAlnum(l[i+1]) {
				return false
			}
		case '&':
			if i+1 < len(l) && (isAlnum(l[i+1]) || l[i+1] == '#') {
				return false
			}
		case ']':
			if i+1 < len(l) && (l[i+1] == '(' || l[i+1] == ':') {
				return false
			}
		}
	}
	return true
}

// writePlainLine writes a line that plainLine accepted.
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
func escapeString(b *bytes.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		if r := htmlEscapes[s[i]]; r != "" {
			b.WriteString(s[last:i])
			b.WriteString(r)
			last = i + 1
		}
	}
	b.WriteString(s[last:])
}
