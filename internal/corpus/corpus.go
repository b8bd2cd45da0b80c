// Package corpus loads published proto sets that come as Go modules, pinned
// in corpus.mod, and builds the CodeGeneratorRequests protoc would send for
// them. The corpus test runs both plugins over every set; benchmarks use
// Request for large real requests.
//
// The modules are fetched with `go mod download -modfile=corpus.mod`, so
// the first use needs the Go module proxy (or a filled module cache).
package corpus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	_ "google.golang.org/protobuf/types/known/anypb" // well-known types for compiled sets
	_ "google.golang.org/protobuf/types/known/apipb"
	_ "google.golang.org/protobuf/types/known/durationpb"
	_ "google.golang.org/protobuf/types/known/emptypb"
	_ "google.golang.org/protobuf/types/known/fieldmaskpb"
	_ "google.golang.org/protobuf/types/known/sourcecontextpb"
	_ "google.golang.org/protobuf/types/known/structpb"
	_ "google.golang.org/protobuf/types/known/timestamppb"
	_ "google.golang.org/protobuf/types/known/typepb"
	_ "google.golang.org/protobuf/types/known/wrapperspb"
	"google.golang.org/protobuf/types/pluginpb"
)

// Set is one published proto set.
type Set struct {
	// Name identifies the set in Request.
	Name string
	// Module is the Go module (pinned in corpus.mod) holding the files to
	// generate.
	Module string
	// Roots are the import roots, searched in order.
	Roots []Root
	// Dirs are the directories (relative to the module) whose .proto files
	// are generated, recursively. Their import paths come from the first
	// root that contains them.
	Dirs []string
	// Exclude lists import paths left out: files that import protos no
	// pinned module ships.
	Exclude []string
	// Compiled means the module ships no .proto files but the Go code
	// protoc-gen-go generated from them: the descriptors are read from the
	// raw descriptors in the .pb.go files under Dirs. They have no source
	// info, like the descriptors of dependencies protoc sends.
	Compiled bool
}

// Root maps import paths starting with Prefix to Dir inside Module.
type Root struct {
	Module string
	Dir    string
	Prefix string
}

const (
	conformanceModule = "connectrpc.com/conformance"
	grpcModule        = "google.golang.org/grpc"
	containerdModule  = "github.com/containerd/containerd/api"
	criModule         = "k8s.io/cri-api"
	gatewayV1Module   = "github.com/grpc-ecosystem/grpc-gateway"
	gatewayV2Module   = "github.com/grpc-ecosystem/grpc-gateway/v2"
	genprotoModule    = "google.golang.org/genproto"
)

// Largest names the set with the most files, services and methods.
const Largest = "googleapis"

// Sets lists the corpus, smallest first.
var Sets = []Set{
	{
		Name:   "conformance",
		Module: conformanceModule,
		Roots:  []Root{{Module: conformanceModule, Dir: "proto"}},
		Dirs:   []string{"proto"},
	},
	{
		Name:   "grpc-go",
		Module: grpcModule,
		Roots:  []Root{{Module: grpcModule}},
		Dirs: []string{
			"reflection/grpc_testing", "interop/stress/grpc_testing", "profiling/proto",
			"test/codec_perf", "testdata/grpc_testing_not_regenerated",
		},
	},
	{
		Name:   "cri-api",
		Module: criModule,
		Roots:  []Root{{Module: criModule}},
		Dirs:   []string{"pkg/apis/runtime/v1"},
	},
	{
		Name:   "containerd",
		Module: containerdModule,
		Roots: []Root{
			{Module: containerdModule, Prefix: "github.com/containerd/containerd/api/"},
			// google/rpc/status.proto.
			{Module: gatewayV1Module, Dir: "third_party/googleapis"},
		},
		Dirs: []string{"."},
	},
	{
		Name:   "grpc-gateway-v1",
		Module: gatewayV1Module,
		Roots: []Root{
			{Module: gatewayV1Module},
			{Module: gatewayV1Module, Dir: "third_party/googleapis"},
		},
		Dirs: []string{"."},
	},
	{
		Name:   "grpc-gateway-v2",
		Module: gatewayV2Module,
		Roots: []Root{
			{Module: gatewayV2Module},
			// google/api and google/rpc, which v2 takes from the buf registry.
			{Module: gatewayV1Module, Dir: "third_party/googleapis"},
		},
		Dirs: []string{"."},
		Exclude: []string{
			// Import google/api/{field_behavior,visibility,client}.proto.
			"examples/internal/proto/examplepb/a_bit_of_everything.proto",
			"examples/internal/proto/examplepb/opaque.proto",
			"examples/internal/proto/examplepb/visibility_rule_echo_service.proto",
			// Import a_bit_of_everything.proto.
			"examples/internal/proto/examplepb/generated_input.proto",
			"examples/internal/proto/examplepb/stream.proto",
			// Declares the same Go package as the examples' copy of the
			// file, with the same message and service names: neither
			// protoc-gen-go's output nor ours would compile.
			"runtime/internal/examplepb/non_standard_names.proto",
			// Needs protoc-gen-openapiv3 options from the buf registry.
			"protoc-gen-openapiv3/options/annotations.proto",
			"protoc-gen-openapiv3/options/openapiv3.proto",
		},
	},
	{
		// googleapis as of the last genproto release that held every API
		// (later ones moved the cloud APIs to cloud.google.com/go).
		Name:     "googleapis",
		Module:   genprotoModule,
		Dirs:     []string{"googleapis"},
		Compiled: true,
	},
}

// Lookup returns the set named name.
func Lookup(name string) (Set, error) {
	for _, s := range Sets {
		if s.Name == name {
			return s, nil
		}
	}
	names := make([]string, len(Sets))
	for i, s := range Sets {
		names[i] = s.Name
	}
	return Set{}, fmt.Errorf("corpus: no set %q (have %s)", name, strings.Join(names, ", "))
}

// Request returns the request protoc would send to generate every file of
// the named set, with source info and no parameter.
func Request(name string) (*pluginpb.CodeGeneratorRequest, error) {
	s, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	return s.Request()
}

// Files returns the import paths of the set's files to generate, sorted.
func (s Set) Files() ([]string, error) {
	if s.Compiled {
		descs, err := s.descriptors()
		if err != nil {
			return nil, err
		}
		files := make([]string, 0, len(descs))
		for name := range descs {
			files = append(files, name)
		}
		slices.Sort(files)
		return files, nil
	}
	dir, err := ModuleDir(s.Module)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, d := range s.Dirs {
		base := filepath.Join(dir, filepath.FromSlash(d))
		err := filepath.WalkDir(base, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.HasSuffix(p, ".proto") {
				return err
			}
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			imp, ok := s.importPath(filepath.ToSlash(rel))
			if !ok {
				return fmt.Errorf("corpus %s: %s is under no import root", s.Name, rel)
			}
			if !slices.Contains(s.Exclude, imp) && !files2Skip(imp) {
				files = append(files, imp)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(files)
	return slices.Compact(files), nil
}

// files2Skip leaves out the copies of well-known types some modules carry.
func files2Skip(imp string) bool { return strings.HasPrefix(imp, "google/protobuf/") }

// importPath maps a file of the set's module (slash path relative to the
// module) to its import path: under the most specific root of that module.
func (s Set) importPath(rel string) (string, bool) {
	best, bestLen := "", -1
	for _, r := range s.Roots {
		if r.Module != s.Module {
			continue
		}
		d := path.Clean(r.Dir)
		switch {
		case d == "." && bestLen < 0:
			best, bestLen = r.Prefix+rel, 0
		case d != "." && strings.HasPrefix(rel, d+"/") && len(d) > bestLen:
			best, bestLen = r.Prefix+rel[len(d)+1:], len(d)
		}
	}
	return best, bestLen >= 0
}

// open finds an import path under the set's roots.
func (s Set) open(imp string) (io.ReadCloser, error) {
	for _, r := range s.Roots {
		if !strings.HasPrefix(imp, r.Prefix) {
			continue
		}
		dir, err := ModuleDir(r.Module)
		if err != nil {
			return nil, err
		}
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(r.Dir), filepath.FromSlash(strings.TrimPrefix(imp, r.Prefix))))
		if err == nil {
			return f, nil
		}
	}
	return nil, fs.ErrNotExist
}

// Request compiles the set's files with source info and returns the request
// protoc would send for them: dependencies first, no parameter.
func (s Set) Request() (*pluginpb.CodeGeneratorRequest, error) {
	if s.Compiled {
		return s.compiledRequest()
	}
	files, err := s.Files()
	if err != nil {
		return nil, err
	}
	c := protocompile.Compiler{
		Resolver:       protocompile.WithStandardImports(&protocompile.SourceResolver{Accessor: s.open}),
		SourceInfoMode: protocompile.SourceInfoStandard,
	}
	compiled, err := c.Compile(context.Background(), files...)
	if err != nil {
		return nil, fmt.Errorf("corpus %s: %w", s.Name, err)
	}
	req := &pluginpb.CodeGeneratorRequest{FileToGenerate: files}
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
		req.ProtoFile = append(req.ProtoFile, fdp)
	}
	for _, f := range compiled {
		add(f)
	}
	// Round-trip through the wire format, as protoc hands the request over:
	// custom options become unknown fields.
	b, err := proto.Marshal(req)
	if err != nil {
		return nil, err
	}
	out := &pluginpb.CodeGeneratorRequest{}
	if err := proto.Unmarshal(b, out); err != nil {
		return nil, err
	}
	return out, nil
}

var (
	dirMu sync.Mutex
	dirs  = map[string]string{}
)

// ModuleDir returns the directory of a module pinned in corpus.mod,
// downloading it into the module cache if needed.
func ModuleDir(module string) (string, error) {
	dirMu.Lock()
	defer dirMu.Unlock()
	if d, ok := dirs[module]; ok {
		return d, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "mod", "download", "-modfile="+filepath.Join(root, "internal", "corpus", "corpus.mod"), "-json", module)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var m struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &m); jerr != nil || m.Error != "" || m.Dir == "" {
		return "", fmt.Errorf("corpus: go mod download %s: %v %s %s", module, err, m.Error, stderr.String())
	}
	dirs[module] = m.Dir
	return m.Dir, nil
}

// moduleRoot is the root of the polyrpc module (this file's grandparent).
func moduleRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("corpus: no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", ".."), nil
}

// descriptors reads the raw descriptors of the .pb.go files under the
// set's directories, by file name.
func (s Set) descriptors() (map[string]*descriptorpb.FileDescriptorProto, error) {
	dir, err := ModuleDir(s.Module)
	if err != nil {
		return nil, err
	}
	out := map[string]*descriptorpb.FileDescriptorProto{}
	for _, d := range s.Dirs {
		err := filepath.WalkDir(filepath.Join(dir, filepath.FromSlash(d)), func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.HasSuffix(p, ".pb.go") {
				return err
			}
			raw, err := rawDescriptor(p)
			if err != nil || raw == nil {
				return err
			}
			fd := &descriptorpb.FileDescriptorProto{}
			if err := proto.Unmarshal(raw, fd); err != nil {
				return fmt.Errorf("%s: %v", p, err)
			}
			out[fd.GetName()] = fd
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("corpus %s: %w", s.Name, err)
		}
	}
	return out, nil
}

// rawDescriptor returns the value of the file_..._rawDesc variable or
// constant of a file generated by protoc-gen-go, or nil.
func rawDescriptor(path string) ([]byte, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || (gd.Tok != token.VAR && gd.Tok != token.CONST) {
			continue
		}
		for _, sp := range gd.Specs {
			vs, ok := sp.(*ast.ValueSpec)
			if !ok || len(vs.Names) != 1 || len(vs.Values) != 1 || !strings.HasSuffix(vs.Names[0].Name, "_rawDesc") {
				continue
			}
			switch v := vs.Values[0].(type) {
			case *ast.CompositeLit: // []byte{0x0a, ...}
				b := make([]byte, 0, len(v.Elts))
				for _, e := range v.Elts {
					lit, ok := e.(*ast.BasicLit)
					if !ok {
						return nil, fmt.Errorf("%s: unexpected raw descriptor element", path)
					}
					n, err := strconv.ParseUint(lit.Value, 0, 8)
					if err != nil {
						return nil, fmt.Errorf("%s: %v", path, err)
					}
					b = append(b, byte(n))
				}
				return b, nil
			case *ast.BinaryExpr, *ast.BasicLit: // "..." + "..."
				var b strings.Builder
				var walk func(e ast.Expr) error
				walk = func(e ast.Expr) error {
					switch e := e.(type) {
					case *ast.BinaryExpr:
						if err := walk(e.X); err != nil {
							return err
						}
						return walk(e.Y)
					case *ast.BasicLit:
						s, err := strconv.Unquote(e.Value)
						b.WriteString(s)
						return err
					}
					return fmt.Errorf("%s: unexpected raw descriptor expression", path)
				}
				if err := walk(v); err != nil {
					return nil, err
				}
				return []byte(b.String()), nil
			}
		}
	}
	return nil, nil
}

// compiledRequest builds the request of a Compiled set: every descriptor,
// dependencies first, well-known types from the protobuf module.
func (s Set) compiledRequest() (*pluginpb.CodeGeneratorRequest, error) {
	descs, err := s.descriptors()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(descs))
	for name := range descs {
		names = append(names, name)
	}
	slices.Sort(names)
	req := &pluginpb.CodeGeneratorRequest{FileToGenerate: names}
	seen := map[string]bool{}
	var add func(name string) error
	add = func(name string) error {
		if seen[name] {
			return nil
		}
		seen[name] = true
		fd := descs[name]
		if fd == nil {
			d, err := protoregistry.GlobalFiles.FindFileByPath(name)
			if err != nil {
				return fmt.Errorf("corpus %s: import %s: %v", s.Name, name, err)
			}
			fd = protodesc.ToFileDescriptorProto(d)
		}
		for _, dep := range fd.GetDependency() {
			if err := add(dep); err != nil {
				return err
			}
		}
		req.ProtoFile = append(req.ProtoFile, fd)
		return nil
	}
	for _, name := range names {
		if err := add(name); err != nil {
			return nil, err
		}
	}
	return req, nil
}
