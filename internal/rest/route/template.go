// Package route is the routing stage of REST serving: it parses the path
// templates of google.api.HttpRule and matches request paths against them,
// giving the values of the template's variables, percent-decoded as the
// HttpRule specification says.
//
// The grammar is the one of google/api/http.proto:
//
//	Template = "/" Segments [ Verb ] ;
//	Segments = Segment { "/" Segment } ;
//	Segment  = "*" | "**" | LITERAL | Variable ;
//	Variable = "{" FieldPath [ "=" Segments ] "}" ;
//	FieldPath = IDENT { "." IDENT } ;
//	Verb     = ":" LITERAL ;
//
// Variables do not nest (Vanguard accepts nested variables, an extension of
// the grammar), and "**" may only be the last segment.
package route

import (
	"fmt"
	"strings"
)

// Kind is the kind of a template segment.
type Kind uint8

const (
	Literal  Kind = iota // a literal segment, matched after percent-decoding
	Star                 // "*": exactly one non-empty segment
	StarStar             // "**": zero or more segments, only at the end
)

// Segment is one segment of a path template.
type Segment struct {
	Kind    Kind
	Literal string // percent-decoded, for Literal
}

// Var is a variable of a template: the field path it binds and the
// segments it covers, [Start, End); End is -1 when the variable ends with
// "**" and so takes the rest of the path.
type Var struct {
	FieldPath  string
	Start, End int
}

// Template is a parsed path template.
type Template struct {
	Raw      string
	Segments []Segment
	Verb     string // percent-decoded; "" without a verb
	Vars     []Var
}

// SyntaxError reports a malformed template.
type SyntaxError struct {
	Template string
	Column   int // 1-based; 0 when the error is not at a column
	Msg      string
}

func (e *SyntaxError) Error() string {
	if e.Column == 0 {
		return fmt.Sprintf("path template %q: %s", e.Template, e.Msg)
	}
	return fmt.Sprintf("path template %q: syntax error at column %d: %s", e.Template, e.Column, e.Msg)
}

// Parse parses a path template.
func Parse(tmpl string) (*Template, error) {
	p := parser{s: tmpl, t: &Template{Raw: tmpl}}
	if err := p.parse(); err != nil {
		return nil, err
	}
	return p.t, nil
}

type parser struct {
	s   string
	pos int
	t   *Template
	// inVar is set inside a variable's segments.
	inVar bool
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{Template: p.s, Column: p.pos + 1, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) unexpected(want string) error {
	if p.pos >= len(p.s) {
		if want == "" {
			return p.errorf("unexpected end of template")
		}
		return p.errorf("expected %s, got end of template", want)
	}
	if want == "" {
		return p.errorf("unexpected %q", p.s[p.pos])
	}
	return p.errorf("expected %s, got %q", want, p.s[p.pos])
}

func (p *parser) parse() error {
	if p.pos >= len(p.s) || p.s[p.pos] != '/' {
		return p.unexpected("'/'")
	}
	p.pos++
	if err := p.segments(); err != nil {
		return err
	}
	if p.pos < len(p.s) && p.s[p.pos] == ':' {
		p.pos++
		start := p.pos
		lit, err := p.literal()
		if err != nil {
			return err
		}
		if lit == "" {
			p.pos = start
			return p.unexpected("verb")
		}
		p.t.Verb = lit
	}
	if p.pos < len(p.s) {
		return p.unexpected("")
	}
	for i, s := range p.t.Segments {
		if s.Kind == StarStar && i != len(p.t.Segments)-1 {
			return &SyntaxError{Template: p.s, Msg: "'**' must be the last segment"}
		}
	}
	seen := map[string]bool{}
	for i, v := range p.t.Vars {
		if seen[v.FieldPath] {
			return &SyntaxError{Template: p.s, Msg: fmt.Sprintf("duplicate variable %q", v.FieldPath)}
		}
		seen[v.FieldPath] = true
		if p.t.Segments[v.End-1].Kind == StarStar {
			p.t.Vars[i].End = -1
		}
	}
	return nil
}

func (p *parser) segments() error {
	for {
		if err := p.segment(); err != nil {
			return err
		}
		if p.pos < len(p.s) && p.s[p.pos] == '/' {
			p.pos++
			continue
		}
		return nil
	}
}

func (p *parser) segment() error {
	if p.pos >= len(p.s) {
		return p.unexpected("path segment")
	}
	switch c := p.s[p.pos]; {
	case c == '*':
		p.pos++
		kind := Star
		if p.pos < len(p.s) && p.s[p.pos] == '*' {
			p.pos++
			kind = StarStar
		}
		if p.pos < len(p.s) && p.s[p.pos] == '*' {
			return p.unexpected("")
		}
		if p.pos < len(p.s) && isLiteralByte(p.s[p.pos]) {
			return p.errorf("a wildcard must be a whole segment")
		}
		p.t.Segments = append(p.t.Segments, Segment{Kind: kind})
		return nil
	case c == '{':
		if p.inVar {
			return p.errorf("variables do not nest")
		}
		return p.variable()
	default:
		start := p.pos
		lit, err := p.literal()
		if err != nil {
			return err
		}
		if lit == "" {
			p.pos = start
			return p.unexpected("path segment")
		}
		if p.pos < len(p.s) && p.s[p.pos] == '*' {
			return p.errorf("a wildcard must be a whole segment")
		}
		p.t.Segments = append(p.t.Segments, Segment{Kind: Literal, Literal: lit})
		return nil
	}
}

func (p *parser) variable() error {
	p.pos++ // '{'
	start := p.pos
	for {
		if !p.ident() {
			return p.unexpected("identifier")
		}
		if p.pos < len(p.s) && p.s[p.pos] == '.' {
			p.pos++
			continue
		}
		break
	}
	v := Var{FieldPath: p.s[start:p.pos], Start: len(p.t.Segments)}
	if p.pos < len(p.s) && p.s[p.pos] == '=' {
		p.pos++
		p.inVar = true
		if err := p.segments(); err != nil {
			return err
		}
		p.inVar = false
	} else {
		p.t.Segments = append(p.t.Segments, Segment{Kind: Star})
	}
	if p.pos >= len(p.s) || p.s[p.pos] != '}' {
		return p.unexpected("'}'")
	}
	p.pos++
	v.End = len(p.t.Segments)
	p.t.Vars = append(p.t.Vars, v)
	return nil
}

func (p *parser) ident() bool {
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || p.pos > start && '0' <= c && c <= '9' {
			p.pos++
			continue
		}
		break
	}
	return p.pos > start
}

// literal reads a literal and returns it percent-decoded.
func (p *parser) literal() (string, error) {
	start := p.pos
	escaped := false
	for p.pos < len(p.s) && isLiteralByte(p.s[p.pos]) {
		if p.s[p.pos] == '%' {
			if p.pos+2 >= len(p.s) || !isHex(p.s[p.pos+1]) || !isHex(p.s[p.pos+2]) {
				end := min(p.pos+3, len(p.s))
				return "", p.errorf("invalid URL escape %q", p.s[p.pos:end])
			}
			escaped = true
			p.pos += 3
			continue
		}
		p.pos++
	}
	lit := p.s[start:p.pos]
	if escaped {
		lit, _ = Unescape(lit, false)
	}
	return lit, nil
}

// isLiteralByte reports whether c may appear in a literal: unreserved
// characters, percent escapes and the sub-delimiters other than '*'.
func isLiteralByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~%!$&'()+,;=@", c) >= 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// Unescape percent-decodes s. With keepSlash, "%2F" and "%2f" stay as they
// are, as the HttpRule specification says for variables of several
// segments. It reports false for a malformed escape.
func Unescape(s string, keepSlash bool) (string, bool) {
	n := strings.IndexByte(s, '%')
	if n < 0 {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:n])
	for i := n; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", false
		}
		d := unhex(s[i+1])<<4 | unhex(s[i+2])
		if keepSlash && d == '/' {
			b.WriteString(s[i : i+3])
		} else {
			b.WriteByte(d)
		}
		i += 2
	}
	return b.String(), true
}
