package doc

import (
	"io"
	"testing"

	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/gen/doc/doctest"
)

// goldenDir is golden/doc at the module root.
func goldenDir(t testing.TB) string { return doctest.GoldenDir(t) }

// goldenFiles are the inputs documented by the golden tests.
var goldenFiles = doctest.GoldenFiles

// compileRequest compiles protos from golden/doc/protos (plus the standard
// imports) and returns the request protoc would send, bytes included.
func compileRequest(t testing.TB, param string, files ...string) *pluginpb.CodeGeneratorRequest {
	t.Helper()
	return doctest.Request(t, param, files...)
}

// compileSources compiles in-memory protos.
func compileSources(t testing.TB, srcs map[string]string, param string, files ...string) *pluginpb.CodeGeneratorRequest {
	t.Helper()
	return doctest.Sources(t, srcs, param, files...)
}

// generate runs the generator and fails the test on an error response.
func generate(t testing.TB, req *pluginpb.CodeGeneratorRequest) map[string]string {
	t.Helper()
	resp := generateTo(req, io.Discard) // warnings are for people
	if resp.Error != nil {
		t.Fatalf("generate: %s", resp.GetError())
	}
	out := map[string]string{}
	for _, f := range resp.File {
		if _, dup := out[f.GetName()]; dup {
			t.Fatalf("file %s generated twice", f.GetName())
		}
		out[f.GetName()] = f.GetContent()
	}
	return out
}
