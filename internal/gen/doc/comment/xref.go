package comment

import (
	"regexp"
	"strings"
	"sync/atomic"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Cross-references. Google's protos write links to other elements as
// Markdown reference links whose label is the element's full name, which no
// definition in the comment resolves:
//
//	[Queue.state][google.cloud.tasks.v2.Queue.state]   full
//	[google.cloud.tasks.v2.Queue][]                    collapsed
//	[google.cloud.tasks.v2.Queue]                      shortcut
//
// (with or without a leading dot). A label that is a proto full name (at
// least two dotted identifiers) becomes a link to the element's anchor in
// whichever document of the run holds it. A full or collapsed reference to
// an element not documented in the run becomes its text, without the
// brackets, and is counted (Unresolved); a shortcut one stays as written,
// since "[a.b]" is as often just text in brackets.

// unresolved counts the full and collapsed references whose target is not
// documented, since the last ResetUnresolved.
var unresolved atomic.Int64

// Unresolved is the number of cross-references rendered as plain text
// because their target is not documented in the run, since the last
// ResetUnresolved. Both the HTML and the Markdown renderer count, so a run
// that writes both formats counts each reference once per format.
func Unresolved() int64 { return unresolved.Load() }

// ResetUnresolved sets the Unresolved count to zero.
func ResetUnresolved() { unresolved.Store(0) }

// isProtoName reports whether s, less a leading dot, is a full name: two or
// more identifiers joined by dots.
func isProtoName(s string) bool {
	s = strings.TrimPrefix(s, ".")
	if len(s) < 3 || len(s) > 512 {
		return false
	}
	dots := 0
	start := true // at the start of an identifier
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if start {
				return false
			}
			dots++
			start = true
			continue
		case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9':
			if start {
				return false
			}
		default:
			return false
		}
		start = false
	}
	return dots > 0 && !start
}

// xrefDestination marks, as the destination of a parsed link, a reference
// whose label is a full name; xrefTransformer replaces it.
const xrefDestination = "\x00xref"

// xrefContext is the parser context of one comment: it answers the labels
// that no definition in the comment defines and that are full names.
type xrefContext struct {
	parser.Context
}

var xrefReference = parser.NewReference(nil, []byte(xrefDestination), nil)

func (c xrefContext) Reference(label string) (parser.Reference, bool) {
	if r, ok := c.Context.Reference(label); ok {
		return r, ok
	}
	if isProtoName(label) {
		return xrefReference, true
	}
	return nil, false
}

var resolveKey = parser.NewContextKey()

// xrefTransformer points the links that xrefContext made at the element
// they name (through the caller's resolve, kept in the context), or turns
// them back into text.
type xrefTransformer struct{}

func (xrefTransformer) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	resolve, _ := pc.Get(resolveKey).(func(string) string)
	var links []*ast.Link
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if l, ok := n.(*ast.Link); ok && entering && string(l.Destination) == xrefDestination {
			links = append(links, l)
		}
		return ast.WalkContinue, nil
	})
	for _, l := range links {
		name := ""
		if l.Reference != nil {
			name = strings.TrimPrefix(string(l.Reference.Value), ".")
		}
		if name != "" && resolve != nil && resolve(name) != "" {
			l.Destination = []byte("#" + name)
			continue
		}
		if name != "" && l.Reference.Type != ast.ReferenceLinkShortcut {
			// The sanitizer makes it text, noting the missing target.
			unresolved.Add(1)
			l.Destination = []byte("#" + name)
			continue
		}
		parent := l.Parent()
		parent.InsertBefore(parent, l, ast.NewString([]byte("[")))
		for c := l.FirstChild(); c != nil; {
			next := c.NextSibling()
			parent.InsertBefore(parent, l, c)
			c = next
		}
		parent.InsertBefore(parent, l, ast.NewString([]byte("]")))
		parent.RemoveChild(parent, l)
	}
}

// linkifyMarkdown is markdown with bare http and https URLs made links; it
// renders the comments that hold "://". (Linkify's www. and e-mail forms
// are turned off: only URLs that name their scheme are linked.)
var linkifyMarkdown = goldmark.New(
	goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.NewLinkify(
		extension.WithLinkifyAllowedProtocols([]string{"http:", "https:"}),
		extension.WithLinkifyWWWRegexp(never),
		extension.WithLinkifyEmailRegexp(never),
	)),
	goldmark.WithParserOptions(xrefParserOption),
)

var (
	never            = regexp.MustCompile(`[^\x00-\x{10FFFF}]`)
	xrefParserOption = parser.WithASTTransformers(util.Prioritized(xrefTransformer{}, 100))
)

// convert renders src (a comment made ready by renderMarkdown) as HTML.
func convert(src []byte, w util.BufWriter, resolve func(string) string) error {
	ctx := xrefContext{parser.NewContext()}
	ctx.Set(resolveKey, resolve)
	md := markdown
	if strings.Contains(string(src), "://") {
		md = linkifyMarkdown
	}
	return md.Convert(src, w, parser.WithContext(ctx))
}

// joinSplitLinks joins a link whose text ends one line and whose target,
// an http or https URL in parentheses, starts the next: "[text]\n(https://…)"
// is a link as its writer meant it. Code fences are left alone.
func joinSplitLinks(src string) string {
	if !strings.Contains(src, "]\n") {
		return src
	}
	var b strings.Builder
	b.Grow(len(src))
	var fence byte
	for rest, more := src, true; more; {
		var l string
		l, rest, more = strings.Cut(rest, "\n")
		b.WriteString(l)
		if !more {
			break
		}
		if m := fenceMarker(l); m != 0 && (fence == 0 || m == fence) {
			if fence == 0 {
				fence = m
			} else {
				fence = 0
			}
		} else if fence == 0 && strings.HasSuffix(l, "]") {
			next := strings.TrimLeft(rest, " \t")
			if strings.HasPrefix(next, "(http://") || strings.HasPrefix(next, "(https://") {
				rest = next
				continue
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// joinSplitRefs joins, for the Markdown output, which reads a line at a
// time, a line whose last "[" is not closed to the next when that one
// closes it with a reference ("text][label]" or "text][]"): the text of a
// cross-reference that wraps. A soft line break is a space in Markdown, so
// nothing else changes. It does not join into a line that starts a block.
func joinSplitRefs(src string) string {
	if !strings.Contains(src, "][") || !strings.Contains(src, "\n") {
		return src
	}
	var b strings.Builder
	b.Grow(len(src))
	var fence byte
	for rest, more := src, true; more; {
		var l string
		l, rest, more = strings.Cut(rest, "\n")
		b.WriteString(l)
		if !more {
			break
		}
		if m := fenceMarker(l); m != 0 && (fence == 0 || m == fence) {
			if fence == 0 {
				fence = m
			} else {
				fence = 0
			}
		} else if fence == 0 && unclosedBracket(l) && closesWithReference(rest) {
			b.WriteByte(' ')
			rest = strings.TrimLeft(rest, " \t")
			continue
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// unclosedBracket reports whether the last "[" of l has no "]" after it.
func unclosedBracket(l string) bool {
	i := strings.LastIndexByte(l, '[')
	return i >= 0 && strings.IndexByte(l[i:], ']') < 0 && strings.IndexByte(l[i:], '`') < 0
}

// closesWithReference reports whether the line at the start of s is text
// without brackets or code, then "][", and starts no block.
func closesWithReference(s string) bool {
	l, _, _ := strings.Cut(s, "\n")
	t := strings.TrimLeft(l, " \t")
	if t == "" || len(l)-len(t) > 3 || strings.ContainsRune("-*+#>|=~`", rune(t[0])) {
		return false
	}
	if c := t[0]; '0' <= c && c <= '9' {
		return false // maybe an ordered list item
	}
	i := strings.IndexAny(t, "[]`")
	return i > 0 && strings.HasPrefix(t[i:], "][")
}

// splitLinkAt reports whether src, at a newline just after "]", goes on
// with "(http://" or "(https://" after optional spaces.
func splitLinkAt(src string, nl int) bool {
	next := strings.TrimLeft(src[nl+1:], " \t")
	return strings.HasPrefix(next, "(http://") || strings.HasPrefix(next, "(https://")
}

// shortcutNameBefore reports whether the brackets that close at src[j]
// hold a full name: "[a.b.C]".
func shortcutNameBefore(src string, j int) bool {
	i := strings.LastIndexByte(src[max(0, j-514):j], '[')
	if i < 0 {
		return false
	}
	i += max(0, j-514)
	return isProtoName(src[i+1 : j])
}

// mdRefs rewrites, in one line of Markdown already escaped by mdInline, the
// references whose label is a full name: to a link to the element when it
// is documented, to its text when a full or collapsed reference's is not
// (a shortcut one stays). Code spans are left alone.
func mdRefs(l string, resolve func(string) string) string {
	if !strings.Contains(l, "]") {
		return l
	}
	var b strings.Builder
	last := 0 // l[last:] is yet to be written
	for i := 0; i < len(l); {
		switch l[i] {
		case '`':
			n := runLen(l, i, '`')
			if end := findRun(l, i+n, n); end >= 0 {
				i = end + n
			} else {
				i += n
			}
			continue
		case '\\':
			i += 2
			continue
		case '[':
		default:
			i++
			continue
		}
		// l[i] is '[': its text ends at the next ']' outside code spans,
		// unless another '[' or an unclosed code span comes first.
		if i > 0 && (l[i-1] == ']' || l[i-1] == '!') {
			i++ // the label of a reference that is not ours, or an image
			continue
		}
		j := i + 1
		for j < len(l) && l[j] != ']' && l[j] != '[' {
			if l[j] == '`' {
				// A code span in the text, kept whole.
				n := runLen(l, j, '`')
				end := findRun(l, j+n, n)
				if end < 0 {
					break
				}
				j = end + n
				continue
			}
			if l[j] == '\\' {
				j++ // an escaped character
			}
			j++
		}
		if j > len(l) {
			j = len(l)
		}
		if j == len(l) || l[j] != ']' {
			i = j
			continue
		}
		txt := l[i+1 : j]
		label, end, shortcut := "", j+1, true
		if j+1 < len(l) && l[j+1] == '[' {
			k := strings.IndexByte(l[j+2:], ']')
			if k < 0 {
				i = j + 1
				continue
			}
			label, end, shortcut = l[j+2:j+2+k], j+3+k, false
			if label == "" {
				label = txt
			}
		} else if j+1 < len(l) && l[j+1] == '(' || strings.HasPrefix(l[j+1:], ":") {
			i = j + 1 // an inline link or a definition: not ours
			continue
		} else {
			label = txt
		}
		if !isProtoName(label) || txt == "" {
			i = j + 1
			continue
		}
		name := strings.TrimPrefix(label, ".")
		href := ""
		if resolve != nil {
			href = resolve(name)
		}
		if href == "" && shortcut {
			i = end
			continue
		}
		if b.Cap() == 0 {
			b.Grow(len(l) + 32)
		}
		b.WriteString(l[last:i])
		if href == "" {
			unresolved.Add(1)
			b.WriteString(txt)
		} else {
			b.WriteByte('[')
			b.WriteString(txt)
			b.WriteString("](")
			b.WriteString(MDURL(href))
			b.WriteByte(')')
		}
		i, last = end, end
	}
	if last == 0 {
		return l
	}
	b.WriteString(l[last:])
	return b.String()
}
