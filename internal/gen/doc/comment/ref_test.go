package comment

import (
	"regexp"
	"strings"

	"github.com/polyrpc/polyrpc/internal/gen/doc/htmlesc"
)

// The straightforward forms of the comment helpers, which the tests
// compare the ones in use with.

var (
	refFenceLine     = regexp.MustCompile("^ {0,3}(```+|~~~+)")
	refRefDefinition = regexp.MustCompile(`^ {0,3}\[[^\]]*\]:`)
	refInlineLink    = regexp.MustCompile(`\]\(\s*(?:<|&lt;)?([^)\s>]*)`)
)

// refEscapeRawHTML is escapeRawHTML: it turns < outside code into &lt;,
// so that HTML written in a comment shows as text.
func refEscapeRawHTML(src string) string {
	lines := strings.Split(src, "\n")
	fence := ""
	for i, l := range lines {
		if m := refFenceLine.FindStringSubmatch(l); m != nil {
			marker := m[1][:1]
			if fence == "" {
				fence = marker
				continue
			} else if marker == fence {
				fence = ""
				continue
			}
		}
		if fence != "" || !strings.Contains(l, "<") {
			continue
		}
		var b strings.Builder
		for j := 0; j < len(l); {
			if l[j] == '`' {
				n := runLen(l, j, '`')
				if end := findRun(l, j+n, n); end >= 0 {
					b.WriteString(l[j : end+n])
					j = end + n
					continue
				}
				b.WriteString(l[j : j+n])
				j += n
				continue
			}
			if l[j] == '<' {
				b.WriteString("&lt;")
			} else {
				b.WriteByte(l[j])
			}
			j++
		}
		lines[i] = b.String()
	}
	return strings.Join(lines, "\n")
}

// refMdBlock is MDBlock: raw HTML is escaped outside code, and links to
// other than http, https and mailto URLs lose their target.
func refMdBlock(src string, resolve func(string) string) string {
	src = joinSplitRefs(joinSplitLinks(src))
	lines := strings.Split(src, "\n")
	fence := ""
	for i, l := range lines {
		if m := refFenceLine.FindStringSubmatch(l); m != nil {
			marker := m[1][:1]
			if fence == "" {
				fence = marker
				continue
			} else if marker == fence {
				fence = ""
				continue
			}
		}
		if fence != "" {
			continue
		}
		lines[i] = refMdInline(l, false, resolve)
		if opensDefinition(l, strings.Join(lines[i+1:], "\n")) {
			lines[i] = `\` + strings.TrimLeft(lines[i], " ")
		}
	}
	out := strings.Join(lines, "\n")
	if fence != "" {
		out += "\n" + strings.Repeat(fence, 3) // close an unterminated fence
	}
	return out
}

// refMdCell is MDCell: newlines become <br>, pipes are escaped (also
// inside code spans), HTML is escaped.
func refMdCell(src string, resolve func(string) string) string {
	if strings.Contains(src, "\r") {
		src = crlf.Replace(src) // a carriage return ends a table row too
	}
	src = joinSplitRefs(joinSplitLinks(strings.TrimSpace(src)))
	if hasCellBlocks(src) {
		return mdCellBlocks(src, resolve) // checked by TestMDCellBlocksSafe
	}
	var parts []string
	for _, l := range strings.Split(src, "\n") {
		if refFenceLine.MatchString(l) {
			continue // code fences cannot live in a cell; keep their text
		}
		parts = append(parts, refMdInline(l, true, resolve))
	}
	// Join lines: a blank line starts a new paragraph.
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			if strings.TrimSpace(p) == "" || strings.TrimSpace(parts[i-1]) == "" {
				b.WriteString("<br>")
			} else {
				b.WriteString(" ")
			}
		}
		b.WriteString(strings.TrimSpace(p))
	}
	// References whose text wrapped onto the next line are on one now.
	return mdRefs(strings.ReplaceAll(b.String(), "<br><br>", "<br>"), resolve)
}

// refMdInline is mdInline: outside code spans < becomes &lt; and unsafe
// link targets are removed; in a table cell, | becomes \| everywhere.
func refMdInline(l string, cell bool, resolve func(string) string) string {
	var b strings.Builder
	for i := 0; i < len(l); {
		if l[i] == '`' {
			n := runLen(l, i, '`')
			end := findRun(l, i+n, n)
			if end >= 0 {
				code := l[i : end+n]
				if cell {
					code = escapePipes(code)
				}
				b.WriteString(code)
				i = end + n
				continue
			}
			b.WriteString(l[i : i+n])
			i += n
			continue
		}
		c := l[i]
		switch {
		case c == '<':
			b.WriteString("&lt;")
		case c == '&':
			b.WriteString("&amp;") // no character references: they could spell a scheme
		case c == '>' && cell:
			b.WriteString("&gt;")
		case c == '|' && cell:
			b.WriteString(`\|`)
		case c == '\\' && i+1 < len(l):
			b.WriteString(l[i : i+2])
			i += 2
			continue
		case c == '\\' && cell:
			b.WriteString(`\\`) // a backslash at the end must not escape the cell's closing pipe
		default:
			b.WriteByte(c)
		}
		i++
	}
	out := b.String()
	out = refFixLinkTargets(out, resolve)
	out = mdRefs(out, resolve)
	if loc := refRefDefinition.FindStringIndex(out); loc != nil {
		// A link reference definition: keep it only for safe absolute URLs.
		dest := ""
		if f := strings.Fields(out[loc[1]:]); len(f) > 0 {
			dest = strings.TrimPrefix(strings.TrimPrefix(f[0], "<"), "&lt;")
		}
		if !htmlesc.AbsoluteSafeURL(dest) {
			out = `\` + strings.TrimLeft(out, " ") // no longer a definition
		}
	}
	return out
}

// refFixLinkTargets is fixLinkTargets: a link to a documented element is
// pointed at it, a link to an http, https or mailto URL stays, any other
// stops being a link.
func refFixLinkTargets(l string, resolve func(string) string) string {
	var b strings.Builder
	for {
		j := strings.Index(l, "](")
		if j < 0 {
			b.WriteString(l)
			return b.String()
		}
		b.WriteString(l[:j+1])
		rest := l[j+2:]
		m := refInlineLink.FindStringSubmatch("](" + rest)
		dest := m[1]
		switch {
		case strings.HasPrefix(dest, "#") && resolve != nil && resolve(dest[1:]) != "":
			b.WriteString("(" + MDURL(resolve(dest[1:])))
			rest = rest[len(m[0])-2:]
		case dest != "" && !strings.HasPrefix(dest, "#") && htmlesc.AbsoluteSafeURL(dest):
			b.WriteString("(")
		default:
			b.WriteString(" (")
		}
		l = rest
	}
}
