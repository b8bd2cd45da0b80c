// Package runtime_test measures generated code at run time, side by side with
// connect-go's own generated code and with grpc-go.
//
// BenchmarkHandler calls the same service through a connect-go generated
// client over h2c on loopback, served either by connect-go's generated
// handler (impl=connect-go) or by protoc-gen-rpc's NewBenchServiceHandler
// (impl=polyrpc), for each protocol (proto=connect, grpc, grpcweb). On gRPC,
// impl=grpc-go is grpc-go's own client and server, for reference.
//
// BenchmarkClient calls connect-go's generated handler through either
// connect-go's generated client (impl=connect-go) or protoc-gen-rpc's
// generated client on polyrpc.NewClientConn (impl=polyrpc).
//
// BenchmarkServer (server_test.go) compares the servers as a grpc-go client
// sees them: the same grpc-go implementation on grpc.Server, served by its
// own Serve (impl=grpc-go, the baseline), or on polyrpc.Server, served by
// net/http with HTTP/1.1 and h2c on one port (impl=polyrpc), called by
// grpc-go's client over loopback TCP. One operation is one call (unary),
// one message received (server streaming) or one round trip on an open
// stream (bidi). Names are Server/kind=K/size=S/impl=I; server.sh runs it.
//
// Compare with benchstat -col /impl (see run.sh): every row is one protocol
// and kind, every column an implementation, connect-go first. Names are
// Handler/proto=P/kind=K/impl=I.
package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/polyrpc/polyrpc"
	benchv1 "github.com/polyrpc/polyrpc/internal/bench/runtime/gen/polyrpc/bench/v1"
	"github.com/polyrpc/polyrpc/internal/bench/runtime/gen/polyrpc/bench/v1/benchv1connect"
	"github.com/polyrpc/polyrpc/internal/rpctest"
)

const (
	streamCount = 100 // messages per server-streaming call
	chatRounds  = 10  // round trips per bidirectional call
)

// The same logic, written once for each API.

func echoPayload(p *benchv1.Payload) *benchv1.EchoResponse {
	return &benchv1.EchoResponse{Payload: p}
}

func listItem(t *benchv1.Payload, i int) *benchv1.EchoResponse {
	return &benchv1.EchoResponse{Payload: &benchv1.Payload{Id: int64(i), Name: t.GetName(), Tags: t.GetTags(), Body: t.GetBody()}}
}

// grpcImpl is the service on grpc-go's API, served by polyrpc and grpc-go.
type grpcImpl struct {
	benchv1.UnimplementedBenchServiceServer
}

func (grpcImpl) Echo(_ context.Context, req *benchv1.EchoRequest) (*benchv1.EchoResponse, error) {
	return echoPayload(req.GetPayload()), nil
}

func (grpcImpl) List(req *benchv1.ListRequest, stream grpc.ServerStreamingServer[benchv1.EchoResponse]) error {
	for i := range int(req.GetCount()) {
		if err := stream.Send(listItem(req.GetTemplate(), i)); err != nil {
			return err
		}
	}
	return nil
}

func (grpcImpl) Chat(stream grpc.BidiStreamingServer[benchv1.EchoRequest, benchv1.EchoResponse]) error {
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(echoPayload(req.GetPayload())); err != nil {
			return err
		}
	}
}

// connectImpl is the same service on connect-go's API.
type connectImpl struct {
	benchv1connect.UnimplementedBenchServiceHandler
}

func (connectImpl) Echo(_ context.Context, req *connect.Request[benchv1.EchoRequest]) (*connect.Response[benchv1.EchoResponse], error) {
	return connect.NewResponse(echoPayload(req.Msg.GetPayload())), nil
}

func (connectImpl) List(_ context.Context, req *connect.Request[benchv1.ListRequest], stream *connect.ServerStream[benchv1.EchoResponse]) error {
	for i := range int(req.Msg.GetCount()) {
		if err := stream.Send(listItem(req.Msg.GetTemplate(), i)); err != nil {
			return err
		}
	}
	return nil
}

func (connectImpl) Chat(_ context.Context, stream *connect.BidiStream[benchv1.EchoRequest, benchv1.EchoResponse]) error {
	for {
		req, err := stream.Receive()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(echoPayload(req.GetPayload())); err != nil {
			return err
		}
	}
}

// The workloads.

func smallPayload() *benchv1.Payload {
	return &benchv1.Payload{Id: 42, Name: "bench", Tags: []string{"a", "b"}, Body: []byte("hello, world")}
}

func largePayload() *benchv1.Payload {
	return &benchv1.Payload{Id: 42, Name: "bench", Body: bytes.Repeat([]byte{'x'}, 64<<10)}
}

// caller is a client of the benchmark service, whatever its API.
type caller interface {
	echo(ctx context.Context, p *benchv1.Payload) error
	list(ctx context.Context, p *benchv1.Payload, n int) error
	chat(ctx context.Context, p *benchv1.Payload, n int) error
}

var kinds = []struct {
	name string
	run  func(ctx context.Context, c caller) error
}{
	{"unary-small", func(ctx context.Context, c caller) error { return c.echo(ctx, smallPayload()) }},
	{"unary-64KiB", func(ctx context.Context, c caller) error { return c.echo(ctx, largePayload()) }},
	{"server-stream", func(ctx context.Context, c caller) error { return c.list(ctx, smallPayload(), streamCount) }},
	{"bidi", func(ctx context.Context, c caller) error { return c.chat(ctx, smallPayload(), chatRounds) }},
}

// connectCaller uses connect-go's generated client.
type connectCaller struct {
	client benchv1connect.BenchServiceClient
}

func (c connectCaller) echo(ctx context.Context, p *benchv1.Payload) error {
	res, err := c.client.Echo(ctx, connect.NewRequest(&benchv1.EchoRequest{Payload: p}))
	if err != nil {
		return err
	}
	return checkEcho(res.Msg, p)
}

func (c connectCaller) list(ctx context.Context, p *benchv1.Payload, n int) error {
	stream, err := c.client.List(ctx, connect.NewRequest(&benchv1.ListRequest{Count: int32(n), Template: p}))
	if err != nil {
		return err
	}
	got := 0
	for stream.Receive() {
		if id := stream.Msg().GetPayload().GetId(); id != int64(got) {
			return fmt.Errorf("message %d has id %d", got, id)
		}
		got++
	}
	if err := stream.Close(); err != nil {
		return err
	}
	return checkCount(got, n, stream.Err())
}

func (c connectCaller) chat(ctx context.Context, p *benchv1.Payload, n int) error {
	stream := c.client.Chat(ctx)
	for range n {
		if err := stream.Send(&benchv1.EchoRequest{Payload: p}); err != nil {
			return err
		}
		res, err := stream.Receive()
		if err != nil {
			return err
		}
		if err := checkEcho(res, p); err != nil {
			return err
		}
	}
	if err := stream.CloseRequest(); err != nil {
		return err
	}
	if _, err := stream.Receive(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("end of stream: %v", err)
	}
	return stream.CloseResponse()
}

// grpcCaller uses the grpc-go API of protoc-gen-rpc's generated client, on
// polyrpc.ClientConn or on grpc-go's own ClientConn.
type grpcCaller struct {
	client benchv1.BenchServiceClient
}

func (c grpcCaller) echo(ctx context.Context, p *benchv1.Payload) error {
	res, err := c.client.Echo(ctx, &benchv1.EchoRequest{Payload: p})
	if err != nil {
		return err
	}
	return checkEcho(res, p)
}

func (c grpcCaller) list(ctx context.Context, p *benchv1.Payload, n int) error {
	stream, err := c.client.List(ctx, &benchv1.ListRequest{Count: int32(n), Template: p})
	if err != nil {
		return err
	}
	got := 0
	for {
		res, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return checkCount(got, n, nil)
		}
		if err != nil {
			return err
		}
		if id := res.GetPayload().GetId(); id != int64(got) {
			return fmt.Errorf("message %d has id %d", got, id)
		}
		got++
	}
}

func (c grpcCaller) chat(ctx context.Context, p *benchv1.Payload, n int) error {
	stream, err := c.client.Chat(ctx)
	if err != nil {
		return err
	}
	for range n {
		if err := stream.Send(&benchv1.EchoRequest{Payload: p}); err != nil {
			return err
		}
		res, err := stream.Recv()
		if err != nil {
			return err
		}
		if err := checkEcho(res, p); err != nil {
			return err
		}
	}
	if err := stream.CloseSend(); err != nil {
		return err
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("end of stream: %v", err)
	}
	return nil
}

func checkEcho(res *benchv1.EchoResponse, p *benchv1.Payload) error {
	if got := res.GetPayload(); got.GetId() != p.GetId() || len(got.GetBody()) != len(p.GetBody()) {
		return fmt.Errorf("echo: got id %d, %d bytes; want id %d, %d bytes", got.GetId(), len(got.GetBody()), p.GetId(), len(p.GetBody()))
	}
	return nil
}

func checkCount(got, want int, err error) error {
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("got %d messages, want %d", got, want)
	}
	return nil
}

var protocols = []struct {
	name string
	opts []connect.ClientOption
}{
	{"connect", nil},
	{"grpc", []connect.ClientOption{connect.WithGRPC()}},
	{"grpcweb", []connect.ClientOption{connect.WithGRPCWeb()}},
}

func serve(tb testing.TB, pattern string, h http.Handler) (string, *http.Client) {
	mux := http.NewServeMux()
	mux.Handle(pattern, h)
	return rpctest.Start(tb, mux, rpctest.H2C)
}

// startGRPC serves grpcImpl with grpc-go on loopback and returns a client.
func startGRPC(tb testing.TB) caller {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := grpc.NewServer()
	benchv1.RegisterBenchServiceServer(srv, grpcImpl{})
	go func() { _ = srv.Serve(lis) }()
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = cc.Close()
		srv.Stop()
	})
	return grpcCaller{benchv1.NewBenchServiceClient(cc)}
}

// setup starts a server and returns a client of it.
type setup struct {
	impl  string
	start func(tb testing.TB, opts []connect.ClientOption) caller
}

// handlerSetups compare the generated handlers, called by connect-go's
// generated client.
var handlerSetups = []setup{
	{"connect-go", func(tb testing.TB, opts []connect.ClientOption) caller {
		pattern, h := benchv1connect.NewBenchServiceHandler(connectImpl{})
		base, hc := serve(tb, pattern, h)
		return connectCaller{benchv1connect.NewBenchServiceClient(hc, base, opts...)}
	}},
	{"polyrpc", func(tb testing.TB, opts []connect.ClientOption) caller {
		pattern, h := benchv1.NewBenchServiceHandler(grpcImpl{})
		base, hc := serve(tb, pattern, h)
		return connectCaller{benchv1connect.NewBenchServiceClient(hc, base, opts...)}
	}},
}

// clientSetups compare the generated clients, calling connect-go's generated
// handler.
var clientSetups = []setup{
	{"connect-go", handlerSetups[0].start},
	{"polyrpc", func(tb testing.TB, opts []connect.ClientOption) caller {
		pattern, h := benchv1connect.NewBenchServiceHandler(connectImpl{})
		base, hc := serve(tb, pattern, h)
		return grpcCaller{benchv1.NewBenchServiceClient(polyrpc.NewClientConn(hc, base, opts...))}
	}},
}

// benchSetups runs every kind of call for every protocol and setup. The
// implementations are the innermost level, so that the runs compared with
// each other follow one another and meet the same load.
func benchSetups(b *testing.B, setups []setup, withGRPCGo bool) {
	for _, p := range protocols {
		b.Run("proto="+p.name, func(b *testing.B) {
			for _, k := range kinds {
				b.Run("kind="+k.name, func(b *testing.B) {
					for _, s := range setups {
						b.Run("impl="+s.impl, func(b *testing.B) {
							benchKind(b, k.run, s.start(b, p.opts))
						})
					}
					if withGRPCGo && p.name == "grpc" {
						// For reference: grpc-go's own client and server.
						b.Run("impl=grpc-go", func(b *testing.B) {
							benchKind(b, k.run, startGRPC(b))
						})
					}
				})
			}
		})
	}
}

func benchKind(b *testing.B, run func(context.Context, caller) error, c caller) {
	ctx := context.Background()
	if err := run(ctx, c); err != nil { // warm up: connection, lazy state
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if err := run(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	// CPU time of the whole process (client, server, runtime) per call: on a
	// shared machine it is steadier than wall time, which also counts the
	// time spent waiting for a core.
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// cpuTime returns the user and system CPU time of the process so far, in
// nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkHandler compares the generated handlers.
func BenchmarkHandler(b *testing.B) { benchSetups(b, handlerSetups, true) }

// BenchmarkClient compares the generated clients.
func BenchmarkClient(b *testing.B) { benchSetups(b, clientSetups, false) }

// TestSetups runs every workload once in every setup, so that a broken
// setup fails go test, not only a benchmark run.
func TestSetups(t *testing.T) {
	all := map[string][]setup{"handler": handlerSetups, "client": clientSetups}
	for group, setups := range all {
		for _, p := range protocols {
			for _, s := range setups {
				t.Run(group+"/"+p.name+"/"+s.impl, func(t *testing.T) {
					c := s.start(t, p.opts)
					for _, k := range kinds {
						if err := k.run(t.Context(), c); err != nil {
							t.Errorf("%s: %v", k.name, err)
						}
					}
				})
			}
		}
	}
	t.Run("grpc-go", func(t *testing.T) {
		c := startGRPC(t)
		for _, k := range kinds {
			if err := k.run(t.Context(), c); err != nil {
				t.Errorf("%s: %v", k.name, err)
			}
		}
	})
}
