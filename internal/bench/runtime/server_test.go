package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/polyrpc/polyrpc"
	benchv1 "github.com/polyrpc/polyrpc/internal/bench/runtime/gen/polyrpc/bench/v1"
)

// serverPayloads are the messages of BenchmarkServer: about 100 bytes
// encoded, and 16 KiB of body.
var serverPayloads = []struct {
	name    string
	payload func() *benchv1.Payload
}{
	{"100B", func() *benchv1.Payload {
		return &benchv1.Payload{Id: 42, Name: "bench", Tags: []string{"a", "b"}, Body: bytes.Repeat([]byte{'x'}, 80)}
	}},
	{"16KiB", func() *benchv1.Payload {
		return &benchv1.Payload{Id: 42, Name: "bench", Body: bytes.Repeat([]byte{'x'}, 16<<10)}
	}},
}

// serverSetups start a server of grpcImpl on loopback TCP and return a
// grpc-go client connected to it.
var serverSetups = []struct {
	impl  string
	start func(tb testing.TB) benchv1.BenchServiceClient
}{
	{"grpc-go", func(tb testing.TB) benchv1.BenchServiceClient {
		lis := listen(tb)
		srv := grpc.NewServer()
		benchv1.RegisterBenchServiceServer(srv, grpcImpl{})
		go func() { _ = srv.Serve(lis) }()
		tb.Cleanup(srv.Stop)
		return dial(tb, lis.Addr().String())
	}},
	// polyrpc.Server as the README serves it: Serve, where grpc-go
	// clients' connections take grpc-go's transport.
	{"polyrpc", func(tb testing.TB) benchv1.BenchServiceClient {
		lis := listen(tb)
		s := polyrpc.NewServer()
		benchv1.RegisterBenchServiceServer(s, grpcImpl{})
		go func() { _ = s.Serve(lis) }()
		tb.Cleanup(s.Stop)
		return dial(tb, lis.Addr().String())
	}},
	// polyrpc.Server as an http.Handler of net/http: every connection
	// through net/http's HTTP/2 server and connect-go.
	{"polyrpc-nethttp", func(tb testing.TB) benchv1.BenchServiceClient {
		lis := listen(tb)
		s := polyrpc.NewServer()
		benchv1.RegisterBenchServiceServer(s, grpcImpl{})
		var protocols http.Protocols
		protocols.SetHTTP1(true)
		protocols.SetUnencryptedHTTP2(true)
		srv := &http.Server{Handler: s, Protocols: &protocols}
		go func() { _ = srv.Serve(lis) }()
		tb.Cleanup(func() { _ = srv.Close() })
		return dial(tb, lis.Addr().String())
	}},
}

func listen(tb testing.TB) net.Listener {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return lis
}

func dial(tb testing.TB, addr string) benchv1.BenchServiceClient {
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cc.Close() })
	return benchv1.NewBenchServiceClient(cc)
}

// A workload prepares operations with client c and message p (warming up
// the connection and streams) and returns run, which performs n
// operations, and end, which ends what the workload opened.
type workload func(c benchv1.BenchServiceClient, p *benchv1.Payload) (run func(n int) error, end func() error, err error)

// serverKinds are the workloads of BenchmarkServer; unit names the
// operations for the operations-per-second figure.
var serverKinds = []struct {
	name, unit string
	start      workload
}{
	{"unary-c1", "calls/s", unaryCallers(1)},
	{"unary-c64", "calls/s", unaryCallers(64)},
	{"server-stream", "msgs/s", serverStream},
	{"bidi", "round-trips/s", pingPong},
}

func noEnd() error { return nil }

// unaryCallers makes unary calls from n goroutines at once.
func unaryCallers(callers int) workload {
	return func(c benchv1.BenchServiceClient, p *benchv1.Payload) (func(int) error, func() error, error) {
		ctx := context.Background()
		req := &benchv1.EchoRequest{Payload: p}
		call := func() error {
			res, err := c.Echo(ctx, req)
			if err != nil {
				return err
			}
			return checkEcho(res, p)
		}
		// Warm up: the connection, and as many streams as callers.
		if err := parallel(callers, callers, call); err != nil {
			return nil, nil, err
		}
		return func(n int) error { return parallel(callers, n, call) }, noEnd, nil
	}
}

// parallel runs call total times from n goroutines and returns the first
// error.
func parallel(n, total int, call func() error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for next.Add(1) <= int64(total) {
				if err := call(); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// serverStream receives messages, in calls of at most 1000.
func serverStream(c benchv1.BenchServiceClient, p *benchv1.Payload) (func(int) error, func() error, error) {
	const perCall = 1000
	ctx := context.Background()
	list := func(n int) error {
		stream, err := c.List(ctx, &benchv1.ListRequest{Count: int32(n), Template: p})
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
	if err := list(10); err != nil {
		return nil, nil, err
	}
	run := func(n int) error {
		for left := n; left > 0; left -= perCall {
			if err := list(min(left, perCall)); err != nil {
				return err
			}
		}
		return nil
	}
	return run, noEnd, nil
}

// pingPong makes round trips on one bidirectional stream.
func pingPong(c benchv1.BenchServiceClient, p *benchv1.Payload) (func(int) error, func() error, error) {
	stream, err := c.Chat(context.Background())
	if err != nil {
		return nil, nil, err
	}
	req := &benchv1.EchoRequest{Payload: p}
	round := func() error {
		if err := stream.Send(req); err != nil {
			return err
		}
		res, err := stream.Recv()
		if err != nil {
			return err
		}
		return checkEcho(res, p)
	}
	if err := round(); err != nil {
		return nil, nil, err
	}
	run := func(n int) error {
		for range n {
			if err := round(); err != nil {
				return err
			}
		}
		return nil
	}
	end := func() error {
		if err := stream.CloseSend(); err != nil {
			return err
		}
		if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
			return fmt.Errorf("end of stream: %v", err)
		}
		return nil
	}
	return run, end, nil
}

// measure runs b.N operations of workload w and reports, besides the
// time per operation, the operations per second as unit and the CPU time
// of the whole process (client, server, Go runtime) per operation as
// cpu-ns/op.
func measure(b *testing.B, w workload, unit string, c benchv1.BenchServiceClient, p *benchv1.Payload) {
	run, end, err := w(c, p)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := cpuTime()
	b.ResetTimer()
	start := time.Now()
	if err := run(b.N); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), unit)
	if err := end(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkServer compares polyrpc.Server with grpc.Server for grpc-go
// clients. The servers are the innermost level, so that the two runs
// compared follow one another and meet the same load.
func BenchmarkServer(b *testing.B) {
	for _, k := range serverKinds {
		b.Run("kind="+k.name, func(b *testing.B) {
			for _, size := range serverPayloads {
				b.Run("size="+size.name, func(b *testing.B) {
					for _, s := range serverSetups {
						b.Run("impl="+s.impl, func(b *testing.B) {
							measure(b, k.start, k.unit, s.start(b), size.payload())
						})
					}
				})
			}
		})
	}
}

// TestServerSetups runs every workload of BenchmarkServer a few times on
// both servers, so that a broken setup fails go test.
func TestServerSetups(t *testing.T) {
	for _, s := range serverSetups {
		c := s.start(t)
		for _, k := range serverKinds {
			for _, size := range serverPayloads {
				run, end, err := k.start(c, size.payload())
				if err == nil {
					err = run(1500) // more than one server-streaming call
				}
				if err == nil {
					err = end()
				}
				if err != nil {
					t.Errorf("%s/%s/%s: %v", s.impl, k.name, size.name, err)
				}
			}
		}
	}
}
