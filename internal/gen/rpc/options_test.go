package rpc_test

import (
	"go/build/constraint"
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/gen/rpc"
	"github.com/polyrpc/polyrpc/internal/gen/rpc/rpctest"
)

// TestOutputPaths checks where each option combination puts the generated
// file, its package name, and the import of the message package.
func TestOutputPaths(t *testing.T) {
	src := rpctest.Sources{"api/v1/svc.proto": `syntax = "proto3";
package api.v1;
option go_package = "example.com/gen/api/v1;apiv1";
message M {}
service S { rpc Do(M) returns (M); }
`}
	tests := []struct {
		param   string
		file    string
		pkg     string
		imports []string // imports besides the generator's own
	}{
		{param: "", file: "example.com/gen/api/v1/svc_rpc.pb.go", pkg: "apiv1"},
		{param: "paths=import", file: "example.com/gen/api/v1/svc_rpc.pb.go", pkg: "apiv1"},
		{param: "paths=source_relative", file: "api/v1/svc_rpc.pb.go", pkg: "apiv1"},
		{param: "module=example.com/gen", file: "api/v1/svc_rpc.pb.go", pkg: "apiv1"},
		{
			param: "package_suffix=rpc", file: "example.com/gen/api/v1/apiv1rpc/svc_rpc.pb.go", pkg: "apiv1rpc",
			imports: []string{"example.com/gen/api/v1"},
		},
		{
			param: "package_suffix=rpc,paths=source_relative", file: "api/v1/apiv1rpc/svc_rpc.pb.go", pkg: "apiv1rpc",
			imports: []string{"example.com/gen/api/v1"},
		},
		{
			param: "package_suffix=rpc,module=example.com/gen", file: "api/v1/apiv1rpc/svc_rpc.pb.go", pkg: "apiv1rpc",
			imports: []string{"example.com/gen/api/v1"},
		},
		{param: "package_suffix=", file: "example.com/gen/api/v1/svc_rpc.pb.go", pkg: "apiv1"},
		{param: "Mapi/v1/svc.proto=example.com/other/v1;otherv1", file: "example.com/other/v1/svc_rpc.pb.go", pkg: "otherv1"},
		{
			param: "Mapi/v1/svc.proto=example.com/other/v1;otherv1,package_suffix=grpc,paths=source_relative",
			file:  "api/v1/otherv1grpc/svc_rpc.pb.go", pkg: "otherv1grpc",
			imports: []string{"example.com/other/v1"},
		},
		{param: "default_api_level=API_OPAQUE", file: "example.com/gen/api/v1/svc_rpc.pb.go", pkg: "apiv1"},
		{param: "require_unimplemented_servers=true", file: "example.com/gen/api/v1/svc_rpc.pb.go", pkg: "apiv1"},
		{param: "require_unimplemented_servers=0,use_generic_streams_experimental=1", file: "example.com/gen/api/v1/svc_rpc.pb.go", pkg: "apiv1"},
	}
	own := map[string]bool{
		"context": true, "net/http": true, "connectrpc.com/connect": true, "github.com/polyrpc/polyrpc": true,
		"google.golang.org/grpc": true, "google.golang.org/grpc/codes": true, "google.golang.org/grpc/status": true,
	}
	for _, tt := range tests {
		t.Run(tt.param, func(t *testing.T) {
			req, err := rpctest.Request(src, []string{"api/v1/svc.proto"}, tt.param)
			if err != nil {
				t.Fatal(err)
			}
			resp := rpc.Generate(req)
			if resp.Error != nil {
				t.Fatal(resp.GetError())
			}
			if len(resp.File) != 1 {
				t.Fatalf("got %d files, want 1", len(resp.File))
			}
			if got := resp.File[0].GetName(); got != tt.file {
				t.Errorf("file %s, want %s", got, tt.file)
			}
			f, err := parser.ParseFile(token.NewFileSet(), "", resp.File[0].GetContent(), parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			if f.Name.Name != tt.pkg {
				t.Errorf("package %s, want %s", f.Name.Name, tt.pkg)
			}
			var imports []string
			for _, imp := range f.Imports {
				p := imp.Path.Value[1 : len(imp.Path.Value)-1]
				if !own[p] {
					imports = append(imports, p)
				}
			}
			if diff := cmp.Diff(tt.imports, imports); diff != "" {
				t.Errorf("imports (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAnnotateCode checks that annotate_code adds the GeneratedCodeInfo
// for the client and server interfaces, pointing at the service, and with
// fanout=true for the fan-out client interface.
func TestAnnotateCode(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		testAnnotateCode(t, "annotate_code", []string{"EchoClient", "Say", "EchoServer", "Say"})
	})
	t.Run("fanout", func(t *testing.T) {
		testAnnotateCode(t, "annotate_code,fanout=true", []string{"EchoClient", "Say", "EchoServer", "Say", "EchoFanOutClient", "Say"})
	})
}

func testAnnotateCode(t *testing.T, param string, want []string) {
	req, err := rpctest.Request(rpctest.Sources{"a.proto": echo}, []string{"a.proto"}, param)
	if err != nil {
		t.Fatal(err)
	}
	resp := rpc.Generate(req)
	if resp.Error != nil {
		t.Fatal(resp.GetError())
	}
	// protogen also writes the annotations in a .meta file next to it.
	if len(resp.File) != 2 || resp.File[0].GetName() != "example.com/pkg/a_rpc.pb.go" || resp.File[1].GetName() != "example.com/pkg/a_rpc.pb.go.meta" {
		t.Fatalf("got files %v, want a_rpc.pb.go and its .meta", resp.File)
	}
	info := &descriptorpb.GeneratedCodeInfo{}
	if err := prototext.Unmarshal([]byte(resp.File[1].GetContent()), info); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, a := range info.GetAnnotation() {
		if a.GetSourceFile() != "a.proto" {
			t.Errorf("annotation for %q", a.GetSourceFile())
		}
		content := resp.File[0].GetContent()
		paths = append(paths, content[a.GetBegin():a.GetEnd()])
	}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("annotated symbols (-want +got):\n%s", diff)
	}
}

// TestOptionErrors checks option combinations that protogen rejects.
func TestOptionErrors(t *testing.T) {
	src := rpctest.Sources{"a.proto": echo}
	tests := []struct{ param, want string }{
		{"paths=source_relative,module=example.com", "cannot use module= with paths=source_relative"},
		{"module=example.com/elsewhere", `example.com/pkg/a_rpc.pb.go: generated file does not match prefix "example.com/elsewhere"`},
	}
	for _, tt := range tests {
		t.Run(tt.param, func(t *testing.T) {
			req, err := rpctest.Request(src, []string{"a.proto"}, tt.param)
			if err != nil {
				t.Fatal(err)
			}
			resp := rpc.Generate(req)
			if resp.GetError() != tt.want {
				t.Errorf("error %q, want %q", resp.GetError(), tt.want)
			}
			checkFeatures(t, resp)
		})
	}
}

// TestBadRequests checks requests that protoc would not normally send, or
// that lack what a Go generator needs: each is an error response.
func TestBadRequests(t *testing.T) {
	tests := []struct {
		name   string
		src    rpctest.Sources
		mutate func(*pluginpb.CodeGeneratorRequest)
		want   string
	}{
		{
			name: "no Go import path",
			src:  rpctest.Sources{"a.proto": "syntax = \"proto3\";\npackage a;\nmessage M {}\nservice S { rpc Do(M) returns (M); }\n"},
			want: `unable to determine Go import path for "a.proto"

Please specify either:
	• a "go_package" option in the .proto source file, or
	• a "M" argument on the command line.

See https://protobuf.dev/reference/go/go-generated#package for more information.
`,
		},
		{
			name: "unknown input type",
			src:  rpctest.Sources{"a.proto": echo},
			mutate: func(req *pluginpb.CodeGeneratorRequest) {
				req.ProtoFile[0].Service[0].Method[0].InputType = proto.String(".pkg.Missing")
			},
			want: `invalid FileDescriptorProto "a.proto": proto: service method "pkg.Echo.Say" cannot resolve input: "pkg.Missing" not found`,
		},
		{
			name: "file to generate not in the request",
			src:  rpctest.Sources{"a.proto": echo},
			mutate: func(req *pluginpb.CodeGeneratorRequest) {
				req.FileToGenerate = append(req.FileToGenerate, "missing.proto")
			},
			want: `no descriptor for generated file: missing.proto`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := rpctest.Request(tt.src, []string{"a.proto"}, "")
			if err != nil {
				t.Fatal(err)
			}
			if tt.mutate != nil {
				tt.mutate(req)
			}
			resp := rpc.Generate(req)
			// protobuf-go randomly writes "proto:" followed by a space or a
			// non-breaking space, to discourage matching its texts exactly.
			got := strings.ReplaceAll(resp.GetError(), "\u00a0", " ")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			checkFeatures(t, resp)
			if len(resp.File) != 0 {
				t.Errorf("got %d files with the error", len(resp.File))
			}
		})
	}
}

// TestCommentsNeverBecomeDirectives checks that proto comments written
// without a space after the slashes cannot inject a build constraint or a
// go:generate line into the generated file.
func TestCommentsNeverBecomeDirectives(t *testing.T) {
	src := rpctest.Sources{"a.proto": `//go:build ignore

//go:generate rm -rf /
syntax = "proto3";
//go:generate rm -rf /
package pkg;
option go_package = "example.com/pkg";
message M {}
//go:generate rm -rf /
service S {
  //go:generate rm -rf /
  rpc Do(M) returns (M);
}
`}
	req, err := rpctest.Request(src, []string{"a.proto"}, "")
	if err != nil {
		t.Fatal(err)
	}
	resp := rpc.Generate(req)
	if resp.Error != nil {
		t.Fatal(resp.GetError())
	}
	content := resp.File[0].GetContent()
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "//go:") || constraint.IsGoBuild(line) || constraint.IsPlusBuild(line) {
			t.Errorf("directive in the generated file: %s", line)
		}
	}
	if n := strings.Count(content, "// go:generate rm -rf /"); n != 6 {
		t.Errorf("got %d copies of the comment, want 6 (syntax, package, service twice, method twice):\n%s", n, content)
	}
	if !strings.Contains(content, "// go:build ignore") {
		t.Errorf("the detached comment is missing:\n%s", content)
	}
}

// TestCommentSanitizing checks comments and file names that are not valid
// Go comment text, as a request built by hand may carry them.
func TestCommentSanitizing(t *testing.T) {
	req, err := rpctest.Request(rpctest.Sources{"a.proto": echo}, []string{"a.proto"}, "")
	if err != nil {
		t.Fatal(err)
	}
	f := req.ProtoFile[0]
	for _, loc := range f.GetSourceCodeInfo().GetLocation() {
		// The service and its method.
		if len(loc.Path) == 2 && loc.Path[0] == 6 || len(loc.Path) == 4 && loc.Path[0] == 6 {
			loc.LeadingComments = proto.String(" bad \x00 bytes \xff\xfe and \ufeff and a\rcarriage return\r\n")
		}
	}
	f.Name = proto.String("a\npackage evil\n.proto")
	req.FileToGenerate = []string{f.GetName()}
	resp := rpc.Generate(req)
	if resp.Error != nil {
		t.Fatal(resp.GetError())
	}
	content := resp.File[0].GetContent()
	file, err := parser.ParseFile(token.NewFileSet(), "", content, parser.ParseComments)
	if err != nil {
		t.Fatalf("generated file does not parse: %v\n%s", err, content)
	}
	if file.Name.Name != "pkg" {
		t.Errorf("package %s, want pkg", file.Name.Name)
	}
	if !strings.Contains(content, "// source: a\ufffdpackage evil\ufffd.proto\n") {
		t.Errorf("file name not kept on one comment line:\n%s", content)
	}
	if !strings.Contains(content, "// bad \ufffd bytes \ufffd and \ufffd and a\ufffdcarriage return\n") {
		t.Errorf("comment not sanitized:\n%s", content)
	}
}
