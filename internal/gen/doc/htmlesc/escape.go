// Package htmlesc writes values into the built-in HTML pages escaped as
// html/template escapes them in the same places (text, attributes, URL
// fragments, links), and decides which URLs a page or a comment may link
// to. Text is html/template's own escaping and HTML html.EscapeString; the
// URL contexts (fragments, links), which html/template escapes only inside
// a template, are small functions that TestHTMLEscapers and
// FuzzHTMLEscapers compare with html/template itself.
package htmlesc

import (
	"bytes"
	"html"
	htmltemplate "html/template"
	"net/url"
	"strings"
)

// The escapers of the built-in HTML page. They follow html/template's
// rules for the contexts the page uses, byte for byte, so that the page
// reads the same as when it was a template and custom templates that call
// the built-in parts see consistent escaping.

// textTemplate is html/template's escaping of a string in HTML text, which
// is also its escaping in RCDATA (<title>) and in a quoted attribute value.
var textTemplate = htmltemplate.Must(htmltemplate.New("text").Parse(`{{.}}`))

// textSpecial are the bytes html/template's escaping of text changes: a
// string without them is written as it is, without running the template.
const textSpecial = "\x00\"&'+<>"

// Text writes s escaped as html/template escapes a string in HTML text,
// in RCDATA (<title>) and in a quoted attribute value (NUL becomes U+FFFD,
// and " & ' + < > become character references), by executing a template.
func Text(b *bytes.Buffer, s string) {
	if !strings.ContainsAny(s, textSpecial) {
		b.WriteString(s)
		return
	}
	if err := textTemplate.Execute(b, s); err != nil {
		// A string written into a bytes.Buffer: html/template has no
		// error to give here.
		panic("htmlesc: " + err.Error())
	}
}

// HTML writes s escaped as html.EscapeString escapes it (the escaping of
// the table rows): " & ' < > become character references.
func HTML(b *bytes.Buffer, s string) {
	if !strings.ContainsAny(s, "\"&'<>") {
		b.WriteString(s)
		return
	}
	b.WriteString(html.EscapeString(s))
}

const lowerHex = "0123456789abcdef"

// Fragment writes s as html/template writes a string after the '#' of
// a URL attribute (href="#{{.}}"): every byte but ASCII letters, digits
// and - . _ ~ is percent-encoded with lower-case hex digits. The result
// needs no further escaping inside a quoted attribute.
func Fragment(b *bytes.Buffer, s string) {
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

// URL writes a link as the page template's href="{{url .}}" did: the
// generator's own fragments and relative paths (see PageURL) and http,
// https and mailto URLs pass, anything else becomes html/template's
// "#ZgotmplZ"; the URL is then normalised (bytes outside the URL
// character set percent-encoded, valid escapes kept) and escaped for a
// quoted attribute (& and + become character references).
func URL(b *bytes.Buffer, s string) {
	if !pageURLSafe(s) {
		b.WriteString("#ZgotmplZ")
		return
	}
	NormURL(b, s)
}

// NormURL writes s normalised as html/template normalises a URL and
// escaped for a quoted attribute, without URL's check of the scheme.
func NormURL(b *bytes.Buffer, s string) {
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
// PageURL and its URL filter: the generator's own links (fragments,
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

// HrefAttr writes a URL built by the generator for a quoted
// attribute: only fragments, relative paths and http(s) and mailto URLs
// are accepted (others become "#"), and bytes outside the URL character
// set are percent-encoded.
func HrefAttr(b *bytes.Buffer, u string) {
	if !strings.HasPrefix(u, "#") && !strings.HasPrefix(u, "./") && !strings.HasPrefix(u, "../") && !AbsoluteSafeURL(u) {
		b.WriteString("#")
		return
	}
	HrefBytes(b, u)
}

// HrefBytes writes u with the bytes outside the URL character set
// percent-encoded with upper-case hex digits; the result needs no more
// escaping in a quoted attribute.
func HrefBytes(b *bytes.Buffer, u string) {
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

// PageURL marks URLs that the generator built itself (fragments and
// relative paths to other documents) as safe; html/template would
// otherwise reject "#file:a.proto" as an unknown scheme. Anything else is
// left to html/template's own URL check.
func PageURL(s string) any {
	if strings.HasPrefix(s, "#") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") {
		return htmltemplate.URL(s)
	}
	if i := strings.IndexAny(s, ":/"); i < 0 || s[i] == '/' {
		return htmltemplate.URL(s)
	}
	return s
}

// AbsoluteSafeURL allows http, https and mailto URLs: comments cannot link
// to files next to the page, which may not exist.
func AbsoluteSafeURL(u string) bool {
	s := strings.ToLower(strings.TrimSpace(u))
	switch {
	case strings.HasPrefix(s, "mailto:"):
		_, err := url.Parse(u)
		return err == nil
	case strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"):
		// A link must also be a URL a browser can follow.
		parsed, err := url.Parse(strings.TrimSpace(u))
		return err == nil && parsed.Host != ""
	}
	return false
}
