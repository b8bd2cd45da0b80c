package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/bufbuild/protocompile"
	"github.com/quic-go/quic-go/http3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/polyrpc/polyrpc"
)

// backend is a grpc.Server serving grpc.testing.TestService under a name:
// its answers say who served them and which request metadata they saw.
type backend struct {
	testpb.UnimplementedTestServiceServer
	name string
	addr string

	mu     sync.Mutex
	calls  int
	active atomic.Int32 // FullDuplexCall streams under way
}

func startBackend(t *testing.T, name string) *backend {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{name: name, addr: lis.Addr().String()}
	gs := grpc.NewServer()
	testpb.RegisterTestServiceServer(gs, b)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	return b
}

func (b *backend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

// answer sets the headers and trailers every call gets: x-served-by, a
// header the gateway may drop (x-internal), and the request metadata keys
// seen (x-seen, sorted).
func (b *backend) answer(ctx context.Context) {
	b.mu.Lock()
	b.calls++
	b.mu.Unlock()
	md, _ := metadata.FromIncomingContext(ctx)
	var keys []string
	for k := range md {
		// Leave out what the transport of the gateway's own hop sets.
		if !strings.HasPrefix(k, ":") && !strings.HasPrefix(k, "grpc-") && k != "content-type" && k != "user-agent" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	_ = grpc.SetHeader(ctx, metadata.Pairs("x-served-by", b.name, "x-internal", "secret"))
	grpc.SetTrailer(ctx, metadata.Pairs("x-seen", strings.Join(keys, ",")))
}

func (b *backend) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	b.answer(ctx)
	if s := req.GetResponseStatus(); s != nil {
		return nil, status.Error(codes.Code(s.GetCode()), s.GetMessage())
	}
	return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: []byte(b.name)}}, nil
}

func (b *backend) StreamingOutputCall(req *testpb.StreamingOutputCallRequest, stream testpb.TestService_StreamingOutputCallServer) error {
	b.answer(stream.Context())
	for range req.GetResponseParameters() {
		if err := stream.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: []byte(b.name)}}); err != nil {
			return err
		}
	}
	return nil
}

func (b *backend) FullDuplexCall(stream testpb.TestService_FullDuplexCallServer) error {
	b.answer(stream.Context())
	b.active.Add(1)
	defer b.active.Add(-1)
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		body := append([]byte(b.name+":"), req.GetPayload().GetBody()...)
		if err := stream.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: body}}); err != nil {
			return err
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the gateway's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// gw is an rpcproxy run in-process.
type gw struct {
	addr    string
	dir     string
	stderr  *syncBuffer
	cancel  context.CancelFunc // SIGTERM
	hard    context.CancelFunc // a second SIGTERM
	done    chan error
	stopped bool
}

// startGateway runs rpcproxy with the config (listen is added) until the
// test ends; the config may name files in dir as {{dir}}.
func startGateway(t *testing.T, config string) *gw {
	t.Helper()
	dir := t.TempDir()
	config = "listen: 127.0.0.1:0\n" + strings.ReplaceAll(config, "{{dir}}", dir)
	path := filepath.Join(dir, "rpcproxy.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	hard, hardCancel := context.WithCancel(context.Background())
	g := &gw{dir: dir, stderr: &syncBuffer{}, cancel: cancel, hard: hardCancel, done: make(chan error, 1)}
	ready := make(chan net.Addr, 1)
	go func() {
		g.done <- run(ctx, hard, []string{"-config", path}, io.Discard, g.stderr, func(a net.Addr) { ready <- a })
	}()
	select {
	case a := <-ready:
		g.addr = a.String()
	case err := <-g.done:
		t.Fatalf("rpcproxy: %v\n%s", err, g.stderr)
	}
	t.Cleanup(func() {
		if !g.stopped {
			hardCancel()
			cancel()
			<-g.done
		}
	})
	return g
}

// stop sends the gateway its SIGTERM and waits for run to return.
func (g *gw) stop(t *testing.T) error {
	t.Helper()
	g.cancel()
	select {
	case err := <-g.done:
		g.stopped = true
		return err
	case <-time.After(20 * time.Second):
		t.Fatalf("rpcproxy did not stop:\n%s", g.stderr)
	}
	return nil
}

// clients returns a TestService client per protocol: Connect, gRPC-Web
// (both with polyrpc.NewClientConn over h2c) and gRPC (grpc-go).
func (g *gw) clients(t *testing.T) map[string]testpb.TestServiceClient {
	t.Helper()
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: protocols}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	return map[string]testpb.TestServiceClient{
		"connect": testpb.NewTestServiceClient(polyrpc.NewClientConn(hc, "http://"+g.addr)),
		"grpcweb": testpb.NewTestServiceClient(polyrpc.NewClientConn(hc, "http://"+g.addr, connect.WithGRPCWeb())),
		"grpc":    testpb.NewTestServiceClient(g.grpcConn(t)),
	}
}

func (g *gw) grpcConn(t *testing.T) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient("passthrough:///"+g.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

var protocolNames = []string{"connect", "grpcweb", "grpc"}

// TestRouting: the first route that matches a call picks its backend, by
// method prefix or by service; headers and trailers cross; the access log
// has a line per call.
func TestRouting(t *testing.T) {
	a, b := startBackend(t, "a"), startBackend(t, "b")
	g := startGateway(t, fmt.Sprintf(`
access_log: {{dir}}/access.log
backends:
  a: {target: "passthrough:///%s"}
  b: {target: "passthrough:///%s", balancer: round_robin}
routes:
  - prefix: /grpc.testing.TestService/Streaming
    backend: b
  - service: grpc.testing.TestService
    backend: a
`, a.addr, b.addr))
	for _, p := range protocolNames {
		c := g.clients(t)[p]
		var header, trailer metadata.MD
		resp, err := c.UnaryCall(t.Context(), &testpb.SimpleRequest{}, grpc.Header(&header), grpc.Trailer(&trailer))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if got := string(resp.GetPayload().GetBody()); got != "a" || header.Get("x-served-by")[0] != "a" {
			t.Errorf("%s: UnaryCall served by %q (header %v), want a", p, got, header)
		}
		stream, err := c.StreamingOutputCall(t.Context(), &testpb.StreamingOutputCallRequest{
			ResponseParameters: []*testpb.ResponseParameters{{}, {}},
		})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			m, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if string(m.GetPayload().GetBody()) != "b" {
				t.Errorf("%s: StreamingOutputCall served by %q, want b", p, m.GetPayload().GetBody())
			}
			n++
		}
		if n != 2 {
			t.Errorf("%s: %d messages, want 2", p, n)
		}
		// An application error crosses with its code and message.
		_, err = c.UnaryCall(t.Context(), &testpb.SimpleRequest{ResponseStatus: &testpb.EchoStatus{Code: int32(codes.FailedPrecondition), Message: "nope"}})
		if s := status.Convert(err); s.Code() != codes.FailedPrecondition || s.Message() != "nope" {
			t.Errorf("%s: error %v, want FailedPrecondition: nope", p, err)
		}
		// A service without a route.
		_, err = testpb.NewUnimplementedServiceClient(connOf(t, g, p)).UnimplementedCall(t.Context(), &testpb.Empty{})
		if status.Code(err) != codes.Unimplemented || !strings.Contains(err.Error(), "no route") {
			t.Errorf("%s: unrouted call: %v", p, err)
		}
	}
	if a.count() != 6 || b.count() != 3 {
		t.Errorf("backend calls: a %d, b %d; want 6 and 3", a.count(), b.count())
	}
	if err := g.stop(t); err != nil {
		t.Fatal(err)
	}
	log, err := os.ReadFile(filepath.Join(g.dir, "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(log)), "\n")
	if len(lines) != 12 {
		t.Fatalf("%d access log lines, want 12:\n%s", len(lines), log)
	}
	for _, want := range []string{
		"method=/grpc.testing.TestService/UnaryCall protocol=connect backend=a code=OK duration=",
		"method=/grpc.testing.TestService/StreamingOutputCall protocol=grpcweb backend=b code=OK duration=",
		"method=/grpc.testing.TestService/UnaryCall protocol=grpc backend=a code=FailedPrecondition duration=",
		"method=/grpc.testing.UnimplementedService/UnimplementedCall protocol=grpc backend=- code=Unimplemented duration=",
	} {
		if !strings.Contains(string(log), want) {
			t.Errorf("access log has no line with %q:\n%s", want, log)
		}
	}
	for _, l := range lines {
		if _, err := time.Parse("2006-01-02T15:04:05.000Z", strings.Fields(l)[0]); err != nil || !strings.Contains(l, " peer=127.0.0.1:") {
			t.Errorf("access log line %q: no time or peer", l)
		}
	}
}

// connOf returns the connection of the protocol's client, for other
// services.
func connOf(t *testing.T, g *gw, protocol string) grpc.ClientConnInterface {
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	hc := &http.Client{Transport: &http.Transport{Protocols: protocols}}
	switch protocol {
	case "connect":
		return polyrpc.NewClientConn(hc, "http://"+g.addr)
	case "grpcweb":
		return polyrpc.NewClientConn(hc, "http://"+g.addr, connect.WithGRPCWeb())
	}
	return g.grpcConn(t)
}

// entry is an answer of a fan-out call: its payload body and the
// ResponseMetadata at field 99.
type entry struct {
	body, hostname, error string
}

// parseEntries reads a merged fan-out reply of SimpleResponse: every
// field-1 entry (a Payload) with its field 99.
func parseEntries(t *testing.T, reply []byte) []entry {
	t.Helper()
	var out []entry
	for len(reply) > 0 {
		num, typ, n := protowire.ConsumeTag(reply)
		if n < 0 {
			t.Fatalf("bad reply: %v", protowire.ParseError(n))
		}
		reply = reply[n:]
		m := protowire.ConsumeFieldValue(num, typ, reply)
		if m < 0 {
			t.Fatalf("bad reply: %v", protowire.ParseError(m))
		}
		if num == 1 {
			e, _ := protowire.ConsumeBytes(reply)
			out = append(out, parseEntry(t, e))
		}
		reply = reply[m:]
	}
	return out
}

func parseEntry(t *testing.T, msg []byte) entry {
	t.Helper()
	var e entry
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 || typ != protowire.BytesType && typ != protowire.VarintType {
			t.Fatalf("bad entry %x", msg)
		}
		msg = msg[n:]
		m := protowire.ConsumeFieldValue(num, typ, msg)
		v, _ := protowire.ConsumeBytes(msg)
		switch num {
		case 2: // Payload.body
			e.body = string(v)
		case 99:
			for len(v) > 0 {
				fn, _, k := protowire.ConsumeTag(v)
				s, l := protowire.ConsumeBytes(v[k:])
				switch fn {
				case 1:
					e.hostname = string(s)
				case 2:
					e.error = string(s)
				}
				v = v[k+l:]
			}
		}
		msg = msg[m:]
	}
	return e
}

// TestFanOut: a fan-out route calls every member of its set, or those the
// select header names; unary replies are merged, each entry attributed at
// field 99; a backend that is down becomes an error entry; streamed
// answers are interleaved, each message attributed.
func TestFanOut(t *testing.T) {
	a, b := startBackend(t, "a"), startBackend(t, "b")
	down := closedAddr(t)
	g := startGateway(t, fmt.Sprintf(`
access_log: {{dir}}/access.log
backends:
  a: {target: "passthrough:///%s"}
  b: {target: "passthrough:///%s"}
  down: {target: "passthrough:///%s"}
routes:
  - service: grpc.testing.TestService
    fanout:
      backends: [a, b, down]
      select_header: nodes
      concurrency: 2
      timeout: 5s
`, a.addr, b.addr, down))
	hc := h2cClient(t)
	for _, p := range protocolNames {
		var opts []connect.ClientOption
		switch p {
		case "grpcweb":
			opts = append(opts, connect.WithGRPCWeb())
		case "grpc":
			opts = append(opts, connect.WithGRPC())
		}
		// Raw bytes, to see the entries as they are on the wire.
		raw := connect.NewClient[rawMessage, rawMessage](hc, "http://"+g.addr+testpb.TestService_UnaryCall_FullMethodName,
			append(opts, connect.WithCodec(rawCodec{}))...)
		resp, err := raw.CallUnary(t.Context(), connect.NewRequest(&rawMessage{}))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		got := parseEntries(t, resp.Msg.data)
		slices.SortFunc(got, func(x, y entry) int { return strings.Compare(x.hostname, y.hostname) })
		if len(got) != 3 || got[0] != (entry{body: "a", hostname: "a"}) || got[1] != (entry{body: "b", hostname: "b"}) ||
			got[2].hostname != "down" || !strings.Contains(got[2].error, "Unavailable") && !strings.Contains(got[2].error, "unavailable") {
			t.Errorf("%s: entries %+v", p, got)
		}

		req := connect.NewRequest(&rawMessage{})
		req.Header().Set("nodes", "b")
		resp, err = raw.CallUnary(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if got := parseEntries(t, resp.Msg.data); len(got) != 1 || got[0] != (entry{body: "b", hostname: "b"}) {
			t.Errorf("%s: nodes: b: entries %+v", p, got)
		}
		// The select header does not reach the backends.
		if seen := resp.Trailer().Get("x-seen"); strings.Contains(seen, "nodes") {
			t.Errorf("%s: the backend saw the select header: %q", p, seen)
		}

		req = connect.NewRequest(&rawMessage{})
		req.Header().Add("nodes", "a, c")
		_, err = raw.CallUnary(t.Context(), req)
		if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), `"c"`) {
			t.Errorf("%s: nodes: a, c: %v, want InvalidArgument naming c", p, err)
		}

		// Streamed: interleaved, every message attributed.
		c := g.clients(t)[p]
		stream, err := c.StreamingOutputCall(metadata.AppendToOutgoingContext(t.Context(), "nodes", "a,b"),
			&testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{{}, {}}})
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for {
			m, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			e := parseEntry(t, m.ProtoReflect().GetUnknown())
			if e.hostname != string(m.GetPayload().GetBody()) {
				t.Errorf("%s: message of %q attributed to %q", p, m.GetPayload().GetBody(), e.hostname)
			}
			count[e.hostname]++
		}
		if count["a"] != 2 || count["b"] != 2 || len(count) != 2 {
			t.Errorf("%s: streamed messages by backend: %v", p, count)
		}
	}
	if err := g.stop(t); err != nil {
		t.Fatal(err)
	}
	log, _ := os.ReadFile(filepath.Join(g.dir, "access.log"))
	if !strings.Contains(string(log), "backend=a,b,down code=OK") || !strings.Contains(string(log), "backend=b code=OK") {
		t.Errorf("access log:\n%s", log)
	}
}

// rawMessage and rawCodec send and receive a message's bytes as they are.
type rawMessage struct{ data []byte }

type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }
func (rawCodec) Marshal(v any) ([]byte, error) {
	return v.(*rawMessage).data, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	v.(*rawMessage).data = slices.Clone(data)
	return nil
}

func h2cClient(t *testing.T) *http.Client {
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: protocols}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// closedAddr returns an address nothing listens on.
func closedAddr(t *testing.T) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	return addr
}

// TestHeaderRules: request keys outside the forward list or on the drop
// list do not reach the backend, and dropped response keys do not come
// back.
func TestHeaderRules(t *testing.T) {
	a := startBackend(t, "a")
	g := startGateway(t, fmt.Sprintf(`
access_log: "off"
headers:
  request:
    forward: [authorization, "x-*"]
    drop: [x-secret]
  response:
    drop: [x-internal]
backends:
  a: {target: "passthrough:///%s"}
routes:
  - prefix: /
    backend: a
`, a.addr))
	for _, p := range protocolNames {
		ctx := metadata.AppendToOutgoingContext(t.Context(),
			"authorization", "Bearer t", "x-trace", "1", "x-secret", "s", "cookie", "c")
		var header, trailer metadata.MD
		if _, err := g.clients(t)[p].UnaryCall(ctx, &testpb.SimpleRequest{}, grpc.Header(&header), grpc.Trailer(&trailer)); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if seen := trailer.Get("x-seen"); len(seen) != 1 || seen[0] != "authorization,x-trace" {
			t.Errorf("%s: the backend saw %v, want authorization,x-trace", p, seen)
		}
		if header.Get("x-served-by")[0] != "a" || len(header.Get("x-internal")) != 0 {
			t.Errorf("%s: response header %v: want x-served-by and no x-internal", p, header)
		}
	}
}

// TestHealthReflectionDrain: the gateway serves the health and reflection
// services itself; on SIGTERM the health service says NOT_SERVING during
// the drain delay, a stream under way finishes, and run returns with no
// goroutine left behind.
func TestHealthReflectionDrain(t *testing.T) {
	a := startBackend(t, "a")
	before := runtime.NumGoroutine()
	g := startGateway(t, fmt.Sprintf(`
access_log: "off"
drain: {delay: 1s, timeout: 10s}
backends:
  a: {target: "passthrough:///%s"}
routes:
  - prefix: /
    backend: a
`, a.addr))
	cc := g.grpcConn(t)
	health := healthpb.NewHealthClient(cc)
	resp, err := health.Check(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health before the drain: %v %v", resp, err)
	}
	watch, err := health.Watch(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := watch.Recv(); err != nil || m.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("watch: %v %v", m, err)
	}

	// Reflection lists the gateway's own services, over Connect too.
	for _, conn := range []grpc.ClientConnInterface{cc, connOf(t, g, "connect")} {
		refl, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if err := refl.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
			t.Fatal(err)
		}
		r, err := refl.Recv()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range r.GetListServicesResponse().GetService() {
			names = append(names, s.GetName())
		}
		slices.Sort(names)
		want := []string{"grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"}
		if !slices.Equal(names, want) {
			t.Errorf("reflection lists %v, want %v", names, want)
		}
		_ = refl.CloseSend()
	}

	// A bidirectional stream through the gateway, under way at SIGTERM.
	duplex, err := testpb.NewTestServiceClient(cc).FullDuplexCall(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := duplex.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: []byte("1")}}); err != nil {
		t.Fatal(err)
	}
	if m, err := duplex.Recv(); err != nil || string(m.GetPayload().GetBody()) != "a:1" {
		t.Fatalf("duplex: %v %v", m, err)
	}

	stopped := make(chan error, 1)
	go func() { stopped <- g.stop(t) }()
	if m, err := watch.Recv(); err != nil || m.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("watch during the drain: %v %v, want NOT_SERVING", m, err)
	}
	resp, err = health.Check(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("health during the drain delay: %v %v, want NOT_SERVING", resp, err)
	}
	// The stream under way goes on until it ends.
	time.Sleep(1500 * time.Millisecond) // past the delay: the gateway takes no new calls
	if err := duplex.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: []byte("2")}}); err != nil {
		t.Fatal(err)
	}
	if m, err := duplex.Recv(); err != nil || string(m.GetPayload().GetBody()) != "a:2" {
		t.Fatalf("duplex during the drain: %v %v", m, err)
	}
	select {
	case err := <-stopped:
		t.Fatalf("rpcproxy stopped with a stream under way: %v", err)
	default:
	}
	_ = duplex.CloseSend()
	if _, err := duplex.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("duplex end: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(g.stderr.String(), "rpcproxy: draining") || !strings.Contains(g.stderr.String(), "rpcproxy: stopped") {
		t.Errorf("stderr:\n%s", g.stderr)
	}
	_ = cc.Close()
	waitGoroutines(t, before)
}

// TestDrainTimeout: a call that outlives the drain timeout is ended, and
// run returns.
func TestDrainTimeout(t *testing.T) {
	a := startBackend(t, "a")
	g := startGateway(t, fmt.Sprintf(`
access_log: "off"
drain: {timeout: 300ms}
backends:
  a: {target: "passthrough:///%s"}
routes:
  - prefix: /
    backend: a
`, a.addr))
	for _, p := range protocolNames {
		duplex, err := g.clients(t)[p].FullDuplexCall(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if err := duplex.Send(&testpb.StreamingOutputCallRequest{}); err != nil {
			t.Fatal(err)
		}
		if _, err := duplex.Recv(); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		defer func() {
			if _, err := duplex.Recv(); err == nil || errors.Is(err, io.EOF) {
				t.Errorf("%s: stream after the drain timeout: %v, want an error", p, err)
			}
		}()
	}
	start := time.Now()
	if err := g.stop(t); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 10*time.Second {
		t.Errorf("stopped in %s, want about 300ms", d)
	}
}

// TestBackendDown: a backend nothing listens on fails calls with
// Unavailable, on every protocol.
func TestBackendDown(t *testing.T) {
	g := startGateway(t, fmt.Sprintf(`
access_log: "off"
backends:
  a: {target: "passthrough:///%s"}
routes:
  - prefix: /
    backend: a
`, closedAddr(t)))
	for _, p := range protocolNames {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		_, err := g.clients(t)[p].UnaryCall(ctx, &testpb.SimpleRequest{})
		cancel()
		if status.Code(err) != codes.Unavailable {
			t.Errorf("%s: %v, want Unavailable", p, err)
		}
	}
}

// TestHostile: an oversized request is refused with ResourceExhausted
// before any backend sees it, and odd paths get Unimplemented.
func TestHostile(t *testing.T) {
	a := startBackend(t, "a")
	g := startGateway(t, fmt.Sprintf(`
access_log: "off"
limits: {max_recv_msg_size: 1KiB}
backends:
  a: {target: "passthrough:///%s"}
routes:
  - prefix: /
    backend: a
`, a.addr))
	big := &testpb.SimpleRequest{Payload: &testpb.Payload{Body: make([]byte, 4<<10)}}
	for _, p := range protocolNames {
		_, err := g.clients(t)[p].UnaryCall(t.Context(), big)
		if status.Code(err) != codes.ResourceExhausted {
			t.Errorf("%s: oversized request: %v, want ResourceExhausted", p, err)
		}
	}
	if n := a.count(); n != 0 {
		t.Errorf("the backend saw %d oversized calls", n)
	}
	hc := h2cClient(t)
	for _, path := range []string{"/", "/grpc.testing.TestService/", "/grpc.testing.TestService%2FUnaryCall", "/a/../grpc.testing.TestService/UnaryCall"} {
		res, err := hc.Post("http://"+g.addr+path, "application/proto", strings.NewReader(""))
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", path, res.StatusCode)
		}
	}
	if n := a.count(); n != 0 {
		t.Errorf("the backend saw %d calls to odd paths", n)
	}
	// A compressed bomb: 64 KiB of zeros in a small gzip body.
	var body bytes.Buffer
	zw := gzip.NewWriter(&body)
	_, _ = zw.Write(make([]byte, 64<<10))
	_ = zw.Close()
	req, _ := http.NewRequest(http.MethodPost, "http://"+g.addr+testpb.TestService_UnaryCall_FullMethodName, &body)
	req.Header.Set("Content-Type", "application/proto")
	req.Header.Set("Content-Encoding", "gzip")
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(out), "resource_exhausted") {
		t.Errorf("gzip bomb: %d %s, want 429 resource_exhausted", res.StatusCode, out)
	}
}

// TestCheckAndHelp: -check validates a config and says where it is
// wrong; -h prints the reference.
func TestCheckAndHelp(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(good, []byte("listen: :0\nbackends:\n  a: {target: dns:///a:1}\nroutes:\n  - {service: a.B, backend: a}\n"), 0o600)
	_ = os.WriteFile(bad, []byte("listen: :0\nbackends:\n  a: {target: dns:///a:1}\nroutes:\n  - {service: a.B, backend: b}\n"), 0o600)
	var out bytes.Buffer
	if err := run(t.Context(), t.Context(), []string{"-config", good, "-check"}, &out, io.Discard, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "good.yaml: ok: listen :0, 1 backend(s), 1 route(s)") {
		t.Errorf("-check output %q", out.String())
	}
	err := run(t.Context(), t.Context(), []string{"-config", bad, "-check"}, io.Discard, io.Discard, nil)
	if err == nil || !strings.HasPrefix(err.Error(), bad+":5:") || !strings.Contains(err.Error(), `no backend named "b"`) {
		t.Errorf("-check of a bad config: %v", err)
	}
	// A missing certificate is found by -check too.
	tlsBad := filepath.Join(dir, "tls.yaml")
	_ = os.WriteFile(tlsBad, []byte("listen: :0\ntls: {cert: none.crt, key: none.key}\nbackends:\n  a: {target: dns:///a:1}\nroutes:\n  - {service: a.B, backend: a}\n"), 0o600)
	if err := run(t.Context(), t.Context(), []string{"-config", tlsBad, "-check"}, io.Discard, io.Discard, nil); err == nil || !strings.Contains(err.Error(), "none.crt") {
		t.Errorf("-check with a missing certificate: %v", err)
	}
	// An access log that cannot be opened is an error, before serving.
	logBad := filepath.Join(dir, "log.yaml")
	_ = os.WriteFile(logBad, []byte("listen: :0\naccess_log: "+filepath.Join(dir, "no", "such", "dir.log")+"\nbackends:\n  a: {target: dns:///a:1}\nroutes:\n  - {service: a.B, backend: a}\n"), 0o600)
	if err := run(t.Context(), t.Context(), []string{"-config", logBad}, io.Discard, io.Discard, nil); err == nil || !strings.Contains(err.Error(), "access_log: open") {
		t.Errorf("an access log in a missing directory: %v", err)
	}
	// The example's config is valid.
	out.Reset()
	example := filepath.Join("..", "..", "examples", "gateway", "rpcproxy.yaml")
	if err := run(t.Context(), t.Context(), []string{"-config", example, "-check"}, &out, io.Discard, nil); err != nil || !strings.Contains(out.String(), ": ok: listen localhost:8080, 1 backend(s), 1 route(s)") {
		t.Errorf("-check %s: %v %s", example, err, out.String())
	}
	var help bytes.Buffer
	if err := run(t.Context(), t.Context(), []string{"-h"}, io.Discard, &help, nil); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	for _, want := range []string{"Usage:", "-check", "backends:", "fanout:", "select_header", "access_log"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("-h text lacks %q", want)
		}
	}
}

// waitGoroutines waits for the goroutines to come back to about n.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > n+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReflectionDescriptors: for a backend with reflection on, the gateway
// loads the descriptors of the services routed to it, which this program
// does not link, so that JSON callers are transcoded to and from the
// backend's protobuf.
func TestReflectionDescriptors(t *testing.T) {
	// A package of its own on every run: the loaded files stay registered.
	pkg := fmt.Sprintf("dyn%d.v1", time.Now().UnixNano())
	file := strings.ReplaceAll(pkg, ".", "/") + "/echo.proto"
	svc := pkg + ".Echo"
	comp := protocompile.Compiler{Resolver: &protocompile.SourceResolver{Accessor: protocompile.SourceAccessorFromMap(map[string]string{
		file: `syntax = "proto3";
package ` + pkg + `;
import "google/protobuf/timestamp.proto";
message SayRequest { string text = 1; google.protobuf.Timestamp at = 2; }
message SayResponse { string text = 1; string backend = 2; }
service Echo { rpc Say(SayRequest) returns (SayResponse); }
`,
	})}}
	comp.Resolver = protocompile.WithStandardImports(comp.Resolver)
	compiled, err := comp.Compile(t.Context(), file)
	if err != nil {
		t.Fatal(err)
	}
	fd := compiled[0]
	files := new(protoregistry.Files)
	if err := files.RegisterFile(timestamppb.File_google_protobuf_timestamp_proto); err != nil {
		t.Fatal(err)
	}
	if err := files.RegisterFile(fd); err != nil {
		t.Fatal(err)
	}
	in, out := fd.Messages().ByName("SayRequest"), fd.Messages().ByName("SayResponse")
	gs := grpc.NewServer()
	gs.RegisterService(&grpc.ServiceDesc{
		ServiceName: svc,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{MethodName: "Say", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			req := dynamicpb.NewMessage(in)
			if err := dec(req); err != nil {
				return nil, err
			}
			resp := dynamicpb.NewMessage(out)
			resp.Set(out.Fields().ByName("text"), req.Get(in.Fields().ByName("text")))
			resp.Set(out.Fields().ByName("backend"), protoreflect.ValueOfString("dyn"))
			return resp, nil
		}}},
	}, struct{}{})
	reflectionpb.RegisterServerReflectionServer(gs, reflection.NewServerV1(reflection.ServerOptions{Services: gs, DescriptorResolver: files}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)

	if _, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc)); err == nil {
		t.Fatalf("%s is linked in already", svc)
	}
	g := startGateway(t, fmt.Sprintf(`
access_log: "off"
backends:
  dyn: {target: "passthrough:///%s", reflection: true}
routes:
  - service: %s
    backend: dyn
`, lis.Addr(), svc))
	hc := h2cClient(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := hc.Post("http://"+g.addr+"/"+svc+"/Say", "application/json", strings.NewReader(`{"text":"hi","at":"2026-01-02T03:04:05Z"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if res.StatusCode == http.StatusOK {
			if got := strings.ReplaceAll(string(body), " ", ""); got != `{"text":"hi","backend":"dyn"}` {
				t.Errorf("JSON answer %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("JSON call: %d %s\n%s", res.StatusCode, body, g.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(g.stderr.String(), "backend dyn: 1 file(s) of descriptors through reflection") {
		t.Errorf("stderr:\n%s", g.stderr)
	}
}

// TestHTTPBackends: backends that speak Connect or gRPC-Web over
// HTTP/1.1 (polyrpc.NewClientConn) serve callers of every protocol.
func TestHTTPBackends(t *testing.T) {
	web := &backend{name: "web"}
	s := polyrpc.NewServer()
	testpb.RegisterTestServiceServer(s, web)
	hs := httptest.NewServer(s) // HTTP/1.1
	t.Cleanup(hs.Close)
	g := startGateway(t, fmt.Sprintf(`
access_log: "off"
backends:
  viaconnect: {protocol: connect, url: "%[1]s"}
  viagrpcweb: {protocol: grpcweb, url: "%[1]s"}
routes:
  - prefix: /grpc.testing.TestService/Unary
    backend: viaconnect
  - service: grpc.testing.TestService
    backend: viagrpcweb
`, hs.URL))
	for _, p := range protocolNames {
		c := g.clients(t)[p]
		var header metadata.MD
		resp, err := c.UnaryCall(t.Context(), &testpb.SimpleRequest{}, grpc.Header(&header))
		if err != nil || string(resp.GetPayload().GetBody()) != "web" || header.Get("x-served-by")[0] != "web" {
			t.Errorf("%s: UnaryCall: %v %v %v", p, resp, header, err)
		}
		stream, err := c.StreamingOutputCall(t.Context(), &testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{{}, {}, {}}})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			_, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			n++
		}
		if n != 3 {
			t.Errorf("%s: %d messages, want 3", p, n)
		}
		_, err = c.UnaryCall(t.Context(), &testpb.SimpleRequest{ResponseStatus: &testpb.EchoStatus{Code: int32(codes.NotFound), Message: "gone"}})
		if s := status.Convert(err); s.Code() != codes.NotFound || s.Message() != "gone" {
			t.Errorf("%s: error %v", p, err)
		}
	}
	if web.count() != 9 {
		t.Errorf("the backend saw %d calls, want 9", web.count())
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and localhost
// and its key as PEM files in dir, and returns their paths and a pool that
// trusts it.
func writeCert(t *testing.T, dir, name string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		DNSNames:              []string{"localhost", name},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLS: the gateway serves TLS from its cert and key files, HTTP/3
// too, and reaches a TLS backend that it verifies against a CA file, for
// callers of every protocol.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	gwCert, gwKey, gwPool := writeCert(t, dir, "gateway")
	beCert, beKey, _ := writeCert(t, dir, "backend.internal")
	creds, err := credentials.NewServerTLSFromFile(beCert, beKey)
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{name: "tls"}
	gs := grpc.NewServer(grpc.Creds(creds))
	testpb.RegisterTestServiceServer(gs, b)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)

	g := startGateway(t, fmt.Sprintf(`
access_log: "off"
tls: {cert: %q, key: %q}
http3: true
backends:
  tls:
    target: "passthrough:///%s"
    tls: {ca: %q, server_name: backend.internal}
routes:
  - prefix: /
    backend: tls
`, gwCert, gwKey, lis.Addr(), beCert))
	conf := &tls.Config{RootCAs: gwPool, MinVersion: tls.VersionTLS12}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: conf, ForceAttemptHTTP2: true}}
	t.Cleanup(hc.CloseIdleConnections)
	cc, err := grpc.NewClient("passthrough:///"+g.addr, grpc.WithTransportCredentials(credentials.NewTLS(conf)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	h3 := &http3.Transport{TLSClientConfig: conf}
	t.Cleanup(func() { _ = h3.Close() })
	for name, conn := range map[string]grpc.ClientConnInterface{
		"connect/h3": polyrpc.NewClientConn(&http.Client{Transport: h3}, "https://"+g.addr),
		"grpc/h3":    polyrpc.NewClientConn(&http.Client{Transport: h3}, "https://"+g.addr, connect.WithGRPC()),
		"connect":    polyrpc.NewClientConn(hc, "https://"+g.addr),
		"grpcweb":    polyrpc.NewClientConn(hc, "https://"+g.addr, connect.WithGRPCWeb()),
		"grpc":       cc,
	} {
		resp, err := testpb.NewTestServiceClient(conn).UnaryCall(t.Context(), &testpb.SimpleRequest{})
		if err != nil || string(resp.GetPayload().GetBody()) != "tls" {
			t.Errorf("%s: %v %v", name, resp, err)
		}
	}
	// Cleartext callers are not served.
	if _, err := h2cClient(t).Post("http://"+g.addr+testpb.TestService_UnaryCall_FullMethodName, "application/proto", nil); err == nil {
		t.Error("a cleartext call to the TLS gateway succeeded")
	}
}

// TestClientsVanish: streams whose callers go away mid-call end on the
// backend too, and the gateway's goroutines come back to where they were.
func TestClientsVanish(t *testing.T) {
	a := startBackend(t, "a")
	g := startGateway(t, fmt.Sprintf(`
access_log: "off"
backends:
  a: {target: "passthrough:///%s"}
routes:
  - prefix: /
    backend: a
`, a.addr))
	clients := g.clients(t)
	for _, p := range protocolNames { // warm up the connections
		if _, err := clients[p].UnaryCall(t.Context(), &testpb.SimpleRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()
	for _, p := range protocolNames {
		var cancels []context.CancelFunc
		for range 100 {
			ctx, cancel := context.WithCancel(t.Context())
			cancels = append(cancels, cancel)
			stream, err := clients[p].FullDuplexCall(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := stream.Send(&testpb.StreamingOutputCallRequest{}); err != nil {
				t.Fatal(err)
			}
			if _, err := stream.Recv(); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
		}
		if n := a.active.Load(); n != 100 {
			t.Errorf("%s: %d streams on the backend, want 100", p, n)
		}
		for _, cancel := range cancels {
			cancel()
		}
		deadline := time.Now().Add(10 * time.Second)
		for a.active.Load() != 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := a.active.Load(); n != 0 {
			t.Errorf("%s: %d streams still open on the backend after their callers left", p, n)
		}
	}
	waitGoroutines(t, before)
}

// TestSIGTERM runs the built binary and sends it SIGTERM: it drains and
// exits with status 0; -h exits with status 0 too.
func TestSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "rpcproxy")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "-h").CombinedOutput(); err != nil || !strings.Contains(string(out), "Usage:") {
		t.Errorf("rpcproxy -h: %v\n%s", err, out)
	}
	a := startBackend(t, "a")
	dir := t.TempDir()
	config := filepath.Join(dir, "rpcproxy.yaml")
	_ = os.WriteFile(config, []byte(fmt.Sprintf("listen: 127.0.0.1:0\naccess_log: stdout\nbackends:\n  a: {target: \"passthrough:///%s\"}\nroutes:\n  - {prefix: /, backend: a}\n", a.addr)), 0o600)
	cmd := exec.Command(bin, "-config", config)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout syncBuffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stderr)
	addr := ""
	for lines.Scan() {
		if a, ok := strings.CutPrefix(lines.Text(), "rpcproxy: serving on "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		_ = cmd.Process.Kill()
		t.Fatal("rpcproxy did not say where it serves")
	}
	g := &gw{addr: addr}
	if _, err := g.clients(t)["connect"].UnaryCall(t.Context(), &testpb.SimpleRequest{}); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for lines.Scan() {
		rest = append(rest, lines.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("rpcproxy after SIGTERM: %v", err)
	}
	if got := strings.Join(rest, "\n"); !strings.Contains(got, "rpcproxy: draining") || !strings.Contains(got, "rpcproxy: stopped") {
		t.Errorf("stderr after SIGTERM:\n%s", got)
	}
	if !strings.Contains(stdout.String(), "method=/grpc.testing.TestService/UnaryCall protocol=connect backend=a code=OK") {
		t.Errorf("access log on stdout:\n%s", stdout.String())
	}
}

// TestRouteTimeout: a route's timeout ends a call that outlives it with
// DeadlineExceeded, and the backend's side of the call ends too.
func TestRouteTimeout(t *testing.T) {
	a := startBackend(t, "a")
	g := startGateway(t, fmt.Sprintf(`
access_log: "off"
backends:
  a: {target: "passthrough:///%s"}
routes:
  - prefix: /
    backend: a
    timeout: 300ms
`, a.addr))
	for _, p := range protocolNames {
		start := time.Now()
		stream, err := g.clients(t)[p].FullDuplexCall(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(&testpb.StreamingOutputCallRequest{}); err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Recv(); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		_, err = stream.Recv() // the backend waits for more
		if status.Code(err) != codes.DeadlineExceeded || time.Since(start) > 5*time.Second {
			t.Errorf("%s: %v after %s, want DeadlineExceeded after 300ms", p, err, time.Since(start))
		}
		deadline := time.Now().Add(5 * time.Second)
		for a.active.Load() != 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := a.active.Load(); n != 0 {
			t.Errorf("%s: %d streams still open on the backend", p, n)
		}
	}
}

// TestBalancer: a target that resolves to two addresses is balanced by
// grpc-go's policy from the config: round_robin spreads the calls,
// pick_first sends them all to one address.
func TestBalancer(t *testing.T) {
	a, b := startBackend(t, "a"), startBackend(t, "b")
	scheme := fmt.Sprintf("rpcproxytest%d", time.Now().UnixNano())
	r := manual.NewBuilderWithScheme(scheme)
	r.InitialState(resolver.State{Addresses: []resolver.Address{{Addr: a.addr}, {Addr: b.addr}}})
	resolver.Register(r)
	g := startGateway(t, fmt.Sprintf(`
access_log: "off"
backends:
  rr: {target: "%[1]s:///two", balancer: round_robin}
  pf: {target: "%[1]s:///two"}
routes:
  - prefix: /grpc.testing.TestService/Unary
    backend: rr
  - prefix: /grpc.testing.TestService/
    backend: pf
`, scheme))
	c := g.clients(t)["grpc"]
	served := map[string]int{}
	for range 20 {
		resp, err := c.UnaryCall(t.Context(), &testpb.SimpleRequest{})
		if err != nil {
			t.Fatal(err)
		}
		served[string(resp.GetPayload().GetBody())]++
	}
	if served["a"] < 5 || served["b"] < 5 {
		t.Errorf("round_robin: calls served %v, want both backends", served)
	}
	before := a.count() + b.count()
	for range 10 {
		stream, err := c.StreamingOutputCall(t.Context(), &testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{{}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	if a.count()+b.count()-before != 10 || a.count() != 10+served["a"] && b.count() != 10+served["b"] {
		t.Errorf("pick_first: a %d, b %d calls after %v: want the 10 on one backend", a.count(), b.count(), served)
	}
}
