package polyrpc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/polyrpc/polyrpc"
)

// transportRecorder is an interceptor that records which transport served
// each call: grpc-go's own ("native") or polyrpc's translation of net/http.
type transportRecorder struct {
	mu    sync.Mutex
	calls []string // "method native" or "method http"
}

func transportOf(ctx context.Context) string {
	st := grpc.ServerTransportStreamFromContext(ctx)
	if strings.Contains(fmt.Sprintf("%T", st), "transport.ServerStream") {
		return "native"
	}
	return "http"
}

func (r *transportRecorder) record(method, transport string) {
	r.mu.Lock()
	r.calls = append(r.calls, method+" "+transport)
	r.mu.Unlock()
}

func (r *transportRecorder) options() []polyrpc.ServerOption {
	return []polyrpc.ServerOption{
		polyrpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			r.record(info.FullMethod, transportOf(ctx))
			return h(ctx, req)
		}),
		polyrpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			kind := "bidi"
			switch {
			case info.IsClientStream && !info.IsServerStream:
				kind = "client"
			case !info.IsClientStream && info.IsServerStream:
				kind = "server"
			}
			r.record(info.FullMethod+" "+kind, transportOf(ss.Context()))
			return h(srv, ss)
		}),
	}
}

func (r *transportRecorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

// TestNativeGRPC runs the grpc-go client suite against Serve, where
// cleartext gRPC connections are served by grpc-go's own transport, and
// checks that they were, that interceptors saw every call with its kind,
// and that other clients on the same port are served by net/http.
func TestNativeGRPC(t *testing.T) {
	var rec transportRecorder
	s := polyrpc.NewServer(rec.options()...)
	testpb.RegisterTestServiceServer(s, testService{})
	addr, _ := serveTCP(t, s)
	cc := dialGRPC(t, "http://"+addr)
	exercise(t, testpb.NewTestServiceClient(cc), addr, true)
	testUnknown(t, cc)

	calls := rec.seen()
	if len(calls) == 0 {
		t.Fatal("no call reached the interceptors")
	}
	kinds := map[string]bool{}
	for _, c := range calls {
		if !strings.HasSuffix(c, " native") {
			t.Errorf("grpc-go call served by %s", c)
		}
		kinds[strings.TrimSuffix(c, " native")] = true
	}
	for _, want := range []string{
		testpb.TestService_UnaryCall_FullMethodName,
		testpb.TestService_StreamingOutputCall_FullMethodName + " server",
		testpb.TestService_StreamingInputCall_FullMethodName + " client",
		testpb.TestService_FullDuplexCall_FullMethodName + " bidi",
	} {
		if !kinds[want] {
			t.Errorf("interceptors did not see %s; saw %v", want, calls)
		}
	}

	// Connect and gRPC-Web clients on the same port go through net/http.
	before := len(rec.seen())
	for _, p := range protocols {
		if p.name == "grpc" {
			continue
		}
		ccHTTP := polyrpc.NewClientConn(http.DefaultClient, "http://"+addr, p.opts...)
		if _, err := testpb.NewTestServiceClient(ccHTTP).UnaryCall(t.Context(), &testpb.SimpleRequest{}); err != nil {
			t.Errorf("%s: %v", p.name, err)
		}
	}
	for _, c := range rec.seen()[before:] {
		if !strings.HasSuffix(c, " http") {
			t.Errorf("Connect or gRPC-Web call served by %s", c)
		}
	}
}

// TestNativeGRPCOff: with NativeGRPC(false), or a handler wrapped by an
// HTTPServer option, grpc-go clients are served by net/http.
func TestNativeGRPCOff(t *testing.T) {
	for name, opt := range map[string]polyrpc.ServerOption{
		"NativeGRPC(false)": polyrpc.NativeGRPC(false),
		"wrapped handler": polyrpc.HTTPServer(func(hs *http.Server) {
			next := hs.Handler
			hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { next.ServeHTTP(w, r) })
		}),
		"connect-go options": polyrpc.WithHandlerOptions(connect.WithCompressMinBytes(10)),
	} {
		t.Run(name, func(t *testing.T) {
			var rec transportRecorder
			s := polyrpc.NewServer(append(rec.options(), opt)...)
			testpb.RegisterTestServiceServer(s, testService{})
			addr, _ := serveTCP(t, s)
			cc := dialGRPC(t, "http://"+addr)
			if _, err := testpb.NewTestServiceClient(cc).UnaryCall(t.Context(), &testpb.SimpleRequest{}); err != nil {
				t.Fatal(err)
			}
			if got := rec.seen(); len(got) != 1 || !strings.HasSuffix(got[0], " http") {
				t.Errorf("calls: %v, want one over http", got)
			}
		})
	}
}

// TestNativeGRPCMixedCodecs sends proto and then JSON gRPC calls over one
// HTTP/2 connection, sorted to the native path by its first call: the JSON
// calls are understood too.
func TestNativeGRPCMixedCodecs(t *testing.T) {
	var rec transportRecorder
	s := polyrpc.NewServer(rec.options()...)
	testpb.RegisterTestServiceServer(s, testService{})
	addr, _ := serveTCP(t, s)
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	hc := &http.Client{Transport: &http.Transport{Protocols: protocols, MaxConnsPerHost: 1}}
	defer hc.CloseIdleConnections()
	for _, opts := range [][]connect.ClientOption{
		{connect.WithGRPC()},
		{connect.WithGRPC(), connect.WithProtoJSON()},
		{connect.WithGRPC(), connect.WithProtoJSON(), connect.WithSendGzip()},
	} {
		cc := polyrpc.NewClientConn(hc, "http://"+addr, opts...)
		res, err := testpb.NewTestServiceClient(cc).UnaryCall(t.Context(), &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("hi")}})
		if err != nil {
			t.Fatal(err)
		}
		if string(res.GetPayload().GetBody()) != "hi" {
			t.Errorf("reply %v", res)
		}
	}
	for _, c := range rec.seen() {
		if !strings.HasSuffix(c, " native") {
			t.Errorf("call served by %s, want all on the native path", c)
		}
	}
}

// TestNativeGRPCLimits: the message size limits hold on the native path.
func TestNativeGRPCLimits(t *testing.T) {
	s := polyrpc.NewServer(polyrpc.MaxRecvMsgSize(1024), polyrpc.MaxSendMsgSize(2048))
	testpb.RegisterTestServiceServer(s, echoService{})
	addr, _ := serveTCP(t, s)
	client := testpb.NewTestServiceClient(dialGRPC(t, "http://"+addr))
	for _, test := range []struct {
		size int
		want codes.Code
	}{{900, codes.OK}, {1100, codes.ResourceExhausted}} {
		_, err := client.UnaryCall(t.Context(), &testpb.SimpleRequest{Payload: &testpb.Payload{Body: make([]byte, test.size)}})
		if status.Code(err) != test.want {
			t.Errorf("%d bytes: %v, want %v", test.size, err, test.want)
		}
	}
}

// TestNativeGRPCCardinality sends a unary and a server-streaming call with
// no request and with two, over raw HTTP/2 frames: each fails with
// Unimplemented, as the gRPC specification and the net/http path have it
// (grpc.Server itself answers Internal).
func TestNativeGRPCCardinality(t *testing.T) {
	for _, native := range []bool{true, false} {
		s := polyrpc.NewServer(polyrpc.NativeGRPC(native))
		testpb.RegisterTestServiceServer(s, echoService{})
		addr, _ := serveTCP(t, s)
		msg, _ := proto.Marshal(&testpb.SimpleRequest{})
		for _, path := range []string{testpb.TestService_UnaryCall_FullMethodName, testpb.TestService_StreamingOutputCall_FullMethodName} {
			for _, n := range []int{0, 2} {
				var body []byte
				for range n {
					body = append(body, frame(0, msg)...)
				}
				st := rawGRPCCall(t, addr, path, body)
				if st != fmt.Sprint(int(codes.Unimplemented)) {
					t.Errorf("native %v: %s with %d requests: grpc-status %q, want Unimplemented", native, path, n, st)
				}
			}
		}
	}
}

// rawGRPCCall sends one gRPC call with the given body over a new HTTP/2
// connection, as grpc-go would (waiting for the server's SETTINGS), and
// returns the grpc-status it gets.
func rawGRPCCall(t *testing.T, addr, path string, body []byte) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	// Wait for the server's SETTINGS, as grpc-go does.
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if sf, ok := f.(*http2.SettingsFrame); ok && !sf.IsAck() {
			if err := fr.WriteSettingsAck(); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range [][2]string{
		{":method", "POST"}, {":scheme", "http"}, {":authority", addr}, {":path", path},
		{"content-type", "application/grpc"}, {"te", "trailers"},
	} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	if err := fr.WriteData(1, true, body); err != nil {
		t.Fatal(err)
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				_ = fr.WritePing(true, f.Data)
			}
		case *http2.MetaHeadersFrame:
			if v := f.PseudoValue("status"); v != "" && v != "200" {
				return "http " + v
			}
			for _, hf := range f.RegularFields() {
				if hf.Name == "grpc-status" {
					return hf.Value
				}
			}
			if f.StreamEnded() {
				return ""
			}
		}
	}
}

// TestNativeGRPCSlowClients: connections that send nothing, half a preface
// or a preface and then nothing are closed after the server's waits, and
// goroutines go back to where they were.
func TestNativeGRPCSlowClients(t *testing.T) {
	s := polyrpc.NewServer(polyrpc.HTTPServer(func(hs *http.Server) {
		hs.ReadHeaderTimeout = 200 * time.Millisecond
		hs.IdleTimeout = 300 * time.Millisecond
	}))
	testpb.RegisterTestServiceServer(s, echoService{})
	addr, _ := serveTCP(t, s)
	// A first call starts the server's own goroutines.
	cc := dialGRPC(t, "http://"+addr)
	if _, err := testpb.NewTestServiceClient(cc).UnaryCall(t.Context(), &testpb.SimpleRequest{}); err != nil {
		t.Fatal(err)
	}
	_ = cc.Close()
	time.Sleep(100 * time.Millisecond)
	baseline := countGoroutines()
	for _, send := range []string{"", "PRI * HTTP/2", http2.ClientPreface, "GET / HTTP/1.1\r\n"} {
		var conns []net.Conn
		for range 20 {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			if _, err := io.WriteString(c, send); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range conns {
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err := io.Copy(io.Discard, c)
			var ne net.Error
			if errAs(err, &ne) && ne.Timeout() {
				t.Errorf("%q: connection still open after 5s", send)
			}
			c.Close()
		}
	}
	waitGoroutines(t, baseline)
}

func countGoroutines() int { return runtime.NumGoroutine() }

func errAs(err error, target any) bool { return errors.As(err, target) }
