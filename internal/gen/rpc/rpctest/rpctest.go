// Package rpctest builds CodeGeneratorRequests in-process, as protoc or buf
// would send them, for the tests of the protoc-gen-rpc generator.
package rpctest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/cmd/protoc-gen-go/internal_gengo"
	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/plugin"
)

// edition2024 is rewritten to edition 2023 for protocompile, which supports
// editions only up to 2023, and set back to 2024 in the descriptor. The
// descriptor is then resolved with edition 2024 defaults by protogen, as it
// would be when sent by protoc or buf.
const (
	edition2024 = `edition = "2024";`
	edition2023 = `edition = "2023";`
)

// Sources maps proto file paths to their contents.
type Sources map[string]string

// DirSources reads every .proto file under dir, keyed by its slash-separated
// path relative to dir.
func DirSources(dir string) (Sources, error) {
	src := Sources{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".proto") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		src[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	return src, err
}

// Request compiles files (paths in src) with source info and returns the
// request protoc would send for them with the given parameter. Imports are
// resolved from src and the standard imports (well-known types).
func Request(src Sources, files []string, parameter string) (*pluginpb.CodeGeneratorRequest, error) {
	patched := map[string]bool{}
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
			Accessor: func(path string) (io.ReadCloser, error) {
				s, ok := src[path]
				if !ok {
					return nil, fs.ErrNotExist
				}
				if strings.Contains(s, edition2024) {
					patched[path] = true
					s = strings.Replace(s, edition2024, edition2023, 1)
				}
				return io.NopCloser(strings.NewReader(s)), nil
			},
		}),
		SourceInfoMode: protocompile.SourceInfoStandard,
	}
	compiled, err := c.Compile(context.Background(), files...)
	if err != nil {
		return nil, err
	}
	req := &pluginpb.CodeGeneratorRequest{FileToGenerate: files}
	if parameter != "" {
		req.Parameter = proto.String(parameter)
	}
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imports := fd.Imports()
		for i := range imports.Len() {
			add(imports.Get(i).FileDescriptor)
		}
		var fdp *descriptorpb.FileDescriptorProto
		if r, ok := fd.(interface {
			FileDescriptorProto() *descriptorpb.FileDescriptorProto
		}); ok {
			fdp = proto.Clone(r.FileDescriptorProto()).(*descriptorpb.FileDescriptorProto)
		} else {
			fdp = protodesc.ToFileDescriptorProto(fd)
		}
		if patched[fd.Path()] {
			fdp.Edition = descriptorpb.Edition_EDITION_2024.Enum()
		}
		req.ProtoFile = append(req.ProtoFile, fdp)
	}
	for _, f := range compiled {
		add(f)
	}
	return req, nil
}

// ProtocGenGo runs protoc-gen-go's generator on req, as `protoc --go_out`
// would, with the protogen parameters of req (plugin-specific ones dropped).
func ProtocGenGo(req *pluginpb.CodeGeneratorRequest) (*pluginpb.CodeGeneratorResponse, error) {
	var keep []string
	for _, p := range plugin.ParseParams(req.GetParameter()) {
		if plugin.IsProtogenParam(p.Name) {
			keep = append(keep, p.Name+"="+p.Value)
		}
	}
	r := proto.Clone(req).(*pluginpb.CodeGeneratorRequest)
	r.Parameter = proto.String(strings.Join(keep, ","))
	gen, err := protogen.Options{}.New(r)
	if err != nil {
		return nil, err
	}
	gen.SupportedFeatures = internal_gengo.SupportedFeatures
	gen.SupportedEditionsMinimum = internal_gengo.SupportedEditionsMinimum
	gen.SupportedEditionsMaximum = internal_gengo.SupportedEditionsMaximum
	for _, f := range gen.Files {
		if f.Generate {
			internal_gengo.GenerateFile(gen, f)
		}
	}
	resp := gen.Response()
	if resp.Error != nil {
		return nil, fmt.Errorf("protoc-gen-go: %s", resp.GetError())
	}
	return resp, nil
}

// Files returns the files of a response by name, in name order.
func Files(resp *pluginpb.CodeGeneratorResponse) ([]string, map[string][]byte) {
	var names []string
	files := map[string][]byte{}
	for _, f := range resp.File {
		names = append(names, f.GetName())
		files[f.GetName()] = bytes.Clone([]byte(f.GetContent()))
	}
	sort.Strings(names)
	return names, files
}
