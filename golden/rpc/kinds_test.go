package rpc_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"strings"
	"sync"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/polyrpc/polyrpc"
	kindsv1 "github.com/polyrpc/polyrpc/golden/rpc/kinds"
	"github.com/polyrpc/polyrpc/internal/rpctest"
)

// echoServer implements every method kind. Replies carry what the server
// saw, so the client can check metadata, deadlines and method names.
type echoServer struct {
	kindsv1.UnimplementedEchoServiceServer
}

func (echoServer) reply(ctx context.Context, msg string) (*kindsv1.EchoResponse, error) {
	if msg == "fail" {
		st, err := status.New(codes.InvalidArgument, "failure requested").WithDetails(&errdetails.ErrorInfo{Reason: "FAIL", Domain: "golden.polyrpc"})
		if err != nil {
			return nil, err
		}
		return nil, st.Err()
	}
	md, _ := metadata.FromIncomingContext(ctx)
	method, _ := grpc.Method(ctx)
	_, hasDeadline := ctx.Deadline()
	if err := grpc.SetHeader(ctx, metadata.Pairs("x-echo-header", "header-"+msg)); err != nil {
		return nil, err
	}
	if err := grpc.SetTrailer(ctx, metadata.Pairs("x-echo-trailer", "trailer-"+msg)); err != nil {
		return nil, err
	}
	return &kindsv1.EchoResponse{
		Message: fmt.Sprintf("%s|%s|%s|%s|deadline=%t", msg, first(md, "x-request"), hex.EncodeToString([]byte(first(md, "x-data-bin"))), method, hasDeadline),
	}, nil
}

func first(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (s echoServer) Unary(ctx context.Context, req *kindsv1.EchoRequest) (*kindsv1.EchoResponse, error) {
	return s.reply(ctx, req.GetMessage())
}

func (s echoServer) Get(ctx context.Context, req *kindsv1.EchoRequest) (*kindsv1.EchoResponse, error) {
	return s.reply(ctx, req.GetMessage())
}

func (echoServer) ServerStream(req *kindsv1.EchoRequest, stream grpc.ServerStreamingServer[kindsv1.EchoResponse]) error {
	if req.GetMessage() == "fail" {
		return status.Error(codes.FailedPrecondition, "stream failure requested")
	}
	if err := stream.SendHeader(metadata.Pairs("x-echo-header", "stream")); err != nil {
		return err
	}
	for i := range req.GetCount() {
		if err := stream.Send(&kindsv1.EchoResponse{Message: req.GetMessage(), Index: i}); err != nil {
			return err
		}
	}
	stream.SetTrailer(metadata.Pairs("x-echo-trailer", "stream"))
	return nil
}

func (echoServer) ClientStream(stream grpc.ClientStreamingServer[kindsv1.EchoRequest, kindsv1.EchoResponse]) error {
	var parts []string
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		parts = append(parts, req.GetMessage())
	}
	return stream.SendAndClose(&kindsv1.EchoResponse{Message: strings.Join(parts, ","), Index: int32(len(parts))})
}

func (echoServer) BidiStream(stream grpc.BidiStreamingServer[kindsv1.EchoRequest, kindsv1.EchoResponse]) error {
	for i := int32(0); ; i++ {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(&kindsv1.EchoResponse{Message: req.GetMessage(), Index: i}); err != nil {
			return err
		}
	}
}

var kindsService = service{
	mount:    func(mux *http.ServeMux) { mux.Handle(kindsv1.NewEchoServiceHandler(echoServer{})) },
	register: func(s grpc.ServiceRegistrar) { kindsv1.RegisterEchoServiceServer(s, echoServer{}) },
	exercise: exerciseKinds,
}

func TestKinds(t *testing.T) { runService(t, kindsService) }

func exerciseKinds(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, bidi bool) {
	c := kindsv1.NewEchoServiceClient(cc)

	t.Run("unary", func(t *testing.T) {
		ctx := metadata.AppendToOutgoingContext(ctx, "x-request", "hello", "x-data-bin", "\x00\x01\xfe")
		var header, trailer metadata.MD
		res, err := c.Unary(ctx, &kindsv1.EchoRequest{Message: "ping"}, grpc.Header(&header), grpc.Trailer(&trailer))
		if err != nil {
			t.Fatal(err)
		}
		want := "ping|hello|0001fe|" + kindsv1.EchoService_Unary_FullMethodName + "|deadline=true"
		if res.GetMessage() != want {
			t.Errorf("reply %q, want %q", res.GetMessage(), want)
		}
		if got := first(header, "x-echo-header"); got != "header-ping" {
			t.Errorf("header x-echo-header = %q, want header-ping (all: %v)", got, header)
		}
		if got := first(trailer, "x-echo-trailer"); got != "trailer-ping" {
			t.Errorf("trailer x-echo-trailer = %q, want trailer-ping (all: %v)", got, trailer)
		}
	})

	t.Run("unary error", func(t *testing.T) {
		_, err := c.Unary(ctx, &kindsv1.EchoRequest{Message: "fail"})
		checkStatus(t, err, codes.InvalidArgument, "failure requested")
		details := status.Convert(err).Details()
		if len(details) != 1 {
			t.Fatalf("details %v, want one ErrorInfo", details)
		}
		if info, ok := details[0].(*errdetails.ErrorInfo); !ok || !proto.Equal(info, &errdetails.ErrorInfo{Reason: "FAIL", Domain: "golden.polyrpc"}) {
			t.Errorf("detail %v, want ErrorInfo{FAIL, golden.polyrpc}", details[0])
		}
	})

	t.Run("no side effects", func(t *testing.T) {
		res, err := c.Get(ctx, &kindsv1.EchoRequest{Message: "get"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(res.GetMessage(), "get|") {
			t.Errorf("reply %q", res.GetMessage())
		}
	})

	t.Run("server stream", func(t *testing.T) {
		var header, trailer metadata.MD
		stream, err := c.ServerStream(ctx, &kindsv1.EchoRequest{Message: "s", Count: 3}, grpc.Header(&header), grpc.Trailer(&trailer))
		if err != nil {
			t.Fatal(err)
		}
		for i := range int32(3) {
			res, err := stream.Recv()
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if res.GetMessage() != "s" || res.GetIndex() != i {
				t.Errorf("message %d = %v", i, res)
			}
		}
		if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
			t.Errorf("after the last message: %v, want io.EOF", err)
		}
		md, err := stream.Header()
		if err != nil || first(md, "x-echo-header") != "stream" {
			t.Errorf("stream header %v, %v; want x-echo-header: stream", md, err)
		}
		if got := first(stream.Trailer(), "x-echo-trailer"); got != "stream" {
			t.Errorf("stream trailer %v, want x-echo-trailer: stream", stream.Trailer())
		}
	})

	t.Run("server stream error", func(t *testing.T) {
		stream, err := c.ServerStream(ctx, &kindsv1.EchoRequest{Message: "fail"})
		if err == nil {
			_, err = stream.Recv()
		}
		checkStatus(t, err, codes.FailedPrecondition, "stream failure requested")
	})

	t.Run("client stream", func(t *testing.T) {
		stream, err := c.ClientStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"a", "b", "c"} {
			if err := stream.Send(&kindsv1.EchoRequest{Message: m}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := stream.CloseAndRecv()
		if err != nil {
			t.Fatal(err)
		}
		if res.GetMessage() != "a,b,c" || res.GetIndex() != 3 {
			t.Errorf("reply %v, want a,b,c and 3", res)
		}
	})

	t.Run("bidi stream", func(t *testing.T) {
		if !bidi {
			t.Skip("bidirectional streaming needs HTTP/2")
		}
		stream, err := c.BidiStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range []string{"x", "y", "z"} {
			if err := stream.Send(&kindsv1.EchoRequest{Message: m}); err != nil {
				t.Fatal(err)
			}
			res, err := stream.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if res.GetMessage() != m || res.GetIndex() != int32(i) {
				t.Errorf("reply %v, want %s/%d", res, m, i)
			}
		}
		if err := stream.CloseSend(); err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
			t.Errorf("after CloseSend: %v, want io.EOF", err)
		}
	})
}

func checkStatus(t *testing.T, err error, code codes.Code, msg string) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a status error", err, err)
	}
	if st.Code() != code || st.Message() != msg {
		t.Errorf("status %v %q, want %v %q", st.Code(), st.Message(), code, msg)
	}
}

// TestKindsHTTPGet checks that a method marked NO_SIDE_EFFECTS is served
// over HTTP GET to a Connect client asking for it, and other methods are not.
func TestKindsHTTPGet(t *testing.T) {
	var mu sync.Mutex
	methods := map[string]string{}
	mux := http.NewServeMux()
	mux.Handle(kindsv1.NewEchoServiceHandler(echoServer{}))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		methods[r.URL.Path] = r.Method
		mu.Unlock()
		mux.ServeHTTP(w, r)
	})
	for _, codec := range codecs {
		t.Run(codec.name, func(t *testing.T) {
			url, client := rpctest.Start(t, h, rpctest.HTTP1)
			opts := append([]connect.ClientOption{connect.WithHTTPGet()}, codec.opts...)
			c := kindsv1.NewEchoServiceClient(polyrpc.NewClientConn(client, url, opts...))
			ctx := testContext(t)
			if _, err := c.Get(ctx, &kindsv1.EchoRequest{Message: "get"}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Unary(ctx, &kindsv1.EchoRequest{Message: "post"}); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if got := methods[kindsv1.EchoService_Get_FullMethodName]; got != http.MethodGet {
				t.Errorf("Get was sent with %s, want GET", got)
			}
			if got := methods[kindsv1.EchoService_Unary_FullMethodName]; got != http.MethodPost {
				t.Errorf("Unary was sent with %s, want POST", got)
			}
		})
	}

	// A plain HTTP GET, as curl would send it, reaches the method too.
	t.Run("curl", func(t *testing.T) {
		url, client := rpctest.Start(t, mux, rpctest.HTTP1)
		req, err := http.NewRequestWithContext(testContext(t), http.MethodGet,
			url+kindsv1.EchoService_Get_FullMethodName+"?encoding=json&message="+neturl.QueryEscape(`{"message":"curl"}`), nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"message":"curl|`) {
			t.Errorf("GET: %s %s", res.Status, body)
		}
	})
}

// TestUnimplementedEmbeddedByPointer checks the forward-compatibility guard:
// registering a server that embeds UnimplementedXxxServer by nil pointer
// panics at registration, not at the first call.
func TestUnimplementedEmbeddedByPointer(t *testing.T) {
	type byPointer struct {
		*kindsv1.UnimplementedEchoServiceServer
	}
	defer func() {
		if recover() == nil {
			t.Error("RegisterEchoServiceServer did not panic")
		}
	}()
	kindsv1.RegisterEchoServiceServer(grpc.NewServer(), byPointer{})
}

// TestKindsInterceptors checks that grpc-go interceptors given to the
// generated NewXxxHandler see the generated method names and the
// implementation, on every protocol.
func TestKindsInterceptors(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if _, ok := info.Server.(echoServer); !ok {
			t.Errorf("interceptor saw server %T", info.Server)
		}
		mu.Lock()
		seen = append(seen, "unary "+info.FullMethod)
		mu.Unlock()
		return handler(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		mu.Lock()
		seen = append(seen, fmt.Sprintf("stream %s client=%t server=%t", info.FullMethod, info.IsClientStream, info.IsServerStream))
		mu.Unlock()
		return handler(srv, ss)
	}
	mux := http.NewServeMux()
	mux.Handle(kindsv1.NewEchoServiceHandler(echoServer{}, polyrpc.ChainUnaryInterceptor(unary), polyrpc.ChainStreamInterceptor(stream)))
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			url, client := rpctest.Start(t, mux, rpctest.H2C)
			c := kindsv1.NewEchoServiceClient(polyrpc.NewClientConn(client, url, p.opts...))
			ctx := testContext(t)
			if _, err := c.Unary(ctx, &kindsv1.EchoRequest{Message: "i"}); err != nil {
				t.Fatal(err)
			}
			s, err := c.ServerStream(ctx, &kindsv1.EchoRequest{Message: "i", Count: 1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Recv(); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Recv(); !errors.Is(err, io.EOF) {
				t.Fatalf("after the last message: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			want := []string{
				"unary " + kindsv1.EchoService_Unary_FullMethodName,
				"stream " + kindsv1.EchoService_ServerStream_FullMethodName + " client=false server=true",
			}
			if diff := cmp.Diff(want, seen); diff != "" {
				t.Errorf("interceptor calls (-want +got):\n%s", diff)
			}
		})
	}
}
