package doc

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

// goldenDir is golden/doc at the module root.
func goldenDir(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "golden", "doc")
}

// goldenFiles are the inputs documented by the golden tests.
var goldenFiles = []string{
	"acme/shop/v1/shop.proto",
	"acme/common/v1/common.proto",
	"legacy/v1/legacy.proto",
	"editions/v1/editions.proto",
	"hostile/v1/hostile.proto",
}

// compileRequest compiles protos from golden/doc/protos (plus the standard
// imports) and returns the request protoc would send, bytes included.
func compileRequest(t testing.TB, param string, files ...string) *pluginpb.CodeGeneratorRequest {
	t.Helper()
	return compileFrom(t, &protocompile.SourceResolver{ImportPaths: []string{filepath.Join(goldenDir(t), "protos")}}, param, files...)
}

// compileSources compiles in-memory protos.
func compileSources(t testing.TB, srcs map[string]string, param string, files ...string) *pluginpb.CodeGeneratorRequest {
	t.Helper()
	return compileFrom(t, &protocompile.SourceResolver{Accessor: protocompile.SourceAccessorFromMap(srcs)}, param, files...)
}

func compileFrom(t testing.TB, r protocompile.Resolver, param string, files ...string) *pluginpb.CodeGeneratorRequest {
	t.Helper()
	c := protocompile.Compiler{
		Resolver:       protocompile.WithStandardImports(r),
		SourceInfoMode: protocompile.SourceInfoStandard,
	}
	res, err := c.Compile(context.Background(), files...)
	if err != nil {
		t.Fatalf("compile: %v", err)
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
	req := &pluginpb.CodeGeneratorRequest{FileToGenerate: files, ProtoFile: all}
	if param != "" {
		req.Parameter = proto.String(param)
	}
	// Round-trip through the wire format, as protoc hands it over: custom
	// options become unknown fields of the options messages.
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	out := new(pluginpb.CodeGeneratorRequest)
	if err := proto.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// generate runs the generator and fails the test on an error response.
func generate(t testing.TB, req *pluginpb.CodeGeneratorRequest) map[string]string {
	t.Helper()
	resp := Generate(req)
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
