package rpc_test

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/polyrpc/polyrpc/internal/gen/rpc"
	"github.com/polyrpc/polyrpc/internal/gen/rpc/rpctest"
)

// trickyNames are proto names that are Go keywords, predeclared
// identifiers, names of the generated code's imports and locals, names
// that CamelCase to each other, and names shaped like the identifiers
// protoc-gen-go and this plugin emit.
var trickyNames = []string{
	"string", "error", "type", "func", "go", "range", "nil", "any", "int", "len", "new", "make", "iota", "true",
	"Context", "context", "grpc", "http", "connect", "polyrpc", "codes", "status",
	"in", "out", "opts", "ctx", "srv", "cc", "c", "x", "m", "s", "stream", "err", "handler", "info", "dec", "interceptor", "cOpts",
	"Foo", "Foo_Bar", "FooBar", "foo_bar", "Foo_BarClient", "FooClient", "FooServer", "Foo_ServiceDesc", "NewFooHandler",
	"Foo_Bar_FullMethodName", "UnimplementedFooServer", "UnsafeFooServer", "RegisterFooServer", "NewFooClient",
	"GetThing", "get_thing", "Get_Thing", "Bar", "Bar_Baz", "Client", "Server", "Handler", "ServiceDesc",
	"Send", "Recv", "CloseAndRecv", "SendAndClose", "Header", "Trailer", "Context_", "_x", "X_", "x1", "File_fuzz_proto",
}

// nameTemplate has slots filled from trickyNames: two services with two
// methods of every streaming kind, two messages with a oneof and an
// enum, and a message from another Go package (msgTemplate) whose import
// path ends in a tricky name.
const nameTemplate = `syntax = "proto3";
package p;
option go_package = "example.com/p;p";
import "m.proto";
message {{M1}} { oneof {{O}} { int32 {{F}} = 1; } }
message {{M2}} { enum {{E}} { {{V}} = 0; } }
service {{S1}} {
  rpc {{A}}({{M1}}) returns ({{M2}});
  rpc {{B}}(stream {{M2}}) returns (stream {{M1}});
}
service {{S2}} {
  rpc {{C}}(m.Req) returns (stream {{M1}});
  rpc {{D}}(stream {{M2}}) returns ({{M2}});
}
`

const msgTemplate = `syntax = "proto3";
package m;
option go_package = "a.example.com/{{P}}";
message Req {}
`

var collisionError = regexp.MustCompile(`^\S+\.proto:\d+:\d+: (service|method) "p\.[\w.]+" and \S+\.proto:\d+:\d+: (service|method|message|enum|enum value|oneof|field) "p\.[\w.]+" both map to Go identifier \w+$` +
	`|^\S+\.proto(:\d+:\d+)?: (service|method|message|enum|enum value|oneof|field|file) "[\w.]+" and the Go package of \S+\.proto:\d+:\d+: message "m\.Req" \("a\.example\.com/\w+", imported as \w+\) both map to Go identifier \w+$`)

// nameSlots are the slots of nameTemplate.
var nameSlots = []string{"{{M1}}", "{{M2}}", "{{O}}", "{{F}}", "{{E}}", "{{V}}", "{{S1}}", "{{S2}}", "{{A}}", "{{B}}", "{{C}}", "{{D}}"}

// nameParams are the option sets the name checks pick from.
var nameParams = []string{"", "use_generic_streams_experimental=false", "require_unimplemented_servers=false", "package_suffix=rpc"}

// nameOutcome is what checkNames saw.
type nameOutcome int

const (
	notProto  nameOutcome = iota // protocompile rejects the source
	rejected                     // the generator reports collisions
	goBroken                     // protoc-gen-go's own output does not compile: not ours to fix
	generated                    // generated code type-checks
)

// checkNames fills the templates with names chosen by pick (an index into
// trickyNames for each slot, then one for the message package, then one
// for nameParams) and checks the outcome: generated code that type-checks
// together with protoc-gen-go's, or errors that name both proto elements
// with their positions.
func checkNames(t *testing.T, pick func(n int) int) nameOutcome {
	t.Helper()
	src := nameTemplate
	for _, s := range nameSlots {
		src = strings.ReplaceAll(src, s, trickyNames[pick(len(trickyNames))])
	}
	msg := strings.ReplaceAll(msgTemplate, "{{P}}", trickyNames[pick(len(trickyNames))])
	param := nameParams[pick(len(nameParams))]
	req, err := rpctest.Request(rpctest.Sources{"fuzz.proto": src, "m.proto": msg}, []string{"fuzz.proto", "m.proto"}, param)
	if err != nil {
		return notProto // duplicate names
	}
	resp := rpc.Generate(req)
	if resp.Error != nil {
		for _, line := range strings.Split(resp.GetError(), "\n") {
			if !collisionError.MatchString(line) {
				t.Errorf("unclear error line %q for %s\n%s\n%s", line, param, src, msg)
			}
		}
		return rejected
	}
	goResp, err := rpctest.ProtocGenGo(req)
	if err != nil {
		t.Fatalf("protoc-gen-go: %v", err)
	}
	if err := typeCheck(t, goResp); err != nil {
		return goBroken
	}
	if err := typeCheck(t, goResp, resp); err != nil {
		t.Errorf("generated code does not type-check with %s: %v\n%s\n%s", param, err, src, msg)
	}
	return generated
}

// TestTrickyNames fills the template with tricky names, many times over.
func TestTrickyNames(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 60
	}
	r := rand.New(rand.NewPCG(1, 2))
	counts := map[nameOutcome]int{}
	for range n {
		counts[checkNames(t, r.IntN)]++
	}
	t.Logf("%d of %d compiled, %d rejected as collisions, %d where protoc-gen-go's output alone does not compile",
		n-counts[notProto], n, counts[rejected], counts[goBroken])
	if counts[generated] < n/4 || counts[rejected] == 0 {
		t.Errorf("template gives too few useful cases: %v", counts)
	}
}

// FuzzNames lets the fuzzer choose the names of TestTrickyNames.
func FuzzNames(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{23, 24, 0, 1, 2, 3, 23, 25, 41, 42, 43, 44, 27, 3})
	f.Add([]byte{41, 42, 9, 9, 9, 9, 41, 43, 45, 46, 47, 48, 29, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		i := 0
		checkNames(t, func(n int) int {
			if i >= len(b) {
				i++
				return i % n
			}
			i++
			return int(b[i-1]) % n
		})
	})
}

// TestCollisionNamesBothElements checks the collisions named in the
// hardening checklist, with positions from source info.
func TestCollisionNamesBothElements(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{
			// GoCamelCase keeps an underscore before an upper-case letter:
			// Foo_BarClient and FooBarClient are different identifiers.
			name: "services Foo_Bar and FooBar",
			src: header + `message M {}
service Foo_Bar { rpc Get(M) returns (M); }
service FooBar { rpc Get(M) returns (M); }
`,
		},
		{
			name: "services foo_bar and FooBar",
			src: header + `message M {}
service foo_bar { rpc Get(M) returns (M); }
service FooBar { rpc Get(M) returns (M); }
`,
			want: `fuzz.proto:6:18: method "pkg.FooBar.Get" and fuzz.proto:5:19: method "pkg.foo_bar.Get" both map to Go identifier FooBar_Get_FullMethodName` + "\n" +
				`fuzz.proto:6:1: service "pkg.FooBar" and fuzz.proto:5:1: service "pkg.foo_bar" both map to Go identifier FooBarClient`,
		},
		{
			name: "methods that collide after CamelCase in a streaming service",
			src: header + `message M {}
service S {
  rpc list_things(M) returns (stream M);
  rpc ListThings(M) returns (stream M);
}
`,
			want: `fuzz.proto:7:3: method "pkg.S.ListThings" and fuzz.proto:6:3: method "pkg.S.list_things" both map to Go identifier S_ListThings_FullMethodName`,
		},
		{
			name: "enum value named like a method constant",
			src: header + `message M {}
enum S_Get { FullMethodName = 0; }
service S { rpc Get(M) returns (M); }
`,
			want: `fuzz.proto:6:13: method "pkg.S.Get" and fuzz.proto:5:14: enum value "pkg.FullMethodName" both map to Go identifier S_Get_FullMethodName`,
		},
		{
			name: "file descriptor variable",
			src: header + `message M {}
service File_fuzz_proto { rpc Get(M) returns (M); }
service File_fuzz { rpc proto(M) returns (M); }
`,
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := rpctest.Request(rpctest.Sources{"fuzz.proto": tt.src}, []string{"fuzz.proto"}, "")
			if err != nil {
				t.Fatal(err)
			}
			resp := rpc.Generate(req)
			if got := resp.GetError(); got != tt.want {
				t.Errorf("error\n got %q\nwant %q", got, tt.want)
			}
			if tt.want != "" {
				return
			}
			goResp, err := rpctest.ProtocGenGo(req)
			if err != nil {
				t.Fatal(err)
			}
			if err := typeCheck(t, goResp, resp); err != nil {
				t.Error(fmt.Errorf("does not type-check: %w", err))
			}
		})
	}
}
