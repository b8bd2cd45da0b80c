package comment

import (
	"bytes"
	"html"
	"net/url"
	"strings"
)

// plainTags are the tags, as the Markdown renderer writes them, that
// sanitizeSimple copies, each with what sanitize makes of it.
var plainTags = func() map[string]string {
	m := map[string]string{"<br />": "<br>", "<hr />": "<hr>"}
	for _, t := range []string{
		"p", "em", "strong", "del", "code", "pre", "blockquote", "ul", "ol", "li",
		"h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
	} {
		m["<"+t+">"] = "<" + t + ">"
		m["</"+t+">"] = "</" + t + ">"
	}
	return m
}()

// sanitizeSimple gives what sanitize gives for HTML made only of the tags
// in plainTags, without attributes, links written as <a href="..."> and
// text in which & starts only &lt;, &gt;, &amp; or &quot; (which is what
// the Markdown renderer writes for comments without images, titled links
// or raw HTML). It appends to dst; ok is false, with dst unspecified, for
// any other HTML, which must go through sanitize. Text is unescaped and
// escaped again, and links are checked, as sanitize does.
func sanitizeSimple(dst, s []byte, resolve func(anchor string) string) ([]byte, bool) {
	var links uint64 // open <a> elements, one bit each: whether it kept its link
	depth := 0
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		skip := 1
		switch c := s[i]; c {
		case '<':
			j := bytes.IndexByte(s[i:], '>')
			if j < 0 {
				return dst, false
			}
			tag := s[i : i+j+1]
			switch {
			case bytes.HasPrefix(tag, []byte(`<a href="`)):
				href, ok := hrefValue(tag)
				if !ok || depth == 64 {
					return dst, false
				}
				dst = append(dst, s[last:i]...)
				target, ok := linkTarget(href, resolve)
				links = links<<1 | b2u(ok)
				depth++
				if ok {
					dst = append(dst, `<a href="`...)
					dst = appendEscaped(dst, target)
					dst = append(dst, `" rel="nofollow noopener">`...)
				} else {
					dst = appendRemovedLink(dst, href)
				}
				i += j
				last = i + 1
				continue
			case string(tag) == "</a>":
				esc = "</a>"
				if depth > 0 {
					if links&1 == 0 {
						esc = "</span>"
					}
					links >>= 1
					depth--
				}
			default:
				out, ok := plainTags[string(tag)]
				if !ok {
					return dst, false
				}
				esc = out
			}
			skip = j + 1
		case '&':
			switch rest := s[i+1:]; {
			case bytes.HasPrefix(rest, []byte("lt;")):
				esc, skip = "&lt;", 4
			case bytes.HasPrefix(rest, []byte("gt;")):
				esc, skip = "&gt;", 4
			case bytes.HasPrefix(rest, []byte("amp;")):
				esc, skip = "&amp;", 5
			case bytes.HasPrefix(rest, []byte("quot;")):
				esc, skip = "&#34;", 6
			default:
				return dst, false
			}
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case '>':
			esc = "&gt;"
		case 0, '\r':
			return dst, false // the tokenizer changes these
		default:
			continue
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		i += skip - 1
		last = i + 1
	}
	return append(dst, s[last:]...), true
}

// hrefValue reads the link of a tag written exactly as <a href="...">,
// unescaping the renderer's entities; ok is false for anything else.
func hrefValue(tag []byte) (string, bool) {
	v := tag[len(`<a href="`):]
	if len(v) < 2 || !bytes.HasSuffix(v, []byte(`">`)) {
		return "", false
	}
	v = v[:len(v)-2]
	if bytes.IndexByte(v, '&') < 0 {
		if bytes.IndexByte(v, '"') >= 0 || bytes.IndexByte(v, '\r') >= 0 || bytes.IndexByte(v, 0) >= 0 {
			return "", false
		}
		return string(v), true
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '&':
			rest := v[i+1:]
			switch {
			case bytes.HasPrefix(rest, []byte("lt;")):
				b, i = append(b, '<'), i+3
			case bytes.HasPrefix(rest, []byte("gt;")):
				b, i = append(b, '>'), i+3
			case bytes.HasPrefix(rest, []byte("amp;")):
				b, i = append(b, '&'), i+4
			case bytes.HasPrefix(rest, []byte("quot;")):
				b, i = append(b, '"'), i+5
			default:
				return "", false
			}
		case '"', '\r', 0:
			return "", false
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

// appendEscaped appends s escaped as html.EscapeString escapes it.
func appendEscaped(dst []byte, s string) []byte {
	if !strings.ContainsAny(s, "\"&'<>") {
		return append(dst, s...)
	}
	return append(dst, html.EscapeString(s)...)
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// appendRemovedLink opens the span that stands for a link that was
// removed: for a link to an element not documented in the run, it says so
// in its title.
func appendRemovedLink(dst []byte, href string) []byte {
	if len(href) < 2 || href[0] != '#' {
		return append(dst, `<span class="link-removed">`...)
	}
	name := href[1:]
	if u, err := url.PathUnescape(name); err == nil {
		name = u
	}
	dst = append(dst, `<span class="link-removed" title="not documented here: `...)
	dst = appendEscaped(dst, name)
	return append(dst, `">`...)
}
