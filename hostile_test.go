package polyrpc_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/internal/rpctest"
)

// gzipBomb returns a gzip stream of size bytes of zeros, made of 1 MiB
// members: a few hundred kilobytes that inflate to size.
func gzipBomb(tb testing.TB, size int) []byte {
	tb.Helper()
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	if _, err := zw.Write(make([]byte, 1<<20)); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return bytes.Repeat(member.Bytes(), size>>20)
}

// frame frames a message as the gRPC, gRPC-Web and Connect streaming
// protocols do.
func frame(flags byte, msg []byte) []byte {
	env := make([]byte, 5, 5+len(msg))
	env[0] = flags
	binary.BigEndian.PutUint32(env[1:], uint32(len(msg)))
	return append(env, msg...)
}

// countingServers returns the test servers with a unary interceptor that
// counts the calls that reach it. (A stream's interceptor runs before its
// messages are read, so only unary calls can show that a message was refused
// before any code of the application ran.)
func countingServers(opts ...polyrpc.Option) (map[string]http.Handler, *atomic.Int32) {
	var calls atomic.Int32
	count := polyrpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		calls.Add(1)
		return handler(ctx, req)
	})
	return servers(append([]polyrpc.Option{count}, opts...)...), &calls
}

// allocated runs f and returns the bytes the process allocated meanwhile.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestCompressedBomb sends small gzip bodies that inflate to 256 MiB, in
// every protocol form, Connect GET included: each is refused with
// ResourceExhausted, allocating a few times the 4 MiB limit at most, and no
// interceptor or handler runs.
func TestCompressedBomb(t *testing.T) {
	bomb := gzipBomb(t, 256<<20)
	req := func(base, method, path, ct string, body []byte, header http.Header) *http.Request {
		r, err := http.NewRequestWithContext(t.Context(), method, base+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Header = header
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		return r
	}
	getQuery := url.Values{
		"connect": {"v1"}, "encoding": {"proto"}, "compression": {"gzip"}, "base64": {"1"},
		"message": {base64.RawURLEncoding.EncodeToString(bomb)},
	}.Encode()
	cases := []struct {
		name      string
		transport rpctest.Transport
		build     func(base string) *http.Request
		// exhausted reports whether the response says ResourceExhausted.
		exhausted func(res *http.Response, body []byte) bool
	}{
		{"connect unary", rpctest.HTTP1, func(base string) *http.Request {
			return req(base, http.MethodPost, testpb.TestService_UnaryCall_FullMethodName, "application/proto", bomb,
				http.Header{"Content-Encoding": {"gzip"}, "Connect-Protocol-Version": {"1"}})
		}, connectExhausted},
		{"connect GET", rpctest.HTTP1, func(base string) *http.Request {
			return req(base, http.MethodGet, "/polyrpc.test.Lookup/Get?"+getQuery, "", nil, http.Header{})
		}, connectExhausted},
		{"connect stream", rpctest.HTTP1, func(base string) *http.Request {
			return req(base, http.MethodPost, testpb.TestService_StreamingInputCall_FullMethodName, "application/connect+proto",
				frame(1, bomb), http.Header{"Connect-Content-Encoding": {"gzip"}})
		}, connectStreamExhausted},
		{"grpc-web", rpctest.HTTP1, func(base string) *http.Request {
			return req(base, http.MethodPost, testpb.TestService_UnaryCall_FullMethodName, "application/grpc-web+proto",
				frame(1, bomb), http.Header{"Grpc-Encoding": {"gzip"}})
		}, grpcExhausted},
		{"grpc", rpctest.H2C, func(base string) *http.Request {
			return req(base, http.MethodPost, testpb.TestService_UnaryCall_FullMethodName, "application/grpc+proto",
				frame(1, bomb), http.Header{"Grpc-Encoding": {"gzip"}, "Te": {"trailers"}})
		}, grpcExhausted},
	}
	handlers, calls := countingServers()
	for name, h := range handlers {
		for _, c := range cases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				base, hc := rpctest.Start(t, h, c.transport)
				var res *http.Response
				var body []byte
				runtime.GC()
				n := allocated(func() {
					var err error
					res, err = hc.Do(c.build(base))
					if err != nil {
						t.Fatal(err)
					}
					body, _ = io.ReadAll(res.Body)
					res.Body.Close()
				})
				if !c.exhausted(res, body) {
					t.Errorf("HTTP %d %v %q %v: want ResourceExhausted", res.StatusCode, res.Header, body, res.Trailer)
				}
				if n > 48<<20 {
					t.Errorf("the call allocated %d MiB", n>>20)
				}
			})
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("%d call(s) reached an interceptor", n)
	}
}

func connectExhausted(res *http.Response, body []byte) bool {
	return res.StatusCode == http.StatusTooManyRequests && bytes.Contains(body, []byte(`"resource_exhausted"`))
}

func connectStreamExhausted(res *http.Response, body []byte) bool {
	if res.StatusCode != http.StatusOK {
		return false
	}
	// The end of the stream is the last envelope, gzipped when flagged so.
	for len(body) >= 5 {
		n := int(binary.BigEndian.Uint32(body[1:5]))
		if len(body) < 5+n {
			return false
		}
		flags, msg := body[0], body[5:5+n]
		body = body[5+n:]
		if flags&2 == 0 {
			continue
		}
		if flags&1 != 0 {
			zr, err := gzip.NewReader(bytes.NewReader(msg))
			if err != nil {
				return false
			}
			if msg, err = io.ReadAll(zr); err != nil {
				return false
			}
		}
		return bytes.Contains(msg, []byte(`"resource_exhausted"`))
	}
	return false
}

func grpcExhausted(res *http.Response, body []byte) bool {
	st := res.Trailer.Get("Grpc-Status")
	if st == "" {
		st = res.Header.Get("Grpc-Status")
	}
	if st == "" {
		// gRPC-Web sends its trailers in the body.
		st = string(bytes.TrimSpace([]byte(grpcWebTrailer(body, "grpc-status"))))
	}
	return st == fmt.Sprint(int(codes.ResourceExhausted))
}

// grpcWebTrailer returns a trailer from a gRPC-Web response body.
func grpcWebTrailer(body []byte, key string) string {
	for len(body) >= 5 {
		n := int(binary.BigEndian.Uint32(body[1:5]))
		if len(body) < 5+n {
			return ""
		}
		if body[0]&0x80 != 0 {
			for line := range strings.SplitSeq(string(body[5:5+n]), "\r\n") {
				if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, key) {
					return strings.TrimSpace(v)
				}
			}
		}
		body = body[5+n:]
	}
	return ""
}

// TestMessageSizeLimits checks the default limits, grpc-go's, and the
// options that change them, on both serving paths and every protocol.
func TestMessageSizeLimits(t *testing.T) {
	// A request whose encoding is exactly size bytes long.
	request := func(size int) *testpb.SimpleRequest {
		req := &testpb.SimpleRequest{Payload: &testpb.Payload{}}
		body := size - 5 // field tag and length of payload and body
		for {
			req.Payload.Body = make([]byte, body)
			if n := proto.Size(req); n != size {
				body += size - n
				continue
			}
			return req
		}
	}
	call := func(t *testing.T, h http.Handler, p protocol, req *testpb.SimpleRequest, opts ...connect.ClientOption) error {
		base, hc := rpctest.Start(t, h, rpctest.H2C)
		cc := polyrpc.NewClientConn(hc, base, append(append([]connect.ClientOption{}, p.opts...), opts...)...)
		_, err := testpb.NewTestServiceClient(cc).UnaryCall(t.Context(), req)
		return err
	}
	check := func(t *testing.T, err error, want codes.Code) {
		t.Helper()
		if status.Code(err) != want {
			t.Errorf("got %v, want %v", err, want)
		}
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			for name, h := range servers() {
				// The reply echoes the request, so the client's own 4 MiB
				// limit must be raised to see the server's.
				check(t, call(t, h, p, request(4<<20), polyrpc.ClientMaxRecvMsgSize(8<<20)), codes.OK)
				check(t, call(t, h, p, request(4<<20+1), polyrpc.ClientMaxRecvMsgSize(8<<20)), codes.ResourceExhausted)
				// The same with gzip: the compressed message is small.
				check(t, call(t, h, p, request(4<<20+1), polyrpc.ClientMaxRecvMsgSize(8<<20), connect.WithSendGzip()), codes.ResourceExhausted)
				_ = name
			}
			for name, h := range servers(polyrpc.MaxRecvMsgSize(1024)) {
				t.Run(name, func(t *testing.T) {
					check(t, call(t, h, p, request(1024)), codes.OK)
					check(t, call(t, h, p, request(1025)), codes.ResourceExhausted)
					check(t, call(t, h, p, request(1025), connect.WithSendGzip()), codes.ResourceExhausted)
				})
			}
			for name, h := range servers(polyrpc.MaxRecvMsgSize(16<<20), polyrpc.MaxSendMsgSize(1024)) {
				t.Run(name+"/send", func(t *testing.T) {
					check(t, call(t, h, p, request(900)), codes.OK)
					check(t, call(t, h, p, request(1100)), codes.ResourceExhausted)
					// The client's default limit is 4 MiB...
					check(t, call(t, h, p, request(5<<20)), codes.ResourceExhausted)
				})
			}
			for name, h := range servers(polyrpc.MaxRecvMsgSize(16 << 20)) {
				t.Run(name+"/client", func(t *testing.T) {
					// ...also for gzip replies, and the option raises it.
					check(t, call(t, h, p, request(5<<20), connect.WithAcceptCompression("gzip", nil, nil)), codes.ResourceExhausted)
					check(t, call(t, h, p, request(5<<20), polyrpc.ClientMaxRecvMsgSize(8<<20)), codes.OK)
				})
			}
		})
	}
}

// TestEncodedPaths sends calls whose path names a method only once
// percent-decoded: on every protocol, for the Server and for generated
// handlers, they are unknown methods, as on a grpc.Server.
func TestEncodedPaths(t *testing.T) {
	paths := []string{
		"/grpc.testing.TestService%2FUnaryCall",
		"/grpc.testing.TestService%2fUnaryCall",
		"/grpc%2Etesting.TestService/UnaryCall",
		"/grpc.testing.TestService/Unary%43all",
		"/grpc.testing.TestService/UnaryCall%00",
		"/grpc.testing.TestService/UnaryCall/",
		"/grpc.testing.TestService/../grpc.testing.TestService/UnaryCall",
		"/grpc.testing.TestService/./UnaryCall",
	}
	body := func() []byte {
		data, _ := proto.Marshal(&testpb.SimpleRequest{})
		return data
	}()
	handlers, calls := countingServers()
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			base, client := rpctest.Start(t, h, rpctest.H2C)
			// http.ServeMux, in front of the generated handlers, redirects to
			// the cleaned path: a gRPC client does not follow that.
			hc := *client
			hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			redirected := func(code int) bool {
				return code == http.StatusMovedPermanently || code == http.StatusTemporaryRedirect || code == http.StatusPermanentRedirect
			}
			// The canonical path works.
			for _, path := range append([]string{testpb.TestService_UnaryCall_FullMethodName}, paths...) {
				for _, ct := range []string{"application/proto", "application/grpc", "application/grpc-web+proto"} {
					payload := body
					if ct != "application/proto" {
						payload = frame(0, body)
					}
					r, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base, bytes.NewReader(payload))
					if err != nil {
						t.Fatal(err)
					}
					// Opaque keeps the path exactly as written.
					r.URL.Opaque = path
					r.Header.Set("Content-Type", ct)
					r.Header.Set("Te", "trailers")
					before := calls.Load()
					res, err := hc.Do(r)
					if err != nil {
						t.Fatal(err)
					}
					data, _ := io.ReadAll(res.Body)
					res.Body.Close()
					reached := calls.Load() != before
					if path == testpb.TestService_UnaryCall_FullMethodName {
						if !reached || res.StatusCode != http.StatusOK {
							t.Errorf("%s %s: HTTP %d %q, reached %v", ct, path, res.StatusCode, data, reached)
						}
						continue
					}
					if reached {
						t.Errorf("%s %s reached the method", ct, path)
					}
					switch {
					case ct == "application/proto":
						if res.StatusCode != http.StatusNotFound && !(name == "handler" && redirected(res.StatusCode)) {
							t.Errorf("%s %s: HTTP %d %q, want 404", ct, path, res.StatusCode, data)
						}
					case res.StatusCode == http.StatusOK:
						st := res.Trailer.Get("Grpc-Status")
						if st == "" {
							st = res.Header.Get("Grpc-Status")
						}
						if st == "" {
							st = grpcWebTrailer(data, "grpc-status")
						}
						if st != fmt.Sprint(int(codes.Unimplemented)) {
							t.Errorf("%s %s: grpc-status %q, want Unimplemented", ct, path, st)
						}
					case res.StatusCode != http.StatusNotFound && !(name == "handler" && redirected(res.StatusCode)):
						t.Errorf("%s %s: HTTP %d %q", ct, path, res.StatusCode, data)
					}
				}
			}
		})
	}
}

// TestMalformedBinaryMetadata checks that a "-bin" header that is not
// base64 fails the call with Internal, naming the header, as grpc-go does.
func TestMalformedBinaryMetadata(t *testing.T) {
	handlers, calls := countingServers()
	for name, h := range handlers {
		for _, p := range protocols {
			t.Run(name+"/"+p.name, func(t *testing.T) {
				base, hc := rpctest.Start(t, h, rpctest.H2C)
				client := connect.NewClient[testpb.SimpleRequest, testpb.SimpleResponse](hc, base+testpb.TestService_UnaryCall_FullMethodName, p.opts...)
				for _, v := range []string{"!!!not-base64!!!", "AAA=,***", "a b"} {
					req := connect.NewRequest(&testpb.SimpleRequest{})
					req.Header().Set("X-Token-Bin", v)
					before := calls.Load()
					_, err := client.CallUnary(t.Context(), req)
					if connect.CodeOf(err) != connect.CodeInternal || !strings.Contains(err.Error(), `"x-token-bin"`) {
						t.Errorf("X-Token-Bin: %s: %v, want Internal naming the header", v, err)
					}
					if calls.Load() != before {
						t.Errorf("X-Token-Bin: %s reached the method", v)
					}
				}
				// Well-formed values, padded or not, pass.
				req := connect.NewRequest(&testpb.SimpleRequest{})
				req.Header().Add("X-Token-Bin", "AAE")
				req.Header().Add("X-Token-Bin", "AAE=")
				if _, err := client.CallUnary(t.Context(), req); err != nil {
					t.Errorf("valid -bin headers: %v", err)
				}
			})
		}
	}
}

// waitingService's client stream waits for the end of its context without
// reading, and says when it started and ended.
type waitingService struct {
	testpb.UnimplementedTestServiceServer
	started, ended chan struct{}
}

func (s waitingService) StreamingInputCall(stream grpc.ClientStreamingServer[testpb.StreamingInputCallRequest, testpb.StreamingInputCallResponse]) error {
	s.started <- struct{}{}
	<-stream.Context().Done()
	s.ended <- struct{}{}
	return stream.Context().Err()
}

// TestHTTP1StreamClientVanishes opens HTTP/1.1 client streams whose clients
// go away mid-body while the handler waits on its context: every handler's
// context ends, and the goroutines go back to where they were.
func TestHTTP1StreamClientVanishes(t *testing.T) {
	const calls = 50
	for _, engine := range []string{"handler", "server"} {
		for _, ct := range []string{"application/connect+proto", "application/grpc-web+proto"} {
			t.Run(engine+"/"+ct, func(t *testing.T) {
				svc := waitingService{started: make(chan struct{}, calls), ended: make(chan struct{}, calls)}
				var h http.Handler
				if engine == "server" {
					s := polyrpc.NewServer()
					testpb.RegisterTestServiceServer(s, svc)
					h = s
				} else {
					_, h = polyrpc.NewHandler(&testpb.TestService_ServiceDesc, svc)
				}
				// Serve gives handlers their connection (ConnContext); the
				// handler is served by an http.Server of its own with
				// ConnContext set.
				var addr string
				if s, ok := h.(*polyrpc.Server); ok {
					addr, _ = serveTCP(t, s)
				} else {
					lis, err := net.Listen("tcp", "127.0.0.1:0")
					if err != nil {
						t.Fatal(err)
					}
					srv := &http.Server{Handler: h, ConnContext: polyrpc.ConnContext}
					go func() { _ = srv.Serve(lis) }()
					t.Cleanup(func() { _ = srv.Close() })
					addr = lis.Addr().String()
				}
				baseline := runtime.NumGoroutine()
				msg, _ := proto.Marshal(&testpb.StreamingInputCallRequest{Payload: &testpb.Payload{Body: []byte("x")}})
				for range calls {
					conn, err := net.Dial("tcp", addr)
					if err != nil {
						t.Fatal(err)
					}
					chunk := frame(0, msg)
					fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n",
						testpb.TestService_StreamingInputCall_FullMethodName, addr, ct, len(chunk), chunk)
					select {
					case <-svc.started:
					case <-time.After(10 * time.Second):
						t.Fatal("the call did not start")
					}
					conn.Close()
				}
				for i := range calls {
					select {
					case <-svc.ended:
					case <-time.After(10 * time.Second):
						t.Fatalf("%d of %d handlers still wait after their clients went away", calls-i, calls)
					}
				}
				waitGoroutines(t, baseline)
			})
		}
	}
}

// waitGoroutines waits until no more goroutines run than baseline (plus a
// few that the HTTP client and server keep), and fails after a while.
func waitGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= baseline+4 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHTTP1StreamBodyOrder checks that reading an HTTP/1.1 client stream
// ahead of the handler keeps every message, in order, also when the client
// sends faster than the handler reads and more than the read-ahead holds.
func TestHTTP1StreamBodyOrder(t *testing.T) {
	for name, h := range servers() {
		t.Run(name, func(t *testing.T) {
			base, hc := rpctest.Start(t, h, rpctest.HTTP1)
			cc := polyrpc.NewClientConn(hc, base)
			stream, err := testpb.NewTestServiceClient(cc).StreamingInputCall(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for i := range 200 {
				body := bytes.Repeat([]byte{byte(i)}, 1000+i)
				total += len(body)
				if err := stream.Send(&testpb.StreamingInputCallRequest{Payload: &testpb.Payload{Body: body}}); err != nil {
					t.Fatal(err)
				}
			}
			res, err := stream.CloseAndRecv()
			if err != nil {
				t.Fatal(err)
			}
			if int(res.GetAggregatedPayloadSize()) != total {
				t.Errorf("server saw %d bytes, sent %d", res.GetAggregatedPayloadSize(), total)
			}
		})
	}
}

// zlibReader is a connect.Decompressor for the zlib format that counts
// the bytes it inflates.
type zlibReader struct {
	r        io.ReadCloser
	inflated *atomic.Int64
}

func (z *zlibReader) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	z.inflated.Add(int64(n))
	return n, err
}
func (z *zlibReader) Close() error { return z.r.Close() }
func (z *zlibReader) Reset(src io.Reader) error {
	if z.r != nil {
		return z.r.(zlib.Resetter).Reset(src, nil)
	}
	r, err := zlib.NewReader(src)
	z.r = r
	return err
}

// TestCompressionOptionBomb: an algorithm added with polyrpc.Compression is
// held to the receive limit as it inflates, on net/http's path and on the
// native gRPC path of Serve.
func TestCompressionOptionBomb(t *testing.T) {
	var bomb bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&bomb, zlib.BestCompression)
	zeros := make([]byte, 1<<20)
	for range 256 {
		_, _ = zw.Write(zeros)
	}
	_ = zw.Close()
	var inflated atomic.Int64
	deflate := polyrpc.Compression("deflate", func() connect.Decompressor { return &zlibReader{inflated: &inflated} },
		func() connect.Compressor { return zlib.NewWriter(nil) })
	s := polyrpc.NewServer(deflate)
	testpb.RegisterTestServiceServer(s, echoService{})
	addr, _ := serveTCP(t, s)
	for _, test := range []struct {
		name, ct string
		body     []byte
		header   http.Header
		check    func(*http.Response, []byte) bool
		h2c      bool
	}{
		{"connect", "application/proto", bomb.Bytes(), http.Header{"Content-Encoding": {"deflate"}}, connectExhausted, false},
		{"grpc-web", "application/grpc-web+proto", frame(1, bomb.Bytes()), http.Header{"Grpc-Encoding": {"deflate"}}, grpcExhausted, false},
		{"grpc native", "application/grpc", frame(1, bomb.Bytes()), http.Header{"Grpc-Encoding": {"deflate"}, "Te": {"trailers"}}, grpcExhausted, true},
	} {
		t.Run(test.name, func(t *testing.T) {
			hc := http.DefaultClient
			if test.h2c {
				protocols := new(http.Protocols)
				protocols.SetUnencryptedHTTP2(true)
				hc = &http.Client{Transport: &http.Transport{Protocols: protocols}}
			}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+testpb.TestService_UnaryCall_FullMethodName, bytes.NewReader(test.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header = test.header
			req.Header.Set("Content-Type", test.ct)
			var res *http.Response
			var body []byte
			runtime.GC()
			inflated.Store(0)
			n := allocated(func() {
				res, err = hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(res.Body)
				res.Body.Close()
			})
			if !test.check(res, body) {
				t.Errorf("HTTP %d %v %q %v: want ResourceExhausted", res.StatusCode, res.Header, body, res.Trailer)
			}
			if n > 48<<20 {
				t.Errorf("the call allocated %d MiB", n>>20)
			}
			// Inflating stops soon after the 4 MiB limit, not at 256 MiB.
			if got := inflated.Load(); got > 8<<20 {
				t.Errorf("inflated %d MiB", got>>20)
			}
		})
	}
}
