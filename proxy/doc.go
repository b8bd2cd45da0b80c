// Package proxy is polyrpc's transparent gRPC proxy: it owns the forwarding
// of calls whose message types it does not know, from a server stream to
// one backend (one-to-one) or to several (one-to-many, with the answers
// merged or interleaved and attributed to their backends).
//
// The proxy is a grpc.StreamHandler that works on raw frames: mount it with
// [Codec] on a polyrpc.Server, whose callers may speak Connect, gRPC-Web or
// gRPC,
//
//	srv := polyrpc.NewServer(
//		polyrpc.ForceServerCodecV2(proxy.Codec()),
//		polyrpc.UnknownServiceHandler(proxy.TransparentHandler(director)),
//	)
//
// or, the same way, on a grpc.Server with grpc.ForceServerCodecV2 and
// grpc.UnknownServiceHandler. [RegisterService] registers it for the
// methods of one service instead. Backends always get protobuf: on a
// polyrpc.Server, callers that use JSON are transcoded when the method's
// descriptor is linked into the program, and refused otherwise.
//
// A [StreamDirector] picks the [Backend]s of each call from its method and
// its incoming metadata, and the [Mode]. The Backend interface has the
// method set of github.com/siderolabs/grpc-proxy's, so Backends written for
// it compile against this package. A backend's connection is a
// *grpc.ClientConn, so every grpc-go resolver, balancer and health check
// applies (the proxy has no balancer of its own); a Backend that also
// implements [ClientConnBackend], such as [ConnBackend], may instead give
// any grpc.ClientConnInterface, for instance a polyrpc.NewClientConn that
// speaks Connect or gRPC-Web to its backend over HTTP/1.1.
//
// What crosses the proxy: request metadata (filtered by
// [WithRequestHeaders]), response headers and trailers (filtered by
// [WithResponseHeaders]), messages one by one, the status with its
// details, the deadline and cancellation. Metadata that belongs to a hop
// and not to the call (see [Reserved]) never crosses. Each direction holds
// at most one message in flight, so a client that reads slowly slows its
// backend through flow control instead of growing the proxy's memory.
//
// One-to-many calls follow the contract of Talos' apid: a unary answer is
// the concatenation of every backend's reply (so the repeated field 1 of
// the reply holds all the entries), each passed through
// [Backend.AppendInfo]; a streamed answer interleaves the backends'
// messages; a backend that fails becomes an entry built by
// [Backend.BuildError] while the others still answer. [AppendMetadata] and
// [ErrorEntry] build such entries with a ResponseMetadata message at a field
// of one's choice (99 by convention). [WithConcurrency] bounds the backends
// called at once, [WithBackendTimeout] gives each backend call a deadline.
package proxy
