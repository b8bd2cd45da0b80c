package openapiout

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestOpenAPIPath(t *testing.T) {
	for _, tc := range []struct {
		tmpl, path string
		vars       []pathVar
		err        string
	}{
		{tmpl: "/v1/messages/{message_id}", path: "/v1/messages/{message_id}", vars: []pathVar{{field: "message_id", pattern: "*"}}},
		{tmpl: "/v1/{name=projects/*/topics/*}", path: "/v1/{name}", vars: []pathVar{{field: "name", pattern: "projects/*/topics/*"}}},
		{tmpl: "/v1/{name=projects/*/topics/*}:cancel", path: "/v1/{name}:cancel", vars: []pathVar{{field: "name", pattern: "projects/*/topics/*"}}},
		{tmpl: "/v1/{book.name=shelves/*/books/*}", path: "/v1/{book.name}", vars: []pathVar{{field: "book.name", pattern: "shelves/*/books/*"}}},
		{tmpl: "/v1/files/{name=**}", path: "/v1/files/{name}", vars: []pathVar{{field: "name", pattern: "**"}}},
		{tmpl: "/v1test2/{name=**/botSessions/*}", path: "/v1test2/{name}", vars: []pathVar{{field: "name", pattern: "**/botSessions/*"}}},
		{tmpl: "/v1/orders:search", path: "/v1/orders:search"},
		{tmpl: "/v1/users/{user_id}/messages/{message_id}", path: "/v1/users/{user_id}/messages/{message_id}", vars: []pathVar{{field: "user_id", pattern: "*"}, {field: "message_id", pattern: "*"}}},
		{tmpl: "v1/x", err: "does not start with /"},
		{tmpl: "/", err: "no segments"},
		{tmpl: "/v1/", err: "ends with /"},
		{tmpl: "/v1//x", err: "bad segment"},
		{tmpl: "/v1/{name", err: "unclosed {"},
		{tmpl: "/v1/{na-me}", err: "not a field path"},
		{tmpl: "/v1/{name=}", err: "bad pattern"},
		{tmpl: "/v1/{name=a//b}", err: "bad pattern"},
		{tmpl: "/v1/{a}/{a}", err: "appears twice"},
		{tmpl: "/v1/{a}x", err: "whole segment"},
		{tmpl: "/v1/x:", err: "bad custom verb"},
		{tmpl: "/v1/*/x", err: "wildcard outside a variable"},
	} {
		path, vars, err := openAPIPath(tc.tmpl, false)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.tmpl, err, tc.err)
			}
			continue
		}
		if err != nil || path != tc.path || len(vars) != len(tc.vars) {
			t.Errorf("%q: %q %v %v, want %q %v", tc.tmpl, path, vars, err, tc.path, tc.vars)
			continue
		}
		for i := range vars {
			if vars[i] != tc.vars[i] {
				t.Errorf("%q: var %d = %v, want %v", tc.tmpl, i, vars[i], tc.vars[i])
			}
		}
	}
}

func TestOpenAPIPathSegments(t *testing.T) {
	for tmpl, want := range map[string]string{
		"/v1/{name=projects/*/topics/*}:cancel":     "/v1/projects/{project}/topics/{topic}:cancel",
		"/v1/{parent=projects/*}/topics":            "/v1/projects/{project}/topics",
		"/v1/{name=shelves/*/books/*}":              "/v1/shelves/{shelve}/books/{book}",
		"/v1/{x.name=a/*/*}":                        "/v1/a/{a}/{x_name_3}",
		"/v1/files/{name=**}":                       "/v1/files/{name_1}",
		"/v1/{string_value=strprefix/*}/{id}":       "/v1/strprefix/{strprefix}/{id}",
		"/v1/{name=projects/*/topics/*}/{topic_id}": "/v1/projects/{project}/topics/{topic}/{topic_id}",
		"/v1/{a=projects/*}/{b=projects/*}":         "/v1/projects/{project}/projects/{b_2}",
		"/v1/{project}/{b=projects/*}":              "/v1/{project}/projects/{b_2}",
	} {
		got, _, err := openAPIPath(tmpl, true)
		if err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", tmpl, got, err, want)
		}
	}
}

func TestPathVarRegexp(t *testing.T) {
	re := regexp.MustCompile(pathVar{field: "name", pattern: "projects/*/topics/*"}.regexp())
	for s, want := range map[string]bool{"projects/p/topics/t": true, "projects/p/topics": false, "projects/p/x/topics/t": false, "projects//topics/t": false} {
		if re.MatchString(s) != want {
			t.Errorf("%q: match %v", s, !want)
		}
	}
	if !regexp.MustCompile(pathVar{field: "name", pattern: "a.b/**"}.regexp()).MatchString("a.b/c/d") ||
		regexp.MustCompile(pathVar{field: "name", pattern: "a.b/**"}.regexp()).MatchString("axb/c") {
		t.Error("literal segments are quoted, ** matches the rest")
	}
}

// FuzzOpenAPIPath: any template gives a path or an error, never a panic,
// and a path has balanced braces and one variable per parameter.
func FuzzOpenAPIPath(f *testing.F) {
	for _, s := range []string{"/v1/{name=projects/*/topics/*}:cancel", "/v1/{a}/{b.c=**}", "/{", "/}:", "/a:b:c", "/{a=}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tmpl string) {
		path, vars, err := openAPIPath(tmpl, len(tmpl)%2 == 0)
		if err != nil {
			return
		}
		if got := strings.Count(path, "{"); got != len(vars) || got != strings.Count(path, "}") {
			t.Fatalf("%q -> %q with %d variables", tmpl, path, len(vars))
		}
		if _, err := regexp.Compile(func() string {
			if len(vars) > 0 {
				return vars[0].regexp()
			}
			return ""
		}()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestWriteString matches encoding/json, without its HTML escaping.
func TestWriteString(t *testing.T) {
	for _, s := range []string{"plain", "quote \" back \\ slash", "<b>&amp;</b>", "ctl \x00\x01\x1f\t\r\n", "bad \xff utf8 \xe2\x82", "line \u2028 sep \u2029", "emoji 🙂"} {
		var b bytes.Buffer
		writeString(&b, s)
		var got string
		if err := json.Unmarshal(b.Bytes(), &got); err != nil {
			t.Fatalf("%q: %s: %v", s, b.Bytes(), err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if !utf8.ValidString(s) {
			// encoding/json replaces each bad byte.
			var w bytes.Buffer
			json.NewEncoder(&w).Encode(s)
			json.Unmarshal(w.Bytes(), &want)
		}
		if got != want {
			t.Errorf("%q: round trip %q, want %q", s, got, want)
		}
		if strings.Contains(s, "<") && !strings.Contains(b.String(), "<") {
			t.Errorf("%q: HTML escaped: %s", s, b.Bytes())
		}
	}
}

func TestWriteJSONOrder(t *testing.T) {
	var b bytes.Buffer
	o := obj{{"z", 1}, {"a", []any{true, nil, "x"}}, {"m", obj{}}, {"l", []string{}}}
	o.set("z", 2)
	writeJSON(&b, o, 0)
	want := "{\n  \"z\": 2,\n  \"a\": [\n    true,\n    null,\n    \"x\"\n  ],\n  \"m\": {},\n  \"l\": []\n}"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
