package rpc

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/gen/rpc/rpctest"
	"github.com/polyrpc/polyrpc/internal/plugin"
)

// gofmtResponse generates req with protogen laying out the files
// (parse and print with go/printer), as Generate did before fastFile.
func gofmtResponse(t testing.TB, req *pluginpb.CodeGeneratorRequest) *pluginpb.CodeGeneratorResponse {
	t.Helper()
	opts := DefaultOptions()
	gen, err := plugin.New(trimRequest(req), opts.Set)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run(gen, opts, false); err != nil {
		t.Fatal(err)
	}
	return gen.Response()
}

// checkLayout compares Generate's output for src with gofmt's layout.
func checkLayout(t testing.TB, src rpctest.Sources, param string) {
	t.Helper()
	var files []string
	for name := range src {
		files = append(files, name)
	}
	req, err := rpctest.Request(src, files, param)
	if err != nil {
		t.Skip(err) // not a valid proto file
	}
	want := gofmtResponse(t, req)
	got := Generate(req)
	if want.Error != nil || got.Error != nil {
		if want.GetError() != got.GetError() {
			t.Fatalf("errors differ: gofmt layout %q, fast layout %q", want.GetError(), got.GetError())
		}
		return
	}
	if len(got.File) != len(want.File) {
		t.Fatalf("got %d files, want %d", len(got.File), len(want.File))
	}
	for i := range want.File {
		if diff := cmp.Diff(want.File[i].GetContent(), got.File[i].GetContent()); diff != "" || got.File[i].GetName() != want.File[i].GetName() {
			t.Errorf("%s differs from gofmt's layout (-gofmt +fast):\n%s", want.File[i].GetName(), diff)
		}
	}
}

// hostileComments are proto comments that gofmt's doc comment reformatting
// changes: lists, headings, code blocks, links, blank lines, odd spacing.
var hostileComments = []string{
	"plain text",
	"  - item one\n  - item two\n\ntext after",
	"1. first\n2. second",
	"# Heading\n\nParagraph.",
	"Code:\n\n    x := 1\n    y := 2\n",
	"\tindented with a tab\n\tand more",
	"trailing spaces   \nand\ttabs\t",
	"\n\n\nblank lines first\n\n\n\nand between\n\n",
	"go:generate something",
	"//go:build ignore",
	"[link]: https://example.com\nsee [link]",
	"Unicode: héllo wörld ✓ \u00a0nbsp",
	"braces { ( [ and quotes \" ' `",
	"*/ /* comment markers */",
	"Deprecated: use something else.",
	"a very long line " + strings.Repeat("word ", 60),
}

func TestFastLayoutMatchesGofmt(t *testing.T) {
	for _, param := range []string{"", "use_generic_streams_experimental=false", "require_unimplemented_servers=false", "package_suffix=rpc"} {
		for i, c := range hostileComments {
			t.Run(fmt.Sprintf("%s/%d", param, i), func(t *testing.T) {
				checkLayout(t, rpctest.Sources{"a/b{c}.proto": layoutProto(c)}, param)
			})
		}
	}
}

// TestFastLayoutLongNames crosses the header length up to which gofmt
// keeps an empty function body on the header's line.
func TestFastLayoutLongNames(t *testing.T) {
	for n := 18; n < 56; n++ {
		name := "S" + strings.Repeat("x", n)
		src := strings.ReplaceAll(layoutProto("c"), "service S {", "service "+name+" {")
		t.Run(name, func(t *testing.T) {
			checkLayout(t, rpctest.Sources{"a/b.proto": src}, "")
			checkLayout(t, rpctest.Sources{"a/b.proto": src}, "require_unimplemented_servers=false")
		})
	}
}

func FuzzFastLayout(f *testing.F) {
	for _, c := range hostileComments {
		f.Add(c, c)
	}
	f.Fuzz(func(t *testing.T, service, method string) {
		checkLayout(t, rpctest.Sources{"a/b.proto": layoutProto2(service, method)}, "")
	})
}

func protoComment(text string) string {
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		b.WriteString("//" + line + "\n")
	}
	return b.String()
}

func layoutProto(c string) string { return layoutProto2(c, c) }

func layoutProto2(service, method string) string {
	return `// File comment.
` + protoComment(service) + `
syntax = "proto3";

` + protoComment(method) + `
package a.v1;

option go_package = "example.com/a/v1;av1";

message Req {}
message Res {}

` + protoComment(service) + `service S {
` + protoComment(method) + `  rpc Unary(Req) returns (Res) { option idempotency_level = NO_SIDE_EFFECTS; }
` + protoComment(method) + `  rpc Server(Req) returns (stream Res);
  rpc Client(stream Req) returns (Res) { option deprecated = true; }
  rpc Bidi(stream Req) returns (stream Res);
}

service OnlyStreams {
  option deprecated = true;
  rpc Bidi(stream Req) returns (stream Res);
}

service OnlyUnary { rpc U(Req) returns (Res); }

service Empty {}
`
}
