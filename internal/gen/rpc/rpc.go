// Package rpc is the generator behind protoc-gen-rpc.
//
// For every proto file with services it writes <name>_rpc.pb.go holding the
// exported API of protoc-gen-go-grpc v1.6 (clients, server interfaces,
// Unimplemented and Unsafe servers, registration, service descriptors and
// the generic stream types) plus, per service, NewXxxHandler: an
// http.Handler serving the same implementation over gRPC, gRPC-Web and the
// Connect protocol through package polyrpc.
package rpc

import (
	"errors"
	"path"
	"path/filepath"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/plugin"
)

// FileSuffix ends the name of every generated file.
const FileSuffix = "_rpc.pb.go"

// Generate runs the generator on a request. Problems with the input or the
// options are reported in the response's error field.
func Generate(req *pluginpb.CodeGeneratorRequest) *pluginpb.CodeGeneratorResponse {
	opts := DefaultOptions()
	gen, err := plugin.New(req, opts.Set)
	if err != nil {
		return plugin.ErrorResponse(err)
	}
	if err := Run(gen, opts); err != nil {
		gen.Error(err)
	}
	resp := gen.Response()
	if resp.Error != nil {
		// Some of protogen's errors (a file outside module=, unformattable
		// output) come without the features; protoc needs them.
		return plugin.ErrorResponse(errors.New(resp.GetError()))
	}
	return resp
}

// Run generates the files of gen with the given options. It generates
// nothing when two proto elements map to the same Go identifier.
func Run(gen *protogen.Plugin, opts Options) error {
	if err := checkCollisions(gen, opts); err != nil {
		return err
	}
	for _, f := range gen.Files {
		if !f.Generate || len(f.Services) == 0 {
			continue
		}
		filename, importPath := outputPath(f, opts)
		g := gen.NewGeneratedFile(filename, importPath)
		if opts.PackageSuffix != "" {
			g.Import(f.GoImportPath)
		}
		e := &emitter{g: g, file: f, opts: opts}
		e.emitFile()
	}
	return nil
}

// outputPath returns the name and Go import path of the file generated for f.
func outputPath(f *protogen.File, opts Options) (string, protogen.GoImportPath) {
	if opts.PackageSuffix == "" {
		return f.GeneratedFilenamePrefix + FileSuffix, f.GoImportPath
	}
	pkg := string(f.GoPackageName) + opts.PackageSuffix
	prefix := filepath.ToSlash(f.GeneratedFilenamePrefix)
	prefix = path.Join(path.Dir(prefix), pkg, path.Base(prefix))
	return prefix + FileSuffix, protogen.GoImportPath(path.Join(string(f.GoImportPath), pkg))
}
