package rpc_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/gen/rpc"
	"github.com/polyrpc/polyrpc/internal/gen/rpc/rpctest"
	"github.com/polyrpc/polyrpc/internal/plugin"
)

// fuzzSeeds returns the single-file golden protos.
func fuzzSeeds(f *testing.F) []string { return fuzzSeedsT(f) }

func fuzzSeedsT(f testing.TB) []string {
	f.Helper()
	var seeds []string
	matches, err := filepath.Glob(filepath.Join(goldenRoot, "*", "*.proto"))
	if err != nil {
		f.Fatal(err)
	}
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err != nil {
			f.Fatal(err)
		}
		if !strings.Contains(string(b), "import \"") || strings.Contains(string(b), "google/protobuf/") {
			seeds = append(seeds, string(b))
		}
	}
	return seeds
}

// FuzzProtoSource compiles mutated proto sources; whatever compiles must
// generate Go that parses, or a clear error, and never panic.
func FuzzProtoSource(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, "")
		f.Add(s, "use_generic_streams_experimental=false,require_unimplemented_servers=false")
	}
	for _, c := range errorCases {
		if len(c.src) == 1 {
			for _, src := range c.src {
				f.Add(src, c.param)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src, param string) {
		req, err := rpctest.Request(rpctest.Sources{"fuzz.proto": src}, []string{"fuzz.proto"}, param)
		if err != nil {
			return
		}
		resp := rpc.Generate(req)
		if resp.Error != nil {
			if resp.GetError() == "" || strings.Contains(resp.GetError(), "internal error") {
				t.Fatalf("unclear error %q", resp.GetError())
			}
			return
		}
		for _, file := range resp.File {
			if _, err := parser.ParseFile(token.NewFileSet(), file.GetName(), file.GetContent(), parser.AllErrors); err != nil {
				t.Fatalf("generated %s does not parse: %v", file.GetName(), err)
			}
		}
		if len(resp.File) == 0 || !importPathLayout(param) {
			return
		}
		goResp, err := rpctest.ProtocGenGo(req)
		if err != nil {
			return
		}
		if err := typeCheck(t, goResp, resp); err != nil {
			t.Fatalf("generated code does not type-check: %v", err)
		}
	})
}

// FuzzRequest runs the generator on arbitrary request bytes.
func FuzzRequest(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		req, err := rpctest.Request(rpctest.Sources{"seed.proto": s}, []string{"seed.proto"}, "")
		if err != nil {
			continue
		}
		b, err := proto.Marshal(req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req := &pluginpb.CodeGeneratorRequest{}
		if err := proto.Unmarshal(b, req); err != nil {
			return
		}
		resp := rpc.Generate(req)
		if resp.GetSupportedFeatures() == 0 {
			t.Fatalf("response without features: %v", resp)
		}
	})
}

// importPathLayout reports whether param leaves files at their import paths
// (no paths=, module= or M options), as typeCheck needs.
func importPathLayout(param string) bool {
	for _, p := range plugin.ParseParams(param) {
		if plugin.IsProtogenParam(p.Name) {
			return false
		}
	}
	return true
}
