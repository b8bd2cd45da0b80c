// Command server is the server under test of the Connect conformance suite.
//
// It reads a connectrpc.conformance.v1.ServerCompatRequest (size-delimited
// protobuf) from stdin, starts serving the conformance service on a loopback port with the
// HTTP version and TLS settings it asks for, writes a ServerCompatResponse
// with the address to stdout and serves until it receives SIGTERM or SIGINT.
//
// The service is implemented in plain grpc-go style and served by the
// generated NewConformanceServiceHandler, or, with -registrar, registered on
// a polyrpc.Server:
//
//	go tool -modfile=tools/go.mod connectconformance \
//	  --conf internal/conformance/config.yaml --mode server -- ./server [-registrar]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
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

	srv, certPEM, err := newHTTPServer(req, newHandler(req, *registrar))
	if err != nil {
		return err
	}
	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		return err
	}
	addr := lis.Addr().(*net.TCPAddr)
	serveErr := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			serveErr <- srv.ServeTLS(lis, "", "")
		} else {
			serveErr <- srv.Serve(lis)
		}
	}()

	resp := &conformancev1.ServerCompatResponse{
		Host:    addr.IP.String(),
		Port:    uint32(addr.Port),
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
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	return nil
}

// newHandler serves the conformance service through the generated handler,
// or through a polyrpc.Server when registrar is set.
func newHandler(req *conformancev1.ServerCompatRequest, registrar bool) http.Handler {
	opts := compat.HandlerCompressions()
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

// newHTTPServer returns a server speaking the requested HTTP version (HTTP/2
// over TLS or as h2c), and the PEM certificate clients must trust when TLS is
// requested.
func newHTTPServer(req *conformancev1.ServerCompatRequest, handler http.Handler) (*http.Server, []byte, error) {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
		Protocols:         new(http.Protocols),
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
	if !req.GetUseTls() {
		return srv, nil, nil
	}
	creds := req.GetServerCreds()
	if creds == nil {
		return nil, nil, errors.New("TLS requested without server credentials")
	}
	conf, err := compat.ServerTLSConfig(creds.GetCert(), creds.GetKey(), req.GetClientTlsCert())
	if err != nil {
		return nil, nil, err
	}
	srv.TLSConfig = conf
	return srv, creds.GetCert(), nil
}
