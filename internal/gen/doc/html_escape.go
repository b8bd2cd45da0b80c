package doc

import (
	"bytes"
	"strings"
)

// The escapers of the built-in HTML page. They follow html/template's
// rules for the contexts the page uses, byte for byte, so that the page
// reads the same as when it was a template and custom templates that call
// the built-in parts see consistent escaping.

// textEscapes and htmlEscapes are the replacements of escText and
// escHTML, by byte; "" leaves the byte alone.
var textEscapes, htmlEscapes = func() (text, html [256]string) {
	html['"'], html['&'], html['\''], html['<'], html['>'] = "&#34;", "&amp;", "&#39;", "&lt;", "&gt;"
	text = html
	text[0], text['+'] = "\uFFFD", "&#43;"
	return text, html
}()

// escText writes s escaped as html/template escapes a string in HTML text,
// in RCDATA (<title>) and in a quoted attribute value: NUL becomes U+FFFD,
// and " & ' + < > become character references. Every other byte,
// including those of invalid UTF-8, is copied.
func escText(b *bytes.Buffer, s string) { escBytes(b, s, &textEscapes) }

// escHTML writes s escaped as html.EscapeString does (the escaping of the
// table rows): " & ' < > become character references.
func escHTML(b *bytes.Buffer, s string) { escBytes(b, s, &htmlEscapes) }

func escBytes(b *bytes.Buffer, s string, repl *[256]string) {
	last := 0
	for i := 0; i < len(s); i++ {
		if r := repl[s[i]]; r != "" {
			b.WriteString(s[last:i])
			b.WriteString(r)
			last = i + 1
		}
	}
	b.WriteString(s[last:])
}

const lowerHex = "0123456789abcdef"

// escFragment writes s as html/template writes a string after the '#' of
// a URL attribute (href="#{{.}}"): every byte but ASCII letters, digits
// and - . _ ~ is percent-encoded with lower-case hex digits. The result
// needs no further escaping inside a quoted attribute.
func escFragment(b *bytes.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			continue
		}
		b.WriteString(s[last:i])
		writePercent(b, c)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// escURL writes a link as the page template's href="{{url .}}" did: the
// generator's own fragments and relative paths (see pageURL) and http,
// https and mailto URLs pass, anything else becomes html/template's
// "#ZgotmplZ"; the URL is then normalised (bytes outside the URL
// character set percent-encoded, valid escapes kept) and escaped for a
// quoted attribute (& and + become character references).
func escURL(b *bytes.Buffer, s string) {
	if !pageURLSafe(s) {
		b.WriteString("#ZgotmplZ")
		return
	}
	normURL(b, s)
}

// normURL writes s normalised as html/template normalises a URL and
// escaped for a quoted attribute, without escURL's check of the scheme.
func normURL(b *bytes.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var repl string
		switch {
		case c == '&':
			repl = "&amp;"
		case c == '+':
			repl = "&#43;"
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9':
			continue
		case strings.IndexByte("!#$*,/:;=?@[]-._~", c) >= 0:
			continue
		case c == '%' && i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2]):
			continue
		}
		b.WriteString(s[last:i])
		if repl != "" {
			b.WriteString(repl)
		} else {
			writePercent(b, c)
		}
		last = i + 1
	}
	b.WriteString(s[last:])
}

// pageURLSafe reports whether html/template lets the page link s through
// pageURL and its URL filter: the generator's own links (fragments,
// relative paths, paths without a scheme) and http, https and mailto URLs.
func pageURLSafe(s string) bool {
	if strings.HasPrefix(s, "#") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") {
		return true
	}
	i := strings.IndexAny(s, ":/")
	if i < 0 || s[i] == '/' {
		return true
	}
	scheme := s[:i]
	return strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https") || strings.EqualFold(scheme, "mailto")
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// writePercent writes c as a percent escape with lower-case hex digits, as
// html/template does.
func writePercent(b *bytes.Buffer, c byte) {
	b.WriteByte('%')
	b.WriteByte(lowerHex[c>>4])
	b.WriteByte(lowerHex[c&15])
}
