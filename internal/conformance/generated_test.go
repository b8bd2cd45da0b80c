package conformance_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/gen/rpc"
	"github.com/polyrpc/polyrpc/internal/gen/rpc/rpctest"
)

// TestGeneratedUpToDate regenerates the conformance service in-process, with
// the options of the root buf.gen.yaml, and compares the result with the
// committed code under gen/, so that the suite never runs stale code.
func TestGeneratedUpToDate(t *testing.T) {
	src, err := rpctest.DirSources("proto")
	if err != nil {
		t.Fatal(err)
	}
	files := []string{
		"connectrpc/conformance/v1/client_compat.proto",
		"connectrpc/conformance/v1/config.proto",
		"connectrpc/conformance/v1/server_compat.proto",
		"connectrpc/conformance/v1/service.proto",
	}
	params := []string{"module=github.com/polyrpc/polyrpc"}
	for _, f := range files {
		params = append(params, "M"+f+"=github.com/polyrpc/polyrpc/internal/conformance/gen/connectrpc/conformance/v1;conformancev1")
	}
	req, err := rpctest.Request(src, files, strings.Join(params, ","))
	if err != nil {
		t.Fatal(err)
	}
	goResp, err := rpctest.ProtocGenGo(req)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, goResp)
	compare(t, rpc.Generate(req))
}

func compare(t *testing.T, resp *pluginpb.CodeGeneratorResponse) {
	t.Helper()
	if resp.Error != nil {
		t.Fatalf("generator error: %s", resp.GetError())
	}
	if len(resp.GetFile()) == 0 {
		t.Fatal("generator wrote no file")
	}
	for _, f := range resp.GetFile() {
		// module= paths start at the module root.
		path := filepath.Join("..", "..", filepath.FromSlash(f.GetName()))
		committed, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%v (run: go tool -modfile=tools/go.mod buf generate)", err)
			continue
		}
		if diff := cmp.Diff(string(committed), f.GetContent()); diff != "" {
			t.Errorf("%s is stale; run: go tool -modfile=tools/go.mod buf generate\n(-committed +generated):\n%s", path, diff)
		}
	}
}
