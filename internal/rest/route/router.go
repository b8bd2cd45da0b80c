package route

import (
	"fmt"
	"slices"
	"strings"
)

// maxSegments bounds the segments of a request path that the router looks
// at: a longer path matches no route, whatever its length.
const maxSegments = 256

// Router matches request paths and methods against templates. It is built
// once, by Add, and then only read, by any number of goroutines.
type Router[T any] struct {
	root node[T]
	n    int
}

type node[T any] struct {
	literals map[string]*node[T]
	star     *node[T]
	// ends holds the routes that end at this node, by verb; starStar
	// those whose last segment is "**" after this node, by verb.
	ends, starStar map[string]*leaf[T]
}

// leaf holds the routes of one path shape, by HTTP method.
type leaf[T any] struct {
	methods []entry[T]
}

type entry[T any] struct {
	method string
	tmpl   *Template
	value  T
}

// ConflictError reports a route whose path shape and method are taken.
type ConflictError struct {
	Method, Template, Existing string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s %s conflicts with %s %s", e.Method, e.Template, e.Method, e.Existing)
}

// Add adds a route. It fails with a *ConflictError when a template of the
// same shape (the same literals and wildcards, whatever the variables) has
// a route for method already.
func (r *Router[T]) Add(method string, t *Template, value T) error {
	n := &r.root
	segs := t.Segments
	last := len(segs)
	starStar := last > 0 && segs[last-1].Kind == StarStar
	if starStar {
		last--
	}
	for _, s := range segs[:last] {
		switch s.Kind {
		case Literal:
			if n.literals == nil {
				n.literals = map[string]*node[T]{}
			}
			next := n.literals[s.Literal]
			if next == nil {
				next = &node[T]{}
				n.literals[s.Literal] = next
			}
			n = next
		case Star:
			if n.star == nil {
				n.star = &node[T]{}
			}
			n = n.star
		}
	}
	m := &n.ends
	if starStar {
		m = &n.starStar
	}
	if *m == nil {
		*m = map[string]*leaf[T]{}
	}
	l := (*m)[t.Verb]
	if l == nil {
		l = &leaf[T]{}
		(*m)[t.Verb] = l
	}
	for _, e := range l.methods {
		if e.method == method {
			return &ConflictError{Method: method, Template: t.Raw, Existing: e.tmpl.Raw}
		}
	}
	l.methods = append(l.methods, entry[T]{method: method, tmpl: t, value: value})
	r.n++
	return nil
}

// Len returns the number of routes.
func (r *Router[T]) Len() int { return r.n }

// Match is the result of a successful match.
type Match[T any] struct {
	Value    T
	Template *Template
	segs     []string
}

// Result says how a path matched.
type Result uint8

const (
	NotFound         Result = iota // no template matches the path
	Found                          // a route matches path and method
	MethodNotAllowed               // templates match the path, for other methods only
)

// Lookup matches an escaped request path ("/v1/a%2Fb:verb", as
// url.URL.EscapedPath returns it) and an HTTP method. Literals match
// the percent-decoded segments. Among the templates that match, literals
// win over "*", and "*" over "**", segment by segment from the left. A last
// segment with a colon is tried first as a segment and a verb, then as a
// segment of its own. With MethodNotAllowed, allow lists the methods of the
// matching templates.
func (r *Router[T]) Lookup(method, path string) (m Match[T], res Result, allow []string) {
	if len(path) == 0 || path[0] != '/' || r.n == 0 {
		return m, NotFound, nil
	}
	if strings.Count(path, "/") > maxSegments {
		return m, NotFound, nil
	}
	segs := strings.Split(path[1:], "/")
	var lk lookup[T]
	lk.method = method
	lastSeg := segs[len(segs)-1]
	if i := strings.LastIndexByte(lastSeg, ':'); i >= 0 {
		verb, ok := Unescape(lastSeg[i+1:], false)
		if ok && verb != "" {
			vsegs := slices.Clone(segs)
			vsegs[len(vsegs)-1] = lastSeg[:i]
			if e := lk.find(&r.root, vsegs, 0, verb); e != nil {
				return Match[T]{Value: e.value, Template: e.tmpl, segs: vsegs}, Found, nil
			}
		}
	}
	if e := lk.find(&r.root, segs, 0, ""); e != nil {
		return Match[T]{Value: e.value, Template: e.tmpl, segs: segs}, Found, nil
	}
	if len(lk.allow) != 0 {
		return m, MethodNotAllowed, lk.allow
	}
	return m, NotFound, nil
}

type lookup[T any] struct {
	method string
	allow  []string
}

func (lk *lookup[T]) pick(l *leaf[T]) *entry[T] {
	if l == nil {
		return nil
	}
	for i := range l.methods {
		if l.methods[i].method == lk.method {
			return &l.methods[i]
		}
	}
	for i := range l.methods {
		// A custom rule of kind "*" takes any method the others leave.
		if l.methods[i].method == "*" {
			return &l.methods[i]
		}
	}
	for _, e := range l.methods {
		if !slices.Contains(lk.allow, e.method) {
			lk.allow = append(lk.allow, e.method)
		}
	}
	return nil
}

func (lk *lookup[T]) find(n *node[T], segs []string, i int, verb string) *entry[T] {
	if i == len(segs) {
		if e := lk.pick(n.ends[verb]); e != nil {
			return e
		}
		return lk.pick(n.starStar[verb])
	}
	seg := segs[i]
	if n.literals != nil {
		lit := seg
		ok := true
		if strings.IndexByte(seg, '%') >= 0 {
			lit, ok = Unescape(seg, false)
		}
		if next := n.literals[lit]; ok && next != nil {
			if e := lk.find(next, segs, i+1, verb); e != nil {
				return e
			}
		}
	}
	if n.star != nil && seg != "" {
		if e := lk.find(n.star, segs, i+1, verb); e != nil {
			return e
		}
	}
	return lk.pick(n.starStar[verb])
}

// Vars calls fn with the field path and the percent-decoded value of each
// variable of the matched template. A variable of one segment is decoded
// whole; one of several segments keeps "%2F" (and "%2f") encoded, so that
// the slashes of the value are told from escaped ones. fn's error, or a
// *PathValueError for a malformed escape, ends the walk.
func (m *Match[T]) Vars(fn func(fieldPath, value string) error) error {
	for _, v := range m.Template.Vars {
		end := v.End
		if end < 0 {
			end = len(m.segs)
		}
		var raw string
		if end-v.Start == 1 {
			raw = m.segs[v.Start]
		} else if end > v.Start {
			raw = strings.Join(m.segs[v.Start:end], "/")
		}
		multi := v.End < 0 || v.End-v.Start > 1
		value, ok := Unescape(raw, multi)
		if !ok {
			return &PathValueError{FieldPath: v.FieldPath, Value: raw}
		}
		if err := fn(v.FieldPath, value); err != nil {
			return err
		}
	}
	return nil
}

// PathValueError reports a variable whose value is not validly
// percent-encoded.
type PathValueError struct {
	FieldPath, Value string
}

func (e *PathValueError) Error() string {
	v := e.Value
	if len(v) > 64 {
		v = v[:64] + "..."
	}
	return fmt.Sprintf("path variable %q: malformed percent-encoding in %q", e.FieldPath, v)
}
