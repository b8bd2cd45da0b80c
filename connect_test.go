package polyrpc_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/protobuf/proto"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/internal/rpctest"
)

// servers returns the two ways of serving the test services: one handler
// per service on a mux, and a polyrpc.Server.
func servers(opts ...polyrpc.Option) map[string]http.Handler {
	mux := http.NewServeMux()
	var handlerOpts []connect.HandlerOption
	var serverOpts []polyrpc.ServerOption
	for _, o := range opts {
		handlerOpts = append(handlerOpts, o)
		serverOpts = append(serverOpts, o)
	}
	mux.Handle(polyrpc.NewHandler(&testpb.TestService_ServiceDesc, testService{}, handlerOpts...))
	mux.Handle(polyrpc.NewHandler(&lookupDesc, lookupService{}, handlerOpts...))
	s := polyrpc.NewServer(serverOpts...)
	testpb.RegisterTestServiceServer(s, testService{})
	s.RegisterService(&lookupDesc, lookupService{})
	return map[string]http.Handler{"handler": mux, "server": s}
}

type protocol struct {
	name string
	opts []connect.ClientOption
}

var protocols = []protocol{
	{"connect", nil},
	{"grpc", []connect.ClientOption{connect.WithGRPC()}},
	{"grpcweb", []connect.ClientOption{connect.WithGRPCWeb()}},
}

var codecs = []protocol{
	{"proto", nil},
	{"json", []connect.ClientOption{connect.WithProtoJSON()}},
	{"json+gzip", []connect.ClientOption{connect.WithProtoJSON(), connect.WithSendGzip()}},
	{"proto+gzip", []connect.ClientOption{connect.WithSendGzip()}},
}

type testClients struct {
	empty        *connect.Client[testpb.Empty, testpb.Empty]
	unary        *connect.Client[testpb.SimpleRequest, testpb.SimpleResponse]
	unimpl       *connect.Client[testpb.Empty, testpb.Empty]
	serverStream *connect.Client[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]
	clientStream *connect.Client[testpb.StreamingInputCallRequest, testpb.StreamingInputCallResponse]
	bidi         *connect.Client[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]
}

func newTestClients(hc connect.HTTPClient, base string, opts ...connect.ClientOption) *testClients {
	const svc = "/grpc.testing.TestService/"
	return &testClients{
		empty:        connect.NewClient[testpb.Empty, testpb.Empty](hc, base+svc+"EmptyCall", opts...),
		unary:        connect.NewClient[testpb.SimpleRequest, testpb.SimpleResponse](hc, base+svc+"UnaryCall", opts...),
		unimpl:       connect.NewClient[testpb.Empty, testpb.Empty](hc, base+svc+"UnimplementedCall", opts...),
		serverStream: connect.NewClient[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse](hc, base+svc+"StreamingOutputCall", opts...),
		clientStream: connect.NewClient[testpb.StreamingInputCallRequest, testpb.StreamingInputCallResponse](hc, base+svc+"StreamingInputCall", opts...),
		bidi:         connect.NewClient[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse](hc, base+svc+"FullDuplexCall", opts...),
	}
}

func TestConnectClients(t *testing.T) {
	for serverName, h := range servers() {
		for _, tr := range rpctest.Transports {
			base, hc := rpctest.Start(t, h, tr)
			for _, p := range protocols {
				for _, c := range codecs {
					name := strings.Join([]string{serverName, string(tr), p.name, c.name}, "/")
					opts := append(append([]connect.ClientOption{}, p.opts...), c.opts...)
					clients := newTestClients(hc, base, opts...)
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						testUnary(t, clients, base, tr)
						testUnaryErrors(t, clients)
						testServerStream(t, clients)
						testClientStream(t, clients)
						if tr.HTTP2() {
							testBidi(t, clients)
						}
					})
				}
			}
		}
	}
}

func testUnary(t *testing.T, c *testClients, base string, tr rpctest.Transport) {
	t.Helper()
	ctx := t.Context()
	trace := []byte{0, 1, 2, 0xff}
	req := connect.NewRequest(&testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("hello")}})
	req.Header().Set("X-User", "alice")
	req.Header().Set("X-Trace-Bin", connect.EncodeBinaryHeader(trace))
	res, err := c.unary.CallUnary(ctx, req)
	if err != nil {
		t.Fatalf("UnaryCall: %v", err)
	}
	u, _ := url.Parse(base)
	want := &testpb.SimpleResponse{
		Payload:    &testpb.Payload{Body: []byte("hello")},
		Username:   "alice",
		OauthScope: "/grpc.testing.TestService/UnaryCall",
		Hostname:   u.Host,
		ServerId:   res.Msg.GetServerId(),
	}
	if !proto.Equal(res.Msg, want) {
		t.Errorf("UnaryCall = %v, want %v", res.Msg, want)
	}
	if id := res.Msg.GetServerId(); !strings.HasPrefix(id, "tcp 127.0.0.1:") {
		t.Errorf("peer = %q, want tcp 127.0.0.1:port", id)
	}
	if tls := strings.HasSuffix(res.Msg.GetServerId(), " tls"); tls != (tr == rpctest.H2TLS) {
		t.Errorf("peer = %q: TLS auth info wrong for %s", res.Msg.GetServerId(), tr)
	}
	if got := res.Header().Get("X-Header"); got != "header-value" {
		t.Errorf("header x-header = %q", got)
	}
	if got, err := connect.DecodeBinaryHeader(res.Header().Get("X-Echo-Bin")); err != nil || !bytes.Equal(got, trace) {
		t.Errorf("header x-echo-bin = %q, %v; want %q", got, err, trace)
	}
	if got := res.Trailer().Get("X-Trailer"); got != "trailer-value" {
		t.Errorf("trailer x-trailer = %q", got)
	}
	if got, err := connect.DecodeBinaryHeader(res.Trailer().Get("X-Trailer-Bin")); err != nil || string(got) != "\x00\xfftrailer" {
		t.Errorf("trailer x-trailer-bin = %q, %v", got, err)
	}

	// Deadline: the caller's timeout reaches the handler's context.
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	eres, err := c.empty.CallUnary(tctx, connect.NewRequest(&testpb.Empty{}))
	if err != nil {
		t.Fatalf("EmptyCall: %v", err)
	}
	ms, err := strconv.Atoi(eres.Header().Get("X-Deadline-Ms"))
	if err != nil || ms <= 0 || ms > 5000 {
		t.Errorf("deadline seen by handler = %q ms, want (0, 5000]", eres.Header().Get("X-Deadline-Ms"))
	}
	if eres.Header().Get("X-Late") != "" {
		t.Error("header set after SendHeader was sent")
	}
}

func checkStatus(t *testing.T, err error, code connect.Code, msg string, details bool) *connect.Error {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v, want a connect error with code %v", err, code)
	}
	if ce.Code() != code || ce.Message() != msg {
		t.Errorf("error = %v %q, want %v %q", ce.Code(), ce.Message(), code, msg)
	}
	if details {
		if len(ce.Details()) != 1 {
			t.Fatalf("details = %v, want one", ce.Details())
		}
		v, err := ce.Details()[0].Value()
		if err != nil {
			t.Fatalf("detail value: %v", err)
		}
		if !proto.Equal(v, errorDetail) {
			t.Errorf("detail = %v, want %v", v, errorDetail)
		}
	}
	return ce
}

func testUnaryErrors(t *testing.T, c *testClients) {
	t.Helper()
	ctx := t.Context()
	msg := "precondition failed: ünïcode ✓ 100%"
	_, err := c.unary.CallUnary(ctx, connect.NewRequest(&testpb.SimpleRequest{
		ResponseStatus: &testpb.EchoStatus{Code: int32(connect.CodeFailedPrecondition), Message: msg},
	}))
	ce := checkStatus(t, err, connect.CodeFailedPrecondition, msg, true)
	// Headers and trailers set before the failure reach the caller.
	if got := ce.Meta().Get("X-Header"); got != "header-value" {
		t.Errorf("error header x-header = %q", got)
	}
	if got := ce.Meta().Get("X-Trailer"); got != "trailer-value" {
		t.Errorf("error trailer x-trailer = %q", got)
	}

	_, err = c.unary.CallUnary(ctx, connect.NewRequest(&testpb.SimpleRequest{ResponseSize: sizePlainError}))
	checkStatus(t, err, connect.CodeUnknown, "plain failure", false)

	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = c.unary.CallUnary(tctx, connect.NewRequest(&testpb.SimpleRequest{ResponseSize: sizeWaitDone}))
	if connect.CodeOf(err) != connect.CodeDeadlineExceeded {
		t.Errorf("call past its deadline: %v, want DeadlineExceeded", err)
	}

	_, err = c.unimpl.CallUnary(ctx, connect.NewRequest(&testpb.Empty{}))
	if connect.CodeOf(err) != connect.CodeUnimplemented {
		t.Errorf("UnimplementedCall: %v, want Unimplemented", err)
	}
}

func sizes(n ...int32) []*testpb.ResponseParameters {
	var ps []*testpb.ResponseParameters
	for _, s := range n {
		ps = append(ps, &testpb.ResponseParameters{Size: s})
	}
	return ps
}

func testServerStream(t *testing.T, c *testClients) {
	t.Helper()
	ctx := t.Context()
	req := connect.NewRequest(&testpb.StreamingOutputCallRequest{ResponseParameters: sizes(1, 2, 3)})
	req.Header().Set("X-User", "bob")
	stream, err := c.serverStream.CallServerStream(ctx, req)
	if err != nil {
		t.Fatalf("StreamingOutputCall: %v", err)
	}
	var got []int
	for stream.Receive() {
		got = append(got, len(stream.Msg().GetPayload().GetBody()))
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("StreamingOutputCall: %v", err)
	}
	if len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Errorf("payload sizes = %v, want [1 2 3]", got)
	}
	if h := stream.ResponseHeader(); h.Get("X-Header") != "stream-header" || h.Get("X-User") != "bob" {
		t.Errorf("stream headers = %v", h)
	}
	if got := stream.ResponseTrailer().Get("X-Trailer"); got != "stream-trailer" {
		t.Errorf("stream trailer = %q", got)
	}
	_ = stream.Close()

	stream, err = c.serverStream.CallServerStream(ctx, connect.NewRequest(&testpb.StreamingOutputCallRequest{
		ResponseParameters: sizes(4),
		ResponseStatus:     &testpb.EchoStatus{Code: int32(connect.CodeAborted), Message: "aborted late"},
	}))
	if err != nil {
		t.Fatalf("StreamingOutputCall: %v", err)
	}
	n := 0
	for stream.Receive() {
		n++
	}
	if n != 1 {
		t.Errorf("received %d messages before the error, want 1", n)
	}
	checkStatus(t, stream.Err(), connect.CodeAborted, "aborted late", true)
	_ = stream.Close()
}

func testClientStream(t *testing.T, c *testClients) {
	t.Helper()
	stream := c.clientStream.CallClientStream(t.Context())
	for _, s := range []string{"a", "bb", "ccc"} {
		if err := stream.Send(&testpb.StreamingInputCallRequest{Payload: &testpb.Payload{Body: []byte(s)}}); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	res, err := stream.CloseAndReceive()
	if err != nil {
		t.Fatalf("StreamingInputCall: %v", err)
	}
	if res.Msg.GetAggregatedPayloadSize() != 6 {
		t.Errorf("aggregated size = %d, want 6", res.Msg.GetAggregatedPayloadSize())
	}
	if got := res.Header().Get("X-Header"); got != "client-stream-header" {
		t.Errorf("header = %q", got)
	}
	if got := res.Trailer().Get("X-Trailer"); got != "client-stream-trailer" {
		t.Errorf("trailer = %q", got)
	}
}

func testBidi(t *testing.T, c *testClients) {
	t.Helper()
	stream := c.bidi.CallBidiStream(t.Context())
	for i := int32(1); i <= 3; i++ {
		if err := stream.Send(&testpb.StreamingOutputCallRequest{ResponseParameters: sizes(i)}); err != nil {
			t.Fatalf("Send: %v", err)
		}
		res, err := stream.Receive()
		if err != nil {
			t.Fatalf("Receive: %v", err)
		}
		if len(res.GetPayload().GetBody()) != int(i) {
			t.Errorf("payload size = %d, want %d", len(res.GetPayload().GetBody()), i)
		}
	}
	if got := stream.ResponseHeader().Get("X-Header"); got != "bidi-header" {
		t.Errorf("header = %q", got)
	}
	if err := stream.CloseRequest(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Receive(); !errors.Is(err, io.EOF) {
		t.Errorf("Receive at end = %v, want EOF", err)
	}
	if got := stream.ResponseTrailer().Get("X-Trailer"); got != "bidi-trailer" {
		t.Errorf("trailer = %q", got)
	}
	_ = stream.CloseResponse()

	stream = c.bidi.CallBidiStream(t.Context())
	if err := stream.Send(&testpb.StreamingOutputCallRequest{ResponseStatus: &testpb.EchoStatus{Code: int32(connect.CodeResourceExhausted), Message: "bidi failure"}}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	_, err := stream.Receive()
	checkStatus(t, err, connect.CodeResourceExhausted, "bidi failure", true)
	_ = stream.CloseRequest()
	_ = stream.CloseResponse()
}
