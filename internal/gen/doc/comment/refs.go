package comment

import "strings"

// Ref is one reference link of a comment's Markdown source, as
// RewriteRefs finds it: "[text][label]" (full), "[label][]" (collapsed) or
// "[label]" (shortcut, not followed by "(", "[" or ":").
type Ref struct {
	Text     string // the text between the first brackets
	Label    string // the label; for collapsed and shortcut references, Text
	Shortcut bool
}

// RewriteRefs calls rewrite for every reference link of src outside code
// spans and fenced code blocks, and replaces the reference with what it
// returns: a new label ("[text][label]") or an inline link to a URL
// ("[text](url)"); when ok is false, the reference stays as written. src
// is returned unchanged when it holds no reference.
func RewriteRefs(src string, rewrite func(r Ref) (label, url string, ok bool)) string {
	if !strings.Contains(src, "]") {
		return src
	}
	var b strings.Builder
	last := 0
	var fence byte
	lineStart := true
	for i := 0; i < len(src); {
		if lineStart {
			lineStart = false
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src) - i
			}
			if m := fenceMarker(src[i : i+end]); m != 0 && (fence == 0 || m == fence) {
				if fence == 0 {
					fence = m
				} else {
					fence = 0
				}
				i += end
				continue
			}
			if fence != 0 {
				i += end
				continue
			}
		}
		c := src[i]
		switch c {
		case '\n':
			lineStart = true
			i++
			continue
		case '\\':
			i += 2
			continue
		case '`':
			n := runLen(src, i, '`')
			if end := findRun(src, i+n, n); end >= 0 {
				i = end + n
			} else {
				i += n
			}
			continue
		case '[':
		default:
			i++
			continue
		}
		if i > 0 && (src[i-1] == '!' || src[i-1] == ']') {
			i++
			continue
		}
		// The text ends at the next ']' outside code spans, unless a '['
		// or a blank line comes first.
		j := i + 1
		blank := false
		for j < len(src) && src[j] != ']' && src[j] != '[' && !blank {
			switch src[j] {
			case '`':
				n := runLen(src, j, '`')
				if end := findRun(src, j+n, n); end >= 0 {
					j = end + n
					continue
				}
				j += n
				continue
			case '\\':
				j++
			case '\n':
				blank = strings.HasPrefix(strings.TrimLeft(src[j+1:], " \t"), "\n") // the paragraph ends
			}
			j++
		}
		if blank || j >= len(src) || src[j] != ']' {
			if j < len(src) && src[j] == '[' && !blank {
				i = j
			} else {
				i++
			}
			continue
		}
		r := Ref{Text: src[i+1 : j]}
		end := j + 1
		split := false
		if k := splitLabelAt(src, end); k > end {
			end, split = k, true // "[text] [a.b.C]" or "[text]\n[a.b.C]": one reference
		}
		switch {
		case end < len(src) && src[end] == '[':
			k := strings.IndexAny(src[end+1:], "[]\n")
			if k < 0 || src[end+1+k] != ']' {
				i = end
				continue
			}
			r.Label = src[end+1 : end+1+k]
			end += k + 2
			if r.Label == "" {
				r.Label = r.Text
			}
		case end < len(src) && (src[end] == '(' || src[end] == ':'):
			i = end
			continue
		default:
			r.Label, r.Shortcut = r.Text, true
		}
		if r.Text == "" || strings.ContainsAny(r.Label, "\n[]") {
			i = end
			continue
		}
		label, url, ok := rewrite(r)
		if !ok && split {
			label, ok = r.Label, true // joined, as its writer meant it
		}
		if !ok {
			i = end
			continue
		}
		b.WriteString(src[last:i])
		b.WriteByte('[')
		b.WriteString(r.Text)
		if url != "" {
			b.WriteString("](")
			b.WriteString(url)
			b.WriteByte(')')
		} else {
			b.WriteString("][")
			b.WriteString(label)
			b.WriteByte(']')
		}
		i, last = end, end
	}
	if last == 0 {
		return src
	}
	b.WriteString(src[last:])
	return b.String()
}

// splitLabelAt returns, when src at i holds blanks with at most one line
// break and then "[" and a full name and "]", the index of that "[" (the
// label of a reference whose writer split it from its text, as older
// Google protos do); otherwise i.
func splitLabelAt(src string, i int) int {
	k, nl := i, 0
	for k < len(src) && (src[k] == ' ' || src[k] == '\t' || src[k] == '\n') {
		if src[k] == '\n' {
			nl++
		}
		k++
	}
	if k == i || nl > 1 || k >= len(src) || src[k] != '[' {
		return i
	}
	e := strings.IndexAny(src[k+1:], "[]\n")
	if e < 0 || src[k+1+e] != ']' || !isProtoName(src[k+1:k+1+e]) {
		return i
	}
	if k+2+e < len(src) && (src[k+2+e] == '[' || src[k+2+e] == '(') {
		return i // the second brackets start a reference or link of their own
	}
	return k
}

// IsProtoName reports whether s, less a leading dot, is a full proto name:
// two or more identifiers joined by dots.
func IsProtoName(s string) bool { return isProtoName(s) }

// IsIdent reports whether s is one proto identifier.
func IsIdent(s string) bool {
	if s == "" || len(s) > 256 || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
