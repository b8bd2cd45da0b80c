package rpc_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	kindsv1 "github.com/polyrpc/polyrpc/golden/rpc/kinds"
	"github.com/polyrpc/polyrpc/internal/rpctest"
)

// TestKindsConnectPeer calls the generated handler with connect-go's own
// client, an independent peer, on every protocol, codec and HTTP version.
func TestKindsConnectPeer(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(kindsv1.NewEchoServiceHandler(echoServer{}))
	for _, tr := range rpctest.Transports {
		for _, p := range protocols {
			for _, c := range codecs {
				t.Run(fmt.Sprintf("%s/%s/%s", p.name, c.name, tr), func(t *testing.T) {
					url, client := rpctest.Start(t, mux, tr)
					opts := append(append([]connect.ClientOption{}, p.opts...), c.opts...)
					ctx := testContext(t)

					unary := connect.NewClient[kindsv1.EchoRequest, kindsv1.EchoResponse](client, url+kindsv1.EchoService_Unary_FullMethodName, opts...)
					req := connect.NewRequest(&kindsv1.EchoRequest{Message: "peer"})
					req.Header().Set("X-Request", "from-connect")
					res, err := unary.CallUnary(ctx, req)
					if err != nil {
						t.Fatal(err)
					}
					want := "peer|from-connect||" + kindsv1.EchoService_Unary_FullMethodName + "|deadline=true"
					if res.Msg.GetMessage() != want {
						t.Errorf("reply %q, want %q", res.Msg.GetMessage(), want)
					}
					if got := res.Header().Get("X-Echo-Header"); got != "header-peer" {
						t.Errorf("header %q, want header-peer", got)
					}
					if got := res.Trailer().Get("X-Echo-Trailer"); got != "trailer-peer" {
						t.Errorf("trailer %q, want trailer-peer", got)
					}

					_, err = unary.CallUnary(ctx, connect.NewRequest(&kindsv1.EchoRequest{Message: "fail"}))
					var cerr *connect.Error
					if !errors.As(err, &cerr) || cerr.Code() != connect.CodeInvalidArgument || cerr.Message() != "failure requested" {
						t.Fatalf("error %v, want invalid_argument: failure requested", err)
					}
					if len(cerr.Details()) != 1 {
						t.Fatalf("details %v, want one", cerr.Details())
					}
					detail, err := cerr.Details()[0].Value()
					if err != nil {
						t.Fatal(err)
					}
					if info, ok := detail.(*errdetails.ErrorInfo); !ok || info.GetReason() != "FAIL" {
						t.Errorf("detail %v, want ErrorInfo FAIL", detail)
					}

					server := connect.NewClient[kindsv1.EchoRequest, kindsv1.EchoResponse](client, url+kindsv1.EchoService_ServerStream_FullMethodName, opts...)
					stream, err := server.CallServerStream(ctx, connect.NewRequest(&kindsv1.EchoRequest{Message: "s", Count: 2}))
					if err != nil {
						t.Fatal(err)
					}
					n := 0
					for stream.Receive() {
						n++
					}
					if err := stream.Err(); err != nil || n != 2 {
						t.Errorf("server stream: %d messages, %v; want 2", n, err)
					}
					if got := stream.ResponseTrailer().Get("X-Echo-Trailer"); got != "stream" {
						t.Errorf("stream trailer %q, want stream", got)
					}
					stream.Close()

					clientStream := connect.NewClient[kindsv1.EchoRequest, kindsv1.EchoResponse](client, url+kindsv1.EchoService_ClientStream_FullMethodName, opts...).CallClientStream(ctx)
					for _, m := range []string{"p", "q"} {
						if err := clientStream.Send(&kindsv1.EchoRequest{Message: m}); err != nil {
							t.Fatal(err)
						}
					}
					cres, err := clientStream.CloseAndReceive()
					if err != nil {
						t.Fatal(err)
					}
					if cres.Msg.GetMessage() != "p,q" {
						t.Errorf("client stream reply %q, want p,q", cres.Msg.GetMessage())
					}

					if tr.HTTP2() {
						bidi := connect.NewClient[kindsv1.EchoRequest, kindsv1.EchoResponse](client, url+kindsv1.EchoService_BidiStream_FullMethodName, opts...).CallBidiStream(ctx)
						if err := bidi.Send(&kindsv1.EchoRequest{Message: "b"}); err != nil {
							t.Fatal(err)
						}
						bres, err := bidi.Receive()
						if err != nil {
							t.Fatal(err)
						}
						if bres.GetMessage() != "b" {
							t.Errorf("bidi reply %q", bres.GetMessage())
						}
						if err := bidi.CloseRequest(); err != nil {
							t.Fatal(err)
						}
						if _, err := bidi.Receive(); !errors.Is(err, io.EOF) {
							t.Errorf("after CloseRequest: %v, want io.EOF", err)
						}
						bidi.CloseResponse()
					}

					missing := connect.NewClient[kindsv1.EchoRequest, kindsv1.EchoResponse](client, url+"/polyrpc.golden.kinds.v1.EchoService/Missing", opts...)
					_, err = missing.CallUnary(ctx, connect.NewRequest(&kindsv1.EchoRequest{}))
					if connect.CodeOf(err) != connect.CodeUnimplemented {
						t.Errorf("missing method: %v, want unimplemented", err)
					}
				})
			}
		}
	}
}

// TestKindsPlainJSON posts JSON over HTTP/1.1 as curl would, and checks the
// Connect protocol's answers, including its JSON errors.
func TestKindsPlainJSON(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(kindsv1.NewEchoServiceHandler(echoServer{}))
	url, client := rpctest.Start(t, mux, rpctest.HTTP1)
	post := func(body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequestWithContext(testContext(t), http.MethodPost, url+kindsv1.EchoService_Unary_FullMethodName, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, out
	}
	code, out := post(`{"message":"json"}`)
	if code != http.StatusOK || !strings.HasPrefix(fmt.Sprint(out["message"]), "json||") {
		t.Errorf("POST: %d %v", code, out)
	}
	code, out = post(`{"message":"fail"}`)
	if code != http.StatusBadRequest || out["code"] != "invalid_argument" || out["message"] != "failure requested" {
		t.Errorf("POST fail: %d %v", code, out)
	}
	if details, _ := out["details"].([]any); len(details) != 1 {
		t.Errorf("error details %v, want one", out["details"])
	}
	code, out = post(`{"message":`)
	if code != http.StatusBadRequest || out["code"] != "invalid_argument" {
		t.Errorf("POST malformed JSON: %d %v", code, out)
	}
}
