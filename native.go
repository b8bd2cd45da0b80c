package polyrpc

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/gzip" // gzip for grpc-go's transport, as on every other path
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// Serve gives cleartext connections whose calls are gRPC with the binary
// protobuf codec (the connections of grpc-go clients, sorted by sniff.go)
// to grpc-go's own HTTP/2 transport: a grpc.Server inside the Server, which
// has no services of its own and hands every call to the Server's
// registrations. grpc-go's transport serves grpc-go clients with a third to
// a half of the CPU of net/http's HTTP/2 server and connect-go (BENCHMARKS.md). Everything else (HTTP/1.1,
// gRPC-Web, Connect, TLS, HTTP/3) is served by net/http as before.
//
// The two paths answer alike: the same services, interceptors, stats
// handlers and message size limits, and the errors the Connect conformance
// suite expects. The native path is used only where it can be the same:
// without TLS, without connect-go handler options (WithHandlerOptions or
// WithProtoText, which only net/http's path knows) and while the
// http.Server's handler is the Server itself (an HTTPServer option that
// wraps it with middleware keeps every connection on net/http).

// nativeGRPCOption turns the native gRPC path on or off.
type nativeGRPCOption bool

func (o nativeGRPCOption) applyToServer(c *serverConfig) { c.nativeOff = !bool(o) }

// NativeGRPC returns a [ServerOption] that turns off (false) or on (true,
// the default) the serving of cleartext gRPC connections by grpc-go's own
// HTTP/2 transport in [Server.Serve]. Turned off, every connection is
// served by net/http and connect-go.
func NativeGRPC(on bool) ServerOption { return nativeGRPCOption(on) }

// nativeEngine is the grpc.Server behind the native path.
type nativeEngine struct {
	srv  *grpc.Server
	lis  *connListener
	once sync.Once // starts srv.Serve
}

// newNativeEngine builds the engine for s, whose http.Server is hs.
func (s *Server) newNativeEngine(hs *http.Server) *nativeEngine {
	registerGRPCCodecs()
	cfg := &s.config
	registerGRPCCompressors(cfg.compressions)
	opts := []grpc.ServerOption{
		grpc.UnknownServiceHandler(s.serveNative),
		grpc.MaxRecvMsgSize(cfg.limits.recv()),
		grpc.MaxSendMsgSize(cfg.limits.send()),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: hs.IdleTimeout,
			Time:              hs.HTTP2.SendPingTimeout,
			Timeout:           hs.HTTP2.PingTimeout,
		}),
		// net/http's limit of streams a connection, instead of grpc-go's
		// unlimited default: both paths bound a client alike.
		grpc.MaxConcurrentStreams(250),
	}
	if cfg.unknown.codec != nil {
		// grpc-go's ForceServerCodecV2, with raw access for JSON callers
		// (native_json.go).
		opts = append(opts, grpc.ForceServerCodecV2(nativeCodec{cfg.unknown.codec}))
	}
	if hs.MaxHeaderBytes > 0 {
		opts = append(opts, grpc.MaxHeaderListSize(uint32(hs.MaxHeaderBytes)))
	}
	for _, h := range cfg.interceptors.stats {
		opts = append(opts, grpc.StatsHandler(&nativeStats{Handler: h, s: s}))
	}
	return &nativeEngine{srv: grpc.NewServer(opts...), lis: newConnListener()}
}

// nativeEligible reports whether the native path can serve as net/http
// does.
func (s *Server) nativeEligible(hs *http.Server, handler http.Handler) bool {
	return !s.config.nativeOff && hs.TLSConfig == nil && len(s.config.handlerOptions) == 0 &&
		handler == http.Handler(s) && hs.HTTP2 != nil
}

// serveNative is the grpc.Server's handler of every call: it finds the
// method among the Server's registrations and runs it as grpc.Server would,
// with the Server's interceptors.
func (s *Server) serveNative(_ any, stream grpc.ServerStream) error {
	full, _ := grpc.MethodFromServerStream(stream)
	name, method := full, ""
	if i := lastSlash(full); i > 0 {
		name, method = full[1:i], full[i+1:]
	}
	reg, ok := (*s.services.Load())[name]
	if !ok {
		if s.config.unknown.handler != nil {
			return s.serveNativeUnknown(full, stream)
		}
		return status.Errorf(codes.Unimplemented, "unknown service %v", name)
	}
	if md, ok := reg.unary[method]; ok {
		return s.serveNativeUnary(reg, md, stream)
	}
	if sd, ok := reg.streams[method]; ok {
		info := &grpc.StreamServerInfo{FullMethod: full, IsClientStream: sd.ClientStreams, IsServerStream: sd.ServerStreams}
		var ss grpc.ServerStream = stream
		if !sd.ClientStreams {
			ss = &oneRequestStream{ServerStream: stream}
		}
		if s.streamChain != nil {
			return s.streamChain(reg.impl, ss, info, sd.Handler)
		}
		return sd.Handler(reg.impl, ss)
	}
	if s.config.unknown.handler != nil {
		return s.serveNativeUnknown(full, stream)
	}
	return status.Errorf(codes.Unimplemented, "unknown method %v for service %v", method, name)
}

func (s *Server) serveNativeUnary(reg *registered, md *grpc.MethodDesc, stream grpc.ServerStream) error {
	dec := func(m any) error { return recvOne(stream, m) }
	reply, err := md.Handler(reg.impl, stream.Context(), dec, s.unaryChain)
	if err != nil {
		return err
	}
	return stream.SendMsg(reply)
}

// lastSlash returns the index of the last '/' of "/service/method", or -1.
func lastSlash(full string) int {
	if len(full) == 0 || full[0] != '/' {
		return -1
	}
	for i := len(full) - 1; i > 0; i-- {
		if full[i] == '/' {
			return i
		}
	}
	return -1
}

// nativeStats passes grpc-go's events to a stats handler, with what grpc-go
// cannot know of calls it hands to its unknown-service handler: whether
// the method streams, which it reports as a bidirectional stream.
type nativeStats struct {
	stats.Handler
	s *Server
}

type nativeMethodKey struct{}

func (n *nativeStats) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	return n.Handler.TagRPC(context.WithValue(ctx, nativeMethodKey{}, info.FullMethodName), info)
}

func (n *nativeStats) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	if b, ok := rs.(*stats.Begin); ok {
		if full, ok := ctx.Value(nativeMethodKey{}).(string); ok {
			fixed := *b
			fixed.IsClientStream, fixed.IsServerStream = n.s.streamKind(full)
			rs = &fixed
		}
	}
	n.Handler.HandleRPC(ctx, rs)
}

// streamKind says whether the registered method full streams requests and
// replies; unknown methods are reported as grpc-go reports them, as
// bidirectional streams.
func (s *Server) streamKind(full string) (client, server bool) {
	i := lastSlash(full)
	if i <= 0 {
		return true, true
	}
	reg, ok := (*s.services.Load())[full[1:i]]
	if !ok {
		return true, true
	}
	method := full[i+1:]
	if _, ok := reg.unary[method]; ok {
		return false, false
	}
	if sd, ok := reg.streams[method]; ok {
		return sd.ClientStreams, sd.ServerStreams
	}
	return true, true
}

// recvOne receives the one request of a call that is not client-streaming
// and checks that the client sent no other, answering a violation with
// Unimplemented as the gRPC specification and connect-go have it.
func recvOne(stream grpc.ServerStream, m any) error {
	if err := stream.RecvMsg(m); err != nil {
		if errors.Is(err, io.EOF) {
			return status.Error(codes.Unimplemented, "unary request has zero messages")
		}
		return err
	}
	switch err := stream.RecvMsg(m); {
	case err == nil:
		return status.Error(codes.Unimplemented, "unary request has multiple messages")
	case errors.Is(err, io.EOF):
		return nil
	default:
		return err
	}
}

// oneRequestStream is the stream of a server-streaming call: it receives
// exactly one request.
type oneRequestStream struct {
	grpc.ServerStream
	received bool
}

func (s *oneRequestStream) RecvMsg(m any) error {
	if s.received {
		return io.EOF
	}
	s.received = true
	return recvOne(s.ServerStream, m)
}

// connListener is a net.Listener fed with connections sorted out of other
// listeners.
type connListener struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
	mu        sync.Mutex
	addr      net.Addr
}

func newConnListener() *connListener {
	return &connListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// deliver hands c to Accept, or closes it if the listener is closed.
func (l *connListener) deliver(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		_ = c.Close()
	}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *connListener) setAddr(a net.Addr) {
	l.mu.Lock()
	if l.addr == nil {
		l.addr = a
	}
	l.mu.Unlock()
}

func (l *connListener) Addr() net.Addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.addr == nil {
		return stringAddr("polyrpc")
	}
	return l.addr
}

// sortingListener accepts connections from a listener and sorts them: gRPC
// connections go to the native engine, the others come out of Accept for
// net/http.
type sortingListener struct {
	net.Listener
	native        *nativeEngine
	prefaceWait   time.Duration // for the first bytes
	firstCallWait time.Duration // for the first request of an HTTP/2 connection

	httpConns chan net.Conn
	errc      chan error
	done      chan struct{}
	closeOnce sync.Once
	mu        sync.Mutex
	sorting   map[net.Conn]struct{}
}

func newSortingListener(lis net.Listener, native *nativeEngine, prefaceWait, firstCallWait time.Duration) *sortingListener {
	l := &sortingListener{
		Listener:      lis,
		native:        native,
		prefaceWait:   prefaceWait,
		firstCallWait: firstCallWait,
		httpConns:     make(chan net.Conn),
		errc:          make(chan error, 1),
		done:          make(chan struct{}),
		sorting:       make(map[net.Conn]struct{}),
	}
	native.lis.setAddr(lis.Addr())
	go l.acceptLoop()
	return l
}

func (l *sortingListener) acceptLoop() {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Temporary() { //nolint:staticcheck // as net/http does
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(delay):
					continue
				case <-l.done:
					return
				}
			}
			l.errc <- err
			return
		}
		delay = 0
		l.mu.Lock()
		select {
		case <-l.done:
			l.mu.Unlock()
			_ = c.Close()
			return
		default:
		}
		l.sorting[c] = struct{}{}
		l.mu.Unlock()
		go l.sort(c)
	}
}

func (l *sortingListener) sort(c net.Conn) {
	res, err := sniffConn(c, l.prefaceWait, l.firstCallWait)
	l.mu.Lock()
	delete(l.sorting, c)
	l.mu.Unlock()
	if err != nil {
		_ = c.Close()
		return
	}
	conn := c
	if !res.peeked {
		conn = newReplayConn(c, res.buf)
	}
	if res.grpc {
		l.native.lis.deliver(conn)
		return
	}
	if res.h2 {
		conn = &filteredConn{Conn: c, f: newSettingsAckFilter(conn)}
	}
	select {
	case l.httpConns <- conn:
	case <-l.done:
		_ = conn.Close()
	}
}

func (l *sortingListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.httpConns:
		return c, nil
	case err := <-l.errc:
		return nil, err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close closes the listener and the connections still being sorted.
func (l *sortingListener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		l.mu.Lock()
		close(l.done)
		for c := range l.sorting {
			_ = c.Close()
		}
		l.mu.Unlock()
		err = l.Listener.Close()
	})
	return err
}

// registerGRPCCodecs gives grpc-go's transport the codecs that net/http's
// path has by default, when no codec of that name is registered: "json"
// (protojson, as polyrpc's Connect codecs). grpc-go takes an unknown
// content subtype for protobuf, which would misread a JSON call that comes
// on a connection sorted to the native path.
var registerGRPCCodecs = sync.OnceFunc(func() {
	if encoding.GetCodecV2(codecNameJSON) == nil {
		encoding.RegisterCodecV2(grpcJSONCodec{})
	}
})

// grpcJSONCodec is polyrpc's JSON codec in grpc-go's form.
type grpcJSONCodec struct{}

func (grpcJSONCodec) Name() string { return codecNameJSON }

func (grpcJSONCodec) Marshal(v any) (mem.BufferSlice, error) {
	msg, err := asProto(v)
	if err != nil {
		return nil, err
	}
	data, err := protojson.Marshal(msg)
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(data)}, nil
}

func (grpcJSONCodec) Unmarshal(data mem.BufferSlice, v any) error {
	msg, err := asProto(v)
	if err != nil {
		return err
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return jsonCodec{}.unmarshal(buf.ReadOnlyData(), msg)
}
