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
	"fmt"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/plugin"
)

// FileSuffix ends the name of every generated file.
const FileSuffix = "_rpc.pb.go"

// Generate runs the generator on a request. Problems with the input or the
// options are reported in the response's error field.
func Generate(req *pluginpb.CodeGeneratorRequest) *pluginpb.CodeGeneratorResponse {
	opts := DefaultOptions()
	params := plugin.ParseParams(req.GetParameter())
	// From here on only the trimmed request is used, so that the rest of
	// req can be freed while the files are generated.
	gen, err := plugin.New(trimRequest(req), opts.Set)
	if err != nil {
		return plugin.ErrorResponse(err)
	}
	annotate := false
	for _, p := range params {
		if p.Name == "annotate_code" {
			annotate = p.Value != "false"
		}
	}
	// Annotations need protogen's own printing of the files.
	files, err := run(gen, opts, !annotate)
	if err != nil {
		gen.Error(err)
	}
	if annotate {
		return withFeatures(gen.Response())
	}
	return withFeatures(response(gen, files, params))
}

// withFeatures makes sure an error response declares the features.
func withFeatures(resp *pluginpb.CodeGeneratorResponse) *pluginpb.CodeGeneratorResponse {
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
	_, err := run(gen, opts, false)
	return err
}

// outFile is a file being generated and its name.
type outFile struct {
	name string
	g    *protogen.GeneratedFile
	fast *fastFile // nil when written to g
}

// content returns the formatted file.
func (f outFile) content() (string, error) {
	if f.fast != nil {
		return f.fast.Content(), nil
	}
	b, err := f.g.Content()
	return string(b), err
}

// run emits the files. With fast, they are laid out by fastFile rather
// than by protogen, and left out of gen.Response().
func run(gen *protogen.Plugin, opts Options, fast bool) ([]outFile, error) {
	if err := checkCollisions(gen, opts); err != nil {
		return nil, err
	}
	var files []outFile
	for _, f := range gen.Files {
		if !f.Generate || len(f.Services) == 0 {
			continue
		}
		filename, importPath := outputPath(f, opts)
		out := outFile{name: filename, g: gen.NewGeneratedFile(filename, importPath)}
		var w goFile = out.g
		if fast {
			out.fast = newFastFile(out.g, importPath)
			w = out.fast
		}
		if opts.PackageSuffix != "" {
			w.Import(f.GoImportPath)
		}
		e := &emitter{g: w, file: f, opts: opts}
		e.emitFile()
		files = append(files, out)
	}
	return files, nil
}

// response is gen.Response() for files, formatted in parallel.
func response(gen *protogen.Plugin, files []outFile, params []plugin.Param) *pluginpb.CodeGeneratorResponse {
	module := ""
	for _, p := range params {
		if p.Name == "module" {
			module = p.Value
		}
	}
	contents := make([]string, len(files))
	errs := make([]error, len(files))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(files); i = int(next.Add(1) - 1) {
				contents[i], errs[i] = files[i].content()
			}
		})
	}
	wg.Wait()
	// The files are written below; protogen adds the features, or its
	// own error.
	for _, f := range files {
		f.g.Skip()
	}
	resp := gen.Response()
	if resp.Error != nil {
		return resp
	}
	for i, f := range files {
		if errs[i] != nil {
			return &pluginpb.CodeGeneratorResponse{Error: proto.String(errs[i].Error())}
		}
		name := f.name
		if module != "" {
			trim := module + "/"
			if !strings.HasPrefix(name, trim) {
				return &pluginpb.CodeGeneratorResponse{
					Error: proto.String(fmt.Sprintf("%v: generated file does not match prefix %q", name, module)),
				}
			}
			name = strings.TrimPrefix(name, trim)
		}
		resp.File = append(resp.File, &pluginpb.CodeGeneratorResponse_File{
			Name:    proto.String(name),
			Content: proto.String(contents[i]),
		})
	}
	return resp
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
