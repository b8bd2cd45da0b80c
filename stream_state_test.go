package polyrpc_test

import (
	"context"
	"io"
	"sync"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/internal/rpctest"
)

// The state of server streams, shared by registered methods and the calls
// of the UnknownServiceHandler: stats of forced-codec receives, receives
// after the handler returned, and the method connect-go interceptors see.

// frameEcho receives raw frames and sends each back.
func frameEcho(_ any, ss grpc.ServerStream) error {
	for {
		f := &rawFrame{}
		if err := ss.RecvMsg(f); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if err := ss.SendMsg(f); err != nil {
			return err
		}
	}
}

// frameService has raw-frame methods, registered as siderolabs' proxy
// registers its forwarding handler.
var frameService = grpc.ServiceDesc{
	ServiceName: "polyrpc.streamstate.Frames",
	HandlerType: (*any)(nil),
	Streams: []grpc.StreamDesc{
		{StreamName: "Bidi", ClientStreams: true, ServerStreams: true, Handler: frameEcho},
		{StreamName: "Out", ServerStreams: true, Handler: frameEcho},
	},
}

// payloadRecorder records the server's InPayload events and the methods
// TagRPC and InHeader see.
type payloadRecorder struct {
	mu      sync.Mutex
	in      []*stats.InPayload
	methods []string
}

func (r *payloadRecorder) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.methods = append(r.methods, "tag "+info.FullMethodName)
	return ctx
}

func (r *payloadRecorder) HandleRPC(_ context.Context, s stats.RPCStats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch s := s.(type) {
	case *stats.InPayload:
		r.in = append(r.in, s)
	case *stats.InHeader:
		r.methods = append(r.methods, "header "+s.FullMethod)
	}
}

func (*payloadRecorder) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (*payloadRecorder) HandleConn(context.Context, stats.ConnStats) {}

// TestForcedStreamStats: a receive with the forced codec reports an
// InPayload whose payload is the handler's message, on registered methods
// and unknown ones, streamed or not, as grpc.Server does; stats handlers see
// the method an unknown-service call named.
func TestForcedStreamStats(t *testing.T) {
	req := &testpb.Payload{Body: []byte("abc")}
	wire, _ := proto.Marshal(req)
	for _, tc := range []struct {
		name, method string
		opts         []connect.ClientOption
	}{
		{"registered/bidi", "/polyrpc.streamstate.Frames/Bidi", []connect.ClientOption{connect.WithGRPC()}},
		{"registered/server-stream", "/polyrpc.streamstate.Frames/Out", []connect.ClientOption{connect.WithGRPC()}},
		{"unknown/grpc", "/echo.Echo/Call", []connect.ClientOption{connect.WithGRPC()}},
		{"unknown/grpcweb", "/echo.Echo/Call", []connect.ClientOption{connect.WithGRPCWeb()}},
		{"unknown/connect-unary", "/echo.Echo/Call", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &payloadRecorder{}
			s := polyrpc.NewServer(polyrpc.StatsHandler(rec), polyrpc.ForceServerCodecV2(rawCodecV2{}),
				polyrpc.UnknownServiceHandler(frameEcho))
			s.RegisterService(&frameService, struct{}{})
			base, hc := rpctest.Start(t, s, rpctest.H2C)
			cc := polyrpc.NewClientConn(hc, base, tc.opts...)
			out := &testpb.Payload{}
			if err := cc.Invoke(t.Context(), tc.method, req, out); err != nil || !proto.Equal(out, req) {
				t.Fatalf("call = %v, %v", out, err)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.in) != 1 {
				t.Fatalf("%d InPayload events, want 1", len(rec.in))
			}
			p := rec.in[0]
			f, ok := p.Payload.(*rawFrame)
			if !ok || string(f.b) != string(wire) || p.Length != len(wire) || p.WireLength < len(wire) || p.RecvTime.IsZero() {
				t.Errorf("InPayload = %T %+v, want the frame of %d bytes", p.Payload, p, len(wire))
			}
			for _, m := range rec.methods {
				if m != "tag "+tc.method && m != "header "+tc.method {
					t.Errorf("stats handlers saw %q, want %s", m, tc.method)
				}
			}
		})
	}
}

// TestStreamRecvAfterReturn: RecvMsg on a stream whose handler has
// returned fails with Canceled, as SendMsg does, on registered methods and
// unknown ones, with or without a forced codec.
func TestStreamRecvAfterReturn(t *testing.T) {
	streams := make(chan grpc.ServerStream, 1)
	// leave sends one response without reading the request, and returns.
	leave := func(_ any, ss grpc.ServerStream) error {
		streams <- ss
		return ss.SendMsg(&testpb.Payload{Body: []byte("bye")})
	}
	desc := grpc.ServiceDesc{
		ServiceName: "polyrpc.streamstate.Leave",
		HandlerType: (*any)(nil),
		Streams: []grpc.StreamDesc{
			{StreamName: "Bidi", ClientStreams: true, ServerStreams: true, Handler: leave},
			{StreamName: "Out", ServerStreams: true, Handler: leave},
			{StreamName: "In", ClientStreams: true, Handler: leave},
		},
	}
	for _, tc := range []struct {
		name, method string
		forced       bool
		opts         []connect.ClientOption
	}{
		{"registered/bidi", "/polyrpc.streamstate.Leave/Bidi", false, []connect.ClientOption{connect.WithGRPC()}},
		{"registered/server-stream", "/polyrpc.streamstate.Leave/Out", false, []connect.ClientOption{connect.WithGRPC()}},
		{"registered/client-stream", "/polyrpc.streamstate.Leave/In", false, []connect.ClientOption{connect.WithGRPC()}},
		{"unknown/grpc", "/echo.Echo/Call", false, []connect.ClientOption{connect.WithGRPC()}},
		{"unknown/connect-unary", "/echo.Echo/Call", false, nil},
		{"unknown/forced/grpc", "/echo.Echo/Call", true, []connect.ClientOption{connect.WithGRPC()}},
		{"unknown/forced/connect-unary", "/echo.Echo/Call", true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []polyrpc.ServerOption{polyrpc.UnknownServiceHandler(leave), polyrpc.StatsHandler(&payloadRecorder{})}
			if tc.forced {
				// The codec marshals protobuf messages as grpc-go's does.
				opts = append(opts, polyrpc.ForceServerCodec(protoFrameCodec{}))
			}
			s := polyrpc.NewServer(opts...)
			s.RegisterService(&desc, struct{}{})
			base, hc := rpctest.Start(t, s, rpctest.H2C)
			cc := polyrpc.NewClientConn(hc, base, tc.opts...)
			out := &testpb.Payload{}
			if err := cc.Invoke(t.Context(), tc.method, &testpb.Payload{Body: []byte("hi")}, out); err != nil || string(out.GetBody()) != "bye" {
				t.Fatalf("call = %v, %v", out, err)
			}
			hc.CloseIdleConnections()
			ss := <-streams
			for _, m := range []any{&testpb.Payload{}, &rawFrame{}} {
				if err := ss.RecvMsg(m); status.Code(err) != codes.Canceled {
					t.Errorf("RecvMsg(%T) after the handler returned = %v, want Canceled", m, err)
				}
			}
			if err := ss.SendMsg(&testpb.Payload{}); status.Code(err) != codes.Canceled {
				t.Errorf("SendMsg after the handler returned = %v, want Canceled", err)
			}
		})
	}
}

// protoFrameCodec is an encoding.Codec that takes raw frames and protobuf
// messages.
type protoFrameCodec struct{}

func (protoFrameCodec) Name() string { return "proto" }

func (protoFrameCodec) Marshal(v any) ([]byte, error) {
	if f, ok := v.(*rawFrame); ok {
		return f.b, nil
	}
	return proto.Marshal(v.(proto.Message))
}

func (protoFrameCodec) Unmarshal(data []byte, v any) error {
	if f, ok := v.(*rawFrame); ok {
		f.b = data
		return nil
	}
	return proto.Unmarshal(data, v.(proto.Message))
}

// methodInterceptor records, for each call, the procedure of the Spec and
// grpc.Method of the context that connect-go interceptors see.
type methodInterceptor struct {
	mu   sync.Mutex
	seen []string
}

func (i *methodInterceptor) record(ctx context.Context, spec connect.Spec) {
	m, ok := grpc.Method(ctx)
	i.mu.Lock()
	defer i.mu.Unlock()
	if !ok {
		m = "none"
	}
	i.seen = append(i.seen, spec.Procedure+" "+m)
}

func (i *methodInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		i.record(ctx, req.Spec())
		return next(ctx, req)
	}
}

func (i *methodInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i *methodInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		i.record(ctx, conn.Spec())
		return next(ctx, conn)
	}
}

// TestUnknownMethodInInterceptors: connect-go interceptors of a call to an
// unknown method find the method with grpc.Method; setting metadata
// through grpc-go's functions there fails instead of being lost.
func TestUnknownMethodInInterceptors(t *testing.T) {
	in := &methodInterceptor{}
	var setErr error
	var once sync.Once
	s := polyrpc.NewServer(polyrpc.UnknownServiceHandler(frameEcho), polyrpc.ForceServerCodecV2(rawCodecV2{}),
		polyrpc.WithHandlerOptions(connect.WithInterceptors(in, connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
			return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
				once.Do(func() { setErr = grpc.SetHeader(ctx, metadata.Pairs("x-late", "1")) })
				return next(ctx, req)
			}
		}))))
	for _, tr := range []rpctest.Transport{rpctest.H2C, rpctest.HTTP1} {
		base, hc := rpctest.Start(t, s, tr)
		for _, p := range protocols {
			if p.name == "grpc" && !tr.HTTP2() {
				continue
			}
			cc := polyrpc.NewClientConn(hc, base, p.opts...)
			req := &testpb.Payload{Body: []byte("abc")}
			out := &testpb.Payload{}
			if err := cc.Invoke(t.Context(), "/echo.Echo/Call", req, out); err != nil || !proto.Equal(out, req) {
				t.Fatalf("%s/%s: call = %v, %v", tr, p.name, out, err)
			}
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.seen) == 0 {
		t.Fatal("the interceptor saw no call")
	}
	for _, s := range in.seen {
		if s != "/polyrpc.UnknownService/Call /echo.Echo/Call" {
			t.Errorf("the interceptor saw %q, want the method /echo.Echo/Call", s)
		}
	}
	if setErr == nil {
		t.Errorf("grpc.SetHeader in a connect-go interceptor succeeded")
	}
}

// TestForcedKnownRequestType: the request of a registered raw-frame
// server-streaming method whose input type is linked, which connect-go
// decodes before the handler runs, reaches the forced codec whole, from
// protobuf and JSON callers.
func TestForcedKnownRequestType(t *testing.T) {
	desc := grpc.ServiceDesc{
		ServiceName: "grpc.testing.TestService",
		HandlerType: (*any)(nil),
		Streams: []grpc.StreamDesc{{StreamName: "StreamingOutputCall", ServerStreams: true, Handler: func(_ any, ss grpc.ServerStream) error {
			f := &rawFrame{}
			if err := ss.RecvMsg(f); err != nil {
				return err
			}
			req := &testpb.StreamingOutputCallRequest{}
			if err := proto.Unmarshal(f.b, req); err != nil {
				return err
			}
			b, err := proto.Marshal(&testpb.StreamingOutputCallResponse{Payload: req.GetPayload()})
			if err != nil {
				return err
			}
			return ss.SendMsg(&rawFrame{b: b})
		}}},
	}
	s := polyrpc.NewServer(polyrpc.ForceServerCodecV2(rawCodecV2{}))
	s.RegisterService(&desc, struct{}{})
	base, hc := rpctest.Start(t, s, rpctest.H2C)
	for name, opts := range map[string][]connect.ClientOption{
		"proto": {connect.WithGRPC()},
		"json":  {connect.WithGRPC(), connect.WithProtoJSON()},
	} {
		cc := polyrpc.NewClientConn(hc, base, opts...)
		req := &testpb.StreamingOutputCallRequest{ResponseType: 1, Payload: &testpb.Payload{Body: []byte("abc")}}
		out := &testpb.StreamingOutputCallResponse{}
		if err := cc.Invoke(t.Context(), testpb.TestService_StreamingOutputCall_FullMethodName, req, out); err != nil || !proto.Equal(out.GetPayload(), req.GetPayload()) {
			t.Errorf("%s: response = %v, %v; want the payload of %v", name, out, err, req)
		}
	}
}
