package main

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"

	"google.golang.org/grpc"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/internal/conformance/compat"
	conformancev1 "github.com/polyrpc/polyrpc/internal/conformance/gen/connectrpc/conformance/v1"
	"github.com/polyrpc/polyrpc/internal/gateway"
)

// proxyServer is the conformance service on a plain grpc.Server (gRPC
// only, cleartext, on loopback) behind rpcproxy's gateway, which is what
// the suite talks to.
type proxyServer struct {
	*polyrpcServer
	gw      *gateway.Gateway
	backend *grpc.Server
}

// newProxyServer starts the backend and assembles the gateway in front of
// it, configured as rpcproxy configures it from a file with one backend
// and a route for the conformance service.
func newProxyServer(ctx context.Context, host string, req *conformancev1.ServerCompatRequest) (httpServer, []byte, error) {
	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, nil, err
	}
	backend := grpc.NewServer()
	conformancev1.RegisterConformanceServiceServer(backend, &conformanceServer{})
	go func() { _ = backend.Serve(lis) }()

	cfg := &gateway.Config{
		File:   "conformance",
		Listen: net.JoinHostPort(host, "0"),
		Drain:  gateway.Drain{Timeout: gateway.DefaultDrainTimeout},
		Backends: []*gateway.Backend{{
			Name:     "conformance",
			Target:   "passthrough:///" + lis.Addr().String(),
			Balancer: gateway.PickFirst,
			Protocol: gateway.ProtocolGRPC,
		}},
		Routes: []*gateway.Route{{Service: conformancev1.ConformanceService_ServiceDesc.ServiceName, Backend: "conformance"}},
	}
	if limit := req.GetMessageReceiveLimit(); limit > 0 {
		cfg.Limits.MaxRecvMsgSize = int(limit)
	}
	opts := []polyrpc.ServerOption{polyrpc.HTTPServer(func(hs *http.Server) {
		hs.ErrorLog = log.New(io.Discard, "", 0)
	})}
	for _, c := range compat.ServerCompressions() {
		opts = append(opts, c)
	}
	var certPEM []byte
	if req.GetUseTls() {
		creds := req.GetServerCreds()
		if creds == nil {
			backend.Stop()
			return nil, nil, errors.New("TLS requested without server credentials")
		}
		conf, err := compat.ServerTLSConfig(creds.GetCert(), creds.GetKey(), req.GetClientTlsCert())
		if err != nil {
			backend.Stop()
			return nil, nil, err
		}
		certPEM = creds.GetCert()
		opts = append(opts, polyrpc.TLSConfig(conf))
	}
	h3 := req.GetHttpVersion() == conformancev1.HTTPVersion_HTTP_VERSION_3
	if h3 && certPEM == nil {
		backend.Stop()
		return nil, nil, errors.New("HTTP/3 requested without TLS")
	}
	gw, err := gateway.New(cfg, gateway.WithServerOptions(opts...), gateway.WithAccessLog(nil))
	if err != nil {
		backend.Stop()
		return nil, nil, err
	}
	return &proxyServer{
		polyrpcServer: &polyrpcServer{s: gw.Server, h3: h3, done: make(chan struct{})},
		gw:            gw,
		backend:       backend,
	}, certPEM, nil
}

func (p *proxyServer) shutdown(ctx context.Context) error {
	err := p.polyrpcServer.shutdown(ctx)
	if err == nil {
		_ = p.gw.Close()
		p.backend.GracefulStop()
	}
	return err
}

func (p *proxyServer) close() error {
	err := p.gw.Close()
	p.backend.Stop()
	return err
}
