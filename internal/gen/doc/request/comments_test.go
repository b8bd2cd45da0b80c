package request

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/polyrpc/polyrpc/internal/gen/doc/doctest"
)

// TestLoadComments: files that are not documented keep their comments
// only when asked, and get no element tree.
func TestLoadComments(t *testing.T) {
	srcs := map[string]string{
		"a.proto": "syntax = \"proto3\";\npackage a;\n// About B.\nmessage B { int32 x = 1; }\n",
		"c.proto": "syntax = \"proto3\";\npackage c;\nimport \"a.proto\";\n// About C.\nmessage C { a.B b = 1; }\n",
	}
	b, err := proto.Marshal(doctest.Sources(t, srcs, "", "c.proto"))
	if err != nil {
		t.Fatal(err)
	}
	for _, keep := range []bool{false, true} {
		req, err := Read(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		var comments func(string) bool
		if keep {
			comments = func(name string) bool { return name == "a.proto" }
		}
		files, err := LoadComments(req, func(name string) bool { return name == "c.proto" }, comments, false)
		if err != nil {
			t.Fatal(err)
		}
		a, c := files[req.ByName["a.proto"]], files[req.ByName["c.proto"]]
		if a.File != nil || c.File == nil || c.Src != nil {
			t.Fatalf("keep=%v: trees a=%v c=%v, c.Src=%v", keep, a.File != nil, c.File != nil, c.Src != nil)
		}
		got := Sources{"a.proto": a.Src}.Comments(a.Desc.Messages().Get(0)).Leading
		if want := map[bool]string{false: "", true: " About B.\n"}[keep]; got != want {
			t.Errorf("keep=%v: comment of B %q, want %q", keep, got, want)
		}
	}
}
