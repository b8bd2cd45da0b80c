package proxy_test

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/internal/rpctest"
	"github.com/polyrpc/polyrpc/proxy"
)

// testDescs gives the stream kinds of testService, whose descriptor is not
// linked in.
func testDescs(method string) *grpc.StreamDesc {
	for _, m := range testServiceDesc.Methods {
		if method == "/"+testService+"/"+m.MethodName {
			return &grpc.StreamDesc{StreamName: m.MethodName}
		}
	}
	for i, s := range testServiceDesc.Streams {
		if method == "/"+testService+"/"+s.StreamName {
			return &testServiceDesc.Streams[i]
		}
	}
	return nil
}

// TestConnBackend forwards to backends reached with polyrpc.NewClientConn
// over HTTP/1.1, in Connect and gRPC-Web, one-to-one and one-to-many.
func TestConnBackend(t *testing.T) {
	for _, p := range []struct {
		name string
		opts []connect.ClientOption
	}{{"connect", nil}, {"grpcweb", []connect.ClientOption{connect.WithGRPCWeb()}}} {
		t.Run(p.name, func(t *testing.T) {
			targets := map[string]proxy.Backend{}
			for _, name := range []string{"h0", "h1"} {
				b := &backend{name: name, started: make(chan string, 8), ended: make(chan error, 8)}
				s := polyrpc.NewServer()
				s.RegisterService(&testServiceDesc, b)
				base, hc := rpctest.Start(t, s, rpctest.HTTP1)
				targets[name] = &proxy.ConnBackend{Name: name, Conn: polyrpc.NewClientConn(hc, base, p.opts...), MetadataField: 99}
			}
			director := func(ctx context.Context, _ string) (proxy.Mode, []proxy.Backend, error) {
				if md, _ := metadata.FromIncomingContext(ctx); len(md.Get("x-many")) != 0 {
					return proxy.One2Many, []proxy.Backend{targets["h0"], targets["h1"]}, nil
				}
				return proxy.One2One, []proxy.Backend{targets["h1"]}, nil
			}
			s := polyrpc.NewServer(
				polyrpc.ForceServerCodecV2(proxy.Codec()),
				polyrpc.UnknownServiceHandler(proxy.TransparentHandler(director, proxy.WithStreamDescs(testDescs))),
			)
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go func() { _ = s.Serve(lis) }()
			t.Cleanup(s.Stop)
			cc := dial(t, lis.Addr().String())
			ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
			defer cancel()

			var header, trailer metadata.MD
			out := &structpb.ListValue{}
			ctx1 := metadata.AppendToOutgoingContext(ctx, "x-client", "yes")
			if err := cc.Invoke(ctx1, mPing, wrapperspb.String("foo"), out, grpc.Header(&header), grpc.Trailer(&trailer)); err != nil {
				t.Fatal(err)
			}
			if v := values(out); len(v) != 5 || v[0] != "h1" || v[1] != "foo" || v[2] != "yes" {
				t.Errorf("Ping = %v", v)
			}
			if !slices.Equal(header.Get("x-server-header"), []string{"h1"}) || !slices.Equal(trailer.Get("x-server-trailer"), []string{"h1"}) {
				t.Errorf("header %v, trailer %v", header, trailer)
			}

			err = cc.Invoke(ctx, mFail, wrapperspb.String("foo"), out)
			if st := status.Convert(err); st.Code() != codes.FailedPrecondition || len(st.Details()) != 1 ||
				!proto.Equal(st.Details()[0].(proto.Message), wrapperspb.String("the detail")) {
				t.Errorf("Fail = %v (%v)", err, st.Details())
			}

			// Server stream, failing mid-stream.
			st, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, mList)
			if err != nil {
				t.Fatal(err)
			}
			_ = st.SendMsg(wrapperspb.String("count=4;fail=2"))
			_ = st.CloseSend()
			n := 0
			for ; err == nil; n++ {
				err = st.RecvMsg(&structpb.ListValue{})
			}
			if n != 3 || status.Code(err) != codes.DataLoss {
				t.Errorf("List: %d answers, then %v", n-1, err)
			}

			// Client stream.
			st, err = cc.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true}, mSum)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []string{"a", "b"} {
				_ = st.SendMsg(wrapperspb.String(v))
			}
			_ = st.CloseSend()
			if err := st.RecvMsg(out); err != nil || values(out)[1] != "a+b" {
				t.Errorf("Sum = %v, %v", values(out), err)
			}

			// A unary method called with two requests.
			st, err = cc.NewStream(ctx, bidi, mPing)
			if err != nil {
				t.Fatal(err)
			}
			_ = st.SendMsg(wrapperspb.String("a"))
			_ = st.SendMsg(wrapperspb.String("b"))
			if err := st.RecvMsg(out); status.Code(err) != codes.Unimplemented {
				t.Errorf("two requests to a unary method: %v", err)
			}

			// One-to-many, merged.
			if err := cc.Invoke(metadata.AppendToOutgoingContext(ctx, "x-many", "1"), mPing, wrapperspb.String("foo"), out); err != nil {
				t.Fatal(err)
			}
			if got := keys(entries(t, out)); !slices.Equal(got, []string{"h0", "h1"}) {
				t.Errorf("entries from %v", got)
			}
		})
	}
}

// TestLinkedDescriptor forwards to a polyrpc.NewClientConn backend a
// service whose descriptor is linked in, with no WithStreamDescs: grpc-go's
// health service, whose unary Check must be a Connect unary call.
func TestLinkedDescriptor(t *testing.T) {
	hs := health.NewServer()
	backendSrv := polyrpc.NewServer()
	healthpb.RegisterHealthServer(backendSrv, hs)
	base, hc := rpctest.Start(t, backendSrv, rpctest.HTTP1)
	b := &proxy.ConnBackend{Name: "health", Conn: polyrpc.NewClientConn(hc, base)}
	s := grpc.NewServer(
		grpc.ForceServerCodecV2(proxy.Codec()),
		grpc.UnknownServiceHandler(proxy.TransparentHandler(func(context.Context, string) (proxy.Mode, []proxy.Backend, error) {
			return proxy.One2One, []proxy.Backend{b}, nil
		})),
	)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	client := healthpb.NewHealthClient(dial(t, lis.Addr().String()))
	resp, err := client.Check(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Check = %v, %v", resp, err)
	}
	_, err = client.Check(t.Context(), &healthpb.HealthCheckRequest{Service: "nope"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("Check(nope) = %v", err)
	}
}

// TestRegisterService registers the proxy for named methods, as
// siderolabs' RegisterService does; other methods are not served.
func TestRegisterService(t *testing.T) {
	f := newFixture(t)
	s := polyrpc.NewServer(polyrpc.ForceServerCodecV2(proxy.Codec()))
	proxy.RegisterService(s, f.director, testService,
		append(f.proxyOptions(), proxy.WithMethodNames("Ping", "List"), proxy.WithStreamedMethodNames("List"))...)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	for _, c := range clients(t, lis.Addr().String()) {
		t.Run(c.name, func(t *testing.T) {
			out := &structpb.ListValue{}
			err := c.cc.Invoke(route(t.Context(), "b2"), mPing, wrapperspb.String("foo"), out)
			if c.name == "connect" {
				// Registered methods are streams, which Connect's unary
				// protocol does not call.
				if err == nil {
					t.Errorf("Connect unary call to a stream method succeeded")
				}
			} else if err != nil || values(out)[0] != "b2" {
				t.Errorf("Ping = %v, %v", values(out), err)
			}
			got := listMany(t, t.Context(), c.cc, "many:b0,b1", "count=2")
			if len(got["b0"].answers) != 2 || len(got["b1"].answers) != 2 {
				t.Errorf("List to many: %v", got)
			}
			err = c.cc.Invoke(t.Context(), mFail, wrapperspb.String("foo"), out)
			if status.Code(err) != codes.Unimplemented {
				t.Errorf("a method not registered = %v", err)
			}
		})
	}
}

// TestJSONCallers: a Connect caller that uses JSON reaches a protobuf
// backend through the proxy on a polyrpc.Server when the method's
// descriptor is linked in (grpc-go's health service here), and is refused
// with a reason otherwise.
func TestJSONCallers(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	backendSrv := grpc.NewServer()
	healthpb.RegisterHealthServer(backendSrv, health.NewServer())
	testSrv := &backend{name: "json", started: make(chan string, 8), ended: make(chan error, 8)}
	backendSrv.RegisterService(&testServiceDesc, testSrv)
	go func() { _ = backendSrv.Serve(lis) }()
	t.Cleanup(backendSrv.Stop)
	target := &proxy.ConnBackend{Name: "b", Conn: dial(t, lis.Addr().String())}
	s := polyrpc.NewServer(
		polyrpc.ForceServerCodecV2(proxy.Codec()),
		polyrpc.UnknownServiceHandler(proxy.TransparentHandler(func(context.Context, string) (proxy.Mode, []proxy.Backend, error) {
			return proxy.One2One, []proxy.Backend{target}, nil
		})),
	)
	base, hc := rpctest.Start(t, s, rpctest.HTTP1)
	cc := polyrpc.NewClientConn(hc, base, connect.WithProtoJSON())
	resp, err := healthpb.NewHealthClient(cc).Check(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("JSON Check = %v, %v", resp, err)
	}
	err = cc.Invoke(t.Context(), mPing, wrapperspb.String("foo"), &structpb.ListValue{})
	if st := status.Convert(err); st.Code() != codes.Unimplemented || !strings.Contains(st.Message(), "descriptor") {
		t.Errorf("JSON call to a method without a descriptor = %v", err)
	}
}
