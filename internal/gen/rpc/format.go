package rpc

import (
	"fmt"
	"go/doc/comment"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"google.golang.org/protobuf/compiler/protogen"
)

// goFile is what the emitter writes to: a protogen.GeneratedFile, or a
// fastFile.
type goFile interface {
	P(v ...any)
	QualifiedGoIdent(protogen.GoIdent) string
	AnnotateSymbol(symbol string, info protogen.Annotation)
	Import(protogen.GoImportPath)
}

// fastFile collects the emitter's lines and lays them out the way gofmt
// does, without parsing and printing them again: protogen's Content, which
// does, takes most of the time on a large request. It relies on the shape
// of the code the emitter writes (one statement or declaration per line,
// canonical spacing within lines); the golden tests compare its output with
// gofmt's. Import names are chosen by the protogen.GeneratedFile it wraps,
// exactly as with Content.
type fastFile struct {
	g       *protogen.GeneratedFile
	self    protogen.GoImportPath
	buf     strings.Builder
	imports map[protogen.GoImportPath]string // import path → package name
	manual  map[protogen.GoImportPath]bool
}

func newFastFile(g *protogen.GeneratedFile, self protogen.GoImportPath) *fastFile {
	return &fastFile{g: g, self: self, imports: map[protogen.GoImportPath]string{}, manual: map[protogen.GoImportPath]bool{}}
}

func (f *fastFile) P(v ...any) {
	for _, x := range v {
		switch x := x.(type) {
		case protogen.GoIdent:
			f.buf.WriteString(f.QualifiedGoIdent(x))
		case string:
			f.buf.WriteString(x)
		default:
			fmt.Fprint(&f.buf, x)
		}
	}
	f.buf.WriteByte('\n')
}

func (f *fastFile) QualifiedGoIdent(id protogen.GoIdent) string {
	q := f.g.QualifiedGoIdent(id)
	if id.GoImportPath != f.self {
		f.imports[id.GoImportPath] = q[:len(q)-len(id.GoName)-1]
	}
	return q
}

func (f *fastFile) AnnotateSymbol(string, protogen.Annotation) {}

func (f *fastFile) Import(p protogen.GoImportPath) { f.manual[p] = true }

// Content returns the file laid out as gofmt would.
func (f *fastFile) Content() string {
	type imp struct{ name, path string }
	var imps []imp
	for p, name := range f.imports {
		imps = append(imps, imp{name, string(p)})
	}
	for p := range f.manual {
		if _, ok := f.imports[p]; !ok {
			imps = append(imps, imp{"_", string(p)})
		}
	}
	sortImports := func(a, b imp) int { return strings.Compare(a.path, b.path) }
	slices.SortFunc(imps, sortImports)

	lines := strings.Split(f.buf.String(), "\n")
	var out []outLine
	blank := func() bool { return len(out) > 0 && out[len(out)-1].text == "" }
	depth := 0
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.TrimSpace(line) == "" {
			if len(out) > 0 && !blank() {
				out = append(out, outLine{})
			}
			continue
		}
		if strings.HasPrefix(line, "//") {
			// A comment group. gofmt reformats it as a doc comment when it
			// starts a line and the next token starts the following line:
			// always so in the emitter's unindented code.
			j := i
			for j < len(lines) && strings.HasPrefix(lines[j], "//") {
				j++
			}
			group := lines[i:j]
			if j < len(lines) && strings.TrimSpace(lines[j]) != "" {
				group = formatDocComment(group)
			}
			for _, c := range group {
				out = append(out, outLine{depth, strings.TrimRightFunc(c, unicode.IsSpace)})
			}
			i = j - 1
			continue
		}
		if strings.HasPrefix(line, "package ") && len(imps) > 0 && depth == 0 {
			out = append(out, outLine{0, line}, outLine{}, outLine{0, "import ("})
			for _, im := range imps {
				out = append(out, outLine{1, im.name + " " + strconv.Quote(im.path)})
			}
			out = append(out, outLine{0, ")"})
			continue
		}
		closers, net := braces(line)
		// An empty composite literal written over two lines is one line.
		if net == 1 && strings.HasSuffix(line, "{") && literalKey(line) && i+1 < len(lines) {
			if next := lines[i+1]; next == "}," || next == "}" {
				line += next
				i++
				closers, net = braces(line)
			}
		}
		d := depth - closers
		if depth == 0 && strings.HasPrefix(line, "func ") && strings.HasSuffix(line, ") {}") && len(line)-len(" {}") > maxOneLineFunc {
			// gofmt keeps an empty body on the line of a short header only.
			out = append(out, outLine{0, strings.TrimSuffix(line, "}")}, outLine{0, "}"})
			depth += net
			continue
		}
		out = append(out, outLine{d, line})
		depth += net
	}
	for blank() {
		out = out[:len(out)-1]
	}
	alignColumns(out)
	size := 0
	for _, l := range out {
		size += l.depth + len(l.text) + 1
	}
	var b strings.Builder
	b.Grow(size)
	for _, l := range out {
		for range l.depth {
			b.WriteByte('\t')
		}
		b.WriteString(l.text)
		b.WriteByte('\n')
	}
	return b.String()
}

// outLine is a line of output: its indentation and its text.
type outLine struct {
	depth int
	text  string
}

// braces returns the number of closing brackets a line starts with and its
// net change in depth, ignoring brackets in string literals.
func braces(line string) (closers, net int) {
	leading := true
	for i := 0; i < len(line); i++ {
		switch c := line[i]; c {
		case '"':
			for i++; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' {
					i++
				}
			}
		case '`':
			for i++; i < len(line) && line[i] != '`'; i++ {
			}
		case '\'':
			for i++; i < len(line) && line[i] != '\''; i++ {
				if line[i] == '\\' {
					i++
				}
			}
		case '{', '(', '[':
			net++
		case '}', ')', ']':
			net--
			if leading {
				closers++
			}
			continue
		}
		leading = false
	}
	return closers, net
}

// maxOneLineFunc is the longest function header gofmt puts an empty body
// after, on the same line (go/printer's funcBody: the header's columns up
// to the body must stay within 100).
const maxOneLineFunc = 99

// A column kind of alignColumns.
type column int

const (
	keyValue    column = iota // a one-line element of a composite literal: Key: value,
	constSpec                 // a one-line spec of a const block: Name = value
	oneLineFunc               // a function declaration with an empty body: func ...) {}
)

// cells splits the text of l into the cell aligned on and the rest, if l
// is a line of kind k.
func cells(l outLine, k column) (cell, rest string, ok bool) {
	line := l.text
	switch k {
	case keyValue:
		n := identLen(line)
		if n == 0 || !strings.HasPrefix(line[n:], ": ") || !strings.HasSuffix(line, ",") {
			return "", "", false
		}
		return line[:n+1], line[n+2:], true
	case constSpec:
		n := identLen(line)
		if n == 0 || l.depth == 0 || !strings.HasPrefix(line[n:], " = ") {
			return "", "", false
		}
		return line[:n], line[n+3:], true
	default:
		if l.depth != 0 || !strings.HasPrefix(line, "func ") || !strings.HasSuffix(line, ") {}") {
			return "", "", false
		}
		return line[:len(line)-3], "{}", true
	}
}

// identLen is the length of the Go identifier line starts with.
func identLen(line string) int {
	for i, r := range line {
		if !(r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || i > 0 && '0' <= r && r <= '9') {
			return i
		}
	}
	return len(line)
}

// literalKey reports whether line starts an element of a composite
// literal: Key: value.
func literalKey(line string) bool {
	n := identLen(line)
	return n > 0 && strings.HasPrefix(line[n:], ": ")
}

// alignColumns aligns the values of consecutive one-line key-value elements
// and const specs at the same depth, and the bodies of consecutive one-line
// functions, as gofmt's tabwriter does.
func alignColumns(lines []outLine) {
	for _, k := range []column{keyValue, constSpec, oneLineFunc} {
		sep := " "
		if k == constSpec {
			sep = " = "
		}
		for i := 0; i < len(lines); {
			if _, _, ok := cells(lines[i], k); !ok {
				i++
				continue
			}
			j, width := i, 0
			for ; j < len(lines); j++ {
				cell, _, ok := cells(lines[j], k)
				if !ok || lines[j].depth != lines[i].depth {
					break
				}
				width = max(width, len(cell))
			}
			if j-i > 1 {
				for n := i; n < j; n++ {
					cell, rest, _ := cells(lines[n], k)
					lines[n].text = cell + strings.Repeat(" ", width-len(cell)) + sep + rest
				}
			}
			i = j
		}
	}
}

// formatDocComment is go/printer's reformatting of a doc comment, for
// comment groups of // lines.
func formatDocComment(list []string) []string {
	var b strings.Builder
	var directives []string
	for _, c := range list {
		after := strings.TrimPrefix(c, "//")
		if isDirective(after) {
			directives = append(directives, c)
			continue
		}
		b.WriteString(strings.TrimPrefix(after, " "))
		b.WriteString("\n")
	}
	text := b.String()
	if text == "" {
		return list
	}
	var p comment.Parser
	var pr comment.Printer
	text = string(pr.Comment(p.Parse(text)))
	var out []string
	for text != "" {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		switch {
		case line == "":
			line = "//"
		case strings.HasPrefix(line, "\t"):
			line = "//" + line
		default:
			line = "// " + line
		}
		out = append(out, line)
	}
	if len(directives) > 0 {
		out = append(out, "//")
		out = append(out, directives...)
	}
	return out
}

// isDirective is go/printer's test for a //go:build-style line.
func isDirective(c string) bool {
	if strings.HasPrefix(c, "line ") || strings.HasPrefix(c, "extern ") || strings.HasPrefix(c, "export ") {
		return true
	}
	colon := strings.Index(c, ":")
	if colon <= 0 || colon+1 >= len(c) {
		return false
	}
	for i := 0; i <= colon+1; i++ {
		if i == colon {
			continue
		}
		b := c[i]
		if !('a' <= b && b <= 'z' || '0' <= b && b <= '9') {
			return false
		}
	}
	return true
}
