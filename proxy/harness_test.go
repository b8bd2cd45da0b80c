package proxy_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/proxy"
)

// The backends of the tests serve testService, a service without a linked
// descriptor (the proxy knows nothing of it): StringValue requests,
// ListValue answers.
const (
	testService = "polyrpc.proxytest.Test"
	mPing       = "/" + testService + "/Ping"  // unary
	mFail       = "/" + testService + "/Fail"  // unary, FailedPrecondition with a detail
	mBlock      = "/" + testService + "/Block" // unary, answers when its context ends
	mEcho       = "/" + testService + "/Echo"  // bidi: one answer per request
	mList       = "/" + testService + "/List"  // server-streaming, by its request's commands
	mSum        = "/" + testService + "/Sum"   // client-streaming: the requests joined
	mSink       = "/" + testService + "/Sink"  // bidi: reads nothing until the call ends
	userErr     = "Userspace error."
)

var bidi = &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}

// backend is a test backend.
type backend struct {
	name     string
	addr     string
	started  chan string // Block calls that started
	ended    chan error  // how the context of Block calls ended
	sent     atomic.Int64
	handlers atomic.Int64 // running handlers
}

func (b *backend) answer(vals ...any) *structpb.ListValue {
	l, err := structpb.NewList(append([]any{b.name}, vals...))
	if err != nil {
		panic(err)
	}
	return l
}

// ping answers: name, request, x-client, the request's metadata keys,
// whether it has a deadline.
func (b *backend) ping(ctx context.Context, req *wrapperspb.StringValue) (*structpb.ListValue, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	_, deadline := ctx.Deadline()
	if err := grpc.SendHeader(ctx, metadata.Pairs("x-server-header", b.name, "x-secret", "s")); err != nil {
		return nil, err
	}
	if err := grpc.SetTrailer(ctx, metadata.Pairs("x-server-trailer", b.name, "x-secret-trailer", "s")); err != nil {
		return nil, err
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range md {
			if !yield(k) {
				return
			}
		}
	})
	return b.answer(req.GetValue(), strings.Join(md.Get("x-client"), ","), strings.Join(keys, ","), deadline), nil
}

func (b *backend) block(ctx context.Context, _ *wrapperspb.StringValue) (*structpb.ListValue, error) {
	b.started <- b.name
	<-ctx.Done()
	b.ended <- ctx.Err()
	return nil, status.FromContextError(ctx.Err()).Err()
}

func (b *backend) echo(stream grpc.ServerStream) error {
	if err := stream.SendHeader(metadata.Pairs("x-server-header", b.name)); err != nil {
		return err
	}
	for i := 0; ; i++ {
		req := &wrapperspb.StringValue{}
		if err := stream.RecvMsg(req); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return err
		}
		if req.GetValue() == "fail" {
			return status.Error(codes.Aborted, "failed on demand")
		}
		if err := stream.SendMsg(b.answer(req.GetValue(), i)); err != nil {
			return err
		}
	}
	stream.SetTrailer(metadata.Pairs("x-server-trailer", b.name))
	return nil
}

// list runs the commands of its request: count=N answers, of size=S bytes,
// sleep=D before each, fail=K after K answers; on=NAME limits sleep and
// fail to that backend (* for all).
func (b *backend) list(stream grpc.ServerStream) error {
	req := &wrapperspb.StringValue{}
	if err := stream.RecvMsg(req); err != nil {
		return err
	}
	count, size, fail := 3, 0, -1
	var sleep time.Duration
	on := b.name
	for _, kv := range strings.Split(req.GetValue(), ";") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "count":
			count, _ = strconv.Atoi(v)
		case "size":
			size, _ = strconv.Atoi(v)
		case "fail":
			fail, _ = strconv.Atoi(v)
		case "sleep":
			sleep, _ = time.ParseDuration(v)
		case "on": // sleep and fail only on this backend
			on = v
		}
	}
	if on != b.name && on != "*" {
		sleep, fail = 0, -1
	}
	if err := stream.SendHeader(metadata.Pairs("x-server-header", b.name)); err != nil {
		return err
	}
	pad := incompressible(size)
	for i := range count {
		if i == fail {
			st, _ := status.New(codes.DataLoss, "failed mid-stream").WithDetails(wrapperspb.String("detail of " + b.name))
			return st.Err()
		}
		if sleep > 0 {
			select {
			case <-time.After(sleep):
			case <-stream.Context().Done():
				return stream.Context().Err()
			}
		}
		if err := stream.SendMsg(b.answer(i, pad)); err != nil {
			return err
		}
		b.sent.Add(1)
	}
	stream.SetTrailer(metadata.Pairs("x-server-trailer", b.name))
	return nil
}

func (b *backend) sum(stream grpc.ServerStream) error {
	var got []string
	for {
		req := &wrapperspb.StringValue{}
		if err := stream.RecvMsg(req); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return err
		}
		got = append(got, req.GetValue())
	}
	return stream.SendMsg(b.answer(strings.Join(got, "+")))
}

// incompressible returns n random letters, which compression cannot make
// much shorter: a compressed stream still fills flow-control windows.
func incompressible(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[rand.IntN(len(letters))]
	}
	return string(b)
}

func unary(h func(*backend, context.Context, *wrapperspb.StringValue) (*structpb.ListValue, error)) grpc.MethodHandler {
	return func(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
		b := srv.(*backend)
		b.handlers.Add(1)
		defer b.handlers.Add(-1)
		req := &wrapperspb.StringValue{}
		if err := dec(req); err != nil {
			return nil, err
		}
		return h(b, ctx, req)
	}
}

func streaming(h func(*backend, grpc.ServerStream) error) grpc.StreamHandler {
	return func(srv any, stream grpc.ServerStream) error {
		b := srv.(*backend)
		b.handlers.Add(1)
		defer b.handlers.Add(-1)
		return h(b, stream)
	}
}

var testServiceDesc = grpc.ServiceDesc{
	ServiceName: testService,
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Ping", Handler: unary((*backend).ping)},
		{MethodName: "Fail", Handler: unary(func(*backend, context.Context, *wrapperspb.StringValue) (*structpb.ListValue, error) {
			st, _ := status.New(codes.FailedPrecondition, userErr).WithDetails(wrapperspb.String("the detail"))
			return nil, st.Err()
		})},
		{MethodName: "Block", Handler: unary((*backend).block)},
	},
	Streams: []grpc.StreamDesc{
		{StreamName: "Echo", ClientStreams: true, ServerStreams: true, Handler: streaming((*backend).echo)},
		{StreamName: "List", ServerStreams: true, Handler: streaming((*backend).list)},
		{StreamName: "Sum", ClientStreams: true, Handler: streaming((*backend).sum)},
		{StreamName: "Sink", ClientStreams: true, ServerStreams: true, Handler: streaming(func(_ *backend, stream grpc.ServerStream) error {
			<-stream.Context().Done()
			return stream.Context().Err()
		})},
	},
}

// startBackend serves a backend on a grpc.Server.
func startBackend(t testing.TB, name string) *backend {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{name: name, addr: lis.Addr().String(), started: make(chan string, 64), ended: make(chan error, 64)}
	gs := grpc.NewServer()
	gs.RegisterService(&testServiceDesc, b)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	return b
}

// dial returns a grpc-go connection to addr.
func dial(t testing.TB, addr string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)
	cc, err := grpc.NewClient("passthrough:///"+addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// downAddr returns an address where nothing listens.
func downAddr(t testing.TB) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	return addr
}

// fixture is a proxy in front of three backends and one that is down.
type fixture struct {
	backends []*backend
	targets  map[string]proxy.Backend // b0, b1, b2, down
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{targets: map[string]proxy.Backend{}}
	for i := range 3 {
		b := startBackend(t, "b"+strconv.Itoa(i))
		f.backends = append(f.backends, b)
		f.targets[b.name] = &proxy.ConnBackend{Name: b.name, Conn: dial(t, b.addr), MetadataField: 99}
	}
	f.targets["down"] = &proxy.ConnBackend{Name: "down", Conn: dial(t, downAddr(t)), MetadataField: 99}
	return f
}

// director routes by x-route: "reject" refuses the call, "many:b0,down"
// goes to those backends, a name to that backend; by default b0.
// x-mode forces a one-to-many mode: "merged" or "streamed".
func (f *fixture) director(ctx context.Context, _ string) (proxy.Mode, []proxy.Backend, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	route := strings.Join(md.Get("x-route"), ",")
	switch {
	case route == "reject":
		return proxy.One2One, nil, status.Error(codes.PermissionDenied, "testing rejection")
	case strings.HasPrefix(route, "many:"):
		var bs []proxy.Backend
		for _, name := range strings.Split(strings.TrimPrefix(route, "many:"), ",") {
			b, ok := f.targets[name]
			if !ok {
				return 0, nil, status.Errorf(codes.InvalidArgument, "no backend %q", name)
			}
			bs = append(bs, b)
		}
		mode := proxy.One2Many
		switch strings.Join(md.Get("x-mode"), "") {
		case "merged":
			mode = proxy.One2ManyMerged
		case "streamed":
			mode = proxy.One2ManyStreamed
		}
		return mode, bs, nil
	case route == "":
		return proxy.One2One, []proxy.Backend{f.targets["b0"]}, nil
	}
	b, ok := f.targets[route]
	if !ok {
		return 0, nil, status.Errorf(codes.InvalidArgument, "no backend %q", route)
	}
	return proxy.One2One, []proxy.Backend{b}, nil
}

// proxyOptions are the options of the tests' proxies.
func (f *fixture) proxyOptions(extra ...proxy.Option) []proxy.Option {
	return append([]proxy.Option{
		proxy.WithRequestHeaders(proxy.DenyHeaders("x-route", "x-mode")),
		proxy.WithResponseHeaders(proxy.DenyHeaders("x-secret*")),
		proxy.WithStreamedMethodNames(mEcho, mList),
	}, extra...)
}

// serveProxy serves the proxy on a polyrpc.Server on loopback (Serve) and
// returns its address.
func (f *fixture) serveProxy(t testing.TB, native bool, extra ...proxy.Option) string {
	t.Helper()
	s := polyrpc.NewServer(
		polyrpc.NativeGRPC(native),
		polyrpc.ForceServerCodecV2(proxy.Codec()),
		polyrpc.UnknownServiceHandler(proxy.TransparentHandler(f.director, f.proxyOptions(extra...)...)),
	)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

// serveGRPCProxy serves the proxy on a plain grpc.Server.
func (f *fixture) serveGRPCProxy(t testing.TB, extra ...proxy.Option) string {
	t.Helper()
	gs := grpc.NewServer(
		grpc.ForceServerCodecV2(proxy.Codec()),
		grpc.UnknownServiceHandler(proxy.TransparentHandler(f.director, f.proxyOptions(extra...)...)),
	)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	return lis.Addr().String()
}

// client is a caller of the proxy.
type client struct {
	name string
	cc   grpc.ClientConnInterface
}

var polyProtocols = []struct {
	name string
	opts []connect.ClientOption
}{
	{"connect", nil},
	{"grpc", []connect.ClientOption{connect.WithGRPC()}},
	{"grpcweb", []connect.ClientOption{connect.WithGRPCWeb()}},
}

// clients returns the callers of a proxy at addr: grpc-go, and polyrpc's
// client over Connect, gRPC and gRPC-Web on cleartext HTTP/2, each on a
// connection of its own.
func clients(t testing.TB, addr string) []client {
	t.Helper()
	out := []client{{"grpc-go", dial(t, addr)}}
	for _, p := range polyProtocols {
		h2 := new(http.Protocols)
		h2.SetUnencryptedHTTP2(true)
		hc := &http.Client{Transport: &http.Transport{Protocols: h2}}
		t.Cleanup(hc.CloseIdleConnections)
		out = append(out, client{p.name, polyrpc.NewClientConn(hc, "http://"+addr, p.opts...)})
	}
	return out
}

// proxies serves the proxy on polyrpc.Server's native path and net/http's
// path, and runs test with each and every client.
func (f *fixture) eachClient(t *testing.T, test func(t *testing.T, c client), extra ...proxy.Option) {
	for _, path := range []struct {
		name   string
		native bool
	}{{"native", true}, {"net-http", false}} {
		addr := f.serveProxy(t, path.native, extra...)
		for _, c := range clients(t, addr) {
			t.Run(path.name+"/"+c.name, func(t *testing.T) { test(t, c) })
		}
	}
}

func route(ctx context.Context, r string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "x-route", r)
}

// stableGoroutines returns the number of goroutines once it stops
// falling.
func stableGoroutines() int {
	n := runtime.NumGoroutine()
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m >= n {
			return min(m, n)
		}
		n = m
	}
	return n
}

// waitGoroutines waits until the number of goroutines is back to at most
// baseline plus a little noise.
func waitGoroutines(t testing.TB, baseline int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		n := runtime.NumGoroutine()
		if n <= baseline+10 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, baseline %d; stacks:\n%s", n, baseline, buf[:min(len(buf), 20000)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func values(l *structpb.ListValue) []any {
	if l == nil {
		return nil
	}
	return l.AsSlice()
}

func statusCode(err error) codes.Code { return status.Code(err) }
