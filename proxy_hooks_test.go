package polyrpc_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"connectrpc.com/connect"
	"github.com/mwitkow/grpc-proxy/proxy"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/internal/rpctest"
)

// proxyBackend is a grpc.Server with the TestService on loopback, and the
// director of a transparent proxy to it, which records the methods it
// forwards.
type proxyBackend struct {
	conn *grpc.ClientConn

	mu      sync.Mutex
	methods []string
}

func newProxyBackend(t *testing.T) *proxyBackend {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	testpb.RegisterTestServiceServer(gs, testService{})
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	//nolint:staticcheck // the proxy's codec is a grpc.Codec
	conn, err := grpc.NewClient("passthrough:///"+lis.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.CallCustomCodec(proxy.Codec())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &proxyBackend{conn: conn}
}

func (b *proxyBackend) director(ctx context.Context, method string) (context.Context, *grpc.ClientConn, error) {
	b.mu.Lock()
	b.methods = append(b.methods, method)
	b.mu.Unlock()
	md, _ := metadata.FromIncomingContext(ctx)
	return metadata.NewOutgoingContext(ctx, md.Copy()), b.conn, nil
}

func (b *proxyBackend) forwarded(method string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Contains(b.methods, method)
}

// newProxyServer returns a Server that forwards the calls to unknown
// services and methods to the backend with mwitkow/grpc-proxy, and serves
// the health service itself.
func newProxyServer(b *proxyBackend, opts ...polyrpc.ServerOption) (*polyrpc.Server, *[]string) {
	var seen []string
	var mu sync.Mutex
	opts = append(opts,
		polyrpc.UnknownServiceHandler(proxy.TransparentHandler(b.director)),
		polyrpc.CustomCodec(proxy.Codec()),
		polyrpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			m, ok := grpc.MethodFromServerStream(ss)
			if !ok || m != info.FullMethod {
				return status.Errorf(codes.Internal, "MethodFromServerStream = %q, %v; info says %q", m, ok, info.FullMethod)
			}
			mu.Lock()
			seen = append(seen, info.FullMethod)
			mu.Unlock()
			return h(srv, ss)
		}),
	)
	s := polyrpc.NewServer(opts...)
	healthpb.RegisterHealthServer(s, health.NewServer())
	return s, &seen
}

// proxyExercise calls the backend's TestService through the proxy with
// every kind of method, and a method of the Server's own health service.
func proxyExercise(t *testing.T, cc grpc.ClientConnInterface, b *proxyBackend, bidi bool) {
	t.Helper()
	client := testpb.NewTestServiceClient(cc)
	ctx := metadata.AppendToOutgoingContext(t.Context(), "x-user", "carol")

	var header, trailer metadata.MD
	res, err := client.UnaryCall(ctx, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("hi")}},
		grpc.Header(&header), grpc.Trailer(&trailer))
	if err != nil {
		t.Fatalf("UnaryCall: %v", err)
	}
	if string(res.GetPayload().GetBody()) != "hi" || res.GetUsername() != "carol" ||
		res.GetOauthScope() != testpb.TestService_UnaryCall_FullMethodName {
		t.Errorf("UnaryCall = %v", res)
	}
	if got := header.Get("x-header"); len(got) != 1 || got[0] != "header-value" {
		t.Errorf("header x-header = %q", got)
	}
	if got := trailer.Get("x-trailer"); len(got) != 1 || got[0] != "trailer-value" {
		t.Errorf("trailer x-trailer = %q", got)
	}
	if !b.forwarded(testpb.TestService_UnaryCall_FullMethodName) {
		t.Errorf("the director did not see UnaryCall")
	}

	msg := "precondition failed: ünïcode ✓"
	_, err = client.UnaryCall(ctx, &testpb.SimpleRequest{
		ResponseStatus: &testpb.EchoStatus{Code: int32(codes.FailedPrecondition), Message: msg},
	})
	checkGRPCStatus(t, err, codes.FailedPrecondition, msg, true)

	// Server streaming.
	ss, err := client.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{ResponseParameters: sizes(1, 2, 3)})
	if err != nil {
		t.Fatalf("StreamingOutputCall: %v", err)
	}
	var got []int
	for {
		m, err := ss.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("StreamingOutputCall Recv: %v", err)
		}
		got = append(got, len(m.GetPayload().GetBody()))
	}
	if !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("payload sizes = %v", got)
	}
	if h, err := ss.Header(); err != nil || strings.Join(h.Get("x-header"), ",") != "stream-header" ||
		strings.Join(h.Get("x-user"), ",") != "carol" {
		t.Errorf("stream header = %v, %v", h, err)
	}
	if got := ss.Trailer().Get("x-trailer"); len(got) != 1 || got[0] != "stream-trailer" {
		t.Errorf("stream trailer = %v", ss.Trailer())
	}

	// Client streaming.
	cs, err := client.StreamingInputCall(ctx)
	if err != nil {
		t.Fatalf("StreamingInputCall: %v", err)
	}
	for _, s := range []string{"a", "bb", "ccc", "dddd"} {
		if err := cs.Send(&testpb.StreamingInputCallRequest{Payload: &testpb.Payload{Body: []byte(s)}}); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	cres, err := cs.CloseAndRecv()
	if err != nil {
		t.Fatalf("CloseAndRecv: %v", err)
	}
	if cres.GetAggregatedPayloadSize() != 10 {
		t.Errorf("aggregated = %d, want 10", cres.GetAggregatedPayloadSize())
	}
	if got := cs.Trailer().Get("x-trailer"); len(got) != 1 || got[0] != "client-stream-trailer" {
		t.Errorf("client stream trailer = %v", cs.Trailer())
	}

	// The Server's own service, and an unknown method of it, which goes
	// to the proxy.
	hres, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || hres.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health Check = %v, %v", hres, err)
	}
	if b.forwarded(healthpb.Health_Check_FullMethodName) {
		t.Errorf("a registered method was forwarded")
	}
	const unknownHealth = "/grpc.health.v1.Health/NoSuchMethod"
	err = cc.Invoke(ctx, unknownHealth, &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{})
	if status.Code(err) != codes.Unimplemented || !b.forwarded(unknownHealth) {
		t.Errorf("unknown method of a registered service: %v, forwarded %v", err, b.forwarded(unknownHealth))
	}

	if !bidi {
		return
	}
	bs, err := client.FullDuplexCall(ctx)
	if err != nil {
		t.Fatalf("FullDuplexCall: %v", err)
	}
	for i := int32(1); i <= 3; i++ {
		if err := bs.Send(&testpb.StreamingOutputCallRequest{ResponseParameters: sizes(i, i)}); err != nil {
			t.Fatalf("Send: %v", err)
		}
		for range 2 {
			m, err := bs.Recv()
			if err != nil {
				t.Fatalf("Recv: %v", err)
			}
			if len(m.GetPayload().GetBody()) != int(i) {
				t.Errorf("payload size = %d, want %d", len(m.GetPayload().GetBody()), i)
			}
		}
	}
	if err := bs.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := bs.Recv(); err != io.EOF {
		t.Errorf("Recv at end = %v, want io.EOF", err)
	}
	if h, err := bs.Header(); err != nil || strings.Join(h.Get("x-method"), ",") != testpb.TestService_FullDuplexCall_FullMethodName {
		t.Errorf("bidi header = %v, %v", h, err)
	}
	if got := bs.Trailer().Get("x-trailer"); len(got) != 1 || got[0] != "bidi-trailer" {
		t.Errorf("bidi trailer = %v", bs.Trailer())
	}
}

// TestProxyHooksServe runs mwitkow/grpc-proxy's transparent handler on a
// Server served by Serve: grpc-go clients take the native path, Connect and
// gRPC-Web clients net/http's.
func TestProxyHooksServe(t *testing.T) {
	b := newProxyBackend(t)
	s, seen := newProxyServer(b)
	addr, _ := serveTCP(t, s)
	t.Run("grpc-go", func(t *testing.T) {
		proxyExercise(t, dialGRPC(t, "http://"+addr), b, true)
	})
	h2 := new(http.Protocols)
	h2.SetUnencryptedHTTP2(true)
	h2c := &http.Client{Transport: &http.Transport{Protocols: h2}}
	t.Cleanup(h2c.CloseIdleConnections)
	for _, p := range protocols {
		for _, c := range codecs[:2] {
			t.Run(p.name+"/"+c.name, func(t *testing.T) {
				cc := polyrpc.NewClientConn(h2c, "http://"+addr, append(slices.Clone(p.opts), c.opts...)...)
				proxyExercise(t, cc, b, true)
			})
		}
	}
	if !slices.Contains(*seen, testpb.TestService_FullDuplexCall_FullMethodName) {
		t.Errorf("stream interceptors saw %v", *seen)
	}
}

// TestProxyHooksHTTP runs the proxy on net/http's path on every transport.
func TestProxyHooksHTTP(t *testing.T) {
	b := newProxyBackend(t)
	s, _ := newProxyServer(b, polyrpc.NativeGRPC(false))
	for _, tr := range rpctest.Transports {
		base, hc := rpctest.Start(t, s, tr)
		if tr == rpctest.H2C {
			t.Run("h2c/grpc-go", func(t *testing.T) {
				proxyExercise(t, dialGRPC(t, base), b, true)
			})
		}
		for _, p := range protocols {
			if p.name == "grpc" && !tr.HTTP2() {
				continue
			}
			for _, c := range codecs[:2] {
				t.Run(string(tr)+"/"+p.name+"/"+c.name, func(t *testing.T) {
					cc := polyrpc.NewClientConn(hc, base, append(slices.Clone(p.opts), c.opts...)...)
					proxyExercise(t, cc, b, tr.HTTP2())
				})
			}
		}
	}
}

// TestProxyHooksRefused: paths that name no method, encoded paths, and
// JSON callers of methods whose descriptor is not linked do not reach the
// handler; a Server with a forced codec and no handler still answers
// unknown methods with Unimplemented.
func TestProxyHooksRefused(t *testing.T) {
	b := newProxyBackend(t)
	s, _ := newProxyServer(b)
	base, hc := rpctest.Start(t, s, rpctest.H2C)
	for _, path := range []string{
		"/", "/no.such.Service/", "//Method", "/Method",
		"/grpc.testing.TestService%2FUnaryCall",
		"/x/../grpc.testing.TestService/UnaryCall",
		"/./grpc.testing.TestService/UnaryCall",
		"//grpc.testing.TestService/UnaryCall",
	} {
		req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(""))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/proto")
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if res.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "unimplemented") {
			t.Errorf("POST %s: %d %s, want 404 unimplemented", path, res.StatusCode, body)
		}
	}
	b.mu.Lock()
	if len(b.methods) != 0 {
		t.Errorf("forwarded %v", b.methods)
	}
	b.mu.Unlock()

	// GET only for the methods whose descriptor says they have no side
	// effects.
	res, err := hc.Get(base + testpb.TestService_UnaryCall_FullMethodName + "?encoding=proto&message=")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode == http.StatusOK || b.forwarded(testpb.TestService_UnaryCall_FullMethodName) {
		t.Errorf("GET of a method with side effects: %d, forwarded %v", res.StatusCode, b.methods)
	}

	// Malformed JSON fails the call with InvalidArgument, whatever the
	// proxy makes of the failed receive.
	res, err = hc.Post(base+testpb.TestService_UnaryCall_FullMethodName, "application/json", strings.NewReader(`{"payload":`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "invalid_argument") {
		t.Errorf("malformed JSON: %d %s", res.StatusCode, body)
	}

	// polyrpc.test.Lookup/Get has no side effects: GET reaches the proxy,
	// and the backend, which does not serve it, says so.
	res, err = hc.Get(base + "/polyrpc.test.Lookup/Get?encoding=json&message=%7B%7D")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusNotImplemented || !strings.Contains(string(body), "unknown service polyrpc.test.Lookup") ||
		!b.forwarded("/polyrpc.test.Lookup/Get") {
		t.Errorf("GET of a method without side effects: %d %s, forwarded %v", res.StatusCode, body, b.methods)
	}

	for _, p := range protocols {
		c := connect.NewClient[testpb.Empty, testpb.Empty](hc, base+"/no.such.Service/Method", append(slices.Clone(p.opts), connect.WithProtoJSON())...)
		_, err := c.CallUnary(t.Context(), connect.NewRequest(&testpb.Empty{}))
		if connect.CodeOf(err) != connect.CodeUnimplemented || !strings.Contains(err.Error(), "descriptor") {
			t.Errorf("%s: JSON without descriptor: %v", p.name, err)
		}
	}
	if b.forwarded("/no.such.Service/Method") {
		t.Errorf("a JSON call without descriptor was forwarded")
	}

	// On the native path grpc-go gives the forced codec every message: a
	// JSON caller is transcoded where the method's descriptor is known,
	// refused elsewhere.
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	h2c := &http.Client{Transport: &http.Transport{Protocols: protocols}}
	t.Cleanup(h2c.CloseIdleConnections)
	addr, _ := serveTCP(t, s)
	req := &testpb.SimpleRequest{ResponseSize: 3, Payload: &testpb.Payload{Body: []byte("json")}}
	ccProto := testpb.NewTestServiceClient(polyrpc.NewClientConn(h2c, "http://"+addr, connect.WithGRPC()))
	want, err := ccProto.UnaryCall(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	ccJSON := testpb.NewTestServiceClient(polyrpc.NewClientConn(h2c, "http://"+addr, connect.WithGRPC(), connect.WithProtoJSON()))
	got, err := ccJSON.UnaryCall(t.Context(), req)
	if err != nil || !proto.Equal(got, want) {
		t.Errorf("native JSON call: %v, %v; want %v", got, err, want)
	}
	jsonCall := connect.NewClient[testpb.Empty, testpb.Empty](h2c, "http://"+addr+"/no.such.Service/Method", connect.WithGRPC(), connect.WithProtoJSON())
	_, err = jsonCall.CallUnary(t.Context(), connect.NewRequest(&testpb.Empty{}))
	if connect.CodeOf(err) != connect.CodeUnimplemented || !strings.Contains(err.Error(), "descriptor") {
		t.Errorf("native JSON call without descriptor: %v", err)
	}

	// A forced codec without a handler changes nothing for unknown methods.
	plain := polyrpc.NewServer(polyrpc.CustomCodec(proxy.Codec()))
	testpb.RegisterTestServiceServer(plain, testService{})
	addr, _ = serveTCP(t, plain)
	testUnknown(t, dialGRPC(t, "http://"+addr))
	base, hc = rpctest.Start(t, plain, rpctest.H2C)
	testUnknown(t, polyrpc.NewClientConn(hc, base))
}

// TestProxyHooksLimits: the receive limit applies to the calls to the
// handler on both paths, before the handler sees them.
func TestProxyHooksLimits(t *testing.T) {
	b := newProxyBackend(t)
	s, _ := newProxyServer(b, polyrpc.MaxRecvMsgSize(1024))
	addr, _ := serveTCP(t, s)
	base, hc := rpctest.Start(t, s, rpctest.H2C)
	big := &testpb.SimpleRequest{Payload: &testpb.Payload{Body: make([]byte, 2048)}}
	for name, cc := range map[string]grpc.ClientConnInterface{
		"native":  dialGRPC(t, "http://"+addr),
		"connect": polyrpc.NewClientConn(hc, base),
		"grpcweb": polyrpc.NewClientConn(hc, base, connect.WithGRPCWeb()),
	} {
		_, err := testpb.NewTestServiceClient(cc).UnaryCall(t.Context(), big)
		if status.Code(err) != codes.ResourceExhausted {
			t.Errorf("%s: %v, want ResourceExhausted", name, err)
		}
	}
}

// rawFrame and rawCodecV2 are a raw-frame codec of grpc-go's CodecV2 form.
type rawFrame struct{ b []byte }

type rawCodecV2 struct{}

func (rawCodecV2) Name() string { return "proto" }

func (rawCodecV2) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.(*rawFrame).b)}, nil
}

func (rawCodecV2) Unmarshal(data mem.BufferSlice, v any) error {
	v.(*rawFrame).b = data.Materialize()
	return nil
}

// rawCodecV1 is the same codec in the encoding.Codec form.
type rawCodecV1 struct{}

func (rawCodecV1) Name() string { return "proto" }

func (rawCodecV1) Marshal(v any) ([]byte, error) { return v.(*rawFrame).b, nil }

func (rawCodecV1) Unmarshal(data []byte, v any) error {
	v.(*rawFrame).b = data
	return nil
}

// TestProxyHooksCodecs: an echo handler sees the bytes on the wire with
// ForceServerCodecV2 and ForceServerCodec, and messages without a codec;
// grpc.SetHeader and SetTrailer reach the caller.
func TestProxyHooksCodecs(t *testing.T) {
	echo := func(newMsg func() any) grpc.StreamHandler {
		return func(_ any, ss grpc.ServerStream) error {
			method, _ := grpc.MethodFromServerStream(ss)
			if err := grpc.SetHeader(ss.Context(), metadata.Pairs("x-method", method)); err != nil {
				return err
			}
			ss.SetTrailer(metadata.Pairs("x-trailer", "echo"))
			for {
				m := newMsg()
				if err := ss.RecvMsg(m); err == io.EOF {
					return nil
				} else if err != nil {
					return err
				}
				if f, ok := m.(*rawFrame); ok {
					want, _ := proto.Marshal(&testpb.Payload{Body: []byte("abc")})
					if !bytes.Equal(f.b, want) {
						return status.Errorf(codes.DataLoss, "received %x, want %x", f.b, want)
					}
				}
				if err := ss.SendMsg(m); err != nil {
					return err
				}
			}
		}
	}
	frame := func() any { return &rawFrame{} }
	for name, opts := range map[string][]polyrpc.ServerOption{
		"ForceServerCodecV2": {polyrpc.UnknownServiceHandler(echo(frame)), polyrpc.ForceServerCodecV2(rawCodecV2{})},
		"ForceServerCodec":   {polyrpc.UnknownServiceHandler(echo(frame)), polyrpc.ForceServerCodec(rawCodecV1{})},
		"no codec":           {polyrpc.UnknownServiceHandler(echo(func() any { return &testpb.Payload{} }))},
	} {
		t.Run(name, func(t *testing.T) {
			s := polyrpc.NewServer(opts...)
			addr, _ := serveTCP(t, s)
			check := func(t *testing.T, cc grpc.ClientConnInterface) {
				t.Helper()
				var header, trailer metadata.MD
				out := &testpb.Payload{}
				err := cc.Invoke(t.Context(), "/echo.Echo/Call", &testpb.Payload{Body: []byte("abc")}, out,
					grpc.Header(&header), grpc.Trailer(&trailer))
				if err != nil || string(out.GetBody()) != "abc" {
					t.Fatalf("echo = %v, %v", out, err)
				}
				if strings.Join(header.Get("x-method"), ",") != "/echo.Echo/Call" || strings.Join(trailer.Get("x-trailer"), ",") != "echo" {
					t.Errorf("header %v, trailer %v", header, trailer)
				}
			}
			t.Run("native", func(t *testing.T) { check(t, dialGRPC(t, "http://"+addr)) })
			for _, tr := range rpctest.Transports {
				base, hc := rpctest.Start(t, s, tr)
				for _, p := range protocols {
					if p.name == "grpc" && !tr.HTTP2() {
						continue
					}
					t.Run(string(tr)+"/"+p.name, func(t *testing.T) { check(t, polyrpc.NewClientConn(hc, base, p.opts...)) })
				}
			}
		})
	}
}
