package polyrpc

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
)

// ErrServerStopped is what Serve and ServeQUIC return when they are called
// after Stop or GracefulStop. It is grpc.ErrServerStopped, so a check written
// for grpc.Server holds for a Server too.
var ErrServerStopped = grpc.ErrServerStopped

// The defaults of the HTTP servers that Serve and ServeQUIC run. They end
// stalled and dead connections without ending long streams: there is no
// ReadTimeout or WriteTimeout, which would bound whole calls.
const (
	// defaultReadHeaderTimeout bounds the TLS handshake and the reading of
	// an HTTP/1.1 request's headers or of the HTTP/2 preface.
	defaultReadHeaderTimeout = 10 * time.Second
	// defaultIdleTimeout closes connections without calls, also on HTTP/2
	// and HTTP/3 (grpc-go clients reconnect when they next call).
	defaultIdleTimeout = 2 * time.Minute
	// defaultPingInterval and defaultPingTimeout find dead HTTP/2 peers: a
	// connection that has received nothing for the interval is pinged and
	// closed if the ping is not answered in time (grpc-go's keepalive
	// timeout is 20s too).
	defaultPingInterval = time.Minute
	defaultPingTimeout  = 20 * time.Second
	// defaultMaxHeaderBytes is net/http's default, 1 MiB. grpc-go accepts
	// 16 MiB of metadata (its default MaxHeaderListSize), which lets one
	// request hold that much server memory; 1 MiB is still far beyond
	// the 8 KiB the gRPC spec asks servers to accept.
	defaultMaxHeaderBytes = http.DefaultMaxHeaderBytes
	// tcpKeepAlive is set on accepted TCP connections, whatever the
	// listener does: Go's defaults, so a vanished HTTP/1.1 client is
	// noticed within minutes.
	tcpKeepAliveIdle     = 15 * time.Second
	tcpKeepAliveInterval = 15 * time.Second
	tcpKeepAliveCount    = 9
	// quicKeepAlive pings HTTP/3 connections, so that a quiet stream outlives
	// QUIC's idle timeout (30s) while a dead peer still ends at it.
	quicKeepAlive = 15 * time.Second
)

// serveConfig holds the options of Serve and ServeQUIC.
type serveConfig struct {
	tls        *tls.Config
	httpServer []func(*http.Server)
}

type tlsConfigOption struct{ config *tls.Config }

func (o tlsConfigOption) applyToServer(c *serverConfig) { c.serve.tls = o.config }

// TLSConfig returns a [ServerOption] that makes [Server.Serve] serve
// HTTP/1.1 and HTTP/2 over TLS, and that [Server.ServeQUIC] needs. The config
// must hold a certificate (Certificates, GetCertificate or
// GetConfigForClient); the ALPN protocols are added to a copy of it. Set
// ClientAuth and ClientCAs to ask for client certificates: handlers find the
// connection state in peer.FromContext(ctx).AuthInfo, a
// credentials.TLSInfo.
func TLSConfig(config *tls.Config) ServerOption {
	return tlsConfigOption{config: config}
}

type httpServerOption struct{ configure func(*http.Server) }

func (o httpServerOption) applyToServer(c *serverConfig) {
	c.serve.httpServer = append(c.serve.httpServer, o.configure)
}

// HTTPServer returns a [ServerOption] that lets configure change the
// http.Server that [Server.Serve] runs before it first serves: its timeouts,
// HTTP2 settings, ErrorLog or ConnState, or its Handler, to wrap the Server
// in middleware (which [Server.ServeQUIC] then serves too). configure finds
// the defaults set: ReadHeaderTimeout 10s, IdleTimeout 2m, MaxHeaderBytes
// 1 MiB, HTTP2.SendPingTimeout 1m and HTTP2.PingTimeout 20s, Protocols
// HTTP/1.1, HTTP/2 and unencrypted HTTP/2, and the config of [TLSConfig] in
// TLSConfig. The option may be given more than once; the functions run in
// order.
func HTTPServer(configure func(*http.Server)) ServerOption {
	return httpServerOption{configure: configure}
}

// serving is the state of Serve, ServeQUIC, GracefulStop and Stop.
type serving struct {
	mu      sync.Mutex
	hs      *http.Server // built on first use
	handler http.Handler // what hs and h3 serve, without Alt-Svc
	tls     *tls.Config  // hs.TLSConfig as configured (net/http fills it in when serving)
	h3      atomic.Pointer[http3Server]
	native  *nativeEngine // cleartext gRPC connections (native.go), or nil
	quic    atomic.Int32  // running ServeQUIC calls
	stopped bool          // GracefulStop or Stop was called
	killed  bool          // Stop was called

	base        context.Context // parent of request contexts, ended by Stop
	cancelBase  context.CancelFunc
	drain       context.Context // ended by Stop, which ends a graceful drain
	cancelDrain context.CancelFunc
	done        chan struct{} // closed when Stop or GracefulStop is done
	doneOnce    sync.Once
}

type http3Server struct {
	srv      *http3.Server
	closed   chan struct{}
	closeOne sync.Once
}

func (h *http3Server) markClosed() { h.closeOne.Do(func() { close(h.closed) }) }

// setupLocked builds the http.Server once. sv.mu is held.
func (s *Server) setupLocked() *http.Server {
	sv := &s.serving
	if sv.hs != nil {
		return sv.hs
	}
	sv.base, sv.cancelBase = context.WithCancel(context.Background())
	sv.drain, sv.cancelDrain = context.WithCancel(context.Background())
	sv.done = make(chan struct{})

	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	protocols.SetUnencryptedHTTP2(true) // h2c with prior knowledge, as grpc-go clients speak it
	hs := &http.Server{
		Handler:           s,
		TLSConfig:         s.config.serve.tls,
		Protocols:         protocols,
		ReadHeaderTimeout: defaultReadHeaderTimeout,
		IdleTimeout:       defaultIdleTimeout,
		MaxHeaderBytes:    defaultMaxHeaderBytes,
		HTTP2: &http.HTTP2Config{
			SendPingTimeout: defaultPingInterval,
			PingTimeout:     defaultPingTimeout,
		},
	}
	for _, configure := range s.config.serve.httpServer {
		configure(hs)
	}
	// HTTP/1.1 client streams watch their connection (peerwatch.go).
	connContext := hs.ConnContext
	hs.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if connContext != nil {
			ctx = connContext(ctx, c)
		}
		return ConnContext(ctx, c)
	}
	if len(s.config.interceptors.stats) != 0 {
		// Stats handlers see connections too: TagConn, ConnBegin, ConnEnd.
		userContext, userState := hs.ConnContext, hs.ConnState
		hs.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
			if userContext != nil {
				ctx = userContext(ctx, c)
			}
			return s.statsConnContext(ctx, c)
		}
		hs.ConnState = func(c net.Conn, state http.ConnState) {
			s.statsConnState(c, state)
			if userState != nil {
				userState(c, state)
			}
		}
	}
	// Stop ends every request's context, also those of handlers that wait
	// on nothing else (net/http does not cancel them when it closes a
	// connection whose request body is still open).
	userBase := hs.BaseContext
	hs.BaseContext = func(l net.Listener) context.Context {
		if userBase == nil {
			return sv.base
		}
		ctx, cancel := context.WithCancel(userBase(l))
		context.AfterFunc(sv.base, cancel)
		return ctx
	}
	sv.handler = hs.Handler
	if s.nativeEligible(hs, hs.Handler) {
		sv.native = s.newNativeEngine(hs)
	}
	if hs.TLSConfig != nil {
		// net/http adds to the config it serves with, so neither the
		// caller's config nor HTTP/3's may be that one.
		sv.tls = hs.TLSConfig.Clone()
		hs.TLSConfig = hs.TLSConfig.Clone()
	}
	hs.Handler = &altSvcHandler{sv: sv, next: sv.handler}
	sv.hs = hs
	return hs
}

// altSvcHandler advertises HTTP/3 on TLS connections while ServeQUIC runs.
type altSvcHandler struct {
	sv   *serving
	next http.Handler
}

func (h *altSvcHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.TLS != nil && h.sv.quic.Load() > 0 {
		if h3 := h.sv.h3.Load(); h3 != nil {
			_ = h3.srv.SetQUICHeaders(w.Header())
		}
	}
	h.next.ServeHTTP(w, r)
}

// Serve accepts connections on lis and serves the registered services on
// them, as grpc.Server.Serve does: gRPC, gRPC-Web and Connect over HTTP/1.1
// and HTTP/2 on one port, cleartext (HTTP/2 with prior knowledge, h2c, which
// is what grpc-go clients speak without TLS) or, with the [TLSConfig]
// option, over TLS (HTTP/2 negotiated by ALPN):
//
//	lis, err := net.Listen("tcp", ":8080")
//	if err != nil {
//		log.Fatal(err)
//	}
//	log.Fatal(s.Serve(lis))
//
// Serve may be called for more than one listener. It returns when
// lis.Accept fails with an error that is not temporary, or, with nil, after
// [Server.Stop] or [Server.GracefulStop] is done; lis is closed when it
// returns. Called after Stop or GracefulStop, it closes lis and returns
// [ErrServerStopped].
//
// The http.Server behind it has timeouts and keepalives that end stalled and
// dead connections but not long calls; [HTTPServer] changes them. Accepted
// TCP connections get TCP keepalive. A Server is still an http.Handler, to be
// served by an http.Server of one's own instead.
func (s *Server) Serve(lis net.Listener) error {
	sv := &s.serving
	sv.mu.Lock()
	if sv.stopped {
		sv.mu.Unlock()
		_ = lis.Close()
		return ErrServerStopped
	}
	hs := s.setupLocked()
	sv.mu.Unlock()

	defer lis.Close() // also on the errors that http.Server returns before serving
	lis = keepAliveListener{lis}
	if native := sv.native; native != nil && sv.tls == nil {
		prefaceWait := hs.ReadHeaderTimeout
		if prefaceWait <= 0 {
			prefaceWait = defaultReadHeaderTimeout
		}
		firstCallWait := hs.IdleTimeout
		if firstCallWait <= 0 {
			firstCallWait = defaultIdleTimeout
		}
		sorting := newSortingListener(lis, native, prefaceWait, firstCallWait)
		defer sorting.Close()
		native.once.Do(func() { go func() { _ = native.srv.Serve(native.lis) }() })
		lis = sorting
	}
	var err error
	if sv.tls != nil {
		err = hs.ServeTLS(lis, "", "")
	} else {
		err = hs.Serve(lis)
	}
	if errors.Is(err, http.ErrServerClosed) {
		// Only GracefulStop and Stop close hs. Like grpc.Server.Serve, wait
		// for them to finish.
		<-sv.done
		return nil
	}
	return err
}

// ServeQUIC serves the registered services over HTTP/3 on pc, a UDP
// socket, with quic-go's http3 package: every protocol, and bidirectional
// streams. HTTP/3 needs TLS, so the Server must have been given [TLSConfig]
// (ServeQUIC returns an error otherwise). While it runs, responses over TLS
// from [Server.Serve] advertise it in an Alt-Svc header. The name says what
// it takes: QUIC packets, not an HTTP/3 listener.
//
//	pc, err := net.ListenPacket("udp", ":8443") // the same port number as TCP is fine
//	if err != nil {
//		log.Fatal(err)
//	}
//	go func() { log.Fatal(s.ServeQUIC(pc)) }()
//	log.Fatal(s.Serve(lis))
//
// Like Serve, it may be called more than once, returns nil after
// [Server.Stop] or [Server.GracefulStop] are done (and the handlers of the
// HTTP/3 calls have returned), closes pc when it returns, and returns
// [ErrServerStopped] when called after them. It serves the Handler that
// [HTTPServer] options leave, with the IdleTimeout and MaxHeaderBytes they
// leave; it pings connections every 15s, so that quiet streams outlive QUIC's
// 30s idle timeout, and does not accept 0-RTT data, which can be replayed.
//
// A client calls over HTTP/3 through [NewClientConn] with quic-go's
// transport:
//
//	tr := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
//	defer tr.Close()
//	cc := polyrpc.NewClientConn(&http.Client{Transport: tr}, "https://api.example.com:8443", connect.WithGRPC())
func (s *Server) ServeQUIC(pc net.PacketConn) error {
	sv := &s.serving
	sv.mu.Lock()
	if sv.stopped {
		sv.mu.Unlock()
		_ = pc.Close()
		return ErrServerStopped
	}
	hs := s.setupLocked()
	if sv.tls == nil {
		sv.mu.Unlock()
		_ = pc.Close()
		return errors.New("polyrpc: ServeQUIC needs a TLS config: give NewServer the TLSConfig option")
	}
	h3 := sv.h3.Load()
	if h3 == nil {
		h3 = &http3Server{
			srv: &http3.Server{
				Handler:        sv.handler,
				TLSConfig:      sv.tls,
				IdleTimeout:    hs.IdleTimeout,
				MaxHeaderBytes: hs.MaxHeaderBytes,
				// Not quic-go's default config, which accepts 0-RTT
				// requests: an attacker can replay those, and RPCs are
				// rarely safe to repeat.
				QUICConfig: &quic.Config{KeepAlivePeriod: quicKeepAlive},
			},
			closed: make(chan struct{}),
		}
		sv.h3.Store(h3)
	}
	sv.quic.Add(1)
	sv.mu.Unlock()
	defer sv.quic.Add(-1)

	err := h3.srv.Serve(pc)
	if errors.Is(err, http.ErrServerClosed) {
		// http3.Server.Serve returns as soon as a stop begins, while its
		// connections still use pc: wait for them to end.
		<-h3.closed
		<-sv.done
		err = nil
	}
	_ = pc.Close()
	return err
}

// GracefulStop stops the Server gracefully, as grpc.Server.GracefulStop
// does: it closes the listeners, refuses new calls on open connections
// (HTTP/2 and HTTP/3 connections are sent GOAWAY, HTTP/1.1 connections close
// after their current call), and waits for the calls in progress to finish.
// If grpc-go's health server (a *health.Server) is registered, it first
// calls its Shutdown, so that it reports NOT_SERVING (grpc.Server leaves
// that to the caller). Calling Stop while
// GracefulStop waits ends the calls at once, and GracefulStop returns.
func (s *Server) GracefulStop() {
	sv := &s.serving
	sv.mu.Lock()
	first := !sv.stopped
	sv.stopped = true
	hs := s.setupLocked()
	h3 := sv.h3.Load()
	sv.mu.Unlock()
	if !first {
		<-sv.done
		return
	}
	if r, ok := (*s.services.Load())[healthServiceName]; ok {
		if h, ok := r.impl.(*health.Server); ok {
			h.Shutdown()
		}
	}
	var wg sync.WaitGroup
	if sv.native != nil {
		// Stop, while this waits, stops the engine at once.
		wg.Go(sv.native.srv.GracefulStop)
	}
	if h3 != nil {
		wg.Go(func() {
			_ = h3.srv.Shutdown(sv.drain)
			h3.markClosed()
		})
	}
	if hs.Shutdown(sv.drain) != nil {
		// Stop was called: it closes everything.
		<-sv.done
	}
	wg.Wait()
	sv.finish()
}

const healthServiceName = "grpc.health.v1.Health"

// Stop stops the Server at once, as grpc.Server.Stop does: it closes the
// listeners and every connection, and ends the context of every call in
// progress. It does not wait for the handlers to return. Stop and
// GracefulStop may be called more than once, and concurrently with the
// Serve methods.
func (s *Server) Stop() {
	sv := &s.serving
	sv.mu.Lock()
	first := !sv.killed
	sv.stopped = true
	sv.killed = true
	hs := s.setupLocked()
	h3 := sv.h3.Load()
	sv.mu.Unlock()
	if !first {
		<-sv.done
		return
	}
	sv.cancelDrain()
	sv.cancelBase()
	_ = hs.Close()
	if sv.native != nil {
		sv.native.srv.Stop()
	}
	if h3 != nil {
		// http3.Server.Close waits for the handlers, whose contexts end
		// with their connections: let ServeQUIC wait for them.
		go func() {
			_ = h3.srv.Close()
			h3.markClosed()
		}()
	}
	sv.finish()
}

func (sv *serving) finish() {
	sv.doneOnce.Do(func() { close(sv.done) })
}

// keepAliveListener turns on TCP keepalive on accepted connections.
type keepAliveListener struct {
	net.Listener
}

func (l keepAliveListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok && err == nil {
		_ = tc.SetKeepAliveConfig(net.KeepAliveConfig{
			Enable:   true,
			Idle:     tcpKeepAliveIdle,
			Interval: tcpKeepAliveInterval,
			Count:    tcpKeepAliveCount,
		})
	}
	return c, err
}
