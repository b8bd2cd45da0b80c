// Package comment turns the comments of proto elements, which are
// Markdown, into what the pages print: inert HTML (goldmark, then a
// sanitizer; plain paragraphs, most of a large API's comments, take a
// faster path that gives the same bytes, and rendered comments are cached),
// and Markdown made safe for a block or a table cell. Links to anchors
// (#acme.v1.Foo) and Google-style cross-references ([Foo][acme.v1.Foo],
// xref.go) are resolved by the caller's function; bare http and https URLs
// become links in HTML. RewriteRefs (refs.go) finds the references of a
// comment's source for the model builder, which settles them in scope.
package comment

import (
	"bufio"
	"bytes"
	"html"
	"html/template"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/polyrpc/polyrpc/internal/gen/doc/htmlesc"
)

// markdown renders comments. Raw HTML is never passed through (goldmark
// replaces it with a comment unless WithUnsafe is set, which it is not).
// Labels that are full names resolve to elements (xref.go).
var markdown = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough),
	goldmark.WithParserOptions(xrefParserOption))

// allowedTags are the elements kept from rendered comments; every other tag
// is dropped (its text stays).
var allowedTags = map[atom.Atom]bool{
	atom.P: true, atom.Br: true, atom.Hr: true, atom.Em: true, atom.Strong: true, atom.Del: true,
	atom.Code: true, atom.Pre: true, atom.Blockquote: true, atom.Ul: true, atom.Ol: true, atom.Li: true,
	atom.A: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Table: true, atom.Thead: true, atom.Tbody: true, atom.Tr: true, atom.Th: true, atom.Td: true,
}

// HTML renders a Markdown comment to inert HTML: no raw HTML, no
// script, no event handlers, no URLs other than http, https, mailto and
// relative ones, no images (the page loads nothing from the network).
func HTML(src string, resolve func(anchor string) string) template.HTML {
	if strings.TrimSpace(src) == "" {
		return ""
	}
	if h, ok := plainParagraphs(src); ok {
		return template.HTML(h)
	}
	return template.HTML(cachedMarkdownHTML(src, resolve))
}

// cachedMarkdownHTML is markdownHTML, kept for comments whose HTML does not
// depend on resolve.
func cachedMarkdownHTML(src string, resolve func(anchor string) string) string {
	if h, ok := renderedComments.get(src); ok {
		return h
	}
	h, linked := renderMarkdown(src, resolve)
	if !linked {
		renderedComments.put(src, h)
	}
	return h
}

// WriteHTML writes what HTML returns to b, and how many
// bytes that is, without making a string of it when it can.
func WriteHTML(b *bytes.Buffer, src string, resolve func(anchor string) string) int {
	n := b.Len()
	switch {
	case strings.TrimSpace(src) == "":
	case plainText(src):
		b.Grow(len(src) + len(src)/8 + 16)
		writePlainParagraphs(b, src)
	default:
		b.WriteString(cachedMarkdownHTML(src, resolve))
	}
	return b.Len() - n
}

// markdownHTML renders a comment through the Markdown parser and sanitize.
func markdownHTML(src string, resolve func(anchor string) string) string {
	h, _ := renderMarkdown(src, resolve)
	return h
}

// renderMarkdown is markdownHTML; linked reports whether the HTML depends
// on resolve, that is whether the comment links to an anchor.
func renderMarkdown(src string, resolve func(anchor string) string) (h string, linked bool) {
	w := writers.Get().(*pooledWriter)
	defer writers.Put(w)
	w.buf.Reset()
	w.Writer.Reset(&w.buf)
	w.resolve, w.linked = resolve, false
	defer func() { w.resolve = nil }()
	w.src = append(w.src[:0], escapeRawHTML(joinSplitLinks(src))...)
	if err := convert(w.src, w.Writer, w.track); err != nil {
		return "<p>" + html.EscapeString(src) + "</p>", false
	}
	if err := w.Flush(); err != nil {
		return "<p>" + html.EscapeString(src) + "</p>", false
	}
	out, ok := sanitizeSimple(w.out[:0], w.buf.Bytes(), w.track)
	w.out = out
	if ok {
		return string(out), w.linked
	}
	h = sanitize(w.buf.Bytes(), w.track)
	return h, w.linked
}

// pooledWriter holds the buffers of renderMarkdown: goldmark would
// otherwise allocate a 4 KiB bufio.Writer for every comment.
type pooledWriter struct {
	*bufio.Writer
	buf bytes.Buffer // rendered HTML
	src []byte       // Markdown source
	out []byte       // sanitized HTML

	resolve func(anchor string) string // the caller's, maybe nil
	linked  bool                       // whether an anchor was looked up
	track   func(anchor string) string // w.trackResolve
}

// trackResolve is resolve (a nil one finds nothing), noting the call.
func (w *pooledWriter) trackResolve(anchor string) string {
	w.linked = true
	if w.resolve == nil {
		return ""
	}
	return w.resolve(anchor)
}

var writers = sync.Pool{New: func() any {
	w := &pooledWriter{}
	w.Writer = bufio.NewWriter(&w.buf)
	w.track = w.trackResolve
	return w
}}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// sanitize re-serialises HTML keeping only allowed tags and attributes.
// It reads tokens through the tokenizer's byte accessors, so that text and
// attributes that are dropped are never copied.
func sanitize(s []byte, resolve func(anchor string) string) string {
	z := nethtml.NewTokenizer(bytes.NewReader(s))
	var b strings.Builder
	b.Grow(len(s))
	skip := 0        // depth inside elements whose content is dropped
	var links []bool // open <a> elements: whether each kept its link
	for {
		tt := z.Next()
		if tt == nethtml.ErrorToken {
			return b.String()
		}
		switch tt {
		case nethtml.TextToken:
			if skip == 0 {
				escapeText(&b, z.Text())
			}
		case nethtml.StartTagToken, nethtml.SelfClosingTagToken:
			name, moreAttr := z.TagName()
			tag := atom.Lookup(name)
			switch tag {
			case atom.Script, atom.Style, atom.Iframe, atom.Object, atom.Embed, atom.Template, atom.Svg, atom.Math, atom.Noscript, atom.Textarea, atom.Title:
				if tt == nethtml.StartTagToken {
					skip++
				}
				continue
			case atom.Img:
				for skip == 0 && moreAttr {
					var key, val []byte
					key, val, moreAttr = z.TagAttr()
					if string(key) == "alt" {
						escapeText(&b, val)
					}
				}
				continue
			}
			if skip > 0 || !allowedTags[tag] {
				continue
			}
			if tag == atom.A {
				// A link whose target is unsafe or unknown becomes plain text.
				href, raw, ok := "", "", false
				for moreAttr {
					var key, val []byte
					key, val, moreAttr = z.TagAttr()
					if string(key) == "href" {
						raw = string(val)
						href, ok = linkTarget(raw, resolve)
					}
				}
				links = append(links, ok)
				if !ok {
					b.Write(appendRemovedLink(nil, raw))
					continue
				}
				b.WriteString(`<a href="`)
				b.WriteString(html.EscapeString(href))
				b.WriteString(`" rel="nofollow noopener">`)
				continue
			}
			b.WriteString("<")
			b.WriteString(tag.String())
			for moreAttr {
				var key, val []byte
				key, val, moreAttr = z.TagAttr()
				var attr string
				switch {
				case string(key) == "class" && tag == atom.Code && bytes.HasPrefix(val, []byte("language-")):
					attr = "class"
				case string(key) == "start" && tag == atom.Ol:
					attr = "start"
				case string(key) == "align" && (tag == atom.Th || tag == atom.Td):
					attr = "align"
				default:
					continue
				}
				b.WriteString(" ")
				b.WriteString(attr)
				b.WriteString(`="`)
				escapeText(&b, val)
				b.WriteString(`"`)
			}
			b.WriteString(">")
		case nethtml.EndTagToken:
			name, _ := z.TagName()
			tag := atom.Lookup(name)
			switch tag {
			case atom.Script, atom.Style, atom.Iframe, atom.Object, atom.Embed, atom.Template, atom.Svg, atom.Math, atom.Noscript, atom.Textarea, atom.Title:
				if skip > 0 {
					skip--
				}
				continue
			}
			if skip > 0 || !allowedTags[tag] || tag == atom.Br || tag == atom.Hr {
				continue
			}
			if tag == atom.A && len(links) > 0 {
				ok := links[len(links)-1]
				links = links[:len(links)-1]
				if !ok {
					b.WriteString("</span>")
					continue
				}
			}
			b.WriteString("</")
			b.WriteString(tag.String())
			b.WriteString(">")
		}
	}
}

// escapeText writes text escaped as html.EscapeString escapes it.
func escapeText(b *strings.Builder, s []byte) {
	last := 0
	for i, c := range s {
		var esc string
		switch c {
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '&':
			esc = "&amp;"
		case '\'':
			esc = "&#39;"
		case '"':
			esc = "&#34;"
		default:
			continue
		}
		b.Write(s[last:i])
		b.WriteString(esc)
		last = i + 1
	}
	b.Write(s[last:])
}

// linkTarget checks a link from a comment: fragments must name a
// documented element (and are rewritten to where it lives), other URLs must
// be safe.
func linkTarget(u string, resolve func(string) string) (string, bool) {
	if strings.HasPrefix(u, "#") {
		if resolve == nil {
			return "", false
		}
		anchor, err := url.PathUnescape(u[1:])
		if err != nil {
			return "", false
		}
		h := resolve(anchor)
		return h, h != ""
	}
	return u, htmlesc.AbsoluteSafeURL(u)
}

// safeURL allows relative URLs and the http, https and mailto schemes.
func safeURL(u string) bool {
	var clean strings.Builder
	for _, r := range u {
		if r > ' ' && r != 0x7f {
			clean.WriteRune(r)
		}
	}
	s := strings.ToLower(clean.String())
	i := strings.IndexAny(s, ":/?#")
	if i < 0 || s[i] != ':' {
		return true // no scheme: relative
	}
	switch s[:i] {
	case "http", "https", "mailto":
		return true
	}
	return false
}

// escapeRawHTML turns < outside code into &lt;, so that HTML written in a
// comment shows as text instead of disappearing.
func escapeRawHTML(src string) string {
	if !strings.Contains(src, "<") {
		return src
	}
	lines := strings.Split(src, "\n")
	var fence byte
	for i, l := range lines {
		if m := fenceMarker(l); m != 0 && (fence == 0 || m == fence) {
			if fence == 0 {
				fence = m
			} else {
				fence = 0
			}
			continue
		}
		if fence != 0 || !strings.Contains(l, "<") {
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

// --- Markdown output ---

var refDefinition = regexp.MustCompile(`^ {0,3}\[[^\]]*\]:`)

// fenceMarker is the character (` or ~) of the code fence that a line
// opens or closes: up to three spaces, then three or more of it. It is 0
// for other lines.
func fenceMarker(l string) byte {
	i := 0
	for i < 3 && i < len(l) && l[i] == ' ' {
		i++
	}
	if i+3 <= len(l) && (l[i] == '`' || l[i] == '~') && l[i+1] == l[i] && l[i+2] == l[i] {
		return l[i]
	}
	return 0
}

// MDBlock makes a comment safe to include as Markdown blocks: raw HTML is
// escaped outside code, and links to other than http, https and mailto
// URLs lose their target.
func MDBlock(src string, resolve func(string) string) string {
	src = joinSplitRefs(joinSplitLinks(src))
	if !strings.ContainsAny(src, mdSpecial) && !strings.Contains(src, "```") && !strings.Contains(src, "~~~") {
		return src // nothing to escape, no fence to close
	}
	var b strings.Builder
	b.Grow(len(src) + 16)
	var fence byte
	for rest, more := src, true; more; {
		var l string
		l, rest, more = strings.Cut(rest, "\n")
		if m := fenceMarker(l); m != 0 && (fence == 0 || m == fence) {
			if fence == 0 {
				fence = m
			} else {
				fence = 0
			}
		} else if fence == 0 {
			l = mdInline(l, false, resolve)
			if opensDefinition(l, rest) {
				l = `\` + strings.TrimLeft(l, " ") // no longer a definition
			}
		}
		b.WriteString(l)
		if more {
			b.WriteByte('\n')
		}
	}
	if fence != 0 {
		b.WriteByte('\n') // close an unterminated fence
		b.WriteString(strings.Repeat(string(fence), 3))
	}
	return b.String()
}

// opensDefinition reports whether the line l, followed in its paragraph
// by rest, opens a link reference definition whose label spans lines
// ("[a\nb]: target"), which mdInline, reading one line, cannot check.
func opensDefinition(l, rest string) bool {
	t := strings.TrimLeft(l, " ")
	if len(l)-len(t) > 3 || !strings.HasPrefix(t, "[") || strings.Contains(t, "]") {
		return false
	}
	for i := -1; i < len(rest); i++ {
		c := byte('\n') // the end of l
		if i >= 0 {
			c = rest[i]
		}
		switch c {
		case '\\':
			i++
		case '[':
			return false // a label holds no bracket
		case '\n':
			j := i + 1
			for j < len(rest) && (rest[j] == ' ' || rest[j] == '\t') {
				j++
			}
			if j == len(rest) || rest[j] == '\n' {
				return false // a blank line ends the paragraph
			}
		case ']':
			return i+1 < len(rest) && rest[i+1] == ':'
		}
	}
	return false
}

// MDCell makes a comment safe for one GitHub table cell: newlines become
// <br>, pipes are escaped (also inside code spans), HTML is escaped; lists
// and code blocks become <ul>, <ol> and <pre> around their text.
func MDCell(src string, resolve func(string) string) string {
	if strings.Contains(src, "\r") {
		src = crlf.Replace(src) // a carriage return ends a table row too
	}
	src = joinSplitRefs(joinSplitLinks(strings.TrimSpace(src)))
	if hasCellBlocks(src) {
		return mdCellBlocks(src, resolve) // lists and code as inline HTML (mdcell.go)
	}
	var b strings.Builder
	n := 0             // lines written
	prevBlank := false // whether the last one was blank
	for rest, more := src, true; more; {
		var l string
		l, rest, more = strings.Cut(rest, "\n")
		if fenceMarker(l) != 0 {
			continue // code fences cannot live in a cell; keep their text
		}
		p := strings.TrimSpace(mdInline(l, true, resolve))
		if n == 0 && !more {
			return strings.ReplaceAll(p, "<br><br>", "<br>") // one line
		}
		if n == 0 {
			b.Grow(len(src) + 16)
		} else if p == "" || prevBlank {
			// Join lines: a blank line starts a new paragraph.
			b.WriteString("<br>")
		} else {
			b.WriteString(" ")
		}
		b.WriteString(p)
		prevBlank = p == ""
		n++
	}
	// References whose text wrapped onto the next line are on one now.
	return mdRefs(strings.ReplaceAll(b.String(), "<br><br>", "<br>"), resolve)
}

// mdSpecial and mdCellSpecial are the characters that mdInline may change
// outside a table cell and in one.
const (
	mdSpecial     = "<&]"
	mdCellSpecial = "<&]>|\\"
)

// mdInline escapes one line of Markdown: outside code spans < becomes
// &lt; and unsafe link targets are removed; in a table cell, | becomes \|
// everywhere.
func mdInline(l string, cell bool, resolve func(string) string) string {
	special := mdSpecial
	if cell {
		special = mdCellSpecial
	}
	if !strings.ContainsAny(l, special) {
		return l
	}
	var b strings.Builder
	b.Grow(len(l) + 16)
	last := 0 // l[last:i] is yet to be written, unchanged
	for i := 0; i < len(l); {
		var esc string
		switch c := l[i]; {
		case c == '`':
			n := runLen(l, i, '`')
			end := findRun(l, i+n, n)
			if end < 0 {
				i += n
				continue
			}
			code := l[i : end+n]
			if cell && strings.Contains(code, "|") {
				b.WriteString(l[last:i])
				b.WriteString(escapePipes(code))
				last = end + n
			}
			i = end + n
			continue
		case c == '<':
			esc = "&lt;"
		case c == '&':
			esc = "&amp;" // no character references: they could spell a scheme
		case c == '>' && cell:
			esc = "&gt;"
		case c == '|' && cell:
			esc = `\|`
		case c == '\\' && i+1 < len(l):
			i += 2
			continue
		case c == '\\' && cell:
			esc = `\\` // a backslash at the end must not escape the cell's closing pipe
		default:
			i++
			continue
		}
		b.WriteString(l[last:i])
		b.WriteString(esc)
		i++
		last = i
	}
	b.WriteString(l[last:])
	out := b.String()
	if strings.Contains(out, "](") {
		out = fixLinkTargets(out, resolve)
	}
	out = mdRefs(out, resolve)
	if !strings.Contains(out, "]:") {
		return out
	}
	if loc := refDefinition.FindStringIndex(out); loc != nil {
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

// fixLinkTargets looks at every "](" of a line: a link to a documented
// element is pointed at it, a link to an http, https or mailto URL stays,
// and any other stops being a link (a space after the bracket), its target
// left as text.
func fixLinkTargets(l string, resolve func(string) string) string {
	var b strings.Builder
	b.Grow(len(l) + 16)
	for {
		j := strings.Index(l, "](")
		if j < 0 {
			b.WriteString(l)
			return b.String()
		}
		b.WriteString(l[:j+1])
		rest := l[j+2:]
		dest, n := linkDest(rest)
		target := ""
		if strings.HasPrefix(dest, "#") && resolve != nil {
			target = resolve(dest[1:])
		}
		switch {
		case target != "":
			b.WriteByte('(')
			b.WriteString(MDURL(target))
			rest = rest[n:]
		case dest != "" && dest[0] != '#' && htmlesc.AbsoluteSafeURL(dest):
			b.WriteByte('(')
		default:
			b.WriteString(" (")
		}
		l = rest
	}
}

// linkDest reads the target of a link at the start of s (just after "]("):
// spaces, maybe < (or &lt;), then the target, which ends at a space, ) or
// >. n is the length read.
func linkDest(s string) (dest string, n int) {
	i := 0
	for i < len(s) && isRegexpSpace(s[i]) {
		i++
	}
	if strings.HasPrefix(s[i:], "<") {
		i++
	} else if strings.HasPrefix(s[i:], "&lt;") {
		i += 4
	}
	start := i
	for i < len(s) && s[i] != ')' && s[i] != '>' && !isRegexpSpace(s[i]) {
		i++
	}
	return s[start:i], i
}

// isRegexpSpace reports whether c is a space as \s means it.
func isRegexpSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// escapePipes makes every | of s escaped for a GitHub table: preceded by
// an odd number of backslashes, which both GitHub's row splitter (which
// skips backslash pairs) and simpler ones read as an escaped pipe.
func escapePipes(s string) string {
	if !strings.Contains(s, "|") {
		return s
	}
	var b strings.Builder
	run := 0 // backslashes just written
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '|' && run%2 == 0 {
			b.WriteByte('\\')
		}
		if c == '\\' {
			run++
		} else {
			run = 0
		}
		b.WriteByte(c)
	}
	return b.String()
}

func runLen(s string, i int, c byte) int {
	n := 0
	for i+n < len(s) && s[i+n] == c {
		n++
	}
	return n
}

// findRun finds a run of exactly n backticks at or after i.
func findRun(s string, i, n int) int {
	for i < len(s) {
		if s[i] == '`' {
			m := runLen(s, i, '`')
			if m == n {
				return i
			}
			i += m
			continue
		}
		i++
	}
	return -1
}

// MDCode is a code span holding s (any backticks in s are fenced by a
// longer run). In a table cell pipes are escaped, which GitHub honours
// inside code spans too.
func MDCode(s string, cell bool) string {
	if cell {
		s = escapePipes(s)
	}
	s = strings.ReplaceAll(s, "\n", " ")
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// MDURL escapes the characters that would end or split a Markdown link
// destination.
func MDURL(u string) string {
	return mdURLReplacer.Replace(u)
}

var mdURLReplacer = strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E", "\t", "%09", "\n", "%0A", "|", "%7C")

// Clean removes the common indentation of a comment and trailing
// space, keeping the relative indentation that Markdown needs.
func Clean(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	indent := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	for i, l := range lines {
		if len(l) >= indent && indent > 0 && strings.TrimSpace(l[:indent]) == "" {
			l = l[indent:]
		} else {
			l = strings.TrimLeft(l, " \t")
		}
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n")
}
