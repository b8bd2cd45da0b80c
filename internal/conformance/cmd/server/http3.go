package main

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// quicConfig is the QUIC configuration of the conformance suite's reference
// server and client.
var quicConfig = &quic.Config{MaxIdleTimeout: 20 * time.Second, KeepAlivePeriod: 5 * time.Second}

// h3Server serves HTTP/3 with quic-go.
type h3Server struct {
	srv *http3.Server
	lis *quic.EarlyListener
}

func newH3Server(handler http.Handler, conf *tls.Config) *h3Server {
	return &h3Server{srv: &http3.Server{
		Handler:    handler,
		TLSConfig:  http3.ConfigureTLSConfig(conf),
		QUICConfig: quicConfig,
	}}
}

func (s *h3Server) listen(_ context.Context, addr string) (net.Addr, error) {
	lis, err := quic.ListenAddrEarly(addr, s.srv.TLSConfig, quicConfig)
	if err != nil {
		return nil, err
	}
	s.lis = lis
	return lis.Addr(), nil
}

func (s *h3Server) serve() error                       { return s.srv.ServeListener(s.lis) }
func (s *h3Server) shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }
func (s *h3Server) close() error                       { return s.srv.Close() }
