// Command protoc-gen-rpc is a protoc and buf plugin that generates Go code for
// the services of a .proto file: the exact client and server API of
// protoc-gen-go-grpc, so existing gRPC code keeps working on a grpc.Server,
// plus one http.Handler per service that serves the same implementation over
// gRPC, gRPC-Web and the Connect protocol (package
// github.com/polyrpc/polyrpc, built on connect-go).
//
// # Install
//
//	go install github.com/polyrpc/polyrpc/cmd/protoc-gen-rpc@latest
//
// # Use
//
// Run it next to protoc-gen-go, which generates the messages:
//
//	protoc --go_out=. --go_opt=paths=source_relative \
//	       --rpc_out=. --rpc_opt=paths=source_relative \
//	       path/to/file.proto
//
// or with buf, in buf.gen.yaml:
//
//	version: v2
//	plugins:
//	  - local: protoc-gen-go
//	    out: gen
//	    opt: paths=source_relative
//	  - local: protoc-gen-rpc
//	    out: gen
//	    opt: paths=source_relative
//
// For every file with at least one service this writes path/to/file_rpc.pb.go
// into the Go package of path/to/file.pb.go. Files without services produce
// no output. For a service Foo the file declares:
//
//   - FooClient, NewFooClient, FooServer, UnimplementedFooServer,
//     UnsafeFooServer, RegisterFooServer, Foo_ServiceDesc, the
//     Foo_Method_FullMethodName constants and the Foo_MethodClient and
//     Foo_MethodServer stream type aliases, identical to the declarations of
//     protoc-gen-go-grpc v1.6;
//   - NewFooHandler(srv FooServer, opts ...connect.HandlerOption) (string,
//     http.Handler), to serve srv on an http.ServeMux;
//   - with fanout=true, FooFanOutClient and NewFooFanOutClient (below).
//
// protoc-gen-rpc replaces protoc-gen-go-grpc: run one or the other for a
// package, not both, since they declare the same names.
//
// # Options
//
// Options are given as --rpc_opt=name=value with protoc, or in the opt list of
// buf.gen.yaml. Besides the options shared with protoc-gen-go (paths, module,
// annotate_code, default_api_level and M<file>=<import path>), the plugin
// accepts the following.
//
// require_unimplemented_servers=true|false (default true): when true, every
// FooServer interface requires embedding UnimplementedFooServer, as with
// protoc-gen-go-grpc. Set it to false for the legacy behaviour:
//
//	protoc --rpc_out=. --rpc_opt=require_unimplemented_servers=false file.proto
//
//	  - local: protoc-gen-rpc
//	    out: gen
//	    opt: require_unimplemented_servers=false
//
// use_generic_streams_experimental=true|false (default true): when true,
// stream methods use grpc-go's generic stream types
// (grpc.ServerStreamingServer[T] and friends) and Foo_MethodServer and
// Foo_MethodClient are type aliases for them, as with protoc-gen-go-grpc
// v1.6. When false, Foo_MethodServer and Foo_MethodClient are stream
// interfaces of their own with Send, Recv, SendAndClose and CloseAndRecv
// methods, as protoc-gen-go-grpc generated them before generic streams, for
// code written against that API:
//
//	protoc --rpc_out=. --rpc_opt=use_generic_streams_experimental=false file.proto
//
//	  - local: protoc-gen-rpc
//	    out: gen
//	    opt: use_generic_streams_experimental=false
//
// package_suffix=NAME (default empty): write the file into the sub-package
// <pkg>NAME of the message package, which it imports. With
// package_suffix=rpc and a proto file whose Go package is foov1, the output is
// path/to/foov1rpc/file_rpc.pb.go in package foov1rpc. NAME must be a Go
// identifier.
//
//	protoc --rpc_out=. --rpc_opt=package_suffix=rpc file.proto
//
//	  - local: protoc-gen-rpc
//	    out: gen
//	    opt:
//	      - paths=source_relative
//	      - package_suffix=rpc
//
// fanout=true|false (default false): also generate, per service Foo,
// NewFooFanOutClient(targets map[string]FooClient, opts ...fanout.Option)
// (FooFanOutClient, error), which calls each unary method on every target at
// once and returns one fanout.Result per target in target name order, and
// merges the server streams of every target into one fanout.Stream whose
// messages name their target. Client-streaming and bidirectional methods
// have no fan-out form. The runtime is package
// github.com/polyrpc/polyrpc/fanout (concurrency limit, per-target timeout).
//
//	protoc --rpc_out=. --rpc_opt=fanout=true file.proto
//
//	  - local: protoc-gen-rpc
//	    out: gen
//	    opt: fanout=true
//
// An unknown option, a malformed value, or two proto elements that would map
// to the same Go identifier are reported as an error naming the option or
// both elements; no file is generated then.
//
// # Flags
//
//	protoc-gen-rpc --version   print the version and exit
//	protoc-gen-rpc --help      print this summary and exit
package main

import (
	"os"

	"github.com/polyrpc/polyrpc/internal/gen/rpc"
	"github.com/polyrpc/polyrpc/internal/plugin"
)

// version of protoc-gen-rpc, printed by --version.
const version = "v0.1.0"

const usage = `protoc-gen-rpc generates Go gRPC clients and servers (the API of
protoc-gen-go-grpc) plus one multi-protocol http.Handler per service.
It is run by protoc or buf:

  protoc --go_out=. --rpc_out=. path/to/file.proto

Options (--rpc_opt=name=value, or opt: in buf.gen.yaml):
  require_unimplemented_servers=true|false     require embedding UnimplementedXxxServer (default true)
  use_generic_streams_experimental=true|false  generic stream types, or pre-generics stream interfaces (default true)
  package_suffix=NAME                          generate into the sub-package <pkg>NAME
  fanout=true|false                            NewXxxFanOutClient: call every target at once (default false)
  paths=import|source_relative, module=PREFIX, M<file>=<import path>, annotate_code,
  default_api_level                            as for protoc-gen-go

Flags:
  --help     print this help and exit
  --version  print the version and exit
`

func main() {
	os.Exit(plugin.Main("protoc-gen-rpc", version, usage, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, rpc.Generate))
}
