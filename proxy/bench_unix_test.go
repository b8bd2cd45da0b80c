//go:build unix

package proxy_test

// Gateway overhead: a grpc-go client calls the same grpc.Server backend
// directly, through this package's proxy on a polyrpc.Server (Serve, the
// native gRPC path), and through mwitkow/grpc-proxy on a grpc.Server, all
// over loopback TCP. Per unary call, per message of a ping-pong stream, and
// per message of a server stream, and per unary call with many callers at
// once. Run on a quiet machine with internal/bench/runtime/gateway.sh, which
// alternates rounds and compares them with benchstat.

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"syscall"
	"testing"

	mwproxy "github.com/mwitkow/grpc-proxy/proxy"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/proxy"
)

const (
	benchService = "polyrpc.proxybench.Bench"
	benchUnary   = "/" + benchService + "/Unary" // BytesValue echo
	benchEcho    = "/" + benchService + "/Echo"  // bidi BytesValue echo
	benchDown    = "/" + benchService + "/Down"  // UInt64Value n -> n BytesValues
)

var benchPayload = wrapperspb.Bytes(make([]byte, 128))

var benchServiceDesc = grpc.ServiceDesc{
	ServiceName: benchService,
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{MethodName: "Unary", Handler: func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
		req := &wrapperspb.BytesValue{}
		if err := dec(req); err != nil {
			return nil, err
		}
		return req, nil
	}}},
	Streams: []grpc.StreamDesc{
		{StreamName: "Echo", ClientStreams: true, ServerStreams: true, Handler: func(_ any, stream grpc.ServerStream) error {
			for {
				m := &wrapperspb.BytesValue{}
				if err := stream.RecvMsg(m); errors.Is(err, io.EOF) {
					return nil
				} else if err != nil {
					return err
				}
				if err := stream.SendMsg(m); err != nil {
					return err
				}
			}
		}},
		{StreamName: "Down", ServerStreams: true, Handler: func(_ any, stream grpc.ServerStream) error {
			n := &wrapperspb.UInt64Value{}
			if err := stream.RecvMsg(n); err != nil {
				return err
			}
			for range n.GetValue() {
				if err := stream.SendMsg(benchPayload); err != nil {
					return err
				}
			}
			return nil
		}},
	},
}

func benchListen(b *testing.B) net.Listener {
	b.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	return lis
}

// benchTargets starts the backend and both proxies, and returns the
// address of each way to the backend.
func benchTargets(b *testing.B) map[string]string {
	b.Helper()
	lis := benchListen(b)
	backend := grpc.NewServer()
	backend.RegisterService(&benchServiceDesc, nil)
	go func() { _ = backend.Serve(lis) }()
	b.Cleanup(backend.Stop)
	addr := lis.Addr().String()

	// polyrpc's proxy on a polyrpc.Server.
	conn := dial(b, addr)
	target := &proxy.ConnBackend{Name: "backend", Conn: conn}
	director := func(context.Context, string) (proxy.Mode, []proxy.Backend, error) {
		return proxy.One2One, []proxy.Backend{target}, nil
	}
	s := polyrpc.NewServer(
		polyrpc.ForceServerCodecV2(proxy.Codec()),
		polyrpc.UnknownServiceHandler(proxy.TransparentHandler(director)),
	)
	plis := benchListen(b)
	go func() { _ = s.Serve(plis) }()
	b.Cleanup(s.Stop)

	// mwitkow/grpc-proxy on a grpc.Server.
	//nolint:staticcheck // mwitkow's codec is a grpc.Codec
	mwConn := dial(b, addr, grpc.WithDefaultCallOptions(grpc.CallCustomCodec(mwproxy.Codec())))
	//nolint:staticcheck // mwitkow's codec is a grpc.Codec
	mw := grpc.NewServer(
		grpc.CustomCodec(mwproxy.Codec()),
		grpc.UnknownServiceHandler(mwproxy.TransparentHandler(func(ctx context.Context, _ string) (context.Context, *grpc.ClientConn, error) {
			md, _ := metadata.FromIncomingContext(ctx)
			return metadata.NewOutgoingContext(ctx, md.Copy()), mwConn, nil
		})),
	)
	mlis := benchListen(b)
	go func() { _ = mw.Serve(mlis) }()
	b.Cleanup(mw.Stop)

	return map[string]string{"direct": addr, "polyrpc": plis.Addr().String(), "mwitkow": mlis.Addr().String()}
}

// BenchmarkGateway runs every workload on the three ways to the backend
// one after the other (impl is the innermost level), so that a round meets
// the same load on each. Besides time and allocations it reports the CPU
// time of the whole process (client, proxy, backend) per operation.
func BenchmarkGateway(b *testing.B) {
	targets := benchTargets(b)
	impls := []string{"mwitkow", "polyrpc", "direct"}
	conns := map[string]*grpc.ClientConn{}
	for _, name := range impls {
		conns[name] = dial(b, targets[name])
	}
	for _, kind := range []string{"unary", "unary-parallel", "pingpong", "stream"} {
		b.Run("kind="+kind, func(b *testing.B) {
			for _, name := range impls {
				b.Run("impl="+name, func(b *testing.B) {
					b.ReportAllocs()
					cpu := cpuTime()
					benchKind(b, kind, conns[name])
					b.StopTimer()
					b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
				})
			}
		})
	}
}

func benchKind(b *testing.B, kind string, cc *grpc.ClientConn) {
	switch kind {
	case "unary":
		reply := &wrapperspb.BytesValue{}
		for b.Loop() {
			if err := cc.Invoke(b.Context(), benchUnary, benchPayload, reply); err != nil {
				b.Fatal(err)
			}
		}
	case "unary-parallel":
		// 8 callers per core share the connection.
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			reply := &wrapperspb.BytesValue{}
			for pb.Next() {
				if err := cc.Invoke(context.Background(), benchUnary, benchPayload, reply); err != nil {
					b.Error(err)
					return
				}
			}
		})
	case "pingpong":
		st, err := cc.NewStream(b.Context(), &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, benchEcho)
		if err != nil {
			b.Fatal(err)
		}
		reply := &wrapperspb.BytesValue{}
		for b.Loop() {
			if err := st.SendMsg(benchPayload); err != nil {
				b.Fatal(err)
			}
			if err := st.RecvMsg(reply); err != nil {
				b.Fatal(err)
			}
		}
		_ = st.CloseSend()
		if err := st.RecvMsg(reply); !errors.Is(err, io.EOF) {
			b.Fatal(err)
		}
	case "stream":
		st, err := cc.NewStream(b.Context(), &grpc.StreamDesc{ServerStreams: true}, benchDown)
		if err != nil {
			b.Fatal(err)
		}
		if err := st.SendMsg(wrapperspb.UInt64(uint64(b.N))); err != nil {
			b.Fatal(err)
		}
		_ = st.CloseSend()
		reply := &wrapperspb.BytesValue{}
		b.ResetTimer()
		for i := range b.N {
			if err := st.RecvMsg(reply); err != nil {
				b.Fatal("message " + strconv.Itoa(i) + ": " + err.Error())
			}
		}
		if err := st.RecvMsg(reply); !errors.Is(err, io.EOF) {
			b.Fatal(err)
		}
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
