package openapiout

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A pathVar is one variable of a google.api.http path template.
type pathVar struct {
	field   string // field path, e.g. "name" or "book.id"
	pattern string // segments it matches, e.g. "*" or "projects/*/topics/*"
	// With segments paths, a multi-segment variable has one parameter per
	// wildcard: param names it, and pattern is that wildcard.
	param string
}

// name is the OpenAPI parameter name.
func (v pathVar) name() string {
	if v.param != "" {
		return v.param
	}
	return v.field
}

// multi reports whether the variable matches more than one segment.
func (v pathVar) multi() bool { return v.pattern != "*" }

// regexp is the pattern as a regular expression over the decoded value.
func (v pathVar) regexp() string {
	var b strings.Builder
	b.WriteString("^")
	for i, seg := range strings.Split(v.pattern, "/") {
		if i > 0 {
			b.WriteString("/")
		}
		switch seg {
		case "*":
			b.WriteString("[^/]+")
		case "**":
			b.WriteString(".+")
		default:
			b.WriteString(regexp.QuoteMeta(seg))
		}
	}
	b.WriteString("$")
	return b.String()
}

// openAPIPath converts a google.api.http path template into an OpenAPI
// path: every variable becomes {field.path}, whatever segments it matches,
// and a custom verb stays as it is ("/v1/{name}:cancel"). It returns the
// variables in order. The template grammar is the one of
// google/api/http.proto:
//
//	Template = "/" Segments [ Verb ] ;
//	Segments = Segment { "/" Segment } ;
//	Segment  = "*" | "**" | LITERAL | Variable ;
//	Variable = "{" FieldPath [ "=" Segments ] "}" ;
//	Verb     = ":" LITERAL ;
//
// With segments, a variable that matches more than one segment is spelled
// out instead: its literal segments stay in the path and each wildcard is
// a parameter named after the literal before it ("projects/{project}"),
// so that the path parameters match one segment each, as OpenAPI's do.
func openAPIPath(tmpl string, segments bool) (string, []pathVar, error) {
	if !utf8.ValidString(tmpl) {
		return "", nil, fmt.Errorf("path %q is not valid UTF-8", tmpl)
	}
	if !strings.HasPrefix(tmpl, "/") {
		return "", nil, fmt.Errorf("path %q does not start with /", tmpl)
	}
	var out strings.Builder
	var vars []pathVar
	seen := map[string]bool{}
	taken := map[string]bool{} // parameter names of spelled-out variables
	rest := tmpl[1:]
	// The verb follows the last segment, outside any variable.
	verb := ""
	if i := lastColonOutside(rest); i >= 0 {
		rest, verb = rest[:i], rest[i+1:]
		if verb == "" || strings.ContainsAny(verb, "/{}*") {
			return "", nil, fmt.Errorf("path %q: bad custom verb %q", tmpl, verb)
		}
	}
	if rest == "" {
		return "", nil, fmt.Errorf("path %q has no segments", tmpl)
	}
	for len(rest) > 0 {
		out.WriteByte('/')
		var seg string
		if rest[0] == '{' {
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				return "", nil, fmt.Errorf("path %q: unclosed {", tmpl)
			}
			body := rest[1:end]
			rest = rest[end+1:]
			field, pattern, ok := strings.Cut(body, "=")
			if !ok {
				pattern = "*"
			}
			if !validFieldPath(field) {
				return "", nil, fmt.Errorf("path %q: %q is not a field path", tmpl, field)
			}
			if strings.ContainsAny(pattern, "{}") || pattern == "" || !validSegments(pattern) {
				return "", nil, fmt.Errorf("path %q: bad pattern %q for variable %s", tmpl, pattern, field)
			}
			if seen[field] {
				return "", nil, fmt.Errorf("path %q: variable %s appears twice", tmpl, field)
			}
			seen[field] = true
			if segments && pattern != "*" {
				expandVar(&out, &vars, field, pattern, taken)
			} else {
				vars = append(vars, pathVar{field: field, pattern: pattern})
				out.WriteString("{" + field + "}")
				taken[field] = true
			}
			if rest != "" && rest[0] != '/' {
				return "", nil, fmt.Errorf("path %q: a variable must be a whole segment", tmpl)
			}
		} else {
			end := strings.IndexByte(rest, '/')
			if end < 0 {
				end = len(rest)
			}
			seg, rest = rest[:end], rest[end:]
			if seg == "" || strings.ContainsAny(seg, "{}") {
				return "", nil, fmt.Errorf("path %q: bad segment %q", tmpl, seg)
			}
			if seg == "*" || seg == "**" {
				return "", nil, undescribable(fmt.Sprintf("path %q has a wildcard outside a variable, which OpenAPI paths cannot express", tmpl))
			}
			out.WriteString(seg)
		}
		if rest != "" {
			rest = rest[1:] // the '/'
			if rest == "" {
				return "", nil, fmt.Errorf("path %q ends with /", tmpl)
			}
		}
	}
	if verb != "" {
		out.WriteString(":" + verb)
	}
	return out.String(), vars, nil
}

func lastColonOutside(s string) int {
	depth := 0
	last := -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
		case '/':
			last = -1
		case ':':
			if depth == 0 {
				last = i
			}
		}
	}
	return last
}

var fieldPathRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

func validFieldPath(s string) bool { return fieldPathRE.MatchString(s) }

// validSegments accepts ** anywhere in a pattern: the grammar wants it
// last, but published APIs (googleapis' remoteworkers) put it first.
func validSegments(p string) bool {
	for _, s := range strings.Split(p, "/") {
		if s == "" {
			return false
		}
	}
	return true
}

// undescribable is a valid binding that OpenAPI 3.1 cannot express; it is
// left out of the document with a note.
type undescribable string

func (u undescribable) Error() string { return string(u) }

// expandVar writes a multi-segment variable as its literal segments and one
// parameter per wildcard. A parameter is named after the literal before it
// without a plural s (projects/* -> project), or field_N when there is none
// or the name is taken by another of the variable's wildcards.
func expandVar(out *strings.Builder, vars *[]pathVar, field, pattern string, taken map[string]bool) {
	prev := ""
	for i, seg := range strings.Split(pattern, "/") {
		if i > 0 {
			out.WriteByte('/')
		}
		if seg != "*" && seg != "**" {
			out.WriteString(seg)
			prev = seg
			continue
		}
		name := strings.TrimSuffix(prev, "s")
		if !validFieldPath(name) || taken[name] {
			name = strings.ReplaceAll(field, ".", "_") + "_" + strconv.Itoa(i+1)
		}
		for n := 2; taken[name]; n++ { // a field of the same name
			name = strings.ReplaceAll(field, ".", "_") + "_" + strconv.Itoa(i+1) + "_" + strconv.Itoa(n)
		}
		taken[name] = true
		*vars = append(*vars, pathVar{field: field, pattern: seg, param: name})
		out.WriteString("{" + name + "}")
		prev = ""
	}
}
