package rpc_test

import (
	"bytes"
	"flag"
	"go/format"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/gen/rpc"
	"github.com/polyrpc/polyrpc/internal/gen/rpc/rpctest"
)

var update = flag.Bool("update", false, "rewrite the golden files under golden/rpc")

const (
	goldenRoot   = "../../../golden/rpc"
	goldenModule = "github.com/polyrpc/polyrpc/golden/rpc"
)

// goldenCase is one directory of golden/rpc: its proto files, compiled
// together in one request, and the plugin parameter from options.txt.
type goldenCase struct {
	name  string
	files []string
	param string
	// options is the content of options.txt alone.
	options string
}

func goldenCases(t *testing.T) ([]goldenCase, rpctest.Sources) {
	t.Helper()
	src, err := rpctest.DirSources(goldenRoot)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(goldenRoot)
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "google" {
			// google/ holds imports of the cases (google/api), not a case.
			continue
		}
		c := goldenCase{name: e.Name()}
		for p := range src {
			if strings.HasPrefix(p, c.name+"/") {
				c.files = append(c.files, p)
			}
		}
		if len(c.files) == 0 {
			continue
		}
		slices.Sort(c.files)
		if b, err := os.ReadFile(filepath.Join(goldenRoot, c.name, "options.txt")); err == nil {
			c.options = strings.TrimSpace(string(b))
		}
		params := []string{}
		if c.options != "" {
			params = append(params, c.options)
		}
		if !strings.Contains(c.options, "paths=source_relative") {
			params = append(params, "module="+goldenModule)
		}
		c.param = strings.Join(params, ",")
		cases = append(cases, c)
	}
	if len(cases) == 0 {
		t.Fatal("no golden cases found")
	}
	return cases, src
}

func TestGolden(t *testing.T) {
	cases, src := goldenCases(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := rpctest.Request(src, c.files, c.param)
			if err != nil {
				t.Fatal(err)
			}
			resp := rpc.Generate(req)
			if resp.Error != nil {
				t.Fatalf("generator error: %s", resp.GetError())
			}
			checkFeatures(t, resp)
			goResp, err := rpctest.ProtocGenGo(req)
			if err != nil {
				t.Fatal(err)
			}
			names, got := rpctest.Files(resp)
			for _, n := range names {
				if !strings.HasSuffix(n, rpc.FileSuffix) {
					t.Errorf("generated %s, want only *%s files", n, rpc.FileSuffix)
				}
			}
			goNames, goFiles := rpctest.Files(goResp)
			for _, n := range goNames {
				got[n] = goFiles[n]
			}
			want := map[string]bool{}
			for n, content := range got {
				if !strings.HasPrefix(n, c.name+"/") {
					t.Fatalf("generated %s outside the case directory %s", n, c.name)
				}
				want[n] = true
				if formatted, err := format.Source(content); err != nil || !bytes.Equal(formatted, content) {
					t.Errorf("%s is not gofmt-clean (err %v)", n, err)
				}
				file := filepath.Join(goldenRoot, filepath.FromSlash(n))
				if *update {
					if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(file, content, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				committed, err := os.ReadFile(file)
				if err != nil {
					t.Errorf("missing golden file (run go test ./internal/gen/rpc -update): %v", err)
					continue
				}
				if diff := cmp.Diff(string(committed), string(content)); diff != "" {
					t.Errorf("%s mismatch (-committed +generated):\n%s", n, diff)
				}
			}
			// Every generated Go file in the case directory must come from
			// this request: a file without services produces no output.
			err = filepath.WalkDir(filepath.Join(goldenRoot, c.name), func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || !strings.HasSuffix(p, ".pb.go") {
					return err
				}
				rel, _ := filepath.Rel(goldenRoot, p)
				rel = filepath.ToSlash(rel)
				if want[rel] {
					return nil
				}
				if *update {
					return os.Remove(p)
				}
				t.Errorf("stale generated file %s: the request does not produce it", rel)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestGoldenDeterministic generates every case twice and expects the same
// bytes.
func TestGoldenDeterministic(t *testing.T) {
	cases, src := goldenCases(t)
	for _, c := range cases {
		req, err := rpctest.Request(src, c.files, c.param)
		if err != nil {
			t.Fatal(err)
		}
		first := rpc.Generate(req)
		second := rpc.Generate(req)
		_, a := rpctest.Files(first)
		_, b := rpctest.Files(second)
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("%s: two runs differ:\n%s", c.name, diff)
		}
	}
}

// TestNoServices checks that files without services produce no output.
func TestNoServices(t *testing.T) {
	src := rpctest.Sources{"a/a.proto": `syntax = "proto3"; package a; option go_package = "example.com/a"; message M {}`}
	req, err := rpctest.Request(src, []string{"a/a.proto"}, "")
	if err != nil {
		t.Fatal(err)
	}
	resp := rpc.Generate(req)
	if resp.Error != nil || len(resp.File) != 0 {
		t.Fatalf("got error %q and %d files, want no error and no file", resp.GetError(), len(resp.File))
	}
	checkFeatures(t, resp)
}

func checkFeatures(t *testing.T, resp *pluginpb.CodeGeneratorResponse) {
	t.Helper()
	want := uint64(pluginpb.CodeGeneratorResponse_FEATURE_PROTO3_OPTIONAL | pluginpb.CodeGeneratorResponse_FEATURE_SUPPORTS_EDITIONS)
	if resp.GetSupportedFeatures() != want {
		t.Errorf("supported features = %d, want %d", resp.GetSupportedFeatures(), want)
	}
	if resp.GetMinimumEdition() != int32(descriptorpb.Edition_EDITION_PROTO2) || resp.GetMaximumEdition() != int32(descriptorpb.Edition_EDITION_2024) {
		t.Errorf("editions = %d..%d, want proto2..2024", resp.GetMinimumEdition(), resp.GetMaximumEdition())
	}
}

// TestGoldenVet runs go vet on the committed golden packages.
func TestGoldenVet(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go vet")
	}
	out, err := exec.Command("go", "vet", "github.com/polyrpc/polyrpc/golden/rpc/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go vet: %v\n%s", err, out)
	}
}
