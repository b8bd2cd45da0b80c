package rpc_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/polyrpc/polyrpc/internal/gen/rpc"
	"github.com/polyrpc/polyrpc/internal/gen/rpc/rpctest"
)

const header = `syntax = "proto3";
package pkg;
option go_package = "example.com/pkg";
`

// echo is a minimal service in a file of its own.
const echo = `syntax = "proto3";
package pkg;
option go_package = "example.com/pkg";
message Msg {}
service Echo {
  rpc Say(Msg) returns (Msg);
}
`

// errorCases are requests the generator rejects, with the exact error, and
// near misses it accepts (want "").
var errorCases = []struct {
	name  string
	src   rpctest.Sources
	param string
	// stripSourceInfo drops source_code_info, as protoc does for
	// dependencies and some tools do for every file.
	stripSourceInfo bool
	want            string
}{
	{
		name:  "unknown option",
		src:   rpctest.Sources{"a.proto": echo},
		param: "foo=bar",
		want:  `unknown option "foo" (accepted: require_unimplemented_servers, use_generic_streams_experimental, package_suffix, fanout, paths, module, annotate_code, default_api_level, M<file>=<import path>)`,
	},
	{
		name:  "unknown option without value",
		src:   rpctest.Sources{"a.proto": echo},
		param: "paths=source_relative,simple",
		want:  `unknown option "simple" (accepted: require_unimplemented_servers, use_generic_streams_experimental, package_suffix, fanout, paths, module, annotate_code, default_api_level, M<file>=<import path>)`,
	},
	{
		name:  "malformed boolean",
		src:   rpctest.Sources{"a.proto": echo},
		param: "require_unimplemented_servers=maybe",
		want:  `invalid value "maybe" for option require_unimplemented_servers: want true or false`,
	},
	{
		name:  "boolean without value",
		src:   rpctest.Sources{"a.proto": echo},
		param: "require_unimplemented_servers",
		want:  `invalid value "" for option require_unimplemented_servers: want true or false`,
	},
	{
		name:  "malformed generic streams",
		src:   rpctest.Sources{"a.proto": echo},
		param: "use_generic_streams_experimental=yes",
		want:  `invalid value "yes" for option use_generic_streams_experimental: want true or false`,
	},
	{
		name:  "malformed fanout",
		src:   rpctest.Sources{"a.proto": echo},
		param: "fanout=yes",
		want:  `invalid value "yes" for option fanout: want true or false`,
	},
	{
		name:  "fanout without value",
		src:   rpctest.Sources{"a.proto": echo},
		param: "fanout",
		want:  `invalid value "" for option fanout: want true or false`,
	},
	{
		name: "message named like the fan-out client",
		src: rpctest.Sources{"foo.proto": header + `message FooFanOutClient {}
service Foo {}
`},
		param: "fanout=true",
		want:  `foo.proto:5:1: service "pkg.Foo" and foo.proto:4:1: message "pkg.FooFanOutClient" both map to Go identifier FooFanOutClient`,
	},
	{
		name: "message named like the fan-out constructor",
		src: rpctest.Sources{"foo.proto": header + `message NewFooFanOutClient {}
service Foo {}
`},
		param: "fanout=true",
		want:  `foo.proto:5:1: service "pkg.Foo" and foo.proto:4:1: message "pkg.NewFooFanOutClient" both map to Go identifier NewFooFanOutClient`,
	},
	{
		name: "fan-out names are free without the option",
		src: rpctest.Sources{"foo.proto": header + `message FooFanOutClient {}
message NewFooFanOutClient {}
service Foo {
  rpc Get(FooFanOutClient) returns (NewFooFanOutClient);
}
`},
		param: "fanout=false",
	},
	{
		name: "fanout with pre-generics streams",
		src: rpctest.Sources{"foo.proto": header + `message Msg {}
service Foo {
  rpc Get(Msg) returns (Msg);
  rpc List(Msg) returns (stream Msg);
  rpc Put(stream Msg) returns (Msg);
  rpc Chat(stream Msg) returns (stream Msg);
}
`},
		param: "fanout=true,use_generic_streams_experimental=false",
	},
	{
		name: "fanout with message packages named like its import and locals",
		src: rpctest.Sources{
			"fanout.proto":  `syntax = "proto3"; package fo; option go_package = "example.com/fanout"; message Req {}`,
			"targets.proto": `syntax = "proto3"; package tg; option go_package = "example.com/a/targets"; message Res {}`,
			"foo.proto": header + `import "fanout.proto";
import "targets.proto";
service Foo {
  rpc Get(fo.Req) returns (tg.Res);
  rpc List(fo.Req) returns (stream tg.Res);
}
`},
		param: "fanout=true",
	},
	{
		name:  "package suffix not an identifier",
		src:   rpctest.Sources{"a.proto": echo},
		param: "package_suffix=1rpc",
		want:  `package_suffix "1rpc" is not a valid Go identifier`,
	},
	{
		name:  "package suffix with a dot",
		src:   rpctest.Sources{"a.proto": echo},
		param: "package_suffix=rpc.v1",
		want:  `package_suffix "rpc.v1" is not a valid Go identifier`,
	},
	{
		name:  "bad paths value",
		src:   rpctest.Sources{"a.proto": echo},
		param: "paths=relative",
		want:  `unknown path type "relative": want "import" or "source_relative"`,
	},
	{
		name: "methods that collide after CamelCase",
		src: rpctest.Sources{"foo.proto": header + `message Msg {}
service Svc {
  rpc GetThing(Msg) returns (Msg);

  rpc get_thing(Msg) returns (Msg);
}
`},
		want: `foo.proto:8:3: method "pkg.Svc.get_thing" and foo.proto:6:3: method "pkg.Svc.GetThing" both map to Go identifier Svc_GetThing_FullMethodName`,
	},
	{
		name: "message named like the server interface",
		src: rpctest.Sources{"foo.proto": header + `message FooServer {}
service Foo {
  rpc Get(FooServer) returns (FooServer);
}
`},
		want: `foo.proto:5:1: service "pkg.Foo" and foo.proto:4:1: message "pkg.FooServer" both map to Go identifier FooServer`,
	},
	{
		name: "every collision is reported",
		src: rpctest.Sources{"foo.proto": header + `message FooServer {}
message FooClient {}
service Foo {}
`},
		want: `foo.proto:6:1: service "pkg.Foo" and foo.proto:5:1: message "pkg.FooClient" both map to Go identifier FooClient` + "\n" +
			`foo.proto:6:1: service "pkg.Foo" and foo.proto:4:1: message "pkg.FooServer" both map to Go identifier FooServer`,
	},
	{
		name: "message named like the client interface",
		src: rpctest.Sources{"foo.proto": header + `service Foo {}
message FooClient {}
`},
		want: `foo.proto:4:1: service "pkg.Foo" and foo.proto:5:1: message "pkg.FooClient" both map to Go identifier FooClient`,
	},
	{
		name: "message named like the service descriptor",
		src: rpctest.Sources{"foo.proto": header + `message Foo_ServiceDesc {}
service Foo {}
`},
		want: `foo.proto:5:1: service "pkg.Foo" and foo.proto:4:1: message "pkg.Foo_ServiceDesc" both map to Go identifier Foo_ServiceDesc`,
	},
	{
		name: "message named like the handler constructor",
		src: rpctest.Sources{"foo.proto": header + `message NewFooHandler {}
service Foo {}
`},
		want: `foo.proto:5:1: service "pkg.Foo" and foo.proto:4:1: message "pkg.NewFooHandler" both map to Go identifier NewFooHandler`,
	},
	{
		name: "nested message",
		src: rpctest.Sources{"foo.proto": header + `message foo {
  message ServiceDesc {}
}
service Foo {}
`},
		want: `foo.proto:7:1: service "pkg.Foo" and foo.proto:5:3: message "pkg.foo.ServiceDesc" both map to Go identifier Foo_ServiceDesc`,
	},
	{
		name: "enum value",
		src: rpctest.Sources{"foo.proto": header + `enum foo {
  FOO_UNSPECIFIED = 0;
  ServiceDesc = 1;
}
service Foo {}
`},
		want: `foo.proto:8:1: service "pkg.Foo" and foo.proto:6:3: enum value "pkg.ServiceDesc" both map to Go identifier Foo_ServiceDesc`,
	},
	{
		name: "oneof wrapper",
		src: rpctest.Sources{"foo.proto": header + `message Echo {
  oneof kind {
    string say_FullMethodName = 1;
  }
}
service echo {
  rpc Say(Echo) returns (Echo);
}
`},
		want: `foo.proto:10:3: method "pkg.echo.Say" and foo.proto:6:5: field "pkg.Echo.say_FullMethodName" both map to Go identifier Echo_Say_FullMethodName`,
	},
	{
		name: "oneof interface",
		src: rpctest.Sources{"foo.proto": header + `message Foo {
  oneof x_client {
    string a = 1;
  }
}
service IsFoo_X {}
`},
		want: `foo.proto:9:1: service "pkg.IsFoo_X" and foo.proto:5:3: oneof "pkg.Foo.x_client" both map to Go identifier isFoo_XClient`,
	},
	{
		name: "extension",
		src: rpctest.Sources{"foo.proto": `syntax = "proto2";
package pkg;
option go_package = "example.com/pkg";
message M { extensions 1 to 9; }
extend M { optional M Say_FullMethodName = 1; }
service E { rpc Say(M) returns (M); }
`},
		want: `foo.proto:6:13: method "pkg.E.Say" and foo.proto:5:12: extension "pkg.Say_FullMethodName" both map to Go identifier E_Say_FullMethodName`,
	},
	{
		name: "services whose names collide after CamelCase",
		src: rpctest.Sources{"foo.proto": header + `service FooBar {}
service foo_bar {}
`},
		want: `foo.proto:5:1: service "pkg.foo_bar" and foo.proto:4:1: service "pkg.FooBar" both map to Go identifier FooBarClient`,
	},
	{
		name: "service and stream alias",
		src: rpctest.Sources{"foo.proto": header + `message Msg {}
service Foo {
  rpc Bar(Msg) returns (stream Msg);
}
service Foo_Bar {}
`},
		want: `foo.proto:8:1: service "pkg.Foo_Bar" and foo.proto:6:3: method "pkg.Foo.Bar" both map to Go identifier Foo_BarClient`,
	},
	{
		name: "service and method of another service",
		src: rpctest.Sources{"foo.proto": header + `message Msg {}
service Foo {
  rpc Bar_Baz(Msg) returns (Msg);
}
service Foo_Bar {
  rpc Baz(Msg) returns (Msg);
}
`},
		want: `foo.proto:9:3: method "pkg.Foo_Bar.Baz" and foo.proto:6:3: method "pkg.Foo.Bar_Baz" both map to Go identifier Foo_Bar_Baz_FullMethodName`,
	},
	{
		name:  "stream implementation without generic streams",
		param: "use_generic_streams_experimental=false",
		src: rpctest.Sources{"foo.proto": header + `message Msg {}
service Echo {
  rpc ServerStream(Msg) returns (stream Msg);
}
service EchoServerStream {}
`},
		want: `foo.proto:8:1: service "pkg.EchoServerStream" and foo.proto:6:3: method "pkg.Echo.ServerStream" both map to Go identifier echoServerStreamClient`,
	},
	{
		name: "the same protos with generic streams",
		src: rpctest.Sources{"foo.proto": header + `message Msg {}
service Echo {
  rpc ServerStream(Msg) returns (stream Msg);
}
service EchoServerStream {}
`},
		want: "",
	},
	{
		name: "same service name in two proto packages of one Go package",
		src: rpctest.Sources{
			"a.proto": "syntax = \"proto3\";\npackage a;\noption go_package = \"example.com/pkg\";\nservice Foo {}\n",
			"b.proto": "syntax = \"proto3\";\npackage b;\noption go_package = \"example.com/pkg\";\nservice Foo {}\n",
		},
		want: `b.proto:4:1: service "b.Foo" and a.proto:4:1: service "a.Foo" both map to Go identifier FooClient`,
	},
	{
		name:            "without source info",
		src:             rpctest.Sources{"foo.proto": header + "message FooServer {}\nservice Foo {}\n"},
		stripSourceInfo: true,
		want:            `foo.proto: service "pkg.Foo" and foo.proto: message "pkg.FooServer" both map to Go identifier FooServer`,
	},
	{
		name:  "package suffix moves the service away from the messages",
		src:   rpctest.Sources{"foo.proto": header + "message FooServer {}\nservice Foo {}\n"},
		param: "package_suffix=rpc",
		want:  "",
	},
	{
		// Found by FuzzProtoSource: the sub-package imported "0/".
		name:  "package suffix under an import path with a trailing slash",
		src:   rpctest.Sources{"foo.proto": "syntax = \"proto3\";\npackage pkg;\noption go_package = \"example.com/pkg/;pkg\";\nservice Foo {}\n"},
		param: "package_suffix=rpc",
		want:  `foo.proto: Go import path "example.com/pkg/" is not valid, so package_suffix cannot name a package under it`,
	},
	{
		// The generated file imports the message package under the last
		// element of its import path; it must not be one of its own names.
		name: "message package imported under the name of the client struct",
		src: rpctest.Sources{
			"m.proto": "syntax = \"proto3\";\npackage m;\noption go_package = \"example.com/fooClient\";\nmessage Req {}\n",
			"a.proto": "syntax = \"proto3\";\npackage a;\noption go_package = \"example.com/a\";\nimport \"m.proto\";\nservice Foo {\n  rpc Get(m.Req) returns (m.Req);\n}\n",
		},
		want: `a.proto:5:1: service "a.Foo" and the Go package of m.proto:4:1: message "m.Req" ("example.com/fooClient", imported as fooClient) both map to Go identifier fooClient`,
	},
	{
		name: "message package imported under the name of a method constant",
		src: rpctest.Sources{
			"m.proto": "syntax = \"proto3\";\npackage m;\noption go_package = \"example.com/Foo_Get_FullMethodName\";\nmessage Req {}\n",
			"a.proto": "syntax = \"proto3\";\npackage a;\noption go_package = \"example.com/a\";\nimport \"m.proto\";\nservice Foo {\n  rpc Get(m.Req) returns (stream m.Req);\n}\n",
		},
		want: `a.proto:6:3: method "a.Foo.Get" and the Go package of m.proto:4:1: message "m.Req" ("example.com/Foo_Get_FullMethodName", imported as Foo_Get_FullMethodName) both map to Go identifier Foo_Get_FullMethodName`,
	},
	{
		// protoc-gen-go's file imports the package of a field type under
		// the name of this plugin's client struct.
		name: "field type package imported under the name of the client struct",
		src: rpctest.Sources{
			"m.proto": "syntax = \"proto3\";\npackage m;\noption go_package = \"example.com/fooClient\";\nmessage Req {}\n",
			"a.proto": "syntax = \"proto3\";\npackage a;\noption go_package = \"example.com/a\";\nimport \"m.proto\";\nmessage Holder { m.Req r = 1; }\nservice Foo {\n  rpc Get(Holder) returns (Holder);\n}\n",
		},
		want: `a.proto:6:1: service "a.Foo" and the Go package of m.proto:4:1: message "m.Req" ("example.com/fooClient", imported as fooClient) both map to Go identifier fooClient`,
	},
	{
		// The import of the generated file against protoc-gen-go's
		// identifiers.
		name: "message package imported under the name of a message",
		src: rpctest.Sources{
			"m.proto": "syntax = \"proto3\";\npackage m;\noption go_package = \"example.com/Holder\";\nmessage Req {}\n",
			"a.proto": "syntax = \"proto3\";\npackage a;\noption go_package = \"example.com/a\";\nimport \"m.proto\";\nmessage Holder {}\nservice Foo {\n  rpc Get(m.Req) returns (Holder);\n}\n",
		},
		want: `a.proto:5:1: message "a.Holder" and the Go package of m.proto:4:1: message "m.Req" ("example.com/Holder", imported as Holder) both map to Go identifier Holder`,
	},
	{
		// protogen numbers the second import named context: no clash.
		name: "message package named like an import of the generated code",
		src: rpctest.Sources{
			"m.proto": "syntax = \"proto3\";\npackage m;\noption go_package = \"a.example.com/context\";\nmessage Req {}\n",
			"a.proto": "syntax = \"proto3\";\npackage a;\noption go_package = \"example.com/a\";\nimport \"m.proto\";\nservice Foo {\n  rpc Get(m.Req) returns (m.Req);\n}\n",
		},
		want: "",
	},
	{
		name:  "malformed annotate_code",
		src:   rpctest.Sources{"a.proto": echo},
		param: "annotate_code=maybe",
		want:  `bad value for parameter "annotate_code": want "true" or "false"`,
	},
	{
		name:  "unknown default_api_level",
		src:   rpctest.Sources{"a.proto": echo},
		param: "default_api_level=API_CLOSED",
		want:  `unknown API level "API_CLOSED" for parameter "default_api_level": want "API_OPEN", "API_HYBRID" or "API_OPAQUE"`,
	},
	{
		name:  "empty paths",
		src:   rpctest.Sources{"a.proto": echo},
		param: "paths=",
		want:  `unknown path type "": want "import" or "source_relative"`,
	},
	{
		// Found by FuzzProtoSource: the sub-package imported ". ".
		name:  "package suffix under an import path with a space",
		src:   rpctest.Sources{"foo.proto": "syntax = \"proto3\";\npackage pkg;\noption go_package = \"example.com/my pkg;pkg\";\nservice Foo {}\n"},
		param: "package_suffix=rpc",
		want:  `foo.proto: Go import path "example.com/my pkg" is not valid, so package_suffix cannot name a package under it`,
	},
	{
		name: "message package with an import path that cannot be imported",
		src: rpctest.Sources{
			"m.proto": "syntax = \"proto3\";\npackage m;\noption go_package = \"example.com/m m;m\";\nmessage Req {}\n",
			"a.proto": "syntax = \"proto3\";\npackage a;\noption go_package = \"example.com/a\";\nimport \"m.proto\";\nservice Foo {\n  rpc Get(m.Req) returns (m.Req);\n}\n",
		},
		want: `a.proto: Go import path "example.com/m m" of m.proto:4:1: message "m.Req" is not valid, so the generated file cannot import it`,
	},
	{
		// Without the check, protogen reports "unparsable Go source" and
		// prints the whole generated file.
		name:  "package name from an M option is not an identifier",
		src:   rpctest.Sources{"a.proto": echo},
		param: "Ma.proto=example.com/x;1bad",
		want:  `a.proto: Go package name "1bad" (from go_package or an M option) is not a valid identifier`,
	},
	{
		name: "package name from go_package is a keyword",
		src:  rpctest.Sources{"a.proto": "syntax = \"proto3\";\npackage pkg;\noption go_package = \"example.com/func;func\";\nmessage M {}\nservice S { rpc Do(M) returns (M); }\n"},
		want: `a.proto: Go package name "func" (from go_package or an M option) is not a valid identifier`,
	},
	{
		name:  "blank package name",
		src:   rpctest.Sources{"a.proto": echo},
		param: "Ma.proto=example.com/x;_",
		want:  `a.proto: Go package name "_" (from go_package or an M option) is not a valid identifier`,
	},
}

func TestErrors(t *testing.T) {
	for _, tt := range errorCases {
		t.Run(tt.name, func(t *testing.T) {
			var files []string
			for name := range tt.src {
				files = append(files, name)
			}
			// Compile in a fixed order so that the expected text is stable.
			sortStrings(files)
			req, err := rpctest.Request(tt.src, files, tt.param)
			if err != nil {
				t.Fatal(err)
			}
			if tt.stripSourceInfo {
				for _, f := range req.ProtoFile {
					f.SourceCodeInfo = nil
				}
			}
			resp := rpc.Generate(req)
			checkFeatures(t, resp)
			if diff := cmp.Diff(tt.want, resp.GetError()); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			if tt.want != "" && len(resp.File) != 0 {
				t.Errorf("got %d files with the error, want none", len(resp.File))
			}
			if tt.want == "" && resp.Error == nil && importPathLayout(tt.param) {
				goResp, err := rpctest.ProtocGenGo(req)
				if err != nil {
					t.Fatal(err)
				}
				if err := typeCheck(t, goResp, resp); err != nil {
					t.Errorf("generated code does not type-check: %v", err)
				}
			}
		})
	}
}

func sortStrings(s []string) { slices.Sort(s) }
