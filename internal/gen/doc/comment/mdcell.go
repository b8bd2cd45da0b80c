package comment

import (
	"strconv"
	"strings"
)

// A GitHub table cell holds one line of inline Markdown, so the blocks of
// a comment cannot be written as Markdown there. GitHub (cmark-gfm) allows
// inline HTML in cells, and parses the Markdown between the tags: lists
// are written as <ul>/<ol> and <li> tags around their items' inline text,
// code blocks as <pre> around one code span per line joined by <br>, and
// paragraphs are joined by <br>. The tags are the only HTML written; the
// text goes through mdInline (HTML and pipes escaped) and the code through
// MDCode (literal, pipes escaped), as in the rest of the cell.

var crlf = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// cellBlock is a block of a comment, as a table cell shows it.
type cellBlock struct {
	kind  byte     // 'p' paragraph, 'c' code, 'u' bullet list, 'o' ordered list
	lines []string // paragraph or code lines
	items [][]string
	start int // first number of an ordered list
}

// hasCellBlocks reports whether a comment holds a block that a cell
// cannot show as joined lines: a list, a fenced or an indented code block.
func hasCellBlocks(src string) bool {
	prevBlank, prev := true, ""
	for rest, more := src, true; more; {
		var l string
		l, rest, more = strings.Cut(rest, "\n")
		blank := strings.TrimSpace(l) == ""
		switch {
		case blank:
		case fenceMarker(l) != 0:
			return true
		case prevBlank && indentOf(l) >= 4:
			return true
		default:
			if _, _, _, _, ok := listMarker(l, !prevBlank); ok && !unclosedBracket(prev) {
				return true
			}
		}
		prevBlank, prev = blank, l
	}
	return false
}

// indentOf is the width of the leading spaces and tabs of l (tabs to the
// next multiple of 4).
func indentOf(l string) int {
	w := 0
	for _, c := range []byte(l) {
		switch c {
		case ' ':
			w++
		case '\t':
			w += 4 - w%4
		default:
			return w
		}
	}
	return w
}

// dedent removes n columns of leading space from l (less if l has less).
func dedent(l string, n int) string {
	w, i := 0, 0
	for i < len(l) && w < n {
		switch l[i] {
		case ' ':
			w++
		case '\t':
			w += 4 - w%4
			if w > n {
				return strings.Repeat(" ", w-n) + l[i+1:]
			}
		default:
			return l[i:]
		}
		i++
	}
	return l[i:]
}

// listMarker reads a list item marker at the start of l (after up to 3
// spaces): "-", "*" or "+", or 1 to 9 digits and "." or ")", followed by
// a space or the end of the line. kind is 'u' or 'o' plus the marker
// character in delim, content the column where the item's text starts.
// In a paragraph (interrupt), an ordered item must start at 1 and an item
// must not be empty, as CommonMark has it.
func listMarker(l string, interrupt bool) (kind byte, delim byte, start, content int, ok bool) {
	ind := indentOf(l)
	if ind > 3 {
		return 0, 0, 0, 0, false
	}
	t := strings.TrimLeft(l, " \t")
	i := 0
	switch {
	case t != "" && (t[0] == '-' || t[0] == '*' || t[0] == '+'):
		kind, delim, i = 'u', t[0], 1
		// A thematic break ("- - -", "***") is not a list item.
		if n := strings.Count(t, string(t[0])); n >= 3 && strings.Trim(t, string(t[0])+" \t") == "" {
			return 0, 0, 0, 0, false
		}
	default:
		for i < len(t) && i < 9 && t[i] >= '0' && t[i] <= '9' {
			i++
		}
		if i == 0 || i >= len(t) || (t[i] != '.' && t[i] != ')') {
			return 0, 0, 0, 0, false
		}
		start, _ = strconv.Atoi(t[:i])
		kind, delim = 'o', t[i]
		i++
	}
	rest := t[i:]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return 0, 0, 0, 0, false
	}
	if interrupt && (strings.TrimSpace(rest) == "" || kind == 'o' && start != 1) {
		return 0, 0, 0, 0, false
	}
	sp := indentOf(rest)
	if sp > 4 || strings.TrimSpace(rest) == "" {
		sp = 1 // an indented code block in the item, or an empty item
	}
	return kind, delim, start, ind + i + sp, true
}

// itemText is the text of a list item's first line, after its marker.
func itemText(l string) string {
	t := strings.TrimLeft(l, " \t")
	if t != "" && (t[0] == '-' || t[0] == '*' || t[0] == '+') {
		t = t[1:]
	} else {
		t = strings.TrimLeft(t, "0123456789")
		if t != "" {
			t = t[1:] // . or )
		}
	}
	if indentOf(t) > 4 {
		return t[1:] // an indented code block: one space belongs to the marker
	}
	return strings.TrimLeft(t, " \t")
}

// cellBlocks splits the lines of a comment into blocks.
func cellBlocks(lines []string) []cellBlock {
	var out []cellBlock
	for i := 0; i < len(lines); {
		l := lines[i]
		switch {
		case strings.TrimSpace(l) == "":
			i++
		case fenceMarker(l) != 0:
			c := fenceMarker(l)
			ind := indentOf(l)
			open := len(strings.TrimLeft(l, " ")) - len(strings.TrimLeft(strings.TrimLeft(l, " "), string(c)))
			b := cellBlock{kind: 'c'}
			for i++; i < len(lines); i++ {
				t := strings.TrimLeft(lines[i], " ")
				if fenceMarker(lines[i]) == c && len(t)-len(strings.TrimLeft(t, string(c))) >= open && strings.Trim(t, string(c)+" \t") == "" {
					i++
					break
				}
				b.lines = append(b.lines, dedent(lines[i], ind))
			}
			out = append(out, b)
		case indentOf(l) >= 4:
			b := cellBlock{kind: 'c'}
			for ; i < len(lines) && (indentOf(lines[i]) >= 4 || strings.TrimSpace(lines[i]) == ""); i++ {
				b.lines = append(b.lines, dedent(lines[i], 4))
			}
			for len(b.lines) > 0 && strings.TrimSpace(b.lines[len(b.lines)-1]) == "" {
				b.lines = b.lines[:len(b.lines)-1]
			}
			out = append(out, b)
		default:
			kind, delim, start, _, ok := listMarker(l, false)
			if !ok {
				b := cellBlock{kind: 'p'}
				for ; i < len(lines); i++ {
					l := lines[i]
					if strings.TrimSpace(l) == "" || fenceMarker(l) != 0 {
						break
					}
					// A list interrupts a paragraph, unless the text of a
					// link goes on on its line.
					if _, _, _, _, ok := listMarker(l, true); ok && len(b.lines) > 0 && !unclosedBracket(b.lines[len(b.lines)-1]) {
						break
					}
					b.lines = append(b.lines, strings.TrimSpace(l))
				}
				out = append(out, b)
				continue
			}
			b := cellBlock{kind: kind, start: start}
			for i < len(lines) {
				k, d, _, content, ok := listMarker(lines[i], false)
				if !ok || k != kind || d != delim {
					break
				}
				item := []string{itemText(lines[i])}
				i++
				// The item goes on with lines indented to its content,
				// blank lines followed by such lines, and lazy lines of
				// its paragraph.
				for i < len(lines) {
					l := lines[i]
					if strings.TrimSpace(l) == "" {
						j := i
						for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
							j++
						}
						if j < len(lines) && indentOf(lines[j]) >= content {
							for ; i < j; i++ {
								item = append(item, "")
							}
							continue
						}
						break
					}
					if indentOf(l) >= content {
						item = append(item, dedent(l, content))
						i++
						continue
					}
					last := item[len(item)-1]
					if _, _, _, _, isItem := listMarker(l, false); isItem || fenceMarker(l) != 0 || strings.TrimSpace(last) == "" {
						break
					}
					item = append(item, strings.TrimSpace(l)) // lazy continuation
					i++
				}
				b.items = append(b.items, item)
				// Blank lines between items keep the list going.
				j := i
				for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
					j++
				}
				if j < len(lines) {
					if k, d, _, _, ok := listMarker(lines[j], false); ok && k == kind && d == delim {
						i = j
					}
				}
			}
			out = append(out, b)
		}
	}
	return out
}

// writeCellBlocks writes blocks as one table cell's content.
func writeCellBlocks(b *strings.Builder, blocks []cellBlock, resolve func(string) string, depth int) {
	prevPara := false
	for _, blk := range blocks {
		switch blk.kind {
		case 'p':
			if prevPara {
				b.WriteString("<br>")
			}
			text := strings.Join(blk.lines, " ")
			b.WriteString(strings.TrimSpace(mdInline(escapeUnmatchedTicks(text), true, resolve)))
		case 'c':
			b.WriteString("<pre>")
			for i, l := range blk.lines {
				if i > 0 {
					b.WriteString("<br>")
				}
				if strings.TrimSpace(l) != "" {
					b.WriteString(MDCode(strings.TrimRight(l, " \t"), true))
				}
			}
			b.WriteString("</pre>")
		case 'u', 'o':
			if blk.kind == 'u' {
				b.WriteString("<ul>")
			} else if blk.start != 1 {
				b.WriteString(`<ol start="`)
				b.WriteString(strconv.Itoa(blk.start))
				b.WriteString(`">`)
			} else {
				b.WriteString("<ol>")
			}
			for _, item := range blk.items {
				b.WriteString("<li>")
				if depth < maxCellDepth {
					writeCellBlocks(b, cellBlocks(item), resolve, depth+1)
				} else {
					writeCellBlocks(b, []cellBlock{{kind: 'p', lines: nonBlank(item)}}, resolve, depth+1)
				}
				b.WriteString("</li>")
			}
			if blk.kind == 'u' {
				b.WriteString("</ul>")
			} else {
				b.WriteString("</ol>")
			}
		}
		prevPara = blk.kind == 'p'
	}
}

// maxCellDepth bounds the nesting of lists in a cell; deeper items are
// written as text.
const maxCellDepth = 8

func nonBlank(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}

// mdCellBlocks is MDCell for a comment with blocks (hasCellBlocks).
func mdCellBlocks(src string, resolve func(string) string) string {
	var b strings.Builder
	b.Grow(len(src) + 64)
	writeCellBlocks(&b, cellBlocks(strings.Split(src, "\n")), resolve, 0)
	return mdRefs(b.String(), resolve)
}

// escapeUnmatchedTicks escapes the backticks of runs that close no code
// span in s, so that no code span opens in one block of a cell and closes
// in another, across the tags between them.
func escapeUnmatchedTicks(s string) string {
	if !strings.Contains(s, "`") {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		switch s[i] {
		case '\\':
			i += 2
			continue
		case '`':
			n := runLen(s, i, '`')
			if end := findRun(s, i+n, n); end >= 0 {
				i = end + n
				continue
			}
			b.WriteString(s[last:i])
			b.WriteString(strings.Repeat("\\`", n))
			i += n
			last = i
			continue
		}
		i++
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}
