package polyrpc_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"connectrpc.com/connect"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/protobuf/proto"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/internal/rpctest"
)

// benchHandlers returns the same service served three ways: the handler of
// NewHandler alone, that handler on an http.ServeMux, and a polyrpc.Server
// holding it among other services.
func benchHandlers() []struct {
	name string
	h    http.Handler
} {
	_, h := polyrpc.NewHandler(&testpb.TestService_ServiceDesc, testService{})
	mux := http.NewServeMux()
	mux.Handle(polyrpc.NewHandler(&testpb.TestService_ServiceDesc, testService{}))
	s, _ := newFullServer()
	return []struct {
		name string
		h    http.Handler
	}{{"Handler", h}, {"HandlerMux", mux}, {"Server", s}, {"ConnectNative", connectNative()}}
}

// connectNative is the same unary method written directly against
// connect-go, for reference: the difference is the cost of translation.
func connectNative() http.Handler {
	return connect.NewUnaryHandler(testpb.TestService_UnaryCall_FullMethodName,
		func(ctx context.Context, req *connect.Request[testpb.SimpleRequest]) (*connect.Response[testpb.SimpleResponse], error) {
			res := connect.NewResponse(&testpb.SimpleResponse{
				Payload:    req.Msg.GetPayload(),
				Username:   req.Header().Get("X-User"),
				OauthScope: req.Spec().Procedure,
				Hostname:   req.Header().Get("Host"),
				ServerId:   req.Peer().Addr,
			})
			res.Header().Set("X-Header", "header-value")
			res.Trailer().Set("X-Trailer", "trailer-value")
			res.Trailer().Set("X-Trailer-Bin", connect.EncodeBinaryHeader([]byte("\x00\xfftrailer")))
			return res, nil
		})
}

// BenchmarkUnaryInProcess measures the server side of a Connect unary call
// without the network: routing, connect-go and polyrpc's translation.
func BenchmarkUnaryInProcess(b *testing.B) {
	body, err := proto.Marshal(&testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("hello, world")}})
	if err != nil {
		b.Fatal(err)
	}
	for _, bh := range benchHandlers() {
		b.Run(bh.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/grpc.testing.TestService/UnaryCall", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/proto")
				rec := httptest.NewRecorder()
				bh.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// BenchmarkUnaryLoopback measures whole unary calls from a connect-go client
// over h2c on loopback.
func BenchmarkUnaryLoopback(b *testing.B) {
	for _, bh := range benchHandlers() {
		b.Run(bh.name, func(b *testing.B) {
			base, hc := rpctest.Start(b, bh.h, rpctest.H2C)
			client := connect.NewClient[testpb.SimpleRequest, testpb.SimpleResponse](hc, base+testpb.TestService_UnaryCall_FullMethodName)
			req := connect.NewRequest(&testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("hello, world")}})
			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.CallUnary(b.Context(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
