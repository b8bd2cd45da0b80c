package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/gen/rpc/rpctest"
)

// buildPlugin builds this command into a temporary directory.
func buildPlugin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "protoc-gen-rpc")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type result struct {
	stdout, stderr []byte
	code           int
}

func run(t *testing.T, bin string, stdin []byte, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{stdout.Bytes(), stderr.Bytes(), code}
}

func decode(t *testing.T, b []byte) *pluginpb.CodeGeneratorResponse {
	t.Helper()
	resp := &pluginpb.CodeGeneratorResponse{}
	if err := proto.Unmarshal(b, resp); err != nil {
		t.Fatalf("stdout is not a CodeGeneratorResponse: %v", err)
	}
	return resp
}

func TestPluginBinary(t *testing.T) {
	bin := buildPlugin(t)

	t.Run("version", func(t *testing.T) {
		r := run(t, bin, nil, "--version")
		if r.code != 0 || string(r.stdout) != "protoc-gen-rpc "+version+"\n" || len(r.stderr) != 0 {
			t.Errorf("got exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("help", func(t *testing.T) {
		r := run(t, bin, nil, "--help")
		if r.code != 0 || string(r.stdout) != usage {
			t.Errorf("got exit %d, stdout %q", r.code, r.stdout)
		}
		for _, opt := range []string{"require_unimplemented_servers", "use_generic_streams_experimental", "package_suffix", "fanout=", "paths="} {
			if !strings.Contains(usage, opt) {
				t.Errorf("usage does not mention %s", opt)
			}
		}
	})

	t.Run("unknown argument", func(t *testing.T) {
		r := run(t, bin, nil, "--frobnicate")
		if r.code != 2 || len(r.stdout) != 0 || !strings.Contains(string(r.stderr), `unknown argument "--frobnicate"`) {
			t.Errorf("got exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("request", func(t *testing.T) {
		src, err := rpctest.DirSources("../../golden/rpc")
		if err != nil {
			t.Fatal(err)
		}
		req, err := rpctest.Request(src, []string{"kinds/kinds.proto"}, "paths=source_relative")
		if err != nil {
			t.Fatal(err)
		}
		in, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		r := run(t, bin, in)
		if r.code != 0 || len(r.stderr) != 0 {
			t.Fatalf("got exit %d, stderr %q", r.code, r.stderr)
		}
		resp := decode(t, r.stdout)
		if resp.Error != nil {
			t.Fatalf("response error: %s", resp.GetError())
		}
		if len(resp.File) != 1 || resp.File[0].GetName() != "kinds/kinds_rpc.pb.go" {
			t.Fatalf("got files %v, want kinds/kinds_rpc.pb.go", resp.File)
		}
		want, err := os.ReadFile("../../golden/rpc/kinds/kinds_rpc.pb.go")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), resp.File[0].GetContent()); diff != "" {
			t.Errorf("output differs from the golden file (-want +got):\n%s", diff)
		}
	})

	t.Run("deterministic across processes", func(t *testing.T) {
		src, err := rpctest.DirSources("../../golden/rpc")
		if err != nil {
			t.Fatal(err)
		}
		req, err := rpctest.Request(src, []string{"comments/comments.proto", "comments/deprecated.proto", "multi/messages.proto", "multi/multi.proto"}, "")
		if err != nil {
			t.Fatal(err)
		}
		in, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		var outputs [][]byte
		for _, procs := range []string{"1", "2", "4"} {
			cmd := exec.Command(bin)
			cmd.Env = append(os.Environ(), "GOMAXPROCS="+procs)
			cmd.Stdin = bytes.NewReader(in)
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			if resp := decode(t, out); resp.Error != nil || len(resp.File) != 3 {
				t.Fatalf("GOMAXPROCS=%s: error %q, %d files, want 3", procs, resp.GetError(), len(resp.File))
			}
			outputs = append(outputs, out)
		}
		for i := 1; i < len(outputs); i++ {
			if !bytes.Equal(outputs[0], outputs[i]) {
				t.Errorf("run %d differs from run 0", i)
			}
		}
	})

	t.Run("empty request", func(t *testing.T) {
		r := run(t, bin, nil)
		resp := decode(t, r.stdout)
		if r.code != 0 || resp.Error != nil || len(resp.File) != 0 {
			t.Errorf("got exit %d, error %q, %d files", r.code, resp.GetError(), len(resp.File))
		}
	})

	t.Run("malformed request", func(t *testing.T) {
		r := run(t, bin, []byte("\xff\xff\xff not a request"))
		stderr := string(r.stderr)
		if r.code != 1 || len(r.stdout) != 0 {
			t.Errorf("got exit %d, stdout %q, want exit 1 and no output", r.code, r.stdout)
		}
		if !strings.Contains(stderr, "protoc-gen-rpc: stdin is not a CodeGeneratorRequest") {
			t.Errorf("stderr %q does not explain the problem", stderr)
		}
		if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
			t.Errorf("stderr has a stack trace: %s", stderr)
		}
	})

	t.Run("option error", func(t *testing.T) {
		src := rpctest.Sources{"a.proto": `syntax = "proto3"; package a; option go_package = "example.com/a"; message M {} service S { rpc Do(M) returns (M); }`}
		req, err := rpctest.Request(src, []string{"a.proto"}, "require_unimplemented_servers=maybe")
		if err != nil {
			t.Fatal(err)
		}
		in, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		r := run(t, bin, in)
		if r.code != 0 || len(r.stderr) != 0 {
			t.Fatalf("got exit %d, stderr %q; option errors belong in the response", r.code, r.stderr)
		}
		resp := decode(t, r.stdout)
		want := `invalid value "maybe" for option require_unimplemented_servers: want true or false`
		if resp.GetError() != want || len(resp.File) != 0 {
			t.Errorf("got error %q and %d files, want %q", resp.GetError(), len(resp.File), want)
		}
		if resp.GetSupportedFeatures() == 0 || resp.GetMaximumEdition() == 0 {
			t.Errorf("error response does not declare features and editions: %v", resp)
		}
	})
}
