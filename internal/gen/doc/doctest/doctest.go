// Package doctest holds what the tests of protoc-gen-rpcdoc's packages
// share: the golden inputs, the requests that protoc would send for them
// (compiled in-process), and helpers to read the HTML and Markdown output.
package doctest

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/bufbuild/protocompile"
	"golang.org/x/net/html"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

// GoldenDir is golden/doc at the module root.
func GoldenDir(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "golden", "doc")
}

// GoldenFiles are the inputs documented by the golden tests.
var GoldenFiles = []string{
	"acme/shop/v1/shop.proto",
	"acme/common/v1/common.proto",
	"legacy/v1/legacy.proto",
	"editions/v1/editions.proto",
	"hostile/v1/hostile.proto",
}

// Request compiles protos from golden/doc/protos (plus the standard
// imports) and returns the request protoc would send, bytes included.
func Request(t testing.TB, param string, files ...string) *pluginpb.CodeGeneratorRequest {
	t.Helper()
	return compile(t, &protocompile.SourceResolver{ImportPaths: []string{filepath.Join(GoldenDir(t), "protos")}}, param, files...)
}

// Sources compiles in-memory protos.
func Sources(t testing.TB, srcs map[string]string, param string, files ...string) *pluginpb.CodeGeneratorRequest {
	t.Helper()
	return compile(t, &protocompile.SourceResolver{Accessor: protocompile.SourceAccessorFromMap(srcs)}, param, files...)
}

func compile(t testing.TB, r protocompile.Resolver, param string, files ...string) *pluginpb.CodeGeneratorRequest {
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

// Walk calls f on n and every node below it, in document order.
func Walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		Walk(c, f)
	}
}

// Cells counts the cells of a Markdown table row (escaped pipes are
// text).
func Cells(row string) int {
	n := 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n - 1
}
