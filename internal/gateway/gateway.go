// Package gateway is rpcproxy's gateway: it owns reading the YAML config
// and assembling from it a polyrpc.Server that forwards every call it does
// not serve itself, untouched, to gRPC, Connect or gRPC-Web backends with
// package proxy. Callers speak Connect, gRPC-Web or gRPC on one port; the
// gateway serves grpc-go's health and reflection services itself, writes
// an access log and drains on demand.
package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/proxy"
)

// MetadataField is the field of the ResponseMetadata message that
// attributes each answer of a fan-out call to its backend (Talos' contract).
const MetadataField = 99

// Option changes how [New] assembles a gateway.
type Option func(*settings)

type settings struct {
	serverOpts []polyrpc.ServerOption
	accessLog  io.Writer
	logSet     bool
	errorLog   io.Writer
	errorSet   bool
}

// WithErrorLog sends the gateway's own messages (such as a backend's
// reflection failing) to w instead of stderr; nil drops them.
func WithErrorLog(w io.Writer) Option {
	return func(s *settings) { s.errorLog, s.errorSet = w, true }
}

// WithServerOptions adds options to the gateway's polyrpc.Server, after
// the ones the config sets (such as polyrpc.TLSConfig given certificates
// held in memory, or compressions).
func WithServerOptions(opts ...polyrpc.ServerOption) Option {
	return func(s *settings) { s.serverOpts = append(s.serverOpts, opts...) }
}

// WithAccessLog sends the access log to w instead of where the config
// says; nil turns it off.
func WithAccessLog(w io.Writer) Option {
	return func(s *settings) { s.accessLog, s.logSet = w, true }
}

// Gateway is a polyrpc.Server that forwards calls as its config says.
type Gateway struct {
	// Server serves the gateway: call Serve (or ServeQUIC) on it, or use it
	// as an http.Handler.
	Server *polyrpc.Server
	// Health is grpc-go's health server of the gateway, nil when the config
	// turns it off.
	Health *health.Server

	cfg      *Config
	routes   []*route
	log      *accessLog
	errorLog io.Writer
	closers  []func() error
	stopOnce sync.Once
	cancel   context.CancelFunc // of the background work
	loaded   chan struct{}      // closed when the descriptors are loaded
}

// DescriptorsLoaded is closed once the descriptors of the backends with
// reflection on are loaded (or the gateway is closed).
func (g *Gateway) DescriptorsLoaded() <-chan struct{} { return g.loaded }

type route struct {
	service, prefix string // one of the two
	handler         grpc.StreamHandler
}

func (r *route) matches(method string) bool {
	if r.service != "" {
		svc, _, ok := strings.Cut(strings.TrimPrefix(method, "/"), "/")
		return ok && svc == r.service
	}
	return strings.HasPrefix(method, r.prefix)
}

// New assembles the gateway of cfg: it opens the backends' connections
// (grpc-go connects lazily, so a backend that is down fails its calls, not
// New) and builds the Server. Close releases them.
func New(cfg *Config, opts ...Option) (_ *Gateway, err error) {
	var set settings
	for _, o := range opts {
		o(&set)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &Gateway{cfg: cfg, errorLog: os.Stderr, cancel: cancel, loaded: make(chan struct{})}
	if set.errorSet {
		g.errorLog = set.errorLog
	}
	g.closers = append(g.closers, func() error { cancel(); return nil })
	defer func() {
		if err != nil {
			_ = g.closeBackends()
		}
	}()

	w := set.accessLog
	if !set.logSet {
		var closer func() error
		w, closer, err = openLog(cfg.AccessLog)
		if err != nil {
			return nil, &Error{File: cfg.File, Msg: "access_log: " + err.Error()}
		}
		if closer != nil {
			g.closers = append(g.closers, closer)
		}
	}
	if w != nil {
		g.log = &accessLog{w: w}
	}

	conns := make(map[string]grpc.ClientConnInterface, len(cfg.Backends))
	for _, b := range cfg.Backends {
		cc, closer, err := dialBackend(b, cfg.Limits)
		if err != nil {
			return nil, &Error{File: cfg.File, Line: b.line, Msg: fmt.Sprintf("backends.%s: %v", b.Name, err)}
		}
		conns[b.Name] = cc
		g.closers = append(g.closers, closer)
	}
	for _, r := range cfg.Routes {
		g.routes = append(g.routes, newRoute(cfg, r, conns))
	}
	var fetching []chan struct{}
	for _, b := range cfg.Backends {
		if b.Reflection {
			ready := make(chan struct{})
			fetching = append(fetching, ready)
			go g.fetchDescriptors(ctx, b.Name, conns[b.Name], ready)
		}
	}
	go func() {
		for _, ready := range fetching {
			<-ready
		}
		close(g.loaded)
	}()

	sopts := []polyrpc.ServerOption{
		polyrpc.ForceServerCodecV2(proxy.Codec()),
		polyrpc.UnknownServiceHandler(g.handle),
	}
	if g.log != nil {
		sopts = append(sopts,
			polyrpc.ChainUnaryInterceptor(g.log.unary),
			polyrpc.ChainStreamInterceptor(g.log.stream))
	}
	if n := cfg.Limits.MaxRecvMsgSize; n > 0 {
		sopts = append(sopts, polyrpc.MaxRecvMsgSize(n))
	}
	if n := cfg.Limits.MaxSendMsgSize; n > 0 {
		sopts = append(sopts, polyrpc.MaxSendMsgSize(n))
	}
	if cfg.TLS != nil {
		conf, err := serverTLS(cfg.TLS)
		if err != nil {
			return nil, &Error{File: cfg.File, Msg: "tls: " + err.Error()}
		}
		sopts = append(sopts, polyrpc.TLSConfig(conf))
	}
	// net/http's own messages (TLS handshakes that fail, ...) go to the
	// error log.
	errorLog := g.errorLog
	if errorLog == nil {
		errorLog = io.Discard
	}
	sopts = append(sopts, polyrpc.HTTPServer(func(hs *http.Server) {
		hs.ErrorLog = log.New(errorLog, "rpcproxy: http: ", 0)
	}))
	if c := cfg.CORS; len(c.AllowedOrigins) > 0 {
		opts := polyrpc.CORSOptions{
			AllowedOrigins:   c.AllowedOrigins,
			AllowedHeaders:   c.AllowedHeaders,
			ExposedHeaders:   c.ExposedHeaders,
			AllowCredentials: c.AllowCredentials,
		}
		if err := checkCORS(opts); err != nil {
			return nil, &Error{File: cfg.File, Msg: "cors: " + err.Error()}
		}
		// Wrapping the Server keeps every connection on net/http's path.
		sopts = append(sopts, polyrpc.HTTPServer(func(hs *http.Server) {
			hs.Handler = polyrpc.CORS(hs.Handler, opts)
		}))
	}
	sopts = append(sopts, set.serverOpts...)
	g.Server = polyrpc.NewServer(sopts...)
	if cfg.Health {
		g.Health = health.NewServer()
		healthpb.RegisterHealthServer(g.Server, g.Health)
	}
	if cfg.Reflection {
		reflection.Register(g.Server)
	}
	return g, nil
}

// handle serves a call that the Server does not: with the first route
// that matches its method.
func (g *Gateway) handle(srv any, ss grpc.ServerStream) error {
	method, ok := grpc.MethodFromServerStream(ss)
	if !ok {
		return status.Error(codes.Internal, "rpcproxy: the call has no method")
	}
	for _, r := range g.routes {
		if r.matches(method) {
			if oneRequest(method) {
				ss = &oneRequestStream{ServerStream: ss}
			}
			return r.handler(srv, ss)
		}
	}
	return status.Errorf(codes.Unimplemented, "rpcproxy: no route for method %s", method)
}

func newRoute(cfg *Config, r *Route, conns map[string]grpc.ClientConnInterface) *route {
	rt := &route{service: r.Service, prefix: r.Prefix}
	drop := []string(nil)
	var popts []proxy.Option
	if r.FanOut == nil {
		b := &proxy.ConnBackend{Name: r.Backend, Conn: conns[r.Backend]}
		one := []proxy.Backend{b}
		director := func(ctx context.Context, _ string) (proxy.Mode, []proxy.Backend, error) {
			recordBackend(ctx, r.Backend)
			return proxy.One2One, one, nil
		}
		popts = append(popts, headerOptions(cfg.Headers, drop)...)
		if r.Timeout > 0 {
			popts = append(popts, proxy.WithBackendTimeout(r.Timeout))
		}
		rt.handler = proxy.TransparentHandler(director, popts...)
		return rt
	}
	f := r.FanOut
	set := make(map[string]proxy.Backend, len(f.Backends))
	all := make([]proxy.Backend, 0, len(f.Backends))
	for _, name := range f.Backends {
		b := &proxy.ConnBackend{Name: name, Conn: conns[name], MetadataField: MetadataField}
		set[name] = b
		all = append(all, b)
	}
	mode := proxy.One2Many
	switch f.Responses {
	case ResponsesMerged:
		mode = proxy.One2ManyMerged
	case ResponsesStreamed:
		mode = proxy.One2ManyStreamed
	}
	director := func(ctx context.Context, _ string) (proxy.Mode, []proxy.Backend, error) {
		chosen, err := selectBackends(ctx, f, set, all)
		if err != nil {
			return mode, nil, err
		}
		names := make([]string, len(chosen))
		for i, b := range chosen {
			names[i] = b.String()
		}
		recordBackend(ctx, strings.Join(names, ","))
		return mode, chosen, nil
	}
	if f.SelectHeader != "" {
		drop = append(drop, f.SelectHeader)
	}
	popts = append(popts, headerOptions(cfg.Headers, drop)...)
	if f.Concurrency > 0 {
		popts = append(popts, proxy.WithConcurrency(f.Concurrency))
	}
	if f.Timeout > 0 {
		popts = append(popts, proxy.WithBackendTimeout(f.Timeout))
	}
	rt.handler = proxy.TransparentHandler(director, popts...)
	return rt
}

// selectBackends returns the members of a fan-out set that the call's
// select header names, in the set's order, or the whole set.
func selectBackends(ctx context.Context, f *FanOut, set map[string]proxy.Backend, all []proxy.Backend) ([]proxy.Backend, error) {
	if f.SelectHeader == "" {
		return all, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	values := md.Get(f.SelectHeader)
	if len(values) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, v := range values {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if set[name] == nil {
				return nil, status.Errorf(codes.InvalidArgument, "rpcproxy: %s names %q, which is not in the backend set (%s)", f.SelectHeader, name, strings.Join(f.Backends, ", "))
			}
			want[name] = true
		}
	}
	if len(want) == 0 {
		return nil, status.Errorf(codes.InvalidArgument, "rpcproxy: %s names no backend", f.SelectHeader)
	}
	chosen := make([]proxy.Backend, 0, len(want))
	for _, b := range all {
		if want[b.String()] {
			chosen = append(chosen, b)
		}
	}
	return chosen, nil
}

// headerOptions turns the header rules into the proxy's options; drop
// adds request keys that never reach a backend.
func headerOptions(h HeaderRules, drop []string) []proxy.Option {
	var opts []proxy.Option
	req := h.Request
	req.Drop = append(append([]string(nil), req.Drop...), drop...)
	if rule := headerRule(req); rule != nil {
		opts = append(opts, proxy.WithRequestHeaders(rule))
	}
	if rule := headerRule(h.Response); rule != nil {
		opts = append(opts, proxy.WithResponseHeaders(rule))
	}
	return opts
}

func headerRule(r HeaderRule) proxy.HeaderRule {
	var forward, drop proxy.HeaderRule
	if len(r.Forward) > 0 {
		forward = proxy.AllowHeaders(r.Forward...)
	}
	if len(r.Drop) > 0 {
		drop = proxy.DenyHeaders(r.Drop...)
	}
	switch {
	case forward == nil:
		return drop
	case drop == nil:
		return forward
	}
	return func(key string) bool { return forward(key) && drop(key) }
}

// dialBackend opens the connection to a backend.
func dialBackend(b *Backend, limits Limits) (grpc.ClientConnInterface, func() error, error) {
	var conf *tls.Config
	if b.TLS != nil {
		var err error
		if conf, err = clientTLS(b.TLS); err != nil {
			return nil, nil, err
		}
	}
	if b.Protocol == ProtocolGRPC {
		creds := insecure.NewCredentials()
		if conf != nil {
			creds = credentials.NewTLS(conf)
		}
		opts := []grpc.DialOption{
			grpc.WithTransportCredentials(creds),
			// grpc-go's balancer, chosen through its service config.
			grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"` + b.Balancer + `":{}}]}`),
		}
		var call []grpc.CallOption
		if limits.MaxRecvMsgSize > 0 {
			call = append(call, grpc.MaxCallSendMsgSize(limits.MaxRecvMsgSize))
		}
		if limits.MaxSendMsgSize > 0 {
			call = append(call, grpc.MaxCallRecvMsgSize(limits.MaxSendMsgSize))
		}
		if len(call) > 0 {
			opts = append(opts, grpc.WithDefaultCallOptions(call...))
		}
		cc, err := grpc.NewClient(b.Target, opts...)
		if err != nil {
			return nil, nil, err
		}
		return cc, cc.Close, nil
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       conf,
		TLSHandshakeTimeout:   10 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   64,
		ExpectContinueTimeout: time.Second,
		Protocols:             new(http.Protocols),
	}
	switch {
	case b.H2C:
		tr.Protocols.SetUnencryptedHTTP2(true)
	case conf != nil:
		tr.Protocols.SetHTTP1(true)
		tr.Protocols.SetHTTP2(true)
	default:
		tr.Protocols.SetHTTP1(true)
	}
	var copts []connect.ClientOption
	if b.Protocol == ProtocolGRPCWeb {
		copts = append(copts, connect.WithGRPCWeb())
	}
	if limits.MaxSendMsgSize > 0 {
		copts = append(copts, polyrpc.ClientMaxRecvMsgSize(limits.MaxSendMsgSize))
	}
	cc := polyrpc.NewClientConn(&http.Client{Transport: tr}, b.URL, copts...)
	return cc, func() error { tr.CloseIdleConnections(); return nil }, nil
}

func clientTLS(t *BackendTLS) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CA != "" {
		pool, err := loadPool(t.CA)
		if err != nil {
			return nil, err
		}
		conf.RootCAs = pool
	}
	if t.Cert != "" {
		cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}

func serverTLS(t *ServerTLS) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
	if err != nil {
		return nil, err
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if t.ClientCA != "" {
		pool, err := loadPool(t.ClientCA)
		if err != nil {
			return nil, err
		}
		conf.ClientCAs = pool
		conf.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return conf, nil
}

func loadPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate", file)
	}
	return pool, nil
}

// Serve serves the gateway on lis until Drain or Close.
func (g *Gateway) Serve(lis net.Listener) error { return g.Server.Serve(lis) }

// Drain stops the gateway gracefully, as the config's drain section says:
// the health service reports NOT_SERVING at once, the gateway keeps
// serving for the drain delay, then takes no new calls and waits for the
// calls under way until the drain timeout, after which it ends them. It
// returns when the Server is stopped; ctx, when done, cuts the delay and
// the wait short. Close still releases the backends.
func (g *Gateway) Drain(ctx context.Context) {
	if g.Health != nil {
		g.Health.Shutdown()
	}
	if d := g.cfg.Drain.Delay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	stopped := make(chan struct{})
	go func() {
		g.Server.GracefulStop()
		close(stopped)
	}()
	timeout := g.cfg.Drain.Timeout
	if timeout <= 0 {
		timeout = DefaultDrainTimeout
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-stopped:
		return
	case <-t.C:
	case <-ctx.Done():
	}
	g.Server.Stop()
	<-stopped
}

// Close stops the Server at once and closes the backends' connections and
// the access log file.
func (g *Gateway) Close() error {
	g.Server.Stop()
	return g.closeBackends()
}

func (g *Gateway) closeBackends() error {
	var errs []error
	g.stopOnce.Do(func() {
		for _, c := range g.closers {
			errs = append(errs, c())
		}
	})
	return errors.Join(errs...)
}

// checkCORS reports options that polyrpc.CORS refuses (it panics on them).
func checkCORS(opts polyrpc.CORSOptions) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	polyrpc.CORS(http.NotFoundHandler(), opts)
	return nil
}
