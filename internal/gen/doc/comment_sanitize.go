package doc

import "bytes"

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
// in plainTags, without attributes, and of text in which & starts only
// &lt;, &gt;, &amp; or &quot; (which is what the Markdown renderer writes
// for comments without links, images or raw HTML). It appends to dst; ok
// is false, with dst unspecified, for any other HTML, which must go through
// sanitize. Text is unescaped and escaped again as sanitize does.
func sanitizeSimple(dst, s []byte) ([]byte, bool) {
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
			out, ok := plainTags[string(s[i:i+j+1])]
			if !ok {
				return dst, false
			}
			esc, skip = out, j+1
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
