package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
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

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/fanout"
	fanoutv1 "github.com/polyrpc/polyrpc/golden/rpc/fanout"
	kindsv1 "github.com/polyrpc/polyrpc/golden/rpc/kinds"
	"github.com/polyrpc/polyrpc/internal/rpctest"
)

// fanOut=true: the generated NewEchoServiceFanOutClient against real
// servers, each target on a transport of its own (grpc.Server with a grpc-go
// client, polyrpc.Server with a grpc-go client, NewEchoServiceHandler with
// polyrpc.NewClientConn over Connect/h2c and gRPC-Web/HTTP/1.1).

// inflight counts the calls running at once across servers, and the most
// seen.
type inflight struct{ now, max atomic.Int64 }

func (c *inflight) enter() {
	n := c.now.Add(1)
	for m := c.max.Load(); n > m && !c.max.CompareAndSwap(m, n); m = c.max.Load() {
	}
}

func (c *inflight) leave() { c.now.Add(-1) }

// await waits until n calls have been in flight at once, or 5s have
// passed, so that a test of a limit of n does not depend on timing.
func (c *inflight) await(n int64) {
	for deadline := time.Now().Add(5 * time.Second); c.max.Load() < n && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
}

// fanServer is one target. Its replies carry its name.
type fanServer struct {
	fanoutv1.UnimplementedEchoServiceServer
	name      string
	delay     time.Duration // before each unary reply and each streamed message
	fail      error         // the error of a unary call, and of a stream...
	failAfter int32         // ...after this many messages
	hold      bool          // a stream waits for the call's end after its messages
	payload   int           // bytes of padding in each streamed message
	calls     *inflight     // if set, counts unary calls and streams
	await     int64         // with calls, wait for that many in flight first
	sent      atomic.Int64  // streamed messages sent
	active    atomic.Int64  // stream handlers running
}

func (s *fanServer) wait(ctx context.Context) error {
	if s.delay == 0 {
		return nil
	}
	select {
	case <-time.After(s.delay):
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}

func (s *fanServer) Unary(ctx context.Context, req *kindsv1.EchoRequest) (*kindsv1.EchoResponse, error) {
	if s.calls != nil {
		s.calls.enter()
		defer s.calls.leave()
		s.calls.await(s.await)
	}
	if err := grpc.SetHeader(ctx, metadata.Pairs("x-target", s.name)); err != nil {
		return nil, err
	}
	if err := grpc.SetTrailer(ctx, metadata.Pairs("x-trailer", s.name)); err != nil {
		return nil, err
	}
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	if s.fail != nil {
		return nil, s.fail
	}
	return &kindsv1.EchoResponse{Message: s.name + ":" + req.GetMessage()}, nil
}

func (s *fanServer) Get(ctx context.Context, req *kindsv1.EchoRequest) (*kindsv1.EchoResponse, error) {
	return s.Unary(ctx, req)
}

func (s *fanServer) ServerStream(req *kindsv1.EchoRequest, stream grpc.ServerStreamingServer[kindsv1.EchoResponse]) error {
	s.active.Add(1)
	defer s.active.Add(-1)
	if s.calls != nil {
		s.calls.enter()
		defer s.calls.leave()
		s.calls.await(s.await)
	}
	ctx := stream.Context()
	pad := strings.Repeat("x", s.payload)
	for i := int32(0); ; i++ {
		if s.fail != nil && i == s.failAfter {
			return s.fail
		}
		if i >= req.GetCount() {
			break
		}
		if err := s.wait(ctx); err != nil {
			return err
		}
		if err := stream.Send(&kindsv1.EchoResponse{Message: s.name + pad, Index: i}); err != nil {
			return err
		}
		s.sent.Add(1)
	}
	if s.hold {
		<-ctx.Done()
		return status.FromContextError(ctx.Err()).Err()
	}
	return nil
}

// targetKinds are the transports targets are reached over, in turn.
var targetKinds = []string{"grpc.Server", "handler/connect/h2c", "polyrpc.Server", "handler/grpcweb/http1"}

// startTarget serves srv over kind and returns a client for it.
func startTarget(t *testing.T, kind string, srv fanoutv1.EchoServiceServer) fanoutv1.EchoServiceClient {
	t.Helper()
	grpcClient := func(addr string) fanoutv1.EchoServiceClient {
		conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return fanoutv1.NewEchoServiceClient(conn)
	}
	switch kind {
	case "grpc.Server", "polyrpc.Server":
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if kind == "grpc.Server" {
			s := grpc.NewServer()
			fanoutv1.RegisterEchoServiceServer(s, srv)
			go s.Serve(lis)
			t.Cleanup(s.Stop)
		} else {
			s := polyrpc.NewServer()
			fanoutv1.RegisterEchoServiceServer(s, srv)
			go s.Serve(lis)
			t.Cleanup(s.Stop)
		}
		return grpcClient(lis.Addr().String())
	case "handler/connect/h2c", "handler/grpcweb/http1":
		mux := http.NewServeMux()
		mux.Handle(fanoutv1.NewEchoServiceHandler(srv))
		tr, opts := rpctest.H2C, []connect.ClientOption(nil)
		if kind == "handler/grpcweb/http1" {
			tr, opts = rpctest.HTTP1, []connect.ClientOption{connect.WithGRPCWeb()}
		}
		url, client := rpctest.Start(t, mux, tr)
		return fanoutv1.NewEchoServiceClient(polyrpc.NewClientConn(client, url, opts...))
	}
	t.Fatalf("unknown target kind %q", kind)
	return nil
}

// startTargets starts every server, on the transports of targetKinds in
// turn, and returns the map of targets.
func startTargets(t *testing.T, servers ...*fanServer) map[string]fanoutv1.EchoServiceClient {
	t.Helper()
	targets := map[string]fanoutv1.EchoServiceClient{}
	for i, s := range servers {
		targets[s.name] = startTarget(t, targetKinds[i%len(targetKinds)], s)
	}
	return targets
}

func newFanOut(t *testing.T, targets map[string]fanoutv1.EchoServiceClient, opts ...fanout.Option) fanoutv1.EchoServiceFanOutClient {
	t.Helper()
	c, err := fanoutv1.NewEchoServiceFanOutClient(targets, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFanOutUnaryOrder(t *testing.T) {
	// The first targets by name answer last.
	names := []string{"e", "c", "a", "d", "b"}
	var servers []*fanServer
	for _, n := range names {
		servers = append(servers, &fanServer{name: n, delay: time.Duration('f'-n[0]) * 20 * time.Millisecond})
	}
	c := newFanOut(t, startTargets(t, servers...))
	for _, method := range []struct {
		name string
		call func(context.Context, *kindsv1.EchoRequest, ...grpc.CallOption) []fanout.Result[*kindsv1.EchoResponse]
	}{{"Unary", c.Unary}, {"Get", c.Get}} {
		t.Run(method.name, func(t *testing.T) {
			results := method.call(testContext(t), &kindsv1.EchoRequest{Message: "hi"})
			var got []string
			for _, r := range results {
				if r.Err != nil {
					t.Fatalf("%s: %v", r.Target, r.Err)
				}
				got = append(got, r.Target)
				if want := r.Target + ":hi"; r.Reply.GetMessage() != want {
					t.Errorf("%s: reply %q, want %q", r.Target, r.Reply.GetMessage(), want)
				}
				if h := r.Header.Get("x-target"); !slices.Equal(h, []string{r.Target}) {
					t.Errorf("%s: header x-target = %q", r.Target, h)
				}
				if tr := r.Trailer.Get("x-trailer"); !slices.Equal(tr, []string{r.Target}) {
					t.Errorf("%s: trailer x-trailer = %q", r.Target, tr)
				}
			}
			if want := []string{"a", "b", "c", "d", "e"}; !slices.Equal(got, want) {
				t.Errorf("targets %q, want %q", got, want)
			}
		})
	}
}

func TestFanOutUnaryTargetFails(t *testing.T) {
	fail := status.Error(codes.InvalidArgument, "b refuses")
	c := newFanOut(t, startTargets(t, &fanServer{name: "a"}, &fanServer{name: "b", fail: fail}, &fanServer{name: "c"}, &fanServer{name: "d", fail: fail}))
	results := c.Unary(testContext(t), &kindsv1.EchoRequest{Message: "x"})
	if len(results) != 4 {
		t.Fatalf("%d results, want 4", len(results))
	}
	for _, r := range results {
		switch r.Target {
		case "b", "d":
			if status.Code(r.Err) != codes.InvalidArgument || status.Convert(r.Err).Message() != "b refuses" || r.Reply != nil {
				t.Errorf("%s: reply %v, error %v; want InvalidArgument", r.Target, r.Reply, r.Err)
			}
		default:
			if r.Err != nil || r.Reply.GetMessage() != r.Target+":x" {
				t.Errorf("%s: reply %v, error %v", r.Target, r.Reply, r.Err)
			}
		}
	}
}

func TestFanOutUnaryTargetTimeout(t *testing.T) {
	c := newFanOut(t, startTargets(t, &fanServer{name: "fast"}, &fanServer{name: "slow", delay: 5 * time.Second}, &fanServer{name: "quick", delay: 10 * time.Millisecond}),
		fanout.TargetTimeout(300*time.Millisecond))
	start := time.Now()
	results := c.Unary(testContext(t), &kindsv1.EchoRequest{Message: "x"})
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v, want about the target timeout", d)
	}
	for _, r := range results {
		want := codes.OK
		if r.Target == "slow" {
			want = codes.DeadlineExceeded
		}
		if status.Code(r.Err) != want {
			t.Errorf("%s: error %v, want %v", r.Target, r.Err, want)
		}
	}
}

func TestFanOutConcurrencyLimit(t *testing.T) {
	for _, tc := range []struct {
		limit, want int64
	}{{0, 8}, {3, 3}, {1, 1}} {
		t.Run(fmt.Sprint(tc.limit), func(t *testing.T) {
			calls := new(inflight)
			var servers []*fanServer
			for i := range 8 {
				servers = append(servers, &fanServer{name: fmt.Sprint("t", i), delay: 10 * time.Millisecond, calls: calls, await: tc.want})
			}
			c := newFanOut(t, startTargets(t, servers...), fanout.Concurrency(int(tc.limit)))
			for _, r := range c.Unary(testContext(t), &kindsv1.EchoRequest{}) {
				if r.Err != nil {
					t.Fatalf("%s: %v", r.Target, r.Err)
				}
			}
			if got := calls.max.Load(); got != tc.want {
				t.Errorf("at most %d calls in flight, want %d", got, tc.want)
			}
		})
	}
}

func TestFanOutStreamConcurrencyLimit(t *testing.T) {
	calls := new(inflight)
	var servers []*fanServer
	for i := range 5 {
		servers = append(servers, &fanServer{name: fmt.Sprint("t", i), delay: 10 * time.Millisecond, calls: calls, await: 2})
	}
	c := newFanOut(t, startTargets(t, servers...), fanout.Concurrency(2))
	got := recvMerged(t, c, testContext(t), 3)
	if calls.max.Load() != 2 {
		t.Errorf("at most %d streams open, want 2", calls.max.Load())
	}
	for _, s := range servers {
		if n := len(got[s.name]); n != 3 {
			t.Errorf("%s: %d messages, want 3", s.name, n)
		}
	}
}

func TestFanOutUnaryCallerCancels(t *testing.T) {
	calls := new(inflight)
	var servers []*fanServer
	for i := range 4 {
		servers = append(servers, &fanServer{name: fmt.Sprint("t", i), delay: 10 * time.Second, calls: calls})
	}
	c := newFanOut(t, startTargets(t, servers...), fanout.Concurrency(2))
	ctx, cancel := context.WithCancel(testContext(t))
	go func() {
		for calls.now.Load() < 2 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	results := c.Unary(ctx, &kindsv1.EchoRequest{})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v after cancellation", d)
	}
	for _, r := range results {
		if status.Code(r.Err) != codes.Canceled {
			t.Errorf("%s: error %v, want Canceled", r.Target, r.Err)
		}
	}
	// The targets past the limit were never called.
	if calls.max.Load() != 2 {
		t.Errorf("%d calls in flight, want 2", calls.max.Load())
	}
}

// recvMerged reads a merged stream of count messages per target to its
// end, checks that each target's messages come in order, and returns the
// entries by target.
func recvMerged(t *testing.T, c fanoutv1.EchoServiceFanOutClient, ctx context.Context, count int32) map[string][]fanout.Message[*kindsv1.EchoResponse] {
	t.Helper()
	stream, err := c.ServerStream(ctx, &kindsv1.EchoRequest{Count: count})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	got := map[string][]fanout.Message[*kindsv1.EchoResponse]{}
	for {
		m, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Err == nil {
			if want := int32(len(got[m.Target])); m.Reply.GetIndex() != want || !strings.HasPrefix(m.Reply.GetMessage(), m.Target) {
				t.Errorf("%s: message %d is %v", m.Target, want, m.Reply)
			}
		}
		got[m.Target] = append(got[m.Target], m)
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Errorf("Recv after the end: %v, want io.EOF", err)
	}
	return got
}

func TestFanOutStreamAttribution(t *testing.T) {
	servers := []*fanServer{{name: "a"}, {name: "b"}, {name: "c"}, {name: "d"}}
	c := newFanOut(t, startTargets(t, servers...))
	got := recvMerged(t, c, testContext(t), 10)
	for _, s := range servers {
		msgs := got[s.name]
		if len(msgs) != 10 {
			t.Errorf("%s: %d messages, want 10", s.name, len(msgs))
		}
		for _, m := range msgs {
			if m.Err != nil || m.Reply.GetMessage() != s.name {
				t.Errorf("%s: entry %+v", s.name, m)
			}
		}
	}
	if len(got) != len(servers) {
		t.Errorf("entries of %d targets, want %d", len(got), len(servers))
	}
}

func TestFanOutStreamTargetFails(t *testing.T) {
	c := newFanOut(t, startTargets(t,
		&fanServer{name: "ok", delay: 5 * time.Millisecond},
		&fanServer{name: "mid", fail: status.Error(codes.DataLoss, "mid gave up"), failAfter: 2},
		&fanServer{name: "open", fail: status.Error(codes.PermissionDenied, "no")},
		&fanServer{name: "ok2", delay: 5 * time.Millisecond},
	))
	// A target without the method fails as it opens.
	targets := startTargets(t, &fanServer{name: "x"})
	got := recvMerged(t, c, testContext(t), 6)
	check := func(name string, replies int, code codes.Code) {
		t.Helper()
		msgs := got[name]
		wantLen := replies
		if code != codes.OK {
			wantLen++
		}
		if len(msgs) != wantLen {
			t.Fatalf("%s: %d entries, want %d: %+v", name, len(msgs), wantLen, msgs)
		}
		for _, m := range msgs[:replies] {
			if m.Err != nil {
				t.Errorf("%s: error %v before the end", name, m.Err)
			}
		}
		if code != codes.OK {
			if last := msgs[replies]; status.Code(last.Err) != code || last.Reply != nil {
				t.Errorf("%s: last entry %+v, want %v", name, last, code)
			}
		}
	}
	check("ok", 6, codes.OK)
	check("ok2", 6, codes.OK)
	check("mid", 2, codes.DataLoss)
	check("open", 0, codes.PermissionDenied)

	unimpl := newFanOut(t, map[string]fanoutv1.EchoServiceClient{
		"none": startTarget(t, "grpc.Server", &fanoutv1.UnimplementedEchoServiceServer{}),
		"x":    targets["x"],
	})
	got = recvMerged(t, unimpl, testContext(t), 2)
	check("none", 0, codes.Unimplemented)
	check("x", 2, codes.OK)
}

func TestFanOutStreamTargetTimeout(t *testing.T) {
	c := newFanOut(t, startTargets(t, &fanServer{name: "a"}, &fanServer{name: "held", hold: true}, &fanServer{name: "b"}),
		fanout.TargetTimeout(300*time.Millisecond))
	start := time.Now()
	got := recvMerged(t, c, testContext(t), 3)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	for _, name := range []string{"a", "b"} {
		if len(got[name]) != 3 {
			t.Errorf("%s: %d entries, want 3", name, len(got[name]))
		}
	}
	held := got["held"]
	if len(held) != 4 || status.Code(held[3].Err) != codes.DeadlineExceeded {
		t.Errorf("held: %+v, want 3 replies and DeadlineExceeded", held)
	}
}

// TestFanOutStreamBackpressure checks that a reader that stops reading
// stops the targets: each may get ahead only by its transport's flow
// control window (16 MiB at most for grpc-go, 4 MiB for net/http's HTTP/2
// client), not by the length of its stream.
func TestFanOutStreamBackpressure(t *testing.T) {
	const count, size = 400, 64 << 10 // 25 MiB per target
	const window = 16 << 20
	servers := []*fanServer{{name: "grpc", payload: size}, {name: "connect", payload: size}}
	// Without compression, so that a message costs its size on the wire.
	mux := http.NewServeMux()
	mux.Handle(fanoutv1.NewEchoServiceHandler(servers[1]))
	url, client := rpctest.Start(t, mux, rpctest.H2C)
	c := newFanOut(t, map[string]fanoutv1.EchoServiceClient{
		"grpc":    startTarget(t, "grpc.Server", servers[0]),
		"connect": fanoutv1.NewEchoServiceClient(polyrpc.NewClientConn(client, url, connect.WithAcceptCompression("gzip", nil, nil))),
	})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	stream, err := c.ServerStream(ctx, &kindsv1.EchoRequest{Count: count})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	// Wait until the targets stop sending.
	var last int64 = -1
	for range 50 {
		time.Sleep(50 * time.Millisecond)
		n := servers[0].sent.Load() + servers[1].sent.Load()
		if n == last {
			break
		}
		last = n
	}
	for _, s := range servers {
		n := s.sent.Load()
		t.Logf("%s: %d messages sent before the reader resumed", s.name, n)
		if n*size > window+1<<20 {
			t.Errorf("%s sent %d of %d messages to a reader that stopped", s.name, n, count)
		}
	}
	n := 1
	for {
		m, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil || m.Err != nil {
			t.Fatalf("Recv: %v, %v", err, m.Err)
		}
		n++
	}
	if n != 2*count {
		t.Errorf("received %d messages, want %d", n, 2*count)
	}
}

// TestFanOutStreamCancel ends merged streams of held target streams by
// Close and by cancelling the context, and checks that the targets see
// their calls end and that no goroutine is left.
func TestFanOutStreamCancel(t *testing.T) {
	servers := []*fanServer{{name: "a", hold: true}, {name: "b", hold: true}, {name: "c", hold: true}, {name: "d", hold: true}}
	c := newFanOut(t, startTargets(t, servers...), fanout.Concurrency(3))
	// Connections are open before the baseline.
	for _, r := range c.Unary(testContext(t), &kindsv1.EchoRequest{}) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	baseline := runtime.NumGoroutine()
	for i := range 20 {
		ctx, cancel := context.WithCancel(testContext(t))
		stream, err := c.ServerStream(ctx, &kindsv1.EchoRequest{Count: 2})
		if err != nil {
			t.Fatal(err)
		}
		// Three of the four targets are open at once.
		seen := map[string]bool{}
		for len(seen) < 3 {
			m, err := stream.Recv()
			if err != nil || m.Err != nil {
				t.Fatalf("Recv: %v, %v", err, m.Err)
			}
			seen[m.Target] = true
		}
		if i%2 == 0 {
			if err := stream.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := stream.Recv(); !errors.Is(err, fanout.ErrClosed) {
				t.Errorf("Recv after Close: %v, want ErrClosed", err)
			}
			if err := stream.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		} else {
			cancel()
			if _, err := stream.Recv(); status.Code(err) != codes.Canceled {
				t.Errorf("Recv after cancel: %v, want Canceled", err)
			}
		}
		cancel()
	}
	// The cancellation reached every target.
	waitFor(t, "target streams to end", func() bool {
		var n int64
		for _, s := range servers {
			n += s.active.Load()
		}
		return n == 0
	})
	waitFor(t, "goroutines back to the baseline", func() bool {
		return runtime.NumGoroutine() <= baseline
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("timed out waiting for %s; goroutines:\n%s", what, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// nilPointerClient is a client type whose nil pointer is a non-nil
// interface value.
type nilPointerClient struct{ fanoutv1.EchoServiceClient }

func TestFanOutBadTargets(t *testing.T) {
	good := startTarget(t, "grpc.Server", &fanServer{name: "good"})
	for _, tc := range []struct {
		name    string
		targets map[string]fanoutv1.EchoServiceClient
		opts    []fanout.Option
		want    string
	}{
		{"nil map", nil, nil, "fanout: no targets: the map of targets is nil or empty"},
		{"empty map", map[string]fanoutv1.EchoServiceClient{}, nil, "fanout: no targets: the map of targets is nil or empty"},
		{"nil client", map[string]fanoutv1.EchoServiceClient{"a": good, "b": nil}, nil, `fanout: target "b" has a nil client`},
		{"nil pointer client", map[string]fanoutv1.EchoServiceClient{"p": (*nilPointerClient)(nil)}, nil, `fanout: target "p" has a nil client`},
		{"empty name", map[string]fanoutv1.EchoServiceClient{"": good}, nil, "fanout: a target has an empty name"},
		{"negative limit", map[string]fanoutv1.EchoServiceClient{"a": good}, []fanout.Option{fanout.Concurrency(-1)}, "fanout: Concurrency(-1): the limit must be 0 (none) or more"},
		{"negative timeout", map[string]fanoutv1.EchoServiceClient{"a": good}, []fanout.Option{fanout.TargetTimeout(-time.Second)}, "fanout: TargetTimeout(-1s): the timeout must be 0 (none) or more"},
		{"nil option", map[string]fanoutv1.EchoServiceClient{"a": good}, []fanout.Option{nil}, "fanout: nil Option"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := fanoutv1.NewEchoServiceFanOutClient(tc.targets, tc.opts...)
			if err == nil || err.Error() != tc.want || c != nil {
				t.Errorf("got %v, %v; want nil, %q", c, err, tc.want)
			}
		})
	}
	// The client-streaming-only service has a fan-out client without
	// methods, with the same checks.
	if _, err := fanoutv1.NewUploadServiceFanOutClient(nil); err == nil {
		t.Error("NewUploadServiceFanOutClient(nil) did not fail")
	}
}

func TestFanOutBadCallOptions(t *testing.T) {
	s := &fanServer{name: "a"}
	targets := startTargets(t, s)
	c := newFanOut(t, targets)
	// A change to the map after the construction is not seen.
	targets["b"] = nil
	var md metadata.MD
	for _, tc := range []struct {
		opt  grpc.CallOption
		want string
	}{
		{grpc.Header(&md), "fanout: the grpc.Header call option would be written by every target at once; use Result.Header"},
		{grpc.Trailer(&md), "fanout: the grpc.Trailer call option would be written by every target at once; use Result.Trailer"},
		{grpc.Peer(nil), "fanout: the grpc.Peer call option would be written by every target at once"},
		{nil, "fanout: nil grpc.CallOption"},
	} {
		results := c.Unary(testContext(t), &kindsv1.EchoRequest{}, grpc.WaitForReady(true), tc.opt)
		if len(results) != 1 || results[0].Target != "a" || results[0].Err == nil || results[0].Err.Error() != tc.want {
			t.Errorf("Unary: %+v, want the error %q", results, tc.want)
		}
		if stream, err := c.ServerStream(testContext(t), &kindsv1.EchoRequest{}, tc.opt); err == nil || err.Error() != tc.want || stream != nil {
			t.Errorf("ServerStream: %v, %v; want the error %q", stream, err, tc.want)
		}
	}
	if s.sent.Load() != 0 || s.active.Load() != 0 {
		t.Error("a refused call reached the target")
	}
	// Other options go to every call.
	results := c.Unary(testContext(t), &kindsv1.EchoRequest{Message: "m"}, grpc.WaitForReady(true), grpc.MaxCallRecvMsgSize(4))
	if len(results) != 1 || status.Code(results[0].Err) != codes.ResourceExhausted {
		t.Errorf("with a 4-byte receive limit: %+v, want ResourceExhausted", results)
	}
}

// A client made with a nil connection panics when called: its target fails
// with Internal, and the others answer.
func TestFanOutPanickingClient(t *testing.T) {
	targets := startTargets(t, &fanServer{name: "a"})
	targets["nil-conn"] = fanoutv1.NewEchoServiceClient(nil)
	c := newFanOut(t, targets)
	results := c.Unary(testContext(t), &kindsv1.EchoRequest{Message: "x"})
	if len(results) != 2 || results[0].Err != nil || status.Code(results[1].Err) != codes.Internal ||
		!strings.Contains(results[1].Err.Error(), `fanout: the client of target "nil-conn" panicked: `) {
		t.Errorf("results %+v", results)
	}
	got := recvMerged(t, c, testContext(t), 2)
	if len(got["a"]) != 2 || len(got["nil-conn"]) != 1 || status.Code(got["nil-conn"][0].Err) != codes.Internal {
		t.Errorf("stream entries %+v", got)
	}
}

// A target that is down, and one whose server stops mid-stream, fail with
// Unavailable; the others answer to the end.
func TestFanOutTargetDown(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := lis.Addr().String()
	lis.Close()
	conn, err := grpc.NewClient("passthrough:///"+down, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	// "dies" sends its messages and holds its stream until its server stops.
	lis, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dying := grpc.NewServer()
	fanoutv1.RegisterEchoServiceServer(dying, &fanServer{name: "dies", hold: true})
	go dying.Serve(lis)
	defer dying.Stop()
	dyingConn, err := grpc.NewClient("passthrough:///"+lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer dyingConn.Close()

	targets := startTargets(t, &fanServer{name: "a", delay: 20 * time.Millisecond}, &fanServer{name: "b", delay: 20 * time.Millisecond})
	targets["down"] = fanoutv1.NewEchoServiceClient(conn)
	targets["dies"] = fanoutv1.NewEchoServiceClient(dyingConn)
	c := newFanOut(t, targets)

	for _, r := range c.Unary(testContext(t), &kindsv1.EchoRequest{Message: "x"}) {
		want := codes.OK
		if r.Target == "down" {
			want = codes.Unavailable
		}
		if status.Code(r.Err) != want {
			t.Errorf("%s: %v, want %v", r.Target, r.Err, want)
		}
	}

	stream, err := c.ServerStream(testContext(t), &kindsv1.EchoRequest{Count: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	got := map[string][]fanout.Message[*kindsv1.EchoResponse]{}
	for {
		m, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[m.Target] = append(got[m.Target], m)
		if m.Target == "dies" && len(got["dies"]) == 5 {
			dying.Stop()
		}
	}
	for name, want := range map[string]int{"a": 5, "b": 5, "down": 1, "dies": 6} {
		if len(got[name]) != want {
			t.Errorf("%s: %d entries, want %d", name, len(got[name]), want)
		}
	}
	for _, name := range []string{"down", "dies"} {
		if msgs := got[name]; len(msgs) > 0 && status.Code(msgs[len(msgs)-1].Err) != codes.Unavailable {
			t.Errorf("%s: last entry %+v, want Unavailable", name, msgs[len(msgs)-1])
		}
	}
}
