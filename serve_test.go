package polyrpc_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/quic-go/quic-go/http3"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/polyrpc/polyrpc"
)

// serveTCP serves s on a loopback port and returns the address and a channel
// that receives what Serve returns.
func serveTCP(t *testing.T, s *polyrpc.Server) (string, <-chan error) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return lis.Addr().String(), served
}

// waitServed returns what Serve returned, failing the test if it has not
// returned within d.
func waitServed(t *testing.T, served <-chan error, d time.Duration) error {
	t.Helper()
	select {
	case err := <-served:
		return err
	case <-time.After(d):
		t.Fatalf("Serve has not returned after %v", d)
		return nil
	}
}

func grpcClient(t *testing.T, addr string, creds credentials.TransportCredentials) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// httpClient returns a client speaking the given protocols; roots, if not
// nil, are the CAs it trusts.
func httpClient(t *testing.T, roots *x509.CertPool, set func(*http.Protocols)) *http.Client {
	t.Helper()
	p := new(http.Protocols)
	set(p)
	tr := &http.Transport{Protocols: p}
	if roots != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: roots}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func http1(p *http.Protocols) { p.SetHTTP1(true) }
func h2c(p *http.Protocols)   { p.SetUnencryptedHTTP2(true) }
func h2(p *http.Protocols)    { p.SetHTTP2(true) }

// TestServe serves grpc-go clients, and Connect and gRPC-Web clients over
// HTTP/1.1 and h2c, on the one port that Serve listens on.
func TestServe(t *testing.T) {
	s, _ := newFullServer()
	addr, served := serveTCP(t, s)

	t.Run("grpc-go", func(t *testing.T) {
		cc := grpcClient(t, addr, insecure.NewCredentials())
		exercise(t, testpb.NewTestServiceClient(cc), addr, true)
		testUnknown(t, cc)
		res, err := healthgrpc.NewHealthClient(cc).Check(t.Context(), &healthgrpc.HealthCheckRequest{})
		if err != nil || res.GetStatus() != healthgrpc.HealthCheckResponse_SERVING {
			t.Errorf("health = %v, %v", res, err)
		}
	})
	base := "http://" + addr
	for _, tc := range []struct {
		name  string
		proto func(*http.Protocols)
		opts  []connect.ClientOption
		bidi  bool
	}{
		{"connect/http1", http1, nil, false},
		{"grpcweb/http1", http1, []connect.ClientOption{connect.WithGRPCWeb()}, false},
		{"connect-json/http1", http1, []connect.ClientOption{connect.WithProtoJSON()}, false},
		{"connect/h2c", h2c, nil, true},
		{"grpc/h2c", h2c, []connect.ClientOption{connect.WithGRPC()}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := polyrpc.NewClientConn(httpClient(t, nil, tc.proto), base, tc.opts...)
			exercise(t, testpb.NewTestServiceClient(cc), addr, tc.bidi)
			testUnknown(t, cc)
		})
	}

	s.Stop()
	if err := waitServed(t, served, 5*time.Second); err != nil {
		t.Errorf("Serve after Stop = %v, want nil", err)
	}
}

// newCert returns a self-signed certificate for 127.0.0.1 and a pool that
// trusts it.
func newCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "polyrpc test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// TestServeTLS serves over TLS: grpc-go with TLS credentials, Connect and
// gRPC-Web over HTTP/1.1 and HTTP/2; handlers see the TLS state in the peer.
func TestServeTLS(t *testing.T) {
	cert, roots := newCert(t)
	config := &tls.Config{Certificates: []tls.Certificate{cert}}
	s, _ := newFullServer(polyrpc.TLSConfig(config))
	addr, served := serveTCP(t, s)

	checkTLSPeer := func(t *testing.T, client testpb.TestServiceClient) {
		t.Helper()
		res, err := client.UnaryCall(t.Context(), &testpb.SimpleRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(res.GetServerId(), " tls") {
			t.Errorf("peer = %q, want TLS auth info", res.GetServerId())
		}
	}
	t.Run("grpc-go", func(t *testing.T) {
		cc := grpcClient(t, addr, credentials.NewTLS(&tls.Config{RootCAs: roots}))
		client := testpb.NewTestServiceClient(cc)
		exercise(t, client, addr, true)
		checkTLSPeer(t, client)
	})
	t.Run("grpc-go without TLS fails", func(t *testing.T) {
		cc := grpcClient(t, addr, insecure.NewCredentials())
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		if _, err := testpb.NewTestServiceClient(cc).EmptyCall(ctx, &testpb.Empty{}); status.Code(err) != codes.Unavailable {
			t.Errorf("cleartext call to a TLS server: %v, want Unavailable", err)
		}
	})
	base := "https://" + addr
	for _, tc := range []struct {
		name  string
		proto func(*http.Protocols)
		opts  []connect.ClientOption
		bidi  bool
	}{
		{"connect/http1", http1, nil, false},
		{"grpcweb/http1", http1, []connect.ClientOption{connect.WithGRPCWeb()}, false},
		{"connect/h2", h2, nil, true},
		{"grpc/h2", h2, []connect.ClientOption{connect.WithGRPC()}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hc := httpClient(t, roots, tc.proto)
			cc := polyrpc.NewClientConn(hc, base, tc.opts...)
			client := testpb.NewTestServiceClient(cc)
			exercise(t, client, addr, tc.bidi)
			checkTLSPeer(t, client)
			// Without HTTP/3 being served, nothing is advertised.
			res, err := hc.Get(base + "/")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if v := res.Header.Get("Alt-Svc"); v != "" {
				t.Errorf("Alt-Svc = %q without ServeQUIC", v)
			}
		})
	}

	s.GracefulStop()
	if err := waitServed(t, served, 5*time.Second); err != nil {
		t.Errorf("Serve after GracefulStop = %v, want nil", err)
	}
	if len(config.NextProtos) != 0 {
		t.Errorf("the caller's TLS config was changed: NextProtos = %q", config.NextProtos)
	}
}

// gateService holds calls until it is told to let them go or their context
// ends.
type gateService struct {
	testService
	started chan string   // a handler has begun
	release chan struct{} // closed to let the handlers finish
	ended   chan error    // a handler's context ended
}

func newGateService() *gateService {
	return &gateService{
		started: make(chan string, 16),
		release: make(chan struct{}),
		ended:   make(chan error, 16),
	}
}

func (g *gateService) wait(ctx context.Context, name string) error {
	g.started <- name
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		g.ended <- ctx.Err()
		return ctx.Err()
	}
}

func (g *gateService) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	if err := g.wait(ctx, "unary"); err != nil {
		return nil, err
	}
	return &testpb.SimpleResponse{Payload: req.GetPayload()}, nil
}

// StreamingOutputCall sends one message, waits, then sends a second.
func (g *gateService) StreamingOutputCall(req *testpb.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	if err := stream.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: []byte("1")}}); err != nil {
		return err
	}
	if err := g.wait(stream.Context(), "server-stream"); err != nil {
		return err
	}
	return stream.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: []byte("2")}})
}

// StreamingInputCall waits without reading the request body.
func (g *gateService) StreamingInputCall(stream grpc.ClientStreamingServer[testpb.StreamingInputCallRequest, testpb.StreamingInputCallResponse]) error {
	if err := g.wait(stream.Context(), "client-stream"); err != nil {
		return err
	}
	return stream.SendAndClose(&testpb.StreamingInputCallResponse{})
}

func newGateServer(opts ...polyrpc.ServerOption) (*polyrpc.Server, *gateService, *health.Server) {
	s := polyrpc.NewServer(opts...)
	g := newGateService()
	testpb.RegisterTestServiceServer(s, g)
	hs := health.NewServer()
	healthgrpc.RegisterHealthServer(s, hs)
	return s, g, hs
}

func waitStarted(t *testing.T, g *gateService, n int) {
	t.Helper()
	for range n {
		select {
		case <-g.started:
		case <-time.After(5 * time.Second):
			t.Fatal("a call did not reach its handler")
		}
	}
}

// readStream receives the rest of a server stream that has sent "1": "2",
// then the end.
func readStream(stream grpc.ServerStreamingClient[testpb.StreamingOutputCallResponse]) error {
	m, err := stream.Recv()
	if err != nil {
		return err
	}
	if string(m.GetPayload().GetBody()) != "2" {
		return errors.New("second message = " + string(m.GetPayload().GetBody()))
	}
	if _, err := stream.Recv(); err != io.EOF {
		return errors.New("end of stream: " + status.Convert(err).String())
	}
	return nil
}

// TestGracefulStop: GracefulStop reports NOT_SERVING, refuses new
// connections and new calls, waits for the streams in progress (HTTP/2 and
// HTTP/1.1), then returns; Serve then returns nil.
func TestGracefulStop(t *testing.T) {
	s, g, _ := newGateServer()
	addr, served := serveTCP(t, s)
	cc := grpcClient(t, addr, insecure.NewCredentials())
	client := testpb.NewTestServiceClient(cc)
	h1 := testpb.NewTestServiceClient(polyrpc.NewClientConn(httpClient(t, nil, http1), "http://"+addr))

	watchCtx, stopWatch := context.WithTimeout(t.Context(), 5*time.Second)
	defer stopWatch()
	watch, err := healthgrpc.NewHealthClient(cc).Watch(watchCtx, &healthgrpc.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := watch.Recv(); err != nil || res.GetStatus() != healthgrpc.HealthCheckResponse_SERVING {
		t.Fatalf("health before GracefulStop = %v, %v", res, err)
	}

	var streams []grpc.ServerStreamingClient[testpb.StreamingOutputCallResponse]
	for _, c := range []testpb.TestServiceClient{client, h1} {
		stream, err := c.StreamingOutputCall(t.Context(), &testpb.StreamingOutputCallRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if m, err := stream.Recv(); err != nil || string(m.GetPayload().GetBody()) != "1" {
			t.Fatalf("first message = %v, %v", m, err)
		}
		streams = append(streams, stream)
	}
	waitStarted(t, g, 2)

	stopped := make(chan struct{})
	go func() {
		s.GracefulStop()
		close(stopped)
	}()

	// The health service reports NOT_SERVING to its watcher, which then goes.
	if res, err := watch.Recv(); err != nil || res.GetStatus() != healthgrpc.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("health after GracefulStop = %v, %v", res, err)
	}
	stopWatch()

	// New connections are refused once the listener is closed.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// New calls on the open HTTP/2 connection are refused too, once the
	// client has read the server's GOAWAY.
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		_, err = client.EmptyCall(ctx, &testpb.Empty{})
		cancel()
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("new calls still succeed during GracefulStop")
		}
		time.Sleep(10 * time.Millisecond)
	}

	select {
	case <-stopped:
		t.Fatal("GracefulStop returned while streams were in progress")
	case <-time.After(200 * time.Millisecond):
	}
	close(g.release)
	for i, stream := range streams {
		if err := readStream(stream); err != nil {
			t.Errorf("stream %d: %v", i, err)
		}
	}
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("GracefulStop did not return after the streams ended")
	}
	if err := waitServed(t, served, time.Second); err != nil {
		t.Errorf("Serve after GracefulStop = %v, want nil", err)
	}
	select {
	case err := <-g.ended:
		t.Errorf("a handler's context ended during GracefulStop: %v", err)
	default:
	}

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(lis); !errors.Is(err, polyrpc.ErrServerStopped) || !errors.Is(err, grpc.ErrServerStopped) {
		t.Errorf("Serve after GracefulStop = %v, want ErrServerStopped", err)
	}
	if _, err := lis.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("listener given to a stopped Server: Accept = %v, want it closed", err)
	}
	s.GracefulStop() // again: returns at once
	s.Stop()
}

// TestStop: Stop ends the contexts of the calls in progress at once, on
// HTTP/2 and on HTTP/1.1 (also a client stream whose body is still open),
// and Serve returns nil.
func TestStop(t *testing.T) {
	s, g, _ := newGateServer()
	addr, served := serveTCP(t, s)
	client := testpb.NewTestServiceClient(grpcClient(t, addr, insecure.NewCredentials()))
	h1 := testpb.NewTestServiceClient(polyrpc.NewClientConn(httpClient(t, nil, http1), "http://"+addr))

	errs := make(chan error, 3)
	go func() {
		_, err := client.UnaryCall(t.Context(), &testpb.SimpleRequest{})
		errs <- err
	}()
	go func() {
		_, err := h1.UnaryCall(t.Context(), &testpb.SimpleRequest{})
		errs <- err
	}()
	cs, err := h1.StreamingInputCall(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Send(&testpb.StreamingInputCallRequest{}); err != nil {
		t.Fatal(err)
	}
	waitStarted(t, g, 3)

	start := time.Now()
	s.Stop()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Stop took %v", d)
	}
	for range 3 {
		select {
		case err := <-g.ended:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("handler context ended with %v", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("a handler's context did not end after Stop")
		}
	}
	for range 2 {
		if err := <-errs; err == nil {
			t.Error("a call in progress succeeded after Stop")
		}
	}
	if err := waitServed(t, served, 2*time.Second); err != nil {
		t.Errorf("Serve after Stop = %v, want nil", err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(lis); !errors.Is(err, polyrpc.ErrServerStopped) {
		t.Errorf("Serve after Stop = %v, want ErrServerStopped", err)
	}
	// Both are idempotent and return at once now.
	s.Stop()
	s.GracefulStop()
}

// TestStopConcurrent: Stop during GracefulStop ends the drain, and
// GracefulStop returns.
func TestStopDuringGracefulStop(t *testing.T) {
	s, g, _ := newGateServer()
	addr, served := serveTCP(t, s)
	client := testpb.NewTestServiceClient(grpcClient(t, addr, insecure.NewCredentials()))
	go func() { _, _ = client.UnaryCall(t.Context(), &testpb.SimpleRequest{}) }()
	waitStarted(t, g, 1)

	stopped := make(chan struct{})
	go func() {
		s.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
		t.Fatal("GracefulStop returned while a call was in progress")
	case <-time.After(200 * time.Millisecond):
	}
	s.Stop()
	select {
	case <-stopped:
	case <-time.After(2 * time.Second):
		t.Fatal("GracefulStop did not return after Stop")
	}
	if err := <-g.ended; !errors.Is(err, context.Canceled) {
		t.Errorf("handler context ended with %v", err)
	}
	if err := waitServed(t, served, 2*time.Second); err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
}

// failingListener fails Accept with a fatal error.
type failingListener struct {
	net.Listener
	closed chan struct{}
	once   sync.Once
}

var errAcceptBroken = errors.New("accept broken")

func (l *failingListener) Accept() (net.Conn, error) { return nil, errAcceptBroken }
func (l *failingListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

func TestServeErrors(t *testing.T) {
	s := polyrpc.NewServer()
	defer s.Stop()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lis := &failingListener{Listener: inner, closed: make(chan struct{})}
	if err := s.Serve(lis); !errors.Is(err, errAcceptBroken) {
		t.Errorf("Serve with a failing listener = %v, want its error", err)
	}
	select {
	case <-lis.closed:
	default:
		t.Error("Serve returned without closing the listener")
	}

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ServeQUIC(pc); err == nil || !strings.Contains(err.Error(), "TLSConfig") {
		t.Errorf("ServeQUIC without TLS = %v", err)
	}
	if _, _, err := pc.ReadFrom(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("packet conn after ServeQUIC failed: %v, want it closed", err)
	}
}

// TestServeHostile: connections that send nothing, half a request or
// garbage are cut off.
func TestServeHostile(t *testing.T) {
	cert, _ := newCert(t)
	short := polyrpc.HTTPServer(func(hs *http.Server) {
		hs.ReadHeaderTimeout = 300 * time.Millisecond
		hs.IdleTimeout = 300 * time.Millisecond
	})
	s, _ := newFullServer(short)
	addr, _ := serveTCP(t, s)
	ts, _ := newFullServer(short, polyrpc.TLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}}))
	tlsAddr, _ := serveTCP(t, ts)

	// closedWithin sends data on a new connection, then reads until the
	// server closes it; it returns what the server sent.
	closedWithin := func(t *testing.T, addr, data string, d time.Duration) string {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if data != "" {
			if _, err := io.WriteString(c, data); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		_ = c.SetReadDeadline(start.Add(d))
		got, err := io.ReadAll(c)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("connection still open after %v (read %q)", d, got)
			}
			// A reset is a close too.
		}
		return string(got)
	}

	for _, tc := range []struct {
		name, addr, data string
		want             string // prefix of the reply, if any is required
	}{
		{"silent", addr, "", ""},
		{"half header", addr, "POST /grpc.testing.TestService/UnaryCall HTTP/1.1\r\nHost: x\r\nContent-Ty", ""},
		{"half preface", addr, "PRI * HTTP/2.0\r\n\r\nSM\r\n", ""},
		{"preface then silence", addr, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", ""},
		{"garbage", addr, "\x16\x03\x01\x00\xff garbage garbage\r\n\r\n", "HTTP/1.1 400 "},
		{"silent TLS", tlsAddr, "", ""},
		{"garbage TLS", tlsAddr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.0 400 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := closedWithin(t, tc.addr, tc.data, 3*time.Second)
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("reply %q, want %q...", got, tc.want)
			}
		})
	}

	// Headers beyond MaxHeaderBytes (1 MiB by default) are refused.
	t.Run("huge header", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		go func() {
			_, _ = io.WriteString(c, "POST /grpc.testing.TestService/EmptyCall HTTP/1.1\r\nHost: x\r\nX-Big: "+
				strings.Repeat("a", 2<<20)+"\r\n\r\n")
		}()
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status %d, want 431", res.StatusCode)
		}
	})

	// An idle HTTP/1.1 keep-alive connection is closed too.
	t.Run("idle keep-alive", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = io.WriteString(c, "POST /grpc.testing.TestService/EmptyCall HTTP/1.1\r\nHost: x\r\n"+
			"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		br := bufio.NewReader(c)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Errorf("idle connection: read %v, want EOF", err)
		}
	})
}

// TestServeGoroutines: after Stop, the goroutines return to what they were
// before Serve.
func TestServeGoroutines(t *testing.T) {
	cert, roots := newCert(t)
	base := runtime.NumGoroutine()
	s, _ := newFullServer(polyrpc.TLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 2)
	go func() { served <- s.Serve(lis) }()
	go func() { served <- s.ServeQUIC(pc) }()
	addr := lis.Addr().String()

	cc, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: roots})))
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, testpb.NewTestServiceClient(cc), addr, true)
	p := new(http.Protocols)
	p.SetHTTP1(true)
	tr := &http.Transport{Protocols: p, TLSClientConfig: &tls.Config{RootCAs: roots}}
	exercise(t, testpb.NewTestServiceClient(polyrpc.NewClientConn(&http.Client{Transport: tr}, "https://"+addr)), addr, false)
	h3 := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	h3client := testpb.NewTestServiceClient(polyrpc.NewClientConn(&http.Client{Transport: h3}, "https://"+pc.LocalAddr().String()))
	if _, err := h3client.EmptyCall(t.Context(), &testpb.Empty{}); err != nil {
		t.Fatal(err)
	}
	// Streams left open when the server stops.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for _, client := range []testpb.TestServiceClient{testpb.NewTestServiceClient(cc), h3client} {
		open, err := client.FullDuplexCall(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := open.Send(&testpb.StreamingOutputCallRequest{ResponseParameters: sizes(1)}); err != nil {
			t.Fatal(err)
		}
		if _, err := open.Recv(); err != nil {
			t.Fatal(err)
		}
	}

	s.Stop()
	for range 2 {
		if err := waitServed(t, served, 2*time.Second); err != nil {
			t.Errorf("Serve = %v", err)
		}
	}
	// The clients let go of theirs.
	cancel()
	_ = cc.Close()
	tr.CloseIdleConnections()
	_ = h3.Close()

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Stop, %d before:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeQUIC serves HTTP/3 beside TCP: NewClientConn over quic-go's
// transport makes unary and streaming calls in Connect and gRPC; TLS
// responses over TCP advertise HTTP/3; GracefulStop waits for an HTTP/3
// stream; ServeQUIC then returns nil.
func TestServeQUIC(t *testing.T) {
	cert, roots := newCert(t)
	wrap := polyrpc.HTTPServer(func(hs *http.Server) {
		next := hs.Handler
		hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Wrapped", r.Proto)
			next.ServeHTTP(w, r)
		})
	})
	s, g, _ := newGateServer(polyrpc.TLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}}), wrap)
	tcpAddr, served := serveTCP(t, s)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	quicServed := make(chan error, 1)
	go func() { quicServed <- s.ServeQUIC(pc) }()
	udpAddr := pc.LocalAddr().String()

	tr := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	defer tr.Close()
	hc := &http.Client{Transport: tr}
	base := "https://" + udpAddr
	for _, tc := range []struct {
		name string
		opts []connect.ClientOption
	}{
		{"connect", nil},
		{"grpc", []connect.ClientOption{connect.WithGRPC()}},
		{"grpcweb", []connect.ClientOption{connect.WithGRPCWeb(), connect.WithProtoJSON()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := testpb.NewTestServiceClient(polyrpc.NewClientConn(hc, base, tc.opts...))
			res, err := client.EmptyCall(t.Context(), &testpb.Empty{})
			if err != nil || res == nil {
				t.Fatalf("EmptyCall = %v, %v", res, err)
			}
			bidi, err := client.FullDuplexCall(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for i := int32(1); i <= 3; i++ {
				if err := bidi.Send(&testpb.StreamingOutputCallRequest{ResponseParameters: sizes(i)}); err != nil {
					t.Fatalf("Send: %v", err)
				}
				m, err := bidi.Recv()
				if err != nil || len(m.GetPayload().GetBody()) != int(i) {
					t.Fatalf("Recv = %v, %v", m, err)
				}
			}
			if err := bidi.CloseSend(); err != nil {
				t.Fatal(err)
			}
			if _, err := bidi.Recv(); err != io.EOF {
				t.Errorf("end of bidi stream: %v", err)
			}
			failing, err := client.FullDuplexCall(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			err = failing.Send(&testpb.StreamingOutputCallRequest{ResponseStatus: &testpb.EchoStatus{Code: int32(codes.ResourceExhausted), Message: "h3 failure"}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = failing.Recv()
			checkGRPCStatus(t, err, codes.ResourceExhausted, "h3 failure", true)
		})
	}

	// TLS over TCP advertises HTTP/3 on the UDP port. The handler an
	// HTTPServer option wraps around the Server serves both.
	res, err := httpClient(t, roots, h2).Get("https://" + tcpAddr + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	_, port, _ := net.SplitHostPort(udpAddr)
	if got := res.Header.Get("Alt-Svc"); !strings.HasPrefix(got, `h3=":`+port+`"`) {
		t.Errorf("Alt-Svc = %q, want h3 on port %s", got, port)
	}
	if got := res.Header.Get("X-Wrapped"); got != "HTTP/2.0" {
		t.Errorf("X-Wrapped over TCP = %q", got)
	}
	res, err = hc.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("X-Wrapped"); got != "HTTP/3.0" {
		t.Errorf("X-Wrapped over HTTP/3 = %q", got)
	}

	// A server stream over HTTP/3 in progress holds GracefulStop.
	client := testpb.NewTestServiceClient(polyrpc.NewClientConn(hc, base, connect.WithGRPC()))
	stream, err := client.StreamingOutputCall(t.Context(), &testpb.StreamingOutputCallRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := stream.Recv(); err != nil || string(m.GetPayload().GetBody()) != "1" {
		t.Fatalf("first message = %v, %v", m, err)
	}
	waitStarted(t, g, 1)
	stopped := make(chan struct{})
	go func() {
		s.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
		t.Fatal("GracefulStop returned while an HTTP/3 stream was in progress")
	case <-time.After(300 * time.Millisecond):
	}
	close(g.release)
	if err := readStream(stream); err != nil {
		t.Errorf("HTTP/3 stream: %v", err)
	}
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("GracefulStop did not return")
	}
	if err := waitServed(t, quicServed, 2*time.Second); err != nil {
		t.Errorf("ServeQUIC after GracefulStop = %v, want nil", err)
	}
	if err := waitServed(t, served, 2*time.Second); err != nil {
		t.Errorf("Serve after GracefulStop = %v, want nil", err)
	}
	pc2, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ServeQUIC(pc2); !errors.Is(err, polyrpc.ErrServerStopped) {
		t.Errorf("ServeQUIC after GracefulStop = %v", err)
	}
}

// TestStopQUIC: Stop ends the context of an HTTP/3 call in progress, and
// ServeQUIC returns nil.
func TestStopQUIC(t *testing.T) {
	cert, roots := newCert(t)
	s, g, _ := newGateServer(polyrpc.TLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}}))
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	quicServed := make(chan error, 1)
	go func() { quicServed <- s.ServeQUIC(pc) }()
	tr := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	defer tr.Close()
	client := testpb.NewTestServiceClient(polyrpc.NewClientConn(&http.Client{Transport: tr}, "https://"+pc.LocalAddr().String()))
	errs := make(chan error, 1)
	go func() {
		_, err := client.UnaryCall(t.Context(), &testpb.SimpleRequest{})
		errs <- err
	}()
	waitStarted(t, g, 1)
	s.Stop()
	select {
	case err := <-g.ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("handler context ended with %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the HTTP/3 handler's context did not end after Stop")
	}
	if err := <-errs; err == nil {
		t.Error("the call succeeded after Stop")
	}
	if err := waitServed(t, quicServed, 2*time.Second); err != nil {
		t.Errorf("ServeQUIC after Stop = %v, want nil", err)
	}
}

// TestServeHTTP2Pings: an HTTP/2 connection with a call in progress whose
// peer stops answering pings is closed, and the call's context ends; one
// that answers them stays open.
func TestServeHTTP2Pings(t *testing.T) {
	for _, test := range []struct {
		answer, native bool
	}{{false, false}, {true, false}, {false, true}, {true, true}} {
		answer := test.answer
		name := "silent peer"
		if answer {
			name = "live peer"
		}
		// The call is gRPC: on the native path, grpc-go's transport pings
		// with the same settings.
		if test.native {
			name += "/native"
		}
		t.Run(name, func(t *testing.T) {
			s, g, _ := newGateServer(polyrpc.NativeGRPC(test.native), polyrpc.HTTPServer(func(hs *http.Server) {
				hs.HTTP2.SendPingTimeout = 200 * time.Millisecond
				hs.HTTP2.PingTimeout = 200 * time.Millisecond
			}))
			addr, _ := serveTCP(t, s)
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
				t.Fatal(err)
			}
			fr := http2.NewFramer(c, c)
			if err := fr.WriteSettings(); err != nil {
				t.Fatal(err)
			}
			// A gRPC unary call, held by the gate.
			var block bytes.Buffer
			enc := hpack.NewEncoder(&block)
			for _, f := range [][2]string{
				{":method", "POST"}, {":scheme", "http"}, {":authority", addr},
				{":path", "/grpc.testing.TestService/UnaryCall"},
				{"content-type", "application/grpc"}, {"te", "trailers"},
			} {
				_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
			}
			if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndHeaders: true}); err != nil {
				t.Fatal(err)
			}
			if err := fr.WriteData(1, true, []byte{0, 0, 0, 0, 0}); err != nil {
				t.Fatal(err)
			}
			waitStarted(t, g, 1)

			start := time.Now()
			_ = c.SetReadDeadline(start.Add(1500 * time.Millisecond))
			pings := 0
			var readErr error
			for readErr == nil {
				var f http2.Frame
				f, readErr = fr.ReadFrame()
				switch f := f.(type) {
				case *http2.SettingsFrame:
					if !f.IsAck() {
						readErr = fr.WriteSettingsAck()
					}
				case *http2.PingFrame:
					pings++
					if answer && !f.IsAck() {
						readErr = fr.WritePing(true, f.Data)
					}
				}
			}
			var ne net.Error
			timedOut := errors.As(readErr, &ne) && ne.Timeout()
			if answer {
				if !timedOut || pings < 2 {
					t.Errorf("live peer: connection ended with %v after %d pings", readErr, pings)
				}
				close(g.release)
				return
			}
			// grpc-go's transport also sends a ping to measure bandwidth
			// when data arrives.
			if timedOut || pings != 1 && !(test.native && pings == 2) {
				t.Fatalf("silent peer: read %v after %d pings, want the connection closed after one", readErr, pings)
			}
			select {
			case <-g.ended:
			case <-time.After(2 * time.Second):
				t.Error("the call's context did not end with its connection")
			}
		})
	}
}
