package rpc_test

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/gen/rpc/rpctest"
)

var (
	typeCheckMu       sync.Mutex
	typeCheckFset     = token.NewFileSet()
	typeCheckImporter types.Importer
)

// typeCheck type-checks the Go files of the responses (protoc-gen-go's and
// ours for one request) package by package, importing everything else from
// source. Packages are grouped by directory.
func typeCheck(t testing.TB, resps ...*pluginpb.CodeGeneratorResponse) error {
	t.Helper()
	typeCheckMu.Lock()
	defer typeCheckMu.Unlock()
	if typeCheckImporter == nil {
		imp, err := exportDataImporter()
		if err != nil {
			return err
		}
		typeCheckImporter = imp
	}
	byDir := map[string][]*ast.File{}
	for _, resp := range resps {
		names, files := rpctest.Files(resp)
		for _, n := range names {
			f, err := parser.ParseFile(typeCheckFset, n, files[n], 0)
			if err != nil {
				return err
			}
			dir := n[:max(0, lastSlash(n))]
			byDir[dir] = append(byDir[dir], f)
		}
	}
	dirs := make([]string, 0, len(byDir))
	for d := range byDir {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	// Directories are import paths (paths=import): a package made with
	// package_suffix imports its parent, checked before it.
	checked := map[string]*types.Package{}
	imp := importerFunc(func(path string) (*types.Package, error) {
		if p, ok := checked[path]; ok {
			return p, nil
		}
		return typeCheckImporter.Import(path)
	})
	for _, d := range dirs {
		conf := types.Config{Importer: imp}
		pkg, err := conf.Check(d, typeCheckFset, byDir[d], nil)
		if err != nil {
			return fmt.Errorf("package %s: %w", d, err)
		}
		checked[d] = pkg
	}
	return nil
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

// typeCheckRoots are the packages generated code may import; with their
// dependencies, their export data is all typeCheck needs.
var typeCheckRoots = []string{
	"github.com/polyrpc/polyrpc",
	"github.com/polyrpc/polyrpc/fanout",
	"connectrpc.com/connect",
	"google.golang.org/grpc",
	"google.golang.org/grpc/codes",
	"google.golang.org/grpc/status",
	"google.golang.org/protobuf/reflect/protoreflect",
	"google.golang.org/protobuf/runtime/protoimpl",
	"google.golang.org/protobuf/types/known/...",
	"google.golang.org/protobuf/types/descriptorpb",
	"google.golang.org/protobuf/types/gofeaturespb",
	"context", "net/http", "reflect", "sync", "unsafe",
}

// exportDataImporter imports packages from the export data the go command
// builds (and caches) for typeCheckRoots.
func exportDataImporter() (types.Importer, error) {
	args := append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}, typeCheckRoots...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	exports := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if path, file, ok := strings.Cut(line, "\t"); ok && file != "" {
			exports[path] = file
		}
	}
	return importer.ForCompiler(typeCheckFset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	}), nil
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}
