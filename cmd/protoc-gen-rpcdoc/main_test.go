package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bufbuild/protocompile"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/gen/doc"
)

// buildPlugin compiles this command into a temporary directory.
func buildPlugin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "protoc-gen-rpcdoc")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestFlags(t *testing.T) {
	bin := buildPlugin(t)
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || string(out) != "protoc-gen-rpcdoc "+version+"\n" {
		t.Errorf("--version: %q, %v", out, err)
	}
	out, err = exec.Command(bin, "--help").Output()
	if err != nil || !strings.Contains(string(out), "layout=single|package|file") {
		t.Errorf("--help: %q, %v", out, err)
	}
	cmd := exec.Command(bin)
	cmd.Stdin = strings.NewReader("not a request")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), "stdin is not a CodeGeneratorRequest") {
		t.Errorf("garbage on stdin: err %v, stderr %q", err, stderr.String())
	}
}

// TestProtoc runs the plugin through protoc itself and compares the result
// with what the generator makes from the same files compiled in-process
// (which is how the golden files are made). protoc releases before 27 do
// not know editions, so the editions file is left out for them.
func TestProtoc(t *testing.T) {
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("protoc not found; CI must install it (apt-get install protobuf-compiler)")
		}
		t.Skip("protoc not found")
	}
	bin := buildPlugin(t)
	golden := filepath.Join("..", "..", "golden", "doc")
	out := t.TempDir()
	args := []string{
		"--plugin=protoc-gen-rpcdoc=" + bin,
		"--proto_path=" + filepath.Join(golden, "protos"),
		"--rpcdoc_out=" + out,
		"--rpcdoc_opt=format=html,markdown,json",
	}
	files := []string{"acme/shop/v1/shop.proto", "acme/common/v1/common.proto", "legacy/v1/legacy.proto", "hostile/v1/hostile.proto"}
	if v, _ := exec.Command(protoc, "--version").Output(); protocSupportsEditions(string(v)) {
		files = append(files, "editions/v1/editions.proto")
	}
	args = append(args, files...)
	if b, err := exec.Command(protoc, args...).CombinedOutput(); err != nil {
		t.Fatalf("protoc: %v\n%s", err, b)
	}
	for _, name := range []string{"index.html", "index.md", "index.json"} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		want := inProcess(t, filepath.Join(golden, "protos"), "format=html,markdown,json", files)[name]
		if diff := cmp.Diff(want, string(got)); diff != "" {
			t.Errorf("%s from protoc differs from the in-process result (-want +got):\n%s", name, diff)
		}
	}

	// Errors reach the user through protoc.
	args[3] = "--rpcdoc_opt=layout=tree"
	args = args[:len(args)-1] // one file is enough
	b, err := exec.Command(protoc, args...).CombinedOutput()
	if err == nil || !strings.Contains(string(b), `option layout: "tree" is not a layout (use single, package or file)`) {
		t.Errorf("bad option through protoc: err %v, output %s", err, b)
	}
}

// protocSupportsEditions reads "libprotoc 3.21.12" or "libprotoc 29.3".
func protocSupportsEditions(version string) bool {
	f := strings.Fields(version)
	if len(f) < 2 {
		return false
	}
	major, _, _ := strings.Cut(f[len(f)-1], ".")
	n, err := strconv.Atoi(major)
	return err == nil && n >= 27 && n < 100
}

// inProcess compiles the files with protocompile and runs the generator.
func inProcess(t *testing.T, dir, param string, files []string) map[string]string {
	t.Helper()
	c := protocompile.Compiler{
		Resolver:       protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{dir}}),
		SourceInfoMode: protocompile.SourceInfoStandard,
	}
	res, err := c.Compile(context.Background(), files...)
	if err != nil {
		t.Fatal(err)
	}
	var all []*descriptorpb.FileDescriptorProto
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		for i := 0; i < fd.Imports().Len(); i++ {
			add(fd.Imports().Get(i).FileDescriptor)
		}
		all = append(all, protodesc.ToFileDescriptorProto(fd))
	}
	for _, f := range res {
		add(f)
	}
	b, err := proto.Marshal(&pluginpb.CodeGeneratorRequest{FileToGenerate: files, Parameter: proto.String(param), ProtoFile: all})
	if err != nil {
		t.Fatal(err)
	}
	req := new(pluginpb.CodeGeneratorRequest)
	if err := proto.Unmarshal(b, req); err != nil {
		t.Fatal(err)
	}
	resp := doc.Generate(req)
	if resp.Error != nil {
		t.Fatal(resp.GetError())
	}
	out := map[string]string{}
	for _, f := range resp.File {
		out[f.GetName()] = f.GetContent()
	}
	return out
}
