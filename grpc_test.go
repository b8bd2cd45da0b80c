package polyrpc_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	_ "google.golang.org/grpc/encoding/gzip" // the native server accepts gzip
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/internal/rpctest"
)

// dialGRPC returns a grpc-go client connection to an h2c server.
func dialGRPC(t *testing.T, base string) *grpc.ClientConn {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := grpc.NewClient("passthrough:///"+u.Host, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// TestGRPCClient calls polyrpc with grpc-go's own client over h2c.
func TestGRPCClient(t *testing.T) {
	for name, h := range servers() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			base, _ := rpctest.Start(t, h, rpctest.H2C)
			cc := dialGRPC(t, base)
			exercise(t, testpb.NewTestServiceClient(cc), hostOf(base), true)
			testUnknown(t, cc)
		})
	}
}

// TestClientConn calls polyrpc handlers through polyrpc.ClientConn on every
// protocol and codec.
func TestClientConn(t *testing.T) {
	for serverName, h := range servers() {
		for _, tr := range rpctest.Transports {
			base, hc := rpctest.Start(t, h, tr)
			for _, p := range protocols {
				for _, c := range codecs {
					opts := append(append([]connect.ClientOption{}, p.opts...), c.opts...)
					cc := polyrpc.NewClientConn(hc, base, opts...)
					t.Run(strings.Join([]string{serverName, string(tr), p.name, c.name}, "/"), func(t *testing.T) {
						t.Parallel()
						exercise(t, testpb.NewTestServiceClient(cc), hostOf(base), tr.HTTP2())
						testUnknown(t, cc)
					})
				}
			}
		}
	}
}

// TestClientConnNativeServer calls a native grpc.Server through
// polyrpc.ClientConn with the gRPC protocol.
func TestClientConnNativeServer(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	testpb.RegisterTestServiceServer(gs, testService{})
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	hc := &http.Client{Transport: &http.Transport{Protocols: protocols}}
	t.Cleanup(hc.CloseIdleConnections)
	base := "http://" + lis.Addr().String()
	for _, c := range []protocol{codecs[0], codecs[3]} {
		t.Run(c.name, func(t *testing.T) {
			cc := polyrpc.NewClientConn(hc, base, append([]connect.ClientOption{connect.WithGRPC()}, c.opts...)...)
			exercise(t, testpb.NewTestServiceClient(cc), lis.Addr().String(), true)
			testUnknown(t, cc)
		})
	}
}

func hostOf(base string) string {
	u, _ := url.Parse(base)
	return u.Host
}

// exercise calls every kind of method through a grpc-go style client and
// checks what both sides see.
func exercise(t *testing.T, client testpb.TestServiceClient, authority string, bidi bool) {
	t.Helper()
	trace := "\x00\x01\x02\xff"
	ctx := metadata.AppendToOutgoingContext(t.Context(), "x-user", "carol", "x-trace-bin", trace)

	var header, trailer metadata.MD
	var server peer.Peer
	res, err := client.UnaryCall(ctx, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("hi")}},
		grpc.Header(&header), grpc.Trailer(&trailer), grpc.Peer(&server))
	if err != nil {
		t.Fatalf("UnaryCall: %v", err)
	}
	if server.Addr == nil || server.Addr.String() != authority {
		t.Errorf("grpc.Peer = %v, want %s", server.Addr, authority)
	}
	want := &testpb.SimpleResponse{
		Payload:    &testpb.Payload{Body: []byte("hi")},
		Username:   "carol",
		OauthScope: "/grpc.testing.TestService/UnaryCall",
		Hostname:   authority,
		ServerId:   res.GetServerId(),
	}
	if !proto.Equal(res, want) {
		t.Errorf("UnaryCall = %v, want %v", res, want)
	}
	if !strings.HasPrefix(res.GetServerId(), "tcp 127.0.0.1:") {
		t.Errorf("peer = %q", res.GetServerId())
	}
	if got := header.Get("x-header"); len(got) != 1 || got[0] != "header-value" {
		t.Errorf("header x-header = %q", got)
	}
	if got := header.Get("x-echo-bin"); len(got) != 1 || got[0] != trace {
		t.Errorf("header x-echo-bin = %q, want %q", got, trace)
	}
	if got := trailer.Get("x-trailer"); len(got) != 1 || got[0] != "trailer-value" {
		t.Errorf("trailer x-trailer = %q", got)
	}
	if got := trailer.Get("x-trailer-bin"); len(got) != 1 || got[0] != "\x00\xfftrailer" {
		t.Errorf("trailer x-trailer-bin = %q", got)
	}

	// Status errors keep code, message and details; metadata still arrives.
	msg := "precondition failed: ünïcode ✓ 100%"
	header, trailer = nil, nil
	_, err = client.UnaryCall(ctx, &testpb.SimpleRequest{
		ResponseStatus: &testpb.EchoStatus{Code: int32(codes.FailedPrecondition), Message: msg},
	}, grpc.Header(&header), grpc.Trailer(&trailer))
	checkGRPCStatus(t, err, codes.FailedPrecondition, msg, true)
	if got := trailer.Get("x-trailer"); len(got) != 1 || got[0] != "trailer-value" {
		t.Errorf("trailer on error = %v", trailer)
	}
	if got := header.Get("x-header"); len(got) != 1 || got[0] != "header-value" {
		t.Errorf("header on error = %v", header)
	}

	_, err = client.UnaryCall(ctx, &testpb.SimpleRequest{ResponseSize: sizePlainError})
	checkGRPCStatus(t, err, codes.Unknown, "plain failure", false)

	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = client.UnaryCall(tctx, &testpb.SimpleRequest{ResponseSize: sizeWaitDone})
	cancel()
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("call past its deadline: %v, want DeadlineExceeded", err)
	}
	tctx, cancel = context.WithTimeout(ctx, 5*time.Second)
	header = nil
	_, err = client.EmptyCall(tctx, &testpb.Empty{}, grpc.Header(&header))
	cancel()
	if err != nil {
		t.Fatalf("EmptyCall: %v", err)
	}
	if ms, err := strconv.Atoi(strings.Join(header.Get("x-deadline-ms"), "")); err != nil || ms <= 0 || ms > 5000 {
		t.Errorf("deadline seen by handler = %q ms", header.Get("x-deadline-ms"))
	}

	_, err = client.UnimplementedCall(ctx, &testpb.Empty{})
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("UnimplementedCall: %v", err)
	}

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
	if len(got) != 3 || got[0] != 1 || got[2] != 3 {
		t.Errorf("payload sizes = %v", got)
	}
	if h, err := ss.Header(); err != nil || strings.Join(h.Get("x-header"), ",") != "stream-header" || strings.Join(h.Get("x-user"), ",") != "carol" {
		t.Errorf("stream header = %v, %v", h, err)
	}
	if got := ss.Trailer().Get("x-trailer"); len(got) != 1 || got[0] != "stream-trailer" {
		t.Errorf("stream trailer = %v", ss.Trailer())
	}

	ss, err = client.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{
		ResponseParameters: sizes(5),
		ResponseStatus:     &testpb.EchoStatus{Code: int32(codes.Aborted), Message: "aborted late"},
	})
	if err != nil {
		t.Fatalf("StreamingOutputCall: %v", err)
	}
	if _, err := ss.Recv(); err != nil {
		t.Fatalf("first message: %v", err)
	}
	_, err = ss.Recv()
	checkGRPCStatus(t, err, codes.Aborted, "aborted late", true)

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
	if h, err := cs.Header(); err != nil || strings.Join(h.Get("x-header"), ",") != "client-stream-header" {
		t.Errorf("client stream header = %v, %v", h, err)
	}
	if got := cs.Trailer().Get("x-trailer"); len(got) != 1 || got[0] != "client-stream-trailer" {
		t.Errorf("client stream trailer = %v", cs.Trailer())
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
	if h, err := bs.Header(); err != nil || strings.Join(h.Get("x-header"), ",") != "bidi-header" ||
		strings.Join(h.Get("x-method"), ",") != testpb.TestService_FullDuplexCall_FullMethodName {
		t.Errorf("bidi header = %v, %v", h, err)
	}
	if got := bs.Trailer().Get("x-trailer"); len(got) != 1 || got[0] != "bidi-trailer" {
		t.Errorf("bidi trailer = %v", bs.Trailer())
	}

	bs, err = client.FullDuplexCall(ctx)
	if err != nil {
		t.Fatalf("FullDuplexCall: %v", err)
	}
	if err := bs.Send(&testpb.StreamingOutputCallRequest{ResponseStatus: &testpb.EchoStatus{Code: int32(codes.ResourceExhausted), Message: "bidi failure"}}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	_, err = bs.Recv()
	checkGRPCStatus(t, err, codes.ResourceExhausted, "bidi failure", true)
}

func checkGRPCStatus(t *testing.T, err error, code codes.Code, msg string, details bool) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a status error", err, err)
	}
	if st.Code() != code || st.Message() != msg {
		t.Errorf("status = %v %q, want %v %q", st.Code(), st.Message(), code, msg)
	}
	if details {
		ds := st.Details()
		if len(ds) != 1 {
			t.Fatalf("details = %v, want one", ds)
		}
		if m, ok := ds[0].(proto.Message); !ok || !proto.Equal(m, errorDetail) {
			t.Errorf("detail = %v, want %v", ds[0], errorDetail)
		}
	}
}

// testUnknown calls a service and a method that do not exist.
func testUnknown(t *testing.T, cc grpc.ClientConnInterface) {
	t.Helper()
	for _, method := range []string{"/no.such.Service/Method", "/grpc.testing.TestService/NoSuchMethod"} {
		err := cc.Invoke(t.Context(), method, &testpb.Empty{}, &testpb.Empty{})
		if status.Code(err) != codes.Unimplemented {
			t.Errorf("%s: %v, want Unimplemented", method, err)
		}
	}
	stream, err := cc.NewStream(t.Context(), &grpc.StreamDesc{ServerStreams: true}, "/no.such.Service/Stream")
	if err == nil {
		if err = stream.SendMsg(&testpb.Empty{}); err == nil {
			_ = stream.CloseSend()
			err = stream.RecvMsg(&testpb.Empty{})
		}
	}
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("unknown stream: %v, want Unimplemented", err)
	}
}

// TestClientStreamCardinality checks that ClientConn rejects a
// client-streaming response with no message or with two, as connect-go
// does: Unimplemented.
func TestClientStreamCardinality(t *testing.T) {
	frame := func(flags byte, payload []byte) []byte {
		return append([]byte{flags, 0, 0, 0, byte(len(payload))}, payload...)
	}
	msg, err := proto.Marshal(&testpb.StreamingInputCallResponse{AggregatedPayloadSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{
		"none": frame(2, []byte("{}")),
		"two":  append(append(frame(0, msg), frame(0, msg)...), frame(2, []byte("{}"))...),
	} {
		t.Run(name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/connect+proto")
				_, _ = w.Write(body)
			})
			base, hc := rpctest.Start(t, h, rpctest.HTTP1)
			client := testpb.NewTestServiceClient(polyrpc.NewClientConn(hc, base))
			cs, err := client.StreamingInputCall(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			_, err = cs.CloseAndRecv()
			if status.Code(err) != codes.Unimplemented {
				t.Errorf("CloseAndRecv = %v, want Unimplemented", err)
			}
		})
	}
}
