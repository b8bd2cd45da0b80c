package polyrpc_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/internal/rpctest"
)

// newFullServer registers the test service, grpc-go's health service and
// server reflection on one polyrpc.Server.
func newFullServer(opts ...polyrpc.ServerOption) (*polyrpc.Server, *health.Server) {
	s := polyrpc.NewServer(opts...)
	testpb.RegisterTestServiceServer(s, testService{})
	hs := health.NewServer()
	healthgrpc.RegisterHealthServer(s, hs)
	reflection.Register(s)
	return s, hs
}

func TestServerServiceInfo(t *testing.T) {
	s, _ := newFullServer()
	info := s.GetServiceInfo()
	var names []string
	for name := range info {
		names = append(names, name)
	}
	slices.Sort(names)
	want := []string{"grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection", "grpc.testing.TestService"}
	if !slices.Equal(names, want) {
		t.Fatalf("services = %v, want %v", names, want)
	}
	ts := info["grpc.testing.TestService"]
	if ts.Metadata != "grpc/testing/test.proto" {
		t.Errorf("metadata = %v", ts.Metadata)
	}
	var bidi grpc.MethodInfo
	for _, m := range ts.Methods {
		if m.Name == "FullDuplexCall" {
			bidi = m
		}
	}
	if !bidi.IsClientStream || !bidi.IsServerStream {
		t.Errorf("FullDuplexCall info = %+v", bidi)
	}
}

// TestServerHealth checks the health service on every protocol, including a
// status change seen live on Watch.
func TestServerHealth(t *testing.T) {
	s, hs := newFullServer()
	for _, tr := range []rpctest.Transport{rpctest.HTTP1, rpctest.H2C} {
		base, hc := rpctest.Start(t, s, tr)
		for _, p := range protocols {
			for _, c := range codecs[:2] {
				t.Run(strings.Join([]string{string(tr), p.name, c.name}, "/"), func(t *testing.T) {
					service := strings.Join([]string{"svc", string(tr), p.name, c.name}, "-")
					hs.SetServingStatus(service, healthgrpc.HealthCheckResponse_SERVING)
					opts := append(append([]connect.ClientOption{}, p.opts...), c.opts...)
					check := connect.NewClient[healthgrpc.HealthCheckRequest, healthgrpc.HealthCheckResponse](hc, base+healthgrpc.Health_Check_FullMethodName, opts...)
					res, err := check.CallUnary(t.Context(), connect.NewRequest(&healthgrpc.HealthCheckRequest{Service: service}))
					if err != nil {
						t.Fatalf("Check: %v", err)
					}
					if res.Msg.GetStatus() != healthgrpc.HealthCheckResponse_SERVING {
						t.Errorf("Check = %v", res.Msg.GetStatus())
					}
					_, err = check.CallUnary(t.Context(), connect.NewRequest(&healthgrpc.HealthCheckRequest{Service: "unknown"}))
					if connect.CodeOf(err) != connect.CodeNotFound {
						t.Errorf("Check unknown service: %v, want NotFound", err)
					}

					watch := connect.NewClient[healthgrpc.HealthCheckRequest, healthgrpc.HealthCheckResponse](hc, base+healthgrpc.Health_Watch_FullMethodName, opts...)
					ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
					defer cancel()
					stream, err := watch.CallServerStream(ctx, connect.NewRequest(&healthgrpc.HealthCheckRequest{Service: service}))
					if err != nil {
						t.Fatalf("Watch: %v", err)
					}
					defer stream.Close()
					next := func() healthgrpc.HealthCheckResponse_ServingStatus {
						t.Helper()
						if !stream.Receive() {
							t.Fatalf("Watch ended: %v", stream.Err())
						}
						return stream.Msg().GetStatus()
					}
					if got := next(); got != healthgrpc.HealthCheckResponse_SERVING {
						t.Fatalf("first Watch status = %v", got)
					}
					hs.SetServingStatus(service, healthgrpc.HealthCheckResponse_NOT_SERVING)
					if got := next(); got != healthgrpc.HealthCheckResponse_NOT_SERVING {
						t.Fatalf("Watch status after change = %v", got)
					}
				})
			}
		}
	}

	t.Run("grpc-go", func(t *testing.T) {
		base, _ := rpctest.Start(t, s, rpctest.H2C)
		client := healthgrpc.NewHealthClient(dialGRPC(t, base))
		hs.SetServingStatus("native", healthgrpc.HealthCheckResponse_SERVING)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		stream, err := client.Watch(ctx, &healthgrpc.HealthCheckRequest{Service: "native"})
		if err != nil {
			t.Fatal(err)
		}
		if m, err := stream.Recv(); err != nil || m.GetStatus() != healthgrpc.HealthCheckResponse_SERVING {
			t.Fatalf("Watch = %v, %v", m, err)
		}
		hs.SetServingStatus("native", healthgrpc.HealthCheckResponse_NOT_SERVING)
		if m, err := stream.Recv(); err != nil || m.GetStatus() != healthgrpc.HealthCheckResponse_NOT_SERVING {
			t.Fatalf("Watch after change = %v, %v", m, err)
		}
	})
}

// TestServerReflection lists services and resolves a file with grpc-go's
// reflection client.
func TestServerReflection(t *testing.T) {
	s, _ := newFullServer()
	base, _ := rpctest.Start(t, s, rpctest.H2C)
	client := reflectionpb.NewServerReflectionClient(dialGRPC(t, base))
	stream, err := client.ServerReflectionInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	res, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, svc := range res.GetListServicesResponse().GetService() {
		names = append(names, svc.GetName())
	}
	slices.Sort(names)
	want := []string{"grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection", "grpc.testing.TestService"}
	if !slices.Equal(names, want) {
		t.Errorf("listed services = %v, want %v", names, want)
	}

	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "grpc.testing.TestService"}}); err != nil {
		t.Fatal(err)
	}
	res, err = stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	files := res.GetFileDescriptorResponse().GetFileDescriptorProto()
	if len(files) == 0 {
		t.Fatalf("no file descriptors: %v", res)
	}
	fd := new(descriptorpb.FileDescriptorProto)
	if err := proto.Unmarshal(files[0], fd); err != nil {
		t.Fatal(err)
	}
	if fd.GetName() != "grpc/testing/test.proto" || fd.GetService()[0].GetName() != "TestService" {
		t.Errorf("file = %s with services %v", fd.GetName(), fd.GetService())
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Errorf("end of reflection stream = %v, want io.EOF", err)
	}
}

// TestCurlJSON posts JSON the way curl does, and checks errors in the
// Connect protocol's JSON form.
func TestCurlJSON(t *testing.T) {
	for name, h := range servers() {
		t.Run(name, func(t *testing.T) {
			base, hc := rpctest.Start(t, h, rpctest.HTTP1)
			post := func(path, contentType, body string) (int, map[string]any) {
				t.Helper()
				res, err := hc.Post(base+path, contentType, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var got map[string]any
				data, _ := io.ReadAll(res.Body)
				if err := json.Unmarshal(data, &got); err != nil {
					t.Fatalf("%s: response %q is not JSON: %v", path, data, err)
				}
				return res.StatusCode, got
			}

			code, got := post("/grpc.testing.TestService/UnaryCall", "application/json", `{"payload":{"body":"aGk="},"fillUsername":true}`)
			if code != http.StatusOK || got["payload"].(map[string]any)["body"] != "aGk=" || got["oauthScope"] != "/grpc.testing.TestService/UnaryCall" {
				t.Errorf("UnaryCall = %d %v", code, got)
			}
			// Unknown fields are ignored, as connect-go does.
			code, got = post("/grpc.testing.TestService/UnaryCall", "application/json", `{"noSuchField":1}`)
			if code != http.StatusOK {
				t.Errorf("unknown field = %d %v", code, got)
			}
			code, got = post("/grpc.testing.TestService/UnaryCall", "application/json", `{"responseStatus":{"code":5,"message":"not here"}}`)
			if code != http.StatusNotFound || got["code"] != "not_found" || got["message"] != "not here" {
				t.Errorf("status error = %d %v", code, got)
			}
			if ds, _ := got["details"].([]any); len(ds) != 1 || ds[0].(map[string]any)["type"] != "google.rpc.ErrorInfo" {
				t.Errorf("details = %v", got["details"])
			}
			paths := []string{"/grpc.testing.TestService/NoSuchMethod"}
			if name == "server" {
				// On the mux, unknown services are the mux's business.
				paths = append(paths, "/no.such.Service/Method")
			}
			for _, path := range paths {
				code, got = post(path, "application/json", `{}`)
				if code != http.StatusNotFound || got["code"] != "unimplemented" {
					t.Errorf("%s = %d %v, want 404 unimplemented", path, code, got)
				}
			}
			for _, body := range []string{`{"payload":`, `{"payload":{"body":"not base64!"}}`, `[]`, ``} {
				code, got = post("/grpc.testing.TestService/UnaryCall", "application/json", body)
				if code != http.StatusBadRequest || got["code"] != "invalid_argument" {
					t.Errorf("body %q = %d %v, want 400 invalid_argument", body, code, got)
				}
			}
			code, got = post("/grpc.testing.TestService/UnaryCall", "application/proto", "\xff\xff\xff\xff")
			if code != http.StatusBadRequest || got["code"] != "invalid_argument" {
				t.Errorf("bad proto = %d %v, want 400 invalid_argument", code, got)
			}
		})
	}
}

// TestUndecodable sends bodies that cannot be decoded over the gRPC and
// Connect streaming protocols: the answer is InvalidArgument.
func TestUndecodable(t *testing.T) {
	envelope := func(payload string) []byte {
		b := make([]byte, 5, 5+len(payload))
		binary.BigEndian.PutUint32(b[1:], uint32(len(payload)))
		return append(b, payload...)
	}
	for name, h := range servers() {
		t.Run(name, func(t *testing.T) {
			base, hc := rpctest.Start(t, h, rpctest.H2C)
			for _, path := range []string{"/grpc.testing.TestService/UnaryCall", "/grpc.testing.TestService/StreamingOutputCall", "/grpc.testing.TestService/StreamingInputCall", "/grpc.testing.TestService/FullDuplexCall"} {
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+path, bytes.NewReader(envelope("\xff\xff\xff")))
				req.Header.Set("Content-Type", "application/grpc")
				req.Header.Set("TE", "trailers")
				res, err := hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if got := res.Trailer.Get("Grpc-Status"); got != "3" {
					t.Errorf("gRPC %s: grpc-status %q (%s), want 3", path, got, res.Trailer.Get("Grpc-Message"))
				}
			}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/grpc.testing.TestService/StreamingOutputCall", bytes.NewReader(envelope(`{"responseParameters":`)))
			req.Header.Set("Content-Type", "application/connect+json")
			res, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if !bytes.Contains(data, []byte(`"code":"invalid_argument"`)) {
				t.Errorf("Connect stream with bad JSON: %d %q", res.StatusCode, data)
			}
		})
	}
}

// TestGET calls a NO_SIDE_EFFECTS method with HTTP GET.
func TestGET(t *testing.T) {
	for name, h := range servers() {
		t.Run(name, func(t *testing.T) {
			base, hc := rpctest.Start(t, h, rpctest.HTTP1)
			client := connect.NewClient[testpb.SimpleRequest, testpb.SimpleResponse](hc, base+"/polyrpc.test.Lookup/Get",
				connect.WithHTTPGet(), connect.WithIdempotency(connect.IdempotencyNoSideEffects))
			res, err := client.CallUnary(t.Context(), connect.NewRequest(&testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("q")}}))
			if err != nil {
				t.Fatal(err)
			}
			if res.Msg.GetHostname() != http.MethodGet || string(res.Msg.GetPayload().GetBody()) != "q" {
				t.Errorf("GET = %v", res.Msg)
			}

			// As curl would send it.
			q := url.Values{"encoding": {"json"}, "message": {`{"payload":{"body":"cQ=="}}`}}
			raw, err := hc.Get(base + "/polyrpc.test.Lookup/Get?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(raw.Body)
			raw.Body.Close()
			if raw.StatusCode != http.StatusOK || !bytes.Contains(data, []byte(`"hostname":"GET"`)) {
				t.Errorf("curl GET = %d %s", raw.StatusCode, data)
			}
			q = url.Values{"encoding": {"proto"}, "base64": {"1"}, "message": {base64.RawURLEncoding.EncodeToString([]byte("\xff\xff"))}}
			raw, err = hc.Get(base + "/polyrpc.test.Lookup/Get?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			data, _ = io.ReadAll(raw.Body)
			raw.Body.Close()
			if raw.StatusCode != http.StatusBadRequest {
				t.Errorf("GET with a bad message = %d %s, want 400", raw.StatusCode, data)
			}

			// polyrpc.ClientConn finds the idempotency level in the registry.
			cc := polyrpc.NewClientConn(hc, base, connect.WithHTTPGet())
			reply := new(testpb.SimpleResponse)
			if err := cc.Invoke(t.Context(), "/polyrpc.test.Lookup/Get", &testpb.SimpleRequest{}, reply); err != nil {
				t.Fatal(err)
			}
			if reply.GetHostname() != http.MethodGet {
				t.Errorf("ClientConn with WithHTTPGet used %q", reply.GetHostname())
			}

			// Methods without NO_SIDE_EFFECTS do not answer GET.
			raw, err = hc.Get(base + "/grpc.testing.TestService/UnaryCall?encoding=json&message={}")
			if err != nil {
				t.Fatal(err)
			}
			raw.Body.Close()
			if raw.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("GET on UnaryCall = %d, want 405", raw.StatusCode)
			}
		})
	}
}

// TestInterceptors checks grpc-go interceptors on both serving paths.
func TestInterceptors(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	record := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, s)
	}
	unary := func(name string) grpc.UnaryServerInterceptor {
		return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			record(name + " " + info.FullMethod)
			if _, ok := req.(*testpb.SimpleRequest); !ok && info.FullMethod == testpb.TestService_UnaryCall_FullMethodName {
				t.Errorf("interceptor got %T", req)
			}
			md, _ := metadata.FromIncomingContext(ctx)
			if slices.Contains(md.Get("x-deny"), name) {
				return nil, status.Error(codes.PermissionDenied, "denied by "+name)
			}
			return handler(ctx, req)
		}
	}
	stream := func(name string) grpc.StreamServerInterceptor {
		return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			record(name + " " + info.FullMethod)
			if info.FullMethod == testpb.TestService_FullDuplexCall_FullMethodName && (!info.IsClientStream || !info.IsServerStream) {
				t.Errorf("stream info = %+v", info)
			}
			if _, ok := srv.(testService); !ok {
				t.Errorf("stream interceptor got server %T", srv)
			}
			return handler(srv, ss)
		}
	}
	opts := []polyrpc.Option{
		polyrpc.ChainUnaryInterceptor(unary("u1"), unary("u2")),
		polyrpc.ChainUnaryInterceptor(unary("u3")),
		polyrpc.ChainStreamInterceptor(stream("s1"), stream("s2")),
	}
	for name, h := range servers(opts...) {
		t.Run(name, func(t *testing.T) {
			calls = nil
			base, hc := rpctest.Start(t, h, rpctest.H2C)
			client := testpb.NewTestServiceClient(polyrpc.NewClientConn(hc, base))
			if _, err := client.UnaryCall(t.Context(), &testpb.SimpleRequest{}); err != nil {
				t.Fatal(err)
			}
			want := []string{"u1 /grpc.testing.TestService/UnaryCall", "u2 /grpc.testing.TestService/UnaryCall", "u3 /grpc.testing.TestService/UnaryCall"}
			if !slices.Equal(calls, want) {
				t.Errorf("unary calls = %q, want %q", calls, want)
			}
			ctx := metadata.AppendToOutgoingContext(t.Context(), "x-deny", "u2")
			_, err := client.UnaryCall(ctx, &testpb.SimpleRequest{})
			checkGRPCStatus(t, err, codes.PermissionDenied, "denied by u2", false)

			calls = nil
			bs, err := client.FullDuplexCall(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if err := bs.CloseSend(); err != nil {
				t.Fatal(err)
			}
			if _, err := bs.Recv(); err != io.EOF {
				t.Fatalf("Recv = %v", err)
			}
			want = []string{"s1 /grpc.testing.TestService/FullDuplexCall", "s2 /grpc.testing.TestService/FullDuplexCall"}
			if !slices.Equal(calls, want) {
				t.Errorf("stream calls = %q, want %q", calls, want)
			}
		})
	}
}

// TestServerHandlerOptions checks that connect-go options pass through.
func TestServerHandlerOptions(t *testing.T) {
	s := polyrpc.NewServer(polyrpc.WithHandlerOptions(connect.WithReadMaxBytes(64)))
	testpb.RegisterTestServiceServer(s, testService{})
	base, hc := rpctest.Start(t, s, rpctest.HTTP1)
	cc := polyrpc.NewClientConn(hc, base)
	client := testpb.NewTestServiceClient(cc)
	if _, err := client.UnaryCall(t.Context(), &testpb.SimpleRequest{Payload: &testpb.Payload{Body: make([]byte, 10)}}); err != nil {
		t.Fatal(err)
	}
	_, err := client.UnaryCall(t.Context(), &testpb.SimpleRequest{Payload: &testpb.Payload{Body: make([]byte, 100)}})
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("oversized request: %v, want ResourceExhausted", err)
	}
}

// TestRegisterFails checks that bad registrations stop the program the way
// grpc.Server does. The failing registration runs in a child process.
func TestRegisterFails(t *testing.T) {
	if mode := os.Getenv("POLYRPC_REGISTER_FAILS"); mode != "" {
		s := polyrpc.NewServer()
		switch mode {
		case "duplicate":
			testpb.RegisterTestServiceServer(s, testService{})
			testpb.RegisterTestServiceServer(s, testService{})
		case "type":
			s.RegisterService(&testpb.TestService_ServiceDesc, lookupService{})
		}
		os.Exit(0)
	}
	for mode, want := range map[string]string{
		"duplicate": `polyrpc: Server.RegisterService found duplicate service registration for "grpc.testing.TestService"`,
		"type":      "polyrpc: Server.RegisterService found the handler of type polyrpc_test.lookupService that does not satisfy grpc_testing.TestServiceServer",
	} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestRegisterFails$")
			cmd.Env = append(os.Environ(), "POLYRPC_REGISTER_FAILS="+mode)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("registration succeeded: %s", out)
			}
			if !strings.Contains(string(out), want) {
				t.Errorf("output %q does not contain %q", out, want)
			}
		})
	}
}

// TestConnectInterceptors checks that connect-go interceptors see requests
// and responses as protobuf messages of the method's types, and that a
// change to the request reaches the handler.
func TestConnectInterceptors(t *testing.T) {
	ic := connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			msg, ok := req.Any().(proto.Message)
			if !ok {
				return nil, connect.NewError(connect.CodeInternal, errors.New("request is not a proto.Message"))
			}
			r := msg.ProtoReflect()
			if r.Descriptor().FullName() != "grpc.testing.SimpleRequest" {
				return nil, connect.NewError(connect.CodeInternal, errors.New("request type "+string(r.Descriptor().FullName())))
			}
			// The concrete type is one step away.
			payload := r.Interface().(*testpb.SimpleRequest).GetPayload()
			switch string(payload.GetBody()) {
			case "forbidden":
				return nil, connect.NewError(connect.CodePermissionDenied, errors.New("forbidden"))
			case "secret":
				payload.Body = []byte("redacted")
			}
			res, err := next(ctx, req)
			if err != nil {
				return nil, err
			}
			out, ok := res.Any().(proto.Message)
			if !ok {
				return nil, connect.NewError(connect.CodeInternal, errors.New("response is not a proto.Message"))
			}
			scope := out.ProtoReflect().Get(out.ProtoReflect().Descriptor().Fields().ByName("oauth_scope")).String()
			res.Header().Set("X-Seen-Scope", scope)
			return res, nil
		}
	})
	mux := http.NewServeMux()
	mux.Handle(polyrpc.NewHandler(&testpb.TestService_ServiceDesc, testService{}, connect.WithInterceptors(ic)))
	s := polyrpc.NewServer(polyrpc.WithHandlerOptions(connect.WithInterceptors(ic)))
	testpb.RegisterTestServiceServer(s, testService{})
	for name, h := range map[string]http.Handler{"handler": mux, "server": s} {
		t.Run(name, func(t *testing.T) {
			base, hc := rpctest.Start(t, h, rpctest.HTTP1)
			client := testpb.NewTestServiceClient(polyrpc.NewClientConn(hc, base, connect.WithProtoJSON()))
			var header metadata.MD
			res, err := client.UnaryCall(t.Context(), &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("secret")}}, grpc.Header(&header))
			if err != nil {
				t.Fatal(err)
			}
			if string(res.GetPayload().GetBody()) != "redacted" {
				t.Errorf("handler saw %q, want the interceptor's change", res.GetPayload().GetBody())
			}
			if got := header.Get("x-seen-scope"); len(got) != 1 || got[0] != testpb.TestService_UnaryCall_FullMethodName {
				t.Errorf("x-seen-scope = %v", got)
			}
			_, err = client.UnaryCall(t.Context(), &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("forbidden")}})
			checkGRPCStatus(t, err, codes.PermissionDenied, "forbidden", false)
			// Bad input still fails as InvalidArgument when an interceptor
			// looked at the request first.
			raw, err := hc.Post(base+testpb.TestService_UnaryCall_FullMethodName, "application/proto", strings.NewReader("\xff\xff\xff"))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(raw.Body)
			raw.Body.Close()
			if raw.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte(`"code":"invalid_argument"`)) {
				t.Errorf("undecodable request = %d %s, want 400 invalid_argument", raw.StatusCode, body)
			}
		})
	}
}
