package route

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// The cases follow Vanguard v0.4.0's path parser tests
// (path_parser_test.go) and the examples of google/api/http.proto.
func TestParse(t *testing.T) {
	type v = Var
	cases := []struct {
		tmpl    string
		path    string // segments, "*" and "**" for wildcards, joined by "/"
		verb    string
		vars    []Var
		wantErr string
	}{
		{tmpl: "/v1/messages/{message_id}", path: "v1/messages/*", vars: []Var{{"message_id", 2, 3}}},
		{tmpl: "/v1/messages/{message_id}/{sub.subfield}", path: "v1/messages/*/*", vars: []Var{{"message_id", 2, 3}, {"sub.subfield", 3, 4}}},
		{tmpl: "/v1/{name=messages/*}", path: "v1/messages/*", vars: []Var{{"name", 1, 3}}},
		{tmpl: "/v1/{name=shelves/*/books/*}", path: "v1/shelves/*/books/*", vars: []Var{{"name", 1, 5}}},
		{tmpl: "/v1/{parent=shelves/*}/books", path: "v1/shelves/*/books", vars: []Var{{"parent", 1, 3}}},
		{tmpl: "/v1/{book.name=shelves/*/books/*}", path: "v1/shelves/*/books/*", vars: []Var{{"book.name", 1, 5}}},
		{tmpl: "/v1:watch", path: "v1", verb: "watch"},
		{tmpl: "/v3/events:clear", path: "v3/events", verb: "clear"},
		{tmpl: "/v3/{name=events/*}:cancel", path: "v3/events/*", verb: "cancel", vars: []Var{{"name", 1, 3}}},
		{tmpl: "/foo/bar/*/{thing.id}/{cat=**}", path: "foo/bar/*/*/**", vars: []Var{{"thing.id", 3, 4}, {"cat", 4, -1}}},
		{tmpl: "/foo/bar/*/{thing.id}/{cat=**}:do", path: "foo/bar/*/*/**", verb: "do", vars: []Var{{"thing.id", 3, 4}, {"cat", 4, -1}}},
		{tmpl: "/{_}", path: "*", vars: []Var{{"_", 0, 1}}},
		{tmpl: "/{hello}/world", path: "*/world", vars: []Var{{"hello", 0, 1}}},
		{tmpl: "/f/bar", path: "f/bar"},
		{tmpl: "/v1/files/{name=**}", path: "v1/files/**", vars: []Var{{"name", 2, -1}}},
		// Literals are percent-decoded.
		{tmpl: "/my%2fcool-blog~about%2Cstuff/x:b%61z", path: "my/cool-blog~about,stuff/x", verb: "baz"},
		{tmpl: "/a!$&'()+,;=@b", path: "a!$&'()+,;=@b"},

		{tmpl: "/{1}", wantErr: "column 3: expected identifier"},
		{tmpl: "/{field.1}", wantErr: "column 9: expected identifier"},
		{tmpl: "/{-}", wantErr: "column 3: expected identifier"},
		{tmpl: "/{field-}", wantErr: "column 8: expected '}', got '-'"},
		{tmpl: "/foo/bar/baz?abc=def", wantErr: "column 13: unexpected '?'"},
		{tmpl: "/foo/bar/baz buzz", wantErr: "column 13: unexpected ' '"},
		{tmpl: "foo/bar/baz", wantErr: "column 1: expected '/', got 'f'"},
		{tmpl: "", wantErr: "column 1: expected '/', got end of template"},
		{tmpl: "/", wantErr: "column 2: expected path segment"},
		{tmpl: "/foo/bar/", wantErr: "column 10: expected path segment"},
		{tmpl: "/foo//bar", wantErr: "column 6: expected path segment"},
		{tmpl: "/foo/bar:baz/buzz", wantErr: "column 13: unexpected '/'"},
		{tmpl: "/foo/bar:", wantErr: "column 10: expected verb"},
		{tmpl: "/foo/{bar/baz}/buzz", wantErr: "column 10: expected '}', got '/'"},
		{tmpl: "/foo/{bar", wantErr: "column 10: expected '}', got end of template"},
		{tmpl: "/foo/bar%55:baz%1", wantErr: "column 16: invalid URL escape \"%1\""},
		{tmpl: "/foo/bar%zz", wantErr: "invalid URL escape \"%zz\""},
		{tmpl: "/foo/bar*", wantErr: "a wildcard must be a whole segment"},
		{tmpl: "/foo/*bar", wantErr: "a wildcard must be a whole segment"},
		{tmpl: "/foo/bar/***", wantErr: "column 12: unexpected '*'"},
		{tmpl: "/foo/**/bar", wantErr: "'**' must be the last segment"},
		{tmpl: "/{a}/{a}", wantErr: "duplicate variable \"a\""},
		// Deliberately unlike Vanguard, which accepts nested variables: the
		// HttpRule grammar has none, and grpc-gateway refuses them too.
		{tmpl: "/foo/bob/{book_id={author}/{isbn}/*}/details", wantErr: "variables do not nest"},
	}
	for _, c := range cases {
		t.Run(c.tmpl, func(t *testing.T) {
			got, err := Parse(c.tmpl)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want one containing %q", c.tmpl, err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, s := range got.Segments {
				switch s.Kind {
				case Star:
					parts = append(parts, "*")
				case StarStar:
					parts = append(parts, "**")
				default:
					parts = append(parts, s.Literal)
				}
			}
			if p := strings.Join(parts, "/"); p != c.path {
				t.Errorf("segments %q, want %q", p, c.path)
			}
			if got.Verb != c.verb {
				t.Errorf("verb %q, want %q", got.Verb, c.verb)
			}
			if !slices.Equal(got.Vars, c.vars) {
				t.Errorf("vars %v, want %v", got.Vars, c.vars)
			}
		})
	}
}

func newRouter(t testing.TB, templates ...string) *Router[string] {
	t.Helper()
	var r Router[string]
	for _, tmpl := range templates {
		pt, err := Parse(tmpl)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			if err := r.Add(m, pt, tmpl); err != nil {
				t.Fatal(err)
			}
		}
	}
	return &r
}

// The cases follow Vanguard v0.4.0's router tests (router_test.go).
func TestLookup(t *testing.T) {
	r := newRouter(t,
		"/foo/bar/baz/buzz",
		"/foo/bar/{name}",
		"/foo/bar/{name}/baz/{child}",
		"/foo/bar/{name}/baz/{child.id}/buzz/{child.thing.id}",
		"/foo/bar/*/{thing.id}/{cat=**}",
		"/foo/bar/*/{thing.id}/{cat=**}:do",
		"/foo/bar/*/{thing.id}/{cat=**}:cancel",
		"/foo%2Fbar/%2A/{starstar=%2A%2a/**}:%2c",
		"/trailing/**:slash",
		"/verb",
		"/v1/{name=projects/*/topics/*}",
		"/v1/{name=projects/*/topics/*}:cancel",
		"/v1/files/{name=**}",
		"/v1/messages/{message_id}",
	)
	cases := []struct {
		path string
		want string // "" for no match
		vars map[string]string
	}{
		{path: "/bob/lob/law"},
		{path: "/foo/bar/baz", want: "/foo/bar/{name}", vars: map[string]string{"name": "baz"}},
		{path: "/foo/bob/lob/law"},
		{path: "/foo/bar/baz/buzz", want: "/foo/bar/baz/buzz"},
		{path: "/foo/bar/baz/baz/buzz", want: "/foo/bar/{name}/baz/{child}", vars: map[string]string{"name": "baz", "child": "buzz"}},
		{path: "/foo/bar/1/baz/2/buzz/3", want: "/foo/bar/{name}/baz/{child.id}/buzz/{child.thing.id}", vars: map[string]string{"name": "1", "child.id": "2", "child.thing.id": "3"}},
		{path: "/foo/bar/baz/123/buzz", want: "/foo/bar/*/{thing.id}/{cat=**}", vars: map[string]string{"thing.id": "123", "cat": "buzz"}},
		{path: "/foo/bar/baz/123/buzz/buzz", want: "/foo/bar/*/{thing.id}/{cat=**}", vars: map[string]string{"thing.id": "123", "cat": "buzz/buzz"}},
		{path: "/foo/bar/baz/123/buzz/buzz:do", want: "/foo/bar/*/{thing.id}/{cat=**}:do", vars: map[string]string{"thing.id": "123", "cat": "buzz/buzz"}},
		{path: "/foo/bar/baz/123/fizz/buzz/frob/nitz:do", want: "/foo/bar/*/{thing.id}/{cat=**}:do", vars: map[string]string{"thing.id": "123", "cat": "fizz/buzz/frob/nitz"}},
		{path: "/foo/bar/baz/123/buzz/buzz:cancel", want: "/foo/bar/*/{thing.id}/{cat=**}:cancel", vars: map[string]string{"thing.id": "123", "cat": "buzz/buzz"}},
		// An unknown verb is part of the last segment.
		{path: "/foo/bar/baz/123/buzz/buzz:blah", want: "/foo/bar/*/{thing.id}/{cat=**}", vars: map[string]string{"thing.id": "123", "cat": "buzz/buzz:blah"}},
		{path: "foo/bar/baz/123/buzz/buzz:blah"},
		{path: "/trailing/:slash", want: "/trailing/**:slash"},
		// Deliberately unlike Vanguard: "**" matches zero or more segments,
		// as google/api/http.proto says; Vanguard wants at least one.
		{path: "/trailing:slash", want: "/trailing/**:slash"},
		{path: "/verb:"},
		{path: "/verb", want: "/verb"},
		// Escaped literals.
		{path: "/foo%2fbar/*/**/x:,", want: "/foo%2Fbar/%2A/{starstar=%2A%2a/**}:%2c", vars: map[string]string{"starstar": "**/x"}},
		// Variables: one segment decoded whole, several with %2F kept.
		{path: "/foo/bar/baz/%2f/%2A/%2f", want: "/foo/bar/*/{thing.id}/{cat=**}", vars: map[string]string{"thing.id": "/", "cat": "*/%2f"}},
		{path: "/v1/projects/p1/topics/t%2F1", want: "/v1/{name=projects/*/topics/*}", vars: map[string]string{"name": "projects/p1/topics/t%2F1"}},
		{path: "/v1/projects/p1/topics/t%201:cancel", want: "/v1/{name=projects/*/topics/*}:cancel", vars: map[string]string{"name": "projects/p1/topics/t 1"}},
		{path: "/v1/projects/p1/topics"},
		{path: "/v1/projects/p1/topics/t1/x"},
		{path: "/v1/files/a/b%2Fc/d%20e", want: "/v1/files/{name=**}", vars: map[string]string{"name": "a/b%2Fc/d e"}},
		{path: "/v1/files", want: "/v1/files/{name=**}", vars: map[string]string{"name": ""}},
		{path: "/v1/messages/a%2Fb", want: "/v1/messages/{message_id}", vars: map[string]string{"message_id": "a/b"}},
		{path: "/v1/messages/", want: ""}, // "*" takes no empty segment
		{path: "/v1/messages/a/", want: ""},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				m, res, _ := r.Lookup(method, c.path)
				if c.want == "" {
					if res != NotFound {
						t.Fatalf("%s %s: %v (%q), want no match", method, c.path, res, m.Value)
					}
					continue
				}
				if res != Found || m.Value != c.want {
					t.Fatalf("%s %s: %v %q, want %q", method, c.path, res, m.Value, c.want)
				}
				got := map[string]string{}
				if err := m.Vars(func(f, v string) error { got[f] = v; return nil }); err != nil {
					t.Fatal(err)
				}
				if len(c.vars) == 0 && len(got) == 0 {
					continue
				}
				if !maps.Equal(got, c.vars) {
					t.Errorf("%s %s: vars %v, want %v", method, c.path, got, c.vars)
				}
			}
			if c.want != "" {
				_, res, allow := r.Lookup(http.MethodDelete, c.path)
				if res != MethodNotAllowed || !slices.Equal(allow, []string{"GET", "POST"}) {
					t.Errorf("DELETE %s: %v %v, want MethodNotAllowed [GET POST]", c.path, res, allow)
				}
			}
		})
	}
}

func TestLookupHostile(t *testing.T) {
	r := newRouter(t, "/v1/files/{name=**}", "/v1/{id}")
	long := "/v1/files" + strings.Repeat("/a", maxSegments+1)
	if _, res, _ := r.Lookup("GET", long); res != NotFound {
		t.Errorf("path of %d segments: %v, want NotFound", maxSegments+2, res)
	}
	m, res, _ := r.Lookup("GET", "/v1/files/a%zz")
	if res != Found {
		t.Fatalf("malformed escape: %v", res)
	}
	err := m.Vars(func(string, string) error { return nil })
	if _, ok := err.(*PathValueError); !ok {
		t.Errorf("malformed escape: Vars error %v, want *PathValueError", err)
	}
	for _, p := range []string{"", "v1", "//", "/v1//", "/v1/%", "/:", "/::", "/v1/a:"} {
		m, res, _ := r.Lookup("GET", p)
		if res == Found {
			_ = m.Vars(func(string, string) error { return nil })
		}
	}
}

// A custom rule of kind "*" takes the methods no other rule of the path
// takes.
func TestAnyMethod(t *testing.T) {
	var r Router[string]
	any, _ := Parse("/v1/{name=**}")
	get, _ := Parse("/v1/{id}")
	_ = r.Add("*", any, "any")
	_ = r.Add("GET", get, "get")
	for method, want := range map[string]string{"GET": "get", "POST": "any", "OPTIONS": "any"} {
		if m, res, _ := r.Lookup(method, "/v1/x"); res != Found || m.Value != want {
			t.Errorf("%s /v1/x: %v %q, want %q", method, res, m.Value, want)
		}
	}
	if m, res, _ := r.Lookup("GET", "/v1/x/y"); res != Found || m.Value != "any" {
		t.Errorf("GET /v1/x/y: %v %q, want any", res, m.Value)
	}
}

func TestConflict(t *testing.T) {
	var r Router[int]
	a, _ := Parse("/v1/{a}")
	b, _ := Parse("/v1/{b}")
	if err := r.Add("GET", a, 1); err != nil {
		t.Fatal(err)
	}
	if err := r.Add("POST", b, 2); err != nil {
		t.Fatal(err)
	}
	err := r.Add("GET", b, 3)
	if err == nil || err.Error() != "GET /v1/{b} conflicts with GET /v1/{a}" {
		t.Fatalf("error %v", err)
	}
}
