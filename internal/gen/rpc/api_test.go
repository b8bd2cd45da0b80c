package rpc_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/gen/rpc"
	"github.com/polyrpc/polyrpc/internal/gen/rpc/rpctest"
	"github.com/polyrpc/polyrpc/internal/plugin"
)

// TestAPIMatchesProtocGenGoGRPC runs protoc-gen-go-grpc v1.6.2 (a tool
// dependency of this module) on every golden request and checks that each
// declaration it emits exists in our output with the same type expression
// (and, for constants, the same value). Our output may add only the
// NewXxxHandler constructors, and with fanout=true the XxxFanOutClient
// interfaces and their constructors.
func TestAPIMatchesProtocGenGoGRPC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds protoc-gen-go-grpc")
	}
	bin := filepath.Join(t.TempDir(), "protoc-gen-go-grpc")
	build := exec.Command("go", "build", "-o", bin, "google.golang.org/grpc/cmd/protoc-gen-go-grpc")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building protoc-gen-go-grpc: %v\n%s", err, out)
	}
	cases, src := goldenCases(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := rpctest.Request(src, c.files, c.param)
			if err != nil {
				t.Fatal(err)
			}
			ours := rpc.Generate(req)
			if ours.Error != nil {
				t.Fatal(ours.GetError())
			}
			theirs := runPlugin(t, bin, withoutOwnOptions(req))
			if v := optionValue(c.param, "use_generic_streams_experimental"); v == "false" {
				t.Skip("protoc-gen-go-grpc v1.6 always generates generic streams")
			}
			suffix := optionValue(c.param, "package_suffix")

			_, ourFiles := rpctest.Files(ours)
			theirNames, theirFiles := rpctest.Files(theirs)
			if len(ourFiles) != len(theirNames) {
				t.Errorf("generated %d files, protoc-gen-go-grpc %d", len(ourFiles), len(theirNames))
			}
			for _, name := range theirNames {
				ourName := strings.TrimSuffix(name, "_grpc.pb.go") + rpc.FileSuffix
				if suffix != "" {
					dir, base := path.Split(ourName)
					pkg := packageName(t, theirFiles[name])
					ourName = dir + pkg + suffix + "/" + base
				}
				content, ok := ourFiles[ourName]
				if !ok {
					t.Errorf("protoc-gen-go-grpc generated %s, we did not generate %s", name, ourName)
					continue
				}
				want := exportedAPI(t, name, theirFiles[name], "")
				// With package_suffix the messages live in the imported
				// package: compare type expressions without its qualifier.
				qualifier := ""
				if suffix != "" {
					qualifier = messageQualifier(t, content)
				}
				got := exportedAPI(t, ourName, content, qualifier)
				for _, k := range slices.Sorted(mapsKeys(want)) {
					if got[k] != want[k] {
						t.Errorf("%s: %s\n got: %s\nwant: %s", ourName, k, got[k], want[k])
					}
				}
				for _, k := range slices.Sorted(mapsKeys(got)) {
					if _, ok := want[k]; ok {
						continue
					}
					handler := strings.HasPrefix(k, "func New") && strings.HasSuffix(k, "Handler")
					fanOut := optionValue(c.param, "fanout") == "true" && strings.HasSuffix(k, "FanOutClient") &&
						(strings.HasPrefix(k, "func New") || strings.HasPrefix(k, "type "))
					if !handler && !fanOut {
						t.Errorf("%s: %s is not in protoc-gen-go-grpc's output", ourName, k)
					}
				}
			}
		})
	}
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// withoutOwnOptions drops the options protoc-gen-go-grpc does not know.
func withoutOwnOptions(req *pluginpb.CodeGeneratorRequest) *pluginpb.CodeGeneratorRequest {
	var keep []string
	for _, p := range plugin.ParseParams(req.GetParameter()) {
		switch p.Name {
		case "package_suffix", "use_generic_streams_experimental", "fanout":
			continue
		}
		keep = append(keep, p.Name+"="+p.Value)
	}
	r := proto.Clone(req).(*pluginpb.CodeGeneratorRequest)
	r.Parameter = proto.String(strings.Join(keep, ","))
	return r
}

func optionValue(param, name string) string {
	for _, p := range plugin.ParseParams(param) {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

func runPlugin(t *testing.T, bin string, req *pluginpb.CodeGeneratorRequest) *pluginpb.CodeGeneratorResponse {
	t.Helper()
	in, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, stderr.Bytes())
	}
	resp := &pluginpb.CodeGeneratorResponse{}
	if err := proto.Unmarshal(out, resp); err != nil {
		t.Fatal(err)
	}
	if resp.Error != nil {
		t.Fatalf("%s: %s", bin, resp.GetError())
	}
	return resp
}

func packageName(t *testing.T, src []byte) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	return f.Name.Name
}

// exportedAPI maps every package-level declaration a user can refer to, and
// every method of an exported type, to its printed type (and value for
// constants). Qualifier, if set, is removed from type expressions.
func exportedAPI(t *testing.T, name string, src []byte, qualifier string) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	dropParameterNames(f)
	print := func(n ast.Node) string { return printNode(t, fset, n, qualifier) }
	value := func(n ast.Node) string { return printNode(t, fset, n, "") }
	api := map[string]string{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.ValueSpec:
					for i, n := range s.Names {
						if !n.IsExported() {
							continue
						}
						var v string
						switch {
						case d.Tok == token.CONST && i < len(s.Values):
							v = value(s.Values[i])
						case s.Type != nil:
							v = print(s.Type)
						case i < len(s.Values):
							// var X = T{...}: the type of the composite literal.
							if lit, ok := s.Values[i].(*ast.CompositeLit); ok {
								v = print(lit.Type)
							} else {
								v = print(s.Values[i])
							}
						}
						api[d.Tok.String()+" "+n.Name] = v
					}
				case *ast.TypeSpec:
					if !s.Name.IsExported() {
						continue
					}
					kind := "type "
					if s.Assign.IsValid() {
						kind = "alias "
					}
					api[kind+s.Name.Name] = print(s.Type)
				}
			}
		case *ast.FuncDecl:
			key := "func " + d.Name.Name
			if d.Recv != nil {
				recv := d.Recv.List[0].Type
				if star, ok := recv.(*ast.StarExpr); ok {
					recv = star.X
				}
				id, ok := recv.(*ast.Ident)
				if !ok || !id.IsExported() {
					continue
				}
				key = "method " + print(d.Recv.List[0].Type) + "." + d.Name.Name
			} else if !d.Name.IsExported() {
				continue
			}
			api[key] = print(d.Type)
		}
	}
	return api
}

// messageQualifier returns the name under which a file generated with
// package_suffix imports the message package: its only import that is not
// one of the generator's own.
func messageQualifier(t *testing.T, src []byte) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	own := map[string]bool{
		"context": true, "net/http": true, "connectrpc.com/connect": true, "github.com/polyrpc/polyrpc": true,
		"google.golang.org/grpc": true, "google.golang.org/grpc/codes": true, "google.golang.org/grpc/status": true,
	}
	var names []string
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if own[p] {
			continue
		}
		n := path.Base(p)
		if imp.Name != nil {
			n = imp.Name.Name
		}
		names = append(names, n)
	}
	if len(names) != 1 {
		t.Fatalf("want exactly one message package import, got %v", names)
	}
	return names[0]
}

// printNode prints a type expression or value; qualifier, if set, is removed
// from the package-qualified names in it.
func printNode(t *testing.T, fset *token.FileSet, n ast.Node, qualifier string) string {
	t.Helper()
	var b strings.Builder
	if err := printer.Fprint(&b, fset, n); err != nil {
		t.Fatal(err)
	}
	// Blank lines (left where comments were) are layout, not type.
	var lines []string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	s := strings.Join(lines, "\n")
	if qualifier != "" {
		s = strings.ReplaceAll(s, qualifier+".", "")
	}
	return s
}

// dropParameterNames removes the names of parameters and results, which are
// not part of a Go type.
func dropParameterNames(f *ast.File) {
	unname := func(fl *ast.FieldList) {
		if fl == nil {
			return
		}
		var out []*ast.Field
		for _, field := range fl.List {
			for range max(1, len(field.Names)) {
				out = append(out, &ast.Field{Type: field.Type})
			}
		}
		fl.List = out
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if ft, ok := n.(*ast.FuncType); ok {
			unname(ft.Params)
			unname(ft.Results)
		}
		return true
	})
}
