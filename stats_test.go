package polyrpc_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/internal/rpctest"
)

// event is a stats event with what the tests compare of it.
type event struct {
	Kind         string
	Client       bool
	Method       string `json:",omitempty"`
	ClientStream bool   `json:",omitempty"`
	ServerStream bool   `json:",omitempty"`
	Compression  string `json:",omitempty"`
	// Meta is the x-user value of InHeader (server) and OutHeader (client),
	// x-header of InHeader (client) and OutHeader (server), x-trailer of
	// trailers.
	Meta                                 string `json:",omitempty"`
	Length, CompressedLength, WireLength int
	Code                                 codes.Code
	// Tagged tells that the event's context came from TagRPC.
	Tagged bool
}

type tagKey struct{}

// recorder is a stats.Handler that records the events of each call.
type recorder struct {
	name string // tags contexts, so that two recorders can be told apart

	mu     sync.Mutex
	calls  map[string][]event // by method
	tagMD  map[string]string  // x-user in the incoming metadata TagRPC saw
	tagCtx []string
}

func newRecorder(name string) *recorder {
	return &recorder{name: name, calls: map[string][]event{}, tagMD: map[string]string{}}
}

func (r *recorder) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		r.tagMD[info.FullMethodName] = strings.Join(md.Get("x-user"), ",")
	}
	// Which recorders tagged the context before this one.
	tags, _ := ctx.Value(tagKey{}).([]string)
	r.tagCtx = append(r.tagCtx, strings.Join(tags, ","))
	tags = append(slices.Clone(tags), r.name)
	return context.WithValue(ctx, tagKey{}, tags)
}

func (r *recorder) HandleRPC(ctx context.Context, s stats.RPCStats) {
	tags, _ := ctx.Value(tagKey{}).([]string)
	method, _ := ctx.Value(methodKey{}).(string)
	e := event{Client: s.IsClient(), Tagged: slices.Contains(tags, r.name)}
	switch s := s.(type) {
	case *stats.Begin:
		e.Kind, e.ClientStream, e.ServerStream = "Begin", s.IsClientStream, s.IsServerStream
		if s.BeginTime.IsZero() {
			e.Kind += " without time"
		}
	case *stats.InHeader:
		e.Kind, e.Method, e.Compression = "InHeader", s.FullMethod, s.Compression
		e.Meta = strings.Join(s.Header.Get("x-user"), ",")
		if s.Client {
			e.Meta = strings.Join(s.Header.Get("x-header"), ",")
		} else if s.RemoteAddr == nil || s.LocalAddr == nil {
			e.Kind += " without addresses"
		}
	case *stats.InPayload:
		e.Kind, e.Length, e.CompressedLength, e.WireLength = "InPayload", s.Length, s.CompressedLength, s.WireLength
		if s.Payload == nil || s.RecvTime.IsZero() {
			e.Kind += " without payload"
		}
		e.Kind += checkCompressed(s.Payload, s.Length, s.CompressedLength)
	case *stats.InTrailer:
		e.Kind, e.Meta = "InTrailer", strings.Join(s.Trailer.Get("x-trailer"), ",")
	case *stats.OutHeader:
		e.Kind, e.Method, e.Compression = "OutHeader", s.FullMethod, s.Compression
		e.Meta = strings.Join(s.Header.Get("x-header"), ",")
		if s.Client {
			e.Meta = strings.Join(s.Header.Get("x-user"), ",")
		}
	case *stats.OutPayload:
		e.Kind, e.Length, e.CompressedLength, e.WireLength = "OutPayload", s.Length, s.CompressedLength, s.WireLength
		if s.Payload == nil || s.SentTime.IsZero() {
			e.Kind += " without payload"
		}
		e.Kind += checkCompressed(s.Payload, s.Length, s.CompressedLength)
	case *stats.OutTrailer:
		e.Kind, e.Meta = "OutTrailer", strings.Join(s.Trailer.Get("x-trailer"), ",")
	case *stats.End:
		e.Kind, e.Code = "End", status.Code(s.Error)
		if s.EndTime.Before(s.BeginTime) || s.BeginTime.IsZero() {
			e.Kind += " with bad times"
		}
	default:
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[method] = append(r.calls[method], e)
}

// checkCompressed checks the lengths of a message against the message: its
// binary encoding, and, when it was compressed, the length of that encoding
// compressed with gzip, which both grpc-go and connect-go compress with
// compress/gzip at its default level.
func checkCompressed(payload any, length, compressedLength int) string {
	msg, ok := payload.(proto.Message)
	if !ok {
		return " with a payload that is not a message"
	}
	data, err := proto.Marshal(msg)
	if err != nil || len(data) != length {
		return fmt.Sprintf(" with length %d for a message of %d bytes", length, len(data))
	}
	if compressedLength == length {
		return ""
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(data)
	_ = zw.Close()
	if buf.Len() != compressedLength {
		return fmt.Sprintf(" with compressed length %d, gzip makes %d", compressedLength, buf.Len())
	}
	return ""
}

func (*recorder) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (*recorder) HandleConn(context.Context, stats.ConnStats)                       {}

func (r *recorder) events(method string) []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls[method])
}

// methodKey names the call in the context of the test's calls: a recorder
// files events by it. Incoming contexts carry it as the "x-call" header.
type methodKey struct{}

// methodTagger is the first stats handler: it copies x-call into methodKey.
type methodTagger struct{}

func (methodTagger) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	if md, ok := metadata.FromIncomingContext(ctx); ok && len(md.Get("x-call")) > 0 {
		return context.WithValue(ctx, methodKey{}, md.Get("x-call")[0])
	}
	if md, ok := metadata.FromOutgoingContext(ctx); ok && len(md.Get("x-call")) > 0 {
		return context.WithValue(ctx, methodKey{}, md.Get("x-call")[0])
	}
	return ctx
}
func (methodTagger) HandleRPC(context.Context, stats.RPCStats)                         {}
func (methodTagger) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (methodTagger) HandleConn(context.Context, stats.ConnStats)                       {}

// statsCall is one of the calls the stats tests make.
type statsCall struct {
	name string
	run  func(ctx context.Context, c testpb.TestServiceClient) error
}

var statsCalls = []statsCall{
	{"unary", func(ctx context.Context, c testpb.TestServiceClient) error {
		_, err := c.UnaryCall(ctx, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("hello, world")}})
		return err
	}},
	{"unary-not-found", func(ctx context.Context, c testpb.TestServiceClient) error {
		_, err := c.UnaryCall(ctx, &testpb.SimpleRequest{ResponseStatus: &testpb.EchoStatus{Code: int32(codes.NotFound), Message: "no such thing"}})
		if status.Code(err) != codes.NotFound {
			return fmt.Errorf("got %v, want NotFound", err)
		}
		return nil
	}},
	{"unary-internal", func(ctx context.Context, c testpb.TestServiceClient) error {
		_, err := c.UnaryCall(ctx, &testpb.SimpleRequest{ResponseStatus: &testpb.EchoStatus{Code: int32(codes.Internal), Message: "broken"}})
		if status.Code(err) != codes.Internal {
			return fmt.Errorf("got %v, want Internal", err)
		}
		return nil
	}},
	{"server-stream", func(ctx context.Context, c testpb.TestServiceClient) error {
		stream, err := c.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{ResponseParameters: sizes(3, 300)})
		if err != nil {
			return err
		}
		for {
			if _, err := stream.Recv(); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
		}
	}},
	{"client-stream", func(ctx context.Context, c testpb.TestServiceClient) error {
		stream, err := c.StreamingInputCall(ctx)
		if err != nil {
			return err
		}
		for _, n := range []int{1, 20, 300} {
			if err := stream.Send(&testpb.StreamingInputCallRequest{Payload: &testpb.Payload{Body: make([]byte, n)}}); err != nil {
				return err
			}
		}
		_, err = stream.CloseAndRecv()
		return err
	}},
	{"bidi", func(ctx context.Context, c testpb.TestServiceClient) error {
		stream, err := c.FullDuplexCall(ctx)
		if err != nil {
			return err
		}
		for _, n := range []int32{5, 50} {
			if err := stream.Send(&testpb.StreamingOutputCallRequest{ResponseParameters: sizes(n)}); err != nil {
				return err
			}
			if _, err := stream.Recv(); err != nil {
				return err
			}
		}
		if err := stream.CloseSend(); err != nil {
			return err
		}
		if _, err := stream.Recv(); err != io.EOF {
			return fmt.Errorf("got %v, want io.EOF", err)
		}
		return nil
	}},
}

// runStatsCalls makes every call of statsCalls, each with its name in the
// x-call header and "x-user: alice".
func runStatsCalls(t *testing.T, c testpb.TestServiceClient) {
	t.Helper()
	for _, call := range statsCalls {
		ctx := metadata.AppendToOutgoingContext(t.Context(), "x-call", call.name, "x-user", "alice")
		if err := call.run(ctx, c); err != nil {
			t.Fatalf("%s: %v", call.name, err)
		}
	}
}

// startNative serves the test service on a grpc.Server on loopback.
func startNative(t *testing.T, opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(opts...)
	testpb.RegisterTestServiceServer(gs, testService{})
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	return "http://" + lis.Addr().String()
}

// dialGRPCWith returns a grpc-go client connection to an h2c server.
func dialGRPCWith(t *testing.T, base string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	cc, err := grpc.NewClient("passthrough:///"+u.Host, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

func h2cClient(t *testing.T) *http.Client {
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	hc := &http.Client{Transport: &http.Transport{Protocols: protocols}}
	t.Cleanup(hc.CloseIdleConnections)
	return hc
}

// statsServers serves the test service with stats handlers, through
// NewHandler and through Server. Responses are not compressed, as
// grpc.Server does not compress them for a client that sends uncompressed
// requests.
func statsServers(compress bool, hs ...stats.Handler) map[string]http.Handler {
	var hopts []connect.HandlerOption
	var sopts []polyrpc.ServerOption
	if !compress {
		hopts = append(hopts, connect.WithCompressMinBytes(1<<20))
		sopts = append(sopts, polyrpc.WithHandlerOptions(connect.WithCompressMinBytes(1<<20)))
	}
	for _, h := range hs {
		o := polyrpc.StatsHandler(h)
		hopts = append(hopts, o)
		sopts = append(sopts, o)
	}
	mux := http.NewServeMux()
	mux.Handle(polyrpc.NewHandler(&testpb.TestService_ServiceDesc, testService{}, hopts...))
	s := polyrpc.NewServer(sopts...)
	testpb.RegisterTestServiceServer(s, testService{})
	return map[string]http.Handler{"handler": mux, "server": s}
}

// statsClients are the clients the stats tests call polyrpc with.
var statsClients = []struct {
	name string
	dial func(t *testing.T, base string, hc *http.Client, opts ...connect.ClientOption) testpb.TestServiceClient
}{
	{"grpc-go", func(t *testing.T, base string, _ *http.Client, _ ...connect.ClientOption) testpb.TestServiceClient {
		return testpb.NewTestServiceClient(dialGRPC(t, base))
	}},
	{"grpc", func(t *testing.T, base string, hc *http.Client, opts ...connect.ClientOption) testpb.TestServiceClient {
		return testpb.NewTestServiceClient(polyrpc.NewClientConn(hc, base, append(opts, connect.WithGRPC())...))
	}},
	{"grpcweb", func(t *testing.T, base string, hc *http.Client, opts ...connect.ClientOption) testpb.TestServiceClient {
		return testpb.NewTestServiceClient(polyrpc.NewClientConn(hc, base, append(opts, connect.WithGRPCWeb())...))
	}},
	{"connect", func(t *testing.T, base string, hc *http.Client, opts ...connect.ClientOption) testpb.TestServiceClient {
		return testpb.NewTestServiceClient(polyrpc.NewClientConn(hc, base, opts...))
	}},
}

// TestStatsServerEvents checks the events stats handlers see on polyrpc, on
// every protocol, against those grpc.Server reports for the same calls from
// a grpc-go client.
func TestStatsServerEvents(t *testing.T) {
	want := newRecorder("r1")
	base := startNative(t, grpc.StatsHandler(methodTagger{}), grpc.StatsHandler(want))
	runStatsCalls(t, testpb.NewTestServiceClient(dialGRPC(t, base)))

	// The order of a unary call's events.
	var kinds []string
	for _, e := range want.events("unary") {
		kinds = append(kinds, e.Kind)
	}
	if got, w := strings.Join(kinds, " "), "InHeader Begin InPayload OutHeader OutPayload OutTrailer End"; got != w {
		t.Fatalf("grpc.Server reports %s, want %s", got, w)
	}

	// Serve's native path: grpc-go's transport reports, and polyrpc says
	// which methods stream.
	t.Run("serve/native", func(t *testing.T) {
		r1, r2 := newRecorder("r1"), newRecorder("r2")
		s := polyrpc.NewServer(polyrpc.StatsHandler(methodTagger{}), polyrpc.StatsHandler(r1), polyrpc.StatsHandler(r2))
		testpb.RegisterTestServiceServer(s, testService{})
		addr, _ := serveTCP(t, s)
		runStatsCalls(t, testpb.NewTestServiceClient(dialGRPC(t, "http://"+addr)))
		for _, call := range statsCalls {
			if diff := cmp.Diff(want.events(call.name), r1.events(call.name)); diff != "" {
				t.Errorf("%s: events differ (-grpc.Server +polyrpc):\n%s", call.name, diff)
			}
			checkSecondHandler(t, call.name, r1, r2)
		}
	})

	for _, serverName := range []string{"handler", "server"} {
		for _, client := range statsClients {
			t.Run(serverName+"/"+client.name, func(t *testing.T) {
				t.Parallel()
				r1, r2 := newRecorder("r1"), newRecorder("r2")
				h := statsServers(false, methodTagger{}, r1, r2)[serverName]
				base, hc := rpctest.Start(t, h, rpctest.H2C)
				runStatsCalls(t, client.dial(t, base, hc))
				for _, call := range statsCalls {
					w := want.events(call.name)
					if call.name == "client-stream" {
						w = headersWithResponse(w)
					}
					if client.name == "connect" && !strings.Contains(call.name, "stream") && call.name != "bidi" {
						w = bareMessages(w)
					}
					got := uncompressedHeaders(r1.events(call.name))
					if diff := cmp.Diff(w, got); diff != "" {
						t.Errorf("%s: events differ (-grpc.Server +polyrpc):\n%s", call.name, diff)
					}
					checkSecondHandler(t, call.name, r1, r2)
					if got := r1.tagMD["/grpc.testing.TestService/"+methodName(call.name)]; got != "alice" {
						t.Errorf("%s: TagRPC saw x-user %q in the incoming metadata, want alice", call.name, got)
					}
				}
				for _, tags := range r2.tagCtx {
					if !strings.Contains(tags, "r1") {
						t.Errorf("the second handler's TagRPC got a context without the first's tag: %q", tags)
					}
				}
			})
		}
	}
}

// TestStatsServerCompressed checks the lengths of compressed messages
// against grpc.Server's, which compresses with the same gzip.
func TestStatsServerCompressed(t *testing.T) {
	want := newRecorder("r1")
	base := startNative(t, grpc.StatsHandler(methodTagger{}), grpc.StatsHandler(want))
	gz := grpc.WithDefaultCallOptions(grpc.UseCompressor("gzip"))
	runStatsCalls(t, testpb.NewTestServiceClient(dialGRPCWith(t, base, gz)))

	r1 := newRecorder("r1")
	base, _ = rpctest.Start(t, statsServers(true, methodTagger{}, r1)["server"], rpctest.H2C)
	runStatsCalls(t, testpb.NewTestServiceClient(dialGRPCWith(t, base, gz)))
	for _, call := range statsCalls {
		w := want.events(call.name)
		if call.name == "client-stream" {
			w = headersWithResponse(w)
		}
		got := r1.events(call.name)
		if call.name == "unary" {
			// The response holds the client's port, which compresses
			// differently from one run to the next: the recorder checked
			// its compressed length.
			for _, events := range [][]event{w, got} {
				for i := range events {
					events[i].CompressedLength, events[i].WireLength = 0, 0
				}
			}
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s: events differ (-grpc.Server +polyrpc):\n%s", call.name, diff)
		}
	}
	// The test means something only if messages were compressed.
	var compressed bool
	for _, e := range r1.events("server-stream") {
		compressed = compressed || (e.Kind == "OutPayload" && e.CompressedLength < e.Length)
	}
	if !compressed {
		t.Error("no message was compressed")
	}
}

// uncompressedHeaders clears the compression of the response headers of
// polyrpc's uncompressed responses: connect-go names the compression the
// client accepts in the response headers, even when no message reaches
// CompressMinBytes and every message goes out uncompressed.
func uncompressedHeaders(events []event) []event {
	for i, e := range events {
		if (e.Kind == "OutHeader" && !e.Client || e.Kind == "InHeader" && e.Client) && e.Compression == "gzip" {
			events[i].Compression = ""
		}
	}
	return events
}

func methodName(call string) string {
	switch call {
	case "server-stream":
		return "StreamingOutputCall"
	case "client-stream":
		return "StreamingInputCall"
	case "bidi":
		return "FullDuplexCall"
	}
	return "UnaryCall"
}

// bareMessages adjusts the wire lengths of a unary call for the Connect
// protocol, whose unary messages travel without the five-byte prefix.
func bareMessages(events []event) []event {
	out := slices.Clone(events)
	for i, e := range out {
		if e.Kind == "InPayload" || e.Kind == "OutPayload" {
			out[i].WireLength = e.CompressedLength
		}
	}
	return out
}

// headersWithResponse moves the OutHeader of a client-streaming call to just
// before its response: polyrpc sends the headers of a client-streaming call
// with the response (see serverStream.SendHeader), grpc.Server when the
// handler calls SendHeader.
func headersWithResponse(events []event) []event {
	var header event
	out := make([]event, 0, len(events))
	for _, e := range events {
		switch e.Kind {
		case "OutHeader":
			header = e
			continue
		case "OutPayload":
			out = append(out, header)
		}
		out = append(out, e)
	}
	return out
}

// checkSecondHandler checks that a second stats handler saw the same events,
// with contexts that both handlers' TagRPC tagged, in order.
func checkSecondHandler(t *testing.T, call string, r1, r2 *recorder) {
	t.Helper()
	if diff := cmp.Diff(r1.events(call), r2.events(call)); diff != "" {
		t.Errorf("%s: second handler's events differ:\n%s", call, diff)
	}
	for _, e := range r1.events(call) {
		if !e.Tagged {
			t.Errorf("%s: %s context not from TagRPC", call, e.Kind)
		}
	}
}

// TestStatsClientEvents checks the events stats handlers see on
// polyrpc.ClientConn against those of a grpc.ClientConn making the same
// calls to grpc.Server, and on the other protocols against polyrpc.
func TestStatsClientEvents(t *testing.T) {
	native := startNative(t)
	want := newRecorder("r1")
	runStatsCalls(t, testpb.NewTestServiceClient(dialGRPCWith(t, native,
		grpc.WithStatsHandler(methodTagger{}), grpc.WithStatsHandler(want))))

	polyBase, polyHC := rpctest.Start(t, statsServers(false)["server"], rpctest.H2C)
	for _, client := range statsClients[1:] {
		t.Run(client.name, func(t *testing.T) {
			t.Parallel()
			base, hc := polyBase, polyHC
			if client.name == "grpc" {
				base, hc = native, h2cClient(t)
			}
			r1, r2 := newRecorder("r1"), newRecorder("r2")
			runStatsCalls(t, client.dial(t, base, hc,
				polyrpc.WithStatsHandler(methodTagger{}), polyrpc.WithStatsHandler(r1), polyrpc.WithStatsHandler(r2)))
			for _, call := range statsCalls {
				w := want.events(call.name)
				if client.name == "connect" && !strings.Contains(call.name, "stream") && call.name != "bidi" {
					w = bareMessages(w)
				}
				got := r1.events(call.name)
				if client.name != "grpc" {
					got = uncompressedHeaders(got)
				}
				if call.name == "unary" {
					// polyrpc reports a unary call in this order.
					var kinds []string
					for _, e := range got {
						kinds = append(kinds, e.Kind)
					}
					if k, w := strings.Join(kinds, " "), "Begin OutHeader OutPayload InHeader InPayload InTrailer End"; k != w {
						t.Errorf("unary: got %s, want %s", k, w)
					}
				}
				// grpc-go reports what it receives from two goroutines, so
				// the order of sending and receiving events, and that of
				// the trailer and the last message, vary: compare each
				// direction's order.
				if diff := cmp.Diff(byDirection(w), byDirection(got)); diff != "" {
					t.Errorf("%s: events differ (-grpc.ClientConn +polyrpc):\n%s", call.name, diff)
				}
				checkSecondHandler(t, call.name, r1, r2)
			}
		})
	}
}

// byDirection orders events as Begin, the events of sending, the received
// header, messages and trailer, End, keeping the order within each.
func byDirection(events []event) []event {
	rank := func(e event) int {
		switch {
		case e.Kind == "Begin":
			return 0
		case strings.HasPrefix(e.Kind, "Out"):
			return 1
		case e.Kind == "InHeader":
			return 2
		case e.Kind == "InPayload":
			return 3
		case e.Kind == "InTrailer":
			return 4
		}
		return 5
	}
	out := slices.Clone(events)
	slices.SortStableFunc(out, func(a, b event) int { return rank(a) - rank(b) })
	return out
}

// TestStatsEarlyEnd checks the events of calls that end before the method
// runs: malformed, oversized and refused requests, on every protocol. The
// status in End must be the one the client received.
func TestStatsEarlyEnd(t *testing.T) {
	envelope := func(flags byte, declared int, data []byte) []byte {
		b := []byte{flags, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(b[1:], uint32(declared))
		return append(b, data...)
	}
	big, _ := proto.Marshal(&testpb.SimpleRequest{Payload: &testpb.Payload{Body: make([]byte, 100)}})
	const unary = "/grpc.testing.TestService/UnaryCall"
	const serverStream = "/grpc.testing.TestService/StreamingOutputCall"
	refuse := connect.WithRequestGate(func(context.Context, connect.Spec, connect.Peer, http.Header) (context.Context, error) {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("who are you"))
	})
	deny := connect.WithInterceptors(connect.UnaryInterceptorFunc(func(connect.UnaryFunc) connect.UnaryFunc {
		return func(context.Context, connect.AnyRequest) (connect.AnyResponse, error) {
			return nil, connect.NewError(connect.CodePermissionDenied, errors.New("not you"))
		}
	}))
	tests := []struct {
		name        string
		path        string
		contentType string
		header      http.Header
		body        []byte
		opts        []connect.HandlerOption
		want        codes.Code // codes.OK: no events at all
	}{
		{"grpc/truncated", unary, "application/grpc", nil, envelope(0, 100, []byte("abc")), nil, codes.Internal},
		{"grpc/two messages", unary, "application/grpc", nil, append(envelope(0, 0, nil), envelope(0, 0, nil)...), nil, codes.Unimplemented},
		{"grpc/too large", unary, "application/grpc", nil, envelope(0, len(big), big), []connect.HandlerOption{connect.WithReadMaxBytes(16)}, codes.ResourceExhausted},
		{"grpc/bad gzip", unary, "application/grpc", http.Header{"Grpc-Encoding": {"gzip"}}, envelope(1, 3, []byte("abc")), nil, codes.InvalidArgument},
		{"grpc/gate", unary, "application/grpc", nil, envelope(0, 0, nil), []connect.HandlerOption{refuse}, codes.Unauthenticated},
		{"grpc/interceptor", unary, "application/grpc", nil, envelope(0, 0, nil), []connect.HandlerOption{deny}, codes.PermissionDenied},
		{"grpc/server stream truncated", serverStream, "application/grpc", nil, envelope(0, 100, []byte("abc")), nil, codes.Internal},
		{"grpcweb/truncated", unary, "application/grpc-web+proto", nil, envelope(0, 100, []byte("abc")), nil, codes.Internal},
		{"grpcweb/interceptor", unary, "application/grpc-web+proto", nil, envelope(0, 0, nil), []connect.HandlerOption{deny}, codes.PermissionDenied},
		{"connect/bad gzip", unary, "application/proto", http.Header{"Content-Encoding": {"gzip"}}, []byte("abc"), nil, codes.InvalidArgument},
		{"connect/too large", unary, "application/proto", nil, big, []connect.HandlerOption{connect.WithReadMaxBytes(16)}, codes.ResourceExhausted},
		{"connect/interceptor", unary, "application/json", nil, []byte("{}"), []connect.HandlerOption{deny}, codes.PermissionDenied},
		{"connect/server stream truncated", serverStream, "application/connect+proto", nil, envelope(0, 100, []byte("abc")), nil, codes.Internal},
		{"unknown method", "/grpc.testing.TestService/Nope", "application/grpc", nil, envelope(0, 0, nil), nil, codes.OK},
		{"unknown content type", unary, "text/plain", nil, []byte("hi"), nil, codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder("r")
			opts := append(slices.Clone(tt.opts), polyrpc.StatsHandler(rec))
			s := polyrpc.NewServer(polyrpc.WithHandlerOptions(opts...))
			testpb.RegisterTestServiceServer(s, testService{})
			base, hc := rpctest.Start(t, s, rpctest.H2C)
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+tt.path, bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header[k] = v
			}
			req.Header.Set("Content-Type", tt.contentType)
			req.Header.Set("X-Call", "call")
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			events := rec.events("")
			if tt.want == codes.OK {
				if len(events) != 0 {
					t.Fatalf("got events %v for a request that is no call", events)
				}
				return
			}
			if got := responseCode(t, resp, body); got != tt.want {
				t.Fatalf("the client got %v, want %v (response %d %q)", got, tt.want, resp.StatusCode, body)
			}
			want := []event{
				{Kind: "InHeader", Method: tt.path, Compression: strings.Join(tt.header["Grpc-Encoding"], "") + strings.Join(tt.header["Content-Encoding"], ""), Tagged: true},
				{Kind: "Begin", ServerStream: tt.path == serverStream, Tagged: true},
				{Kind: "OutTrailer", Tagged: true},
				{Kind: "End", Code: tt.want, Tagged: true},
			}
			if diff := cmp.Diff(want, events); diff != "" {
				t.Errorf("events differ (-want +got):\n%s", diff)
			}
		})
	}
}

// responseCode reads the status of a call from a raw response, whatever
// its protocol.
func responseCode(t *testing.T, resp *http.Response, body []byte) codes.Code {
	t.Helper()
	ct := resp.Header.Get("Content-Type")
	parse := func(s string) codes.Code {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("grpc-status %q in %v %v %q", s, resp.Header, resp.Trailer, body)
		}
		return codes.Code(n)
	}
	connectCode := func(data []byte) codes.Code {
		var e struct {
			Code  string `json:"code"`
			Error *struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(data, &e); err != nil {
			t.Fatalf("connect error %q: %v", data, err)
		}
		if e.Error != nil {
			e.Code = e.Error.Code
		}
		var c connect.Code
		if err := c.UnmarshalText([]byte(e.Code)); err != nil {
			t.Fatal(err)
		}
		return codes.Code(c)
	}
	switch {
	case strings.HasPrefix(ct, "application/grpc-web"):
		if s := resp.Header.Get("Grpc-Status"); s != "" {
			return parse(s)
		}
		_, after, _ := strings.Cut(string(body), "grpc-status:")
		s, _, _ := strings.Cut(after, "\r\n")
		return parse(strings.TrimSpace(s))
	case strings.HasPrefix(ct, "application/grpc"):
		if s := resp.Header.Get("Grpc-Status"); s != "" {
			return parse(s)
		}
		return parse(resp.Trailer.Get("Grpc-Status"))
	case strings.HasPrefix(ct, "application/connect+"):
		if len(body) < 5 {
			t.Fatalf("connect stream body %q", body)
		}
		return connectCode(body[5:])
	}
	return connectCode(body)
}

// checker is a stats.Handler that checks the events of every call: each in
// the context of its TagRPC, Begin first (after InHeader on a server), End
// last and once, and lengths that fit the message.
type checker struct {
	json bool // the calls use the JSON codec
	get  bool // the calls use Connect GET: the request is in the URL

	mu    sync.Mutex
	calls []*callLog
	errs  []string
}

type callLog struct {
	method string
	events []string
	ended  bool
}

type logKey struct{}

func (c *checker) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	l := &callLog{method: info.FullMethodName}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, l)
	return context.WithValue(ctx, logKey{}, l)
}

func (c *checker) HandleRPC(ctx context.Context, s stats.RPCStats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, _ := ctx.Value(logKey{}).(*callLog)
	if l == nil {
		c.errs = append(c.errs, fmt.Sprintf("%T without TagRPC's context", s))
		return
	}
	kind := strings.TrimPrefix(fmt.Sprintf("%T", s), "*stats.")
	fail := func(format string, args ...any) {
		c.errs = append(c.errs, fmt.Sprintf("%s after %v: %s: ", l.method, l.events, kind)+fmt.Sprintf(format, args...))
	}
	if l.ended {
		fail("event after End")
	}
	first := "Begin"
	if !s.IsClient() {
		first = "InHeader"
	}
	if len(l.events) == 0 && kind != first {
		fail("first event")
	}
	l.events = append(l.events, kind)
	var payload any
	var length, compressedLength, wireLength int
	switch s := s.(type) {
	case *stats.InPayload:
		payload, length, compressedLength, wireLength = s.Payload, s.Length, s.CompressedLength, s.WireLength
	case *stats.OutPayload:
		payload, length, compressedLength, wireLength = s.Payload, s.Length, s.CompressedLength, s.WireLength
	case *stats.End:
		l.ended = true
		return
	default:
		return
	}
	msg, ok := payload.(proto.Message)
	if !ok {
		fail("payload %T", payload)
		return
	}
	data, err := proto.Marshal(msg)
	if c.json {
		data, err = protojson.Marshal(msg)
	}
	if err != nil {
		fail("%v", err)
		return
	}
	if length != len(data) {
		fail("length %d, the message has %d bytes", length, len(data))
	}
	switch {
	case c.get && (s.IsClient() == (kind == "OutPayload")):
		if wireLength < compressedLength {
			fail("wire length %d for %d bytes in the URL", wireLength, compressedLength)
		}
	case compressedLength == length:
		if wireLength != length && wireLength != length+5 {
			fail("wire length %d for %d bytes", wireLength, length)
		}
	case compressedLength != 0:
		if wireLength != compressedLength && wireLength != compressedLength+5 {
			fail("wire length %d for %d compressed bytes", wireLength, compressedLength)
		}
	}
}

func (*checker) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (*checker) HandleConn(context.Context, stats.ConnStats)                       {}

// check waits for the calls to end (a server ends a call after its client)
// and reports what went wrong.
func (c *checker) check(t *testing.T, side string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		var open []string
		for _, l := range c.calls {
			if !l.ended {
				open = append(open, fmt.Sprintf("%s %v", l.method, l.events))
			}
		}
		errs := slices.Clone(c.errs)
		n := len(c.calls)
		c.mu.Unlock()
		if len(open) == 0 || time.Now().After(deadline) {
			if n == 0 {
				t.Errorf("%s: no call reported", side)
			}
			for _, o := range open {
				t.Errorf("%s: call never ended: %s", side, o)
			}
			for _, e := range errs {
				t.Errorf("%s: %s", side, e)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStatsEveryProtocol runs the client tests with stats handlers on both
// sides, on every transport, protocol and codec: the calls behave as
// without them, and every call is reported in order with fitting lengths.
func TestStatsEveryProtocol(t *testing.T) {
	for _, tr := range rpctest.Transports {
		for _, p := range protocols {
			for _, c := range codecs {
				t.Run(strings.Join([]string{string(tr), p.name, c.name}, "/"), func(t *testing.T) {
					t.Parallel()
					json := strings.HasPrefix(c.name, "json")
					server, client := &checker{json: json}, &checker{json: json}
					base, hc := rpctest.Start(t, servers(polyrpc.StatsHandler(server))["server"], tr)
					opts := append(append([]connect.ClientOption{polyrpc.WithStatsHandler(client)}, p.opts...), c.opts...)
					cc := polyrpc.NewClientConn(hc, base, opts...)
					exercise(t, testpb.NewTestServiceClient(cc), hostOf(base), tr.HTTP2())
					testUnknown(t, cc)
					server.check(t, "server")
					client.check(t, "client")
				})
			}
		}
	}
	t.Run("grpc-go", func(t *testing.T) {
		t.Parallel()
		server := &checker{}
		base, _ := rpctest.Start(t, servers(polyrpc.StatsHandler(server))["server"], rpctest.H2C)
		cc := dialGRPC(t, base)
		exercise(t, testpb.NewTestServiceClient(cc), hostOf(base), true)
		testUnknown(t, cc)
		server.check(t, "server")
	})
}

// TestStatsGET checks the events of Connect GET calls, whose request is in
// the query string, with and without compression and in JSON.
func TestStatsGET(t *testing.T) {
	req := &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte(strings.Repeat("q", 200))}}
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			json := strings.HasPrefix(c.name, "json")
			compressed := strings.Contains(c.name, "gzip")
			server, client := &checker{json: json, get: true}, &checker{json: json, get: true}
			rec := newRecorder("r")
			base, hc := rpctest.Start(t, servers(polyrpc.StatsHandler(server), polyrpc.StatsHandler(methodTagger{}), polyrpc.StatsHandler(rec))["server"], rpctest.HTTP1)
			opts := append([]connect.ClientOption{connect.WithHTTPGet(), polyrpc.WithStatsHandler(client)}, c.opts...)
			if compressed {
				// connect-go compresses a GET request only to fit the URL.
				opts = append(opts, connect.WithHTTPGetMaxURLSize(200, false))
			}
			cc := polyrpc.NewClientConn(hc, base, opts...)
			ctx := metadata.AppendToOutgoingContext(t.Context(), "x-call", "get")
			reply := new(testpb.SimpleResponse)
			if err := cc.Invoke(ctx, "/polyrpc.test.Lookup/Get", req, reply); err != nil {
				t.Fatal(err)
			}
			if reply.GetHostname() != http.MethodGet {
				t.Fatalf("the call used %q", reply.GetHostname())
			}
			server.check(t, "server")
			client.check(t, "client")
			var kinds []string
			var header, in event
			for _, e := range rec.events("get") {
				kinds = append(kinds, e.Kind)
				switch {
				case e.Kind == "InHeader":
					header = e
				case strings.HasPrefix(e.Kind, "InPayload"):
					in = e
				}
			}
			if got := strings.Join(kinds, " "); !strings.HasPrefix(got, "InHeader Begin InPayload") {
				t.Errorf("events %s", got)
			}
			if compressed != (header.Compression == "gzip") {
				t.Errorf("request compression %q", header.Compression)
			}
			// The message is shorter compressed, and longer in the URL.
			if compressed != (in.CompressedLength < in.Length) || in.WireLength <= in.CompressedLength {
				t.Errorf("request lengths %+v", in)
			}
		})
	}
}

// TestStatsClientCancel checks that a stream ends, for the stats handlers,
// when its context does, as with grpc-go, also if nothing reads it.
func TestStatsClientCancel(t *testing.T) {
	base, hc := rpctest.Start(t, servers()["server"], rpctest.H2C)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec := newRecorder("r")
			cc := polyrpc.NewClientConn(hc, base, append([]connect.ClientOption{polyrpc.WithStatsHandler(methodTagger{}), polyrpc.WithStatsHandler(rec)}, p.opts...)...)
			ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(t.Context(), "x-call", "bidi"))
			stream, err := testpb.NewTestServiceClient(cc).FullDuplexCall(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := stream.Send(&testpb.StreamingOutputCallRequest{}); err != nil {
				t.Fatal(err)
			}
			cancel()
			deadline := time.Now().Add(5 * time.Second)
			for {
				events := rec.events("bidi")
				if n := len(events); n > 0 && events[n-1].Kind == "End" {
					if events[n-1].Code != codes.Canceled {
						t.Errorf("End with %v, want Canceled", events[n-1].Code)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no End after cancellation: %v", events)
				}
				time.Sleep(5 * time.Millisecond)
			}
			if _, err := stream.Recv(); status.Code(err) != codes.Canceled {
				t.Errorf("Recv after cancellation: %v", err)
			}
			if events := rec.events("bidi"); events[len(events)-1].Kind != "End" || strings.Count(fmt.Sprint(events), "End") != 1 {
				t.Errorf("events after cancellation and Recv: %v", events)
			}
		})
	}
}

// orderLog records which handler saw each event.
type orderLog struct {
	mu  sync.Mutex
	log []string
}

type orderHandler struct {
	name string
	log  *orderLog
}

func (h orderHandler) add(s string) {
	h.log.mu.Lock()
	defer h.log.mu.Unlock()
	h.log.log = append(h.log.log, h.name+":"+s)
}

func (h orderHandler) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	h.add("TagRPC")
	return ctx
}

func (h orderHandler) HandleRPC(_ context.Context, s stats.RPCStats) {
	h.add(strings.TrimPrefix(fmt.Sprintf("%T", s), "*stats."))
}

func (orderHandler) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (orderHandler) HandleConn(context.Context, stats.ConnStats)                       {}

// TestStatsHandlerOrder checks that several stats handlers see each event
// in the order they were given, on the server and on the client.
func TestStatsHandlerOrder(t *testing.T) {
	server, client := &orderLog{}, &orderLog{}
	s := polyrpc.NewServer(polyrpc.StatsHandler(orderHandler{"a", server}), polyrpc.StatsHandler(orderHandler{"b", server}))
	testpb.RegisterTestServiceServer(s, testService{})
	base, hc := rpctest.Start(t, s, rpctest.H2C)
	cc := polyrpc.NewClientConn(hc, base, polyrpc.WithStatsHandler(orderHandler{"a", client}), polyrpc.WithStatsHandler(orderHandler{"b", client}))
	if _, err := testpb.NewTestServiceClient(cc).EmptyCall(t.Context(), &testpb.Empty{}); err != nil {
		t.Fatal(err)
	}
	for side, l := range map[string]*orderLog{"server": server, "client": client} {
		deadline := time.Now().Add(5 * time.Second)
		for {
			l.mu.Lock()
			log := slices.Clone(l.log)
			l.mu.Unlock()
			if len(log) > 0 && strings.HasSuffix(log[len(log)-1], ":End") || time.Now().After(deadline) {
				if len(log) < 8 {
					t.Fatalf("%s: %v", side, log)
				}
				for i := 0; i+1 < len(log); i += 2 {
					a, b := strings.TrimPrefix(log[i], "a:"), strings.TrimPrefix(log[i+1], "b:")
					if a == log[i] || b == log[i+1] || a != b {
						t.Fatalf("%s: handlers saw events out of order: %v", side, log)
					}
				}
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}
