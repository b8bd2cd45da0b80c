// Package examples_test checks the examples as a whole: that the committed
// generated code and docs match their protos, and that the commands in the
// README work.
package examples_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/gen/doc"
	"github.com/polyrpc/polyrpc/internal/gen/rpc"
	"github.com/polyrpc/polyrpc/internal/gen/rpc/rpctest"
)

// TestGeneratedUpToDate regenerates the examples in-process, with the
// options of the root buf.gen.yaml, and compares the result with the
// committed files, so that a proto edited without `buf generate` fails here.
func TestGeneratedUpToDate(t *testing.T) {
	const goOpt = "module=github.com/polyrpc/polyrpc"
	for _, tc := range []struct {
		protoRoot, file  string
		docsDir, docsOpt string
	}{
		{protoRoot: "ordermgt/proto", file: "ecommerce/v1/order_management.proto"},
		{protoRoot: "chat/proto", file: "chat/v1/chat.proto", docsDir: "chat/docs", docsOpt: "title=Chat API"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			src, err := rpctest.DirSources(tc.protoRoot)
			if err != nil {
				t.Fatal(err)
			}
			req, err := rpctest.Request(src, []string{tc.file}, goOpt)
			if err != nil {
				t.Fatal(err)
			}
			goResp, err := rpctest.ProtocGenGo(req)
			if err != nil {
				t.Fatal(err)
			}
			compare(t, "..", goResp) // module= paths start at the module root
			compare(t, "..", rpc.Generate(req))
			if tc.docsDir != "" {
				req.Parameter = &tc.docsOpt
				compare(t, tc.docsDir, doc.Generate(req))
			}
		})
	}
}

func compare(t *testing.T, dir string, resp *pluginpb.CodeGeneratorResponse) {
	t.Helper()
	if resp.Error != nil {
		t.Fatalf("generator error: %s", resp.GetError())
	}
	if len(resp.GetFile()) == 0 {
		t.Fatal("generator wrote no file")
	}
	for _, f := range resp.GetFile() {
		path := filepath.Join(dir, filepath.FromSlash(f.GetName()))
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
