// Command server is the server under test of the Connect conformance suite.
//
// It reads a connectrpc.conformance.v1.ServerCompatRequest (size-delimited
// protobuf) from stdin, starts serving the conformance service on a loopback port with the
// HTTP version and TLS settings it asks for, writes a ServerCompatResponse
// with the address to stdout and serves until it receives SIGTERM or SIGINT.
//
// The service is implemented in plain grpc-go style and served by the
// generated NewConformanceServiceHandler, or, with -registrar, registered on
// a polyrpc.Server served by net/http, or, with -serve, registered on a
// polyrpc.Server configured with polyrpc's own options only and served by
// its Serve and ServeQUIC methods (so that cleartext gRPC connections take
// the native grpc-go path), or, with -proxy, registered on a plain
// grpc.Server (gRPC only, on loopback) behind rpcproxy's gateway
// (internal/gateway), which forwards every call untouched:
//
//	go tool -modfile=tools/go.mod connectconformance \
//	  --conf internal/conformance/config.yaml --mode server -- ./server [-registrar|-serve|-proxy]
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"connectrpc.com/connect"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/internal/conformance/compat"
	conformancev1 "github.com/polyrpc/polyrpc/internal/conformance/gen/connectrpc/conformance/v1"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	flags := flag.NewFlagSet("server", flag.ContinueOnError)
	registrar := flags.Bool("registrar", false, "serve through polyrpc.Server instead of the generated handler")
	serve := flags.Bool("serve", false, "serve through polyrpc.Server's Serve and ServeQUIC")
	viaProxy := flags.Bool("proxy", false, "serve through rpcproxy's gateway in front of a grpc.Server")
	host := flags.String("bind", "127.0.0.1", "address to listen on")
	port := flags.Int("port", 0, "port to listen on (0 picks a free one)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() != 0 {
		return errors.New("no positional arguments expected")
	}

	req := &conformancev1.ServerCompatRequest{}
	if err := compat.ReadMessage(stdin, req); err != nil {
		return fmt.Errorf("read ServerCompatRequest: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	var (
		srv     httpServer
		certPEM []byte
		err     error
	)
	switch {
	case *viaProxy:
		srv, certPEM, err = newProxyServer(ctx, *host, req)
	case *serve:
		srv, certPEM, err = newPolyrpcServer(req)
	default:
		srv, certPEM, err = newHTTPServer(req, newHandler(req, *registrar))
	}
	if err != nil {
		return err
	}
	addr, err := srv.listen(ctx, net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.serve() }()

	bound, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return err
	}
	resp := &conformancev1.ServerCompatResponse{
		Host:    bound.Addr().String(),
		Port:    uint32(bound.Port()),
		PemCert: certPEM,
	}
	if err := compat.WriteMessage(stdout, resp); err != nil {
		return fmt.Errorf("write ServerCompatResponse: %w", err)
	}

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.shutdown(shutdownCtx); err != nil {
		_ = srv.close()
	}
	return nil
}

// newHandler serves the conformance service through the generated handler,
// or through a polyrpc.Server when registrar is set.
func newHandler(req *conformancev1.ServerCompatRequest, registrar bool) http.Handler {
	opts := append(compat.HandlerCompressions(), polyrpc.WithProtoText())
	if limit := req.GetMessageReceiveLimit(); limit > 0 {
		opts = append(opts, connect.WithReadMaxBytes(int(limit)))
	}
	impl := &conformanceServer{}
	if registrar {
		s := polyrpc.NewServer(polyrpc.WithHandlerOptions(opts...))
		conformancev1.RegisterConformanceServiceServer(s, impl)
		return s
	}
	mux := http.NewServeMux()
	mux.Handle(conformancev1.NewConformanceServiceHandler(impl, opts...))
	return mux
}

// httpServer serves over TCP (HTTP/1.1 and HTTP/2, net/http) or over QUIC
// (HTTP/3, quic-go).
type httpServer interface {
	listen(ctx context.Context, addr string) (net.Addr, error)
	serve() error
	shutdown(ctx context.Context) error
	close() error
}

// newHTTPServer returns a server speaking the requested HTTP version (HTTP/2
// over TLS or as h2c, HTTP/3 over TLS only), and the PEM certificate clients
// must trust when TLS is requested.
func newHTTPServer(req *conformancev1.ServerCompatRequest, handler http.Handler) (httpServer, []byte, error) {
	var (
		conf    *tls.Config
		certPEM []byte
	)
	if req.GetUseTls() {
		creds := req.GetServerCreds()
		if creds == nil {
			return nil, nil, errors.New("TLS requested without server credentials")
		}
		var err error
		conf, err = compat.ServerTLSConfig(creds.GetCert(), creds.GetKey(), req.GetClientTlsCert())
		if err != nil {
			return nil, nil, err
		}
		certPEM = creds.GetCert()
	}
	if req.GetHttpVersion() == conformancev1.HTTPVersion_HTTP_VERSION_3 {
		if conf == nil {
			return nil, nil, errors.New("HTTP/3 requested without TLS")
		}
		return newH3Server(handler, conf), certPEM, nil
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
		Protocols:         new(http.Protocols),
		TLSConfig:         conf,
	}
	switch req.GetHttpVersion() {
	case conformancev1.HTTPVersion_HTTP_VERSION_1:
		srv.Protocols.SetHTTP1(true)
	case conformancev1.HTTPVersion_HTTP_VERSION_2:
		srv.Protocols.SetHTTP2(true)
		srv.Protocols.SetUnencryptedHTTP2(true)
	default:
		return nil, nil, fmt.Errorf("HTTP version %v is not supported", req.GetHttpVersion())
	}
	return &tcpServer{srv: srv}, certPEM, nil
}

// tcpServer serves HTTP/1.1 or HTTP/2 with net/http.
type tcpServer struct {
	srv *http.Server
	lis net.Listener
}

func (s *tcpServer) listen(ctx context.Context, addr string) (net.Addr, error) {
	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	s.lis = lis
	return lis.Addr(), nil
}

func (s *tcpServer) serve() error {
	if s.srv.TLSConfig != nil {
		return s.srv.ServeTLS(s.lis, "", "")
	}
	return s.srv.Serve(s.lis)
}

func (s *tcpServer) shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }
func (s *tcpServer) close() error                       { return s.srv.Close() }

// polyrpcServer is a polyrpc.Server served by its own Serve or ServeQUIC.
type polyrpcServer struct {
	s    *polyrpc.Server
	h3   bool
	lis  net.Listener
	pc   net.PacketConn
	done chan struct{}
}

// newPolyrpcServer registers the conformance service on a polyrpc.Server
// configured with polyrpc's options only (no connect-go options, which only
// the net/http path knows).
func newPolyrpcServer(req *conformancev1.ServerCompatRequest) (httpServer, []byte, error) {
	opts := []polyrpc.ServerOption{polyrpc.HTTPServer(func(hs *http.Server) {
		hs.ErrorLog = log.New(io.Discard, "", 0)
	})}
	for _, c := range compat.ServerCompressions() {
		opts = append(opts, c)
	}
	if limit := req.GetMessageReceiveLimit(); limit > 0 {
		opts = append(opts, polyrpc.MaxRecvMsgSize(int(limit)))
	}
	var certPEM []byte
	if req.GetUseTls() {
		creds := req.GetServerCreds()
		if creds == nil {
			return nil, nil, errors.New("TLS requested without server credentials")
		}
		conf, err := compat.ServerTLSConfig(creds.GetCert(), creds.GetKey(), req.GetClientTlsCert())
		if err != nil {
			return nil, nil, err
		}
		certPEM = creds.GetCert()
		opts = append(opts, polyrpc.TLSConfig(conf))
	}
	h3 := req.GetHttpVersion() == conformancev1.HTTPVersion_HTTP_VERSION_3
	if h3 && certPEM == nil {
		return nil, nil, errors.New("HTTP/3 requested without TLS")
	}
	s := polyrpc.NewServer(opts...)
	conformancev1.RegisterConformanceServiceServer(s, &conformanceServer{})
	return &polyrpcServer{s: s, h3: h3, done: make(chan struct{})}, certPEM, nil
}

func (p *polyrpcServer) listen(ctx context.Context, addr string) (net.Addr, error) {
	if p.h3 {
		pc, err := (&net.ListenConfig{}).ListenPacket(ctx, "udp", addr)
		if err != nil {
			return nil, err
		}
		p.pc = pc
		return pc.LocalAddr(), nil
	}
	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	p.lis = lis
	return lis.Addr(), nil
}

func (p *polyrpcServer) serve() error {
	if p.h3 {
		return p.s.ServeQUIC(p.pc)
	}
	return p.s.Serve(p.lis)
}

func (p *polyrpcServer) shutdown(ctx context.Context) error {
	stopped := make(chan struct{})
	go func() {
		p.s.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *polyrpcServer) close() error {
	p.s.Stop()
	return nil
}
