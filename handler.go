package polyrpc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// NewHandler returns the path prefix ("/package.Service/") and an
// http.Handler serving every method of a grpc-go service description over
// the Connect, gRPC and gRPC-Web protocols. impl is the service
// implementation, as passed to grpc.Server.RegisterService.
//
// Generated NewXxxHandler functions call NewHandler. opts are connect-go
// handler options, plus [ChainUnaryInterceptor] and [ChainStreamInterceptor]
// for grpc-go interceptors.
func NewHandler(desc *grpc.ServiceDesc, impl any, opts ...connect.HandlerOption) (string, http.Handler) {
	cfg := splitOptions(opts)
	svc := newService(desc, impl, &cfg)
	svc.restRouter = newRESTRouter(svc.rest)
	return svc.prefix, svc
}

// service serves the methods of one grpc-go service description. It is the
// translation layer shared by NewHandler and Server.
type service struct {
	name          string
	prefix        string
	routes        map[string]route
	unimplemented *connect.ErrorWriter
	stats         []stats.Handler
	unknown       http.Handler // serves unknown methods, if set (unknown.go)

	rest       []*restMethod // the REST bindings of the methods (rest.go)
	restRouter *restRouter   // routes them, for NewHandler
}

// route is the handler of one method.
type route struct {
	h *connect.Handler
	// clientStreams is set for methods whose request body is a stream of
	// messages.
	clientStreams bool
}

func newService(desc *grpc.ServiceDesc, impl any, cfg *serverConfig) *service {
	svc := &service{
		name:   desc.ServiceName,
		prefix: "/" + desc.ServiceName + "/",
		routes: make(map[string]route, len(desc.Methods)+len(desc.Streams)),
	}
	base := handlerBaseOptions(cfg)
	svc.stats = cfg.interceptors.stats
	svc.unimplemented = connect.NewErrorWriter(base...)
	is := cfg.interceptors

	schema := lookupService(desc)
	unaryInterceptor := is.chainUnary()
	streamInterceptor := is.chainStream()
	for i := range desc.Methods {
		md := desc.Methods[i]
		procedure := svc.prefix + md.MethodName
		m := &unaryMethod{impl: impl, handler: md.Handler, method: procedure, interceptor: unaryInterceptor, maxSend: cfg.limits.maxSend, stats: len(is.stats) != 0}
		svc.routes[procedure] = route{h: connect.NewUnaryHandler(procedure, m.serve, methodOptions(schema, md.MethodName, base)...)}
	}
	for i := range desc.Streams {
		sd := desc.Streams[i]
		procedure := svc.prefix + sd.StreamName
		m := &streamMethod{
			maxSend:     cfg.limits.maxSend,
			impl:        impl,
			handler:     sd.Handler,
			interceptor: streamInterceptor,
			stats:       len(is.stats) != 0,
			forced:      &cfg.unknown,
			info: &grpc.StreamServerInfo{
				FullMethod:     procedure,
				IsClientStream: sd.ClientStreams,
				IsServerStream: sd.ServerStreams,
			},
		}
		opts := methodOptions(schema, sd.StreamName, base)
		var h *connect.Handler
		switch {
		case sd.ClientStreams && sd.ServerStreams:
			h = connect.NewBidiStreamHandler(procedure, m.serveBidi, opts...)
		case sd.ClientStreams:
			h = connect.NewClientStreamHandler(procedure, m.serveClientStream, opts...)
		case sd.ServerStreams:
			h = connect.NewServerStreamHandler(procedure, m.serveServerStream, opts...)
		default:
			// A StreamDesc that streams in neither direction is served as
			// grpc-go serves it: as a stream of one message each way.
			h = connect.NewBidiStreamHandler(procedure, m.serveBidi, opts...)
		}
		svc.routes[procedure] = route{h: h, clientStreams: sd.ClientStreams}
	}
	svc.rest = newRESTMethods(desc, impl, schema, cfg, unaryInterceptor, streamInterceptor)
	return svc
}

// handlerBaseOptions returns the connect-go options of every method: the
// stats gate and the limits first, then the user's options, then polyrpc's codecs, which must
// win over the defaults since the handlers are instantiated with polyrpc's
// message wrappers.
func handlerBaseOptions(cfg *serverConfig) []connect.HandlerOption {
	limits := cfg.limits.handlerOptions()
	codecs := newCodecOptions()
	base := make([]connect.HandlerOption, 0, len(limits)+len(cfg.handlerOptions)+len(codecs)+1)
	if len(cfg.interceptors.stats) != 0 {
		// First, so that a call refused by another gate is reported too.
		base = append(base, connect.WithRequestGate(statsGate))
	}
	base = append(base, limits...)
	base = append(base, compressionOptions(cfg.compressions, cfg.limits.recv())...)
	base = append(base, cfg.handlerOptions...)
	return append(base, codecs...)
}

// ServeHTTP routes a request to its method. Only the exact path
// "/package.Service/Method" reaches a method (see canonicalPath).
func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, ok := s.routes[r.URL.Path]
	if !ok && s.restRouter.serve(w, r) {
		return
	}
	if !ok && s.unknown != nil && canonicalPath(r) {
		s.unknown.ServeHTTP(w, r)
		return
	}
	if !ok || !canonicalPath(r) {
		method := r.URL.Path
		if r.URL.RawPath != "" {
			method = r.URL.RawPath
		}
		if len(method) > len(s.prefix) && method[:len(s.prefix)] == s.prefix {
			method = method[len(s.prefix):]
		}
		writeUnimplemented(s.unimplemented, w, r, fmt.Sprintf("unknown method %s for service %s", method, s.name))
		return
	}
	if err := checkBinaryHeaders(r.Header); err != nil {
		_ = s.unimplemented.Write(w, r, err)
		return
	}
	if r.TLS != nil {
		r = r.WithContext(context.WithValue(r.Context(), tlsStateKey{}, r.TLS))
	}
	if rt.clientStreams && r.ProtoMajor == 1 {
		var done func()
		r, done = watchPeer(r)
		defer done()
	}
	s.serveMethod(rt.h, w, r)
}

// serveMethod serves a call, reporting it to the stats handlers if any.
func (s *service) serveMethod(h http.Handler, w http.ResponseWriter, r *http.Request) {
	if len(s.stats) != 0 {
		serveWithStats(h, w, r, s.stats)
		return
	}
	h.ServeHTTP(w, r)
}

// canonicalPath reports whether the client sent the request's path as it
// is: a path that names a method only once percent-decoded (r.URL.RawPath is
// set then) or once cleaned of "." and ".." segments and empty ones, by
// http.ServeMux for instance, is answered as an unknown method, as
// grpc.Server does, so that a path-based rule in front of the server cannot
// be bypassed. A prefix stripped by http.StripPrefix is fine.
func canonicalPath(r *http.Request) bool {
	if r.URL.RawPath != "" {
		return false
	}
	path := r.RequestURI
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '/' {
			continue
		}
		seg := path[i+1:]
		if j := strings.IndexByte(seg, '/'); j >= 0 {
			seg = seg[:j]
		} else if i > 0 {
			// The last segment is the method name, checked by the route.
			break
		}
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// writeUnimplemented answers a call to an unknown service or method with
// Unimplemented in the caller's protocol. Like connect-go's generated
// handlers, the Connect protocol's unary form says so with HTTP status 404.
func writeUnimplemented(ew *connect.ErrorWriter, w http.ResponseWriter, r *http.Request, msg string) {
	_ = ew.Write(notFoundWriter{w}, r, connect.NewError(connect.CodeUnimplemented, errors.New(msg)))
}

// notFoundWriter turns the 501 of a Connect unary Unimplemented error into a
// 404.
type notFoundWriter struct {
	http.ResponseWriter
}

func (w notFoundWriter) WriteHeader(code int) {
	if code == http.StatusNotImplemented {
		code = http.StatusNotFound
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w notFoundWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type tlsStateKey struct{}

// lookupService finds the descriptor of a service in the global registry,
// by name or through the file path in the description's Metadata.
func lookupService(desc *grpc.ServiceDesc) protoreflect.ServiceDescriptor {
	name := protoreflect.FullName(desc.ServiceName)
	if d, err := protoregistry.GlobalFiles.FindDescriptorByName(name); err == nil {
		if sd, ok := d.(protoreflect.ServiceDescriptor); ok {
			return sd
		}
	}
	if path, ok := desc.Metadata.(string); ok && path != "" {
		if fd, err := protoregistry.GlobalFiles.FindFileByPath(path); err == nil {
			if sd := fd.Services().ByName(name.Name()); sd != nil && sd.FullName() == name {
				return sd
			}
		}
	}
	return nil
}

// methodOptions adds the method's schema and idempotency level, when the
// descriptor is known, in front of the other options.
func methodOptions(sd protoreflect.ServiceDescriptor, method string, base []connect.HandlerOption) []connect.HandlerOption {
	if sd == nil {
		return base
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		return base
	}
	opts := make([]connect.HandlerOption, 0, len(base)+3)
	opts = append(opts, connect.WithSchema(md))
	if mo, ok := md.Options().(*descriptorpb.MethodOptions); ok {
		switch mo.GetIdempotencyLevel() {
		case descriptorpb.MethodOptions_NO_SIDE_EFFECTS:
			opts = append(opts, connect.WithIdempotency(connect.IdempotencyNoSideEffects))
		case descriptorpb.MethodOptions_IDEMPOTENT:
			opts = append(opts, connect.WithIdempotency(connect.IdempotencyIdempotent))
		}
	}
	opts = append(opts, base...)
	if mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName()); err == nil {
		// Let connect-go interceptors see the request as its own type.
		opts = append(opts, connect.WithRequestInitializer(func(_ connect.Spec, m any) error {
			if in, ok := m.(*inMessage); ok {
				in.msgType = mt
			}
			return nil
		}))
	}
	return opts
}

// newHandlerContext adds what a grpc-go handler finds in its context:
// incoming metadata, the peer and the server transport stream.
func newHandlerContext(ctx context.Context, header http.Header, p connect.Peer, st grpc.ServerTransportStream) context.Context {
	ctx = metadata.NewIncomingContext(ctx, incomingMetadata(header))
	state, _ := ctx.Value(tlsStateKey{}).(*tls.ConnectionState)
	local, _ := ctx.Value(http.LocalAddrContextKey).(net.Addr)
	ctx = peer.NewContext(ctx, newPeer(p, state, local))
	return grpc.NewContextWithServerTransportStream(ctx, st)
}

var errHeaderSent = status.Error(codes.Internal, "transport: SendHeader called multiple times")

// unaryMethod adapts a grpc.MethodDesc handler to a connect unary handler.
type unaryMethod struct {
	impl        any
	handler     grpc.MethodHandler
	method      string
	interceptor grpc.UnaryServerInterceptor
	maxSend     int  // 0: no limit of polyrpc's own
	stats       bool // report to stats handlers
}

// unaryCall holds what polyrpc adds to a unary call, in one allocation.
type unaryCall struct {
	ctx handlerContext
	st  unaryTransport
	out outMessage
}

func (m *unaryMethod) serve(ctx context.Context, req *connect.Request[inMessage]) (*connect.Response[outMessage], error) {
	call := &unaryCall{st: unaryTransport{method: m.method}}
	st := &call.st
	if info, ok := connect.CallInfoForHandlerContext(ctx); ok {
		st.info = info
	}
	ctx = handlerCallContext(&call.ctx, ctx, req.Header(), req.Peer(), st)
	dec := req.Msg.decodeRequest
	var sc *serverCall
	if m.stats {
		if sc = serverCallFrom(ctx); sc != nil {
			dec = sc.unaryDecoder(req.Msg, st)
		}
	}
	res, err := m.handler(m.impl, ctx, dec, m.interceptor)
	if sc != nil {
		sc.unaryDone(res, err)
	}
	if err != nil {
		err = toConnectError(err)
		if ce, ok := err.(*connect.Error); ok && st.info == nil {
			metadataToHeader(st.header, ce.Meta())
			metadataToHeader(st.trailer, ce.Meta())
		}
		return nil, err
	}
	msg, err := asProto(res)
	if err != nil {
		return nil, connect.NewError(connect.CodeInternal, err)
	}
	if err := checkSendSize(msg, m.maxSend); err != nil {
		return nil, err
	}
	call.out.msg = msg
	resp := connect.NewResponse(&call.out)
	if st.info == nil {
		// Without call info in the context, metadata travels with the response.
		metadataToHeader(st.header, resp.Header())
		metadataToHeader(st.trailer, resp.Trailer())
	}
	return resp, nil
}

// decodeRequest is the dec function given to a grpc-go method handler: a
// request that cannot be decoded is the caller's fault.
func (in *inMessage) decodeRequest(m any) error {
	if err := in.decode(m); err != nil {
		return status.Error(codes.InvalidArgument, "unmarshal message: "+err.Error())
	}
	return nil
}

// unaryTransport is the grpc.ServerTransportStream of a unary call: metadata
// set by the handler goes into the response headers and trailers that
// connect sends, also when the handler fails.
type unaryTransport struct {
	method     string
	info       connect.CallInfo
	mu         sync.Mutex
	headerSent bool
	header     metadata.MD // only without call info
	trailer    metadata.MD // only without call info
}

func (t *unaryTransport) Method() string { return t.method }

func (t *unaryTransport) SetHeader(md metadata.MD) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.headerSent {
		return errHeaderSent
	}
	t.setHeaderLocked(md)
	return nil
}

func (t *unaryTransport) setHeaderLocked(md metadata.MD) {
	if len(md) == 0 {
		return
	}
	if t.info != nil {
		metadataToHeader(md, t.info.ResponseHeader())
		return
	}
	t.header = metadata.Join(t.header, md)
}

func (t *unaryTransport) SendHeader(md metadata.MD) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.headerSent {
		return errHeaderSent
	}
	t.setHeaderLocked(md)
	t.headerSent = true
	return nil
}

func (t *unaryTransport) SetTrailer(md metadata.MD) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(md) == 0 {
		return nil
	}
	if t.info != nil {
		metadataToHeader(md, t.info.ResponseTrailer())
		return nil
	}
	t.trailer = metadata.Join(t.trailer, md)
	return nil
}

// streamMethod adapts a grpc.StreamDesc handler to connect stream handlers.
type streamMethod struct {
	maxSend     int // 0: no limit of polyrpc's own
	impl        any
	handler     grpc.StreamHandler
	interceptor grpc.StreamServerInterceptor
	info        *grpc.StreamServerInfo
	stats       bool           // report to stats handlers
	forced      *unknownConfig // the forced codec, for messages that are not protobuf (forced.go)
}

func (m *streamMethod) run(ctx context.Context, ss *serverStream, header http.Header, p connect.Peer) error {
	ss.forced.cfg = m.forced
	return ss.serve(ctx, header, p, m.stats, m.impl, m.handler, m.interceptor, m.info)
}

func (m *streamMethod) serveClientStream(ctx context.Context, cs *connect.ClientStream[inMessage]) (*connect.Response[outMessage], error) {
	conn := cs.Conn()
	ss := &serverStream{conn: conn, header: conn.ResponseHeader(), trailer: conn.ResponseTrailer(), method: m.info.FullMethod, unaryResponse: true, maxSend: m.maxSend}
	if err := m.run(ctx, ss, conn.RequestHeader(), conn.Peer()); err != nil {
		return nil, err
	}
	if ss.response == nil {
		return nil, connect.NewError(connect.CodeInternal, errors.New(ss.noResponse()))
	}
	return connect.NewResponse(ss.response), nil
}

func (m *streamMethod) serveServerStream(ctx context.Context, req *connect.Request[inMessage], stream *connect.ServerStream[outMessage]) error {
	conn := stream.Conn()
	ss := &serverStream{conn: conn, header: conn.ResponseHeader(), trailer: conn.ResponseTrailer(), method: m.info.FullMethod, first: req.Msg, maxSend: m.maxSend}
	return m.run(ctx, ss, req.Header(), req.Peer())
}

func (m *streamMethod) serveBidi(ctx context.Context, stream *connect.BidiStream[inMessage, outMessage]) error {
	conn := stream.Conn()
	ss := &serverStream{conn: conn, header: conn.ResponseHeader(), trailer: conn.ResponseTrailer(), method: m.info.FullMethod, maxSend: m.maxSend}
	return m.run(ctx, ss, conn.RequestHeader(), conn.Peer())
}

// serverStream is the grpc.ServerStream given to grpc-go stream handlers,
// of registered methods and of the UnknownServiceHandler (unknown.go) alike.
type serverStream struct {
	ctx  context.Context
	hctx handlerContext
	st   streamTransport
	conn connect.StreamingHandlerConn // nil for a Connect unary call of an unknown method
	// header and trailer are the response's.
	header, trailer http.Header
	method          string
	maxSend         int
	// first is the request of a server-streaming call, or of a Connect
	// unary call of an unknown method, already received.
	first     *inMessage
	firstRead bool
	recvd     inMessage // the message of a forced receive, reused
	// unaryResponse is set for client streaming, and for Connect unary
	// calls of unknown methods: the one response is sent when the handler
	// returns.
	unaryResponse bool
	response      *outMessage
	// unknown is set for the calls of the UnknownServiceHandler: a failed
	// receive ends the call with its own status, as in grpc-go.
	unknown bool
	stats   *serverCall // set when stats handlers are given
	forced  forcedStream

	mu         sync.Mutex
	headerSent bool
	done       bool           // the handler has returned (forced.go)
	sends      sync.WaitGroup // sends under way without mu
	recvErr    error          // the first failed receive of an unknown method's call
}

var _ grpc.ServerStream = (*serverStream)(nil)

// serve runs a stream handler on the stream, through the interceptor if
// any, and reports it to the stats handlers if withStats is set.
func (s *serverStream) serve(ctx context.Context, header http.Header, p connect.Peer, withStats bool, impl any,
	handler grpc.StreamHandler, interceptor grpc.StreamServerInterceptor, info *grpc.StreamServerInfo) error {
	s.st.s = s
	s.ctx = handlerCallContext(&s.hctx, ctx, header, p, &s.st)
	if withStats {
		if sc := serverCallFrom(ctx); sc != nil {
			sc.attach(s)
		}
	}
	var err error
	if interceptor != nil {
		err = interceptor(impl, s, info, handler)
	} else {
		err = handler(impl, s)
	}
	err = s.finish(err) // forced.go
	if s.stats != nil {
		s.stats.streamDone(err)
	}
	return toConnectError(err)
}

// noResponse is the error of a handler that returned without sending the
// one response of its call.
func (s *serverStream) noResponse() string {
	if s.unknown {
		return "polyrpc: unknown-service handler returned without sending a response to a unary call"
	}
	return "polyrpc: client-streaming handler returned without sending a response"
}

func (s *serverStream) Context() context.Context { return s.ctx }

func (s *serverStream) SetHeader(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return errStreamDone
	}
	if s.headerSent {
		return errHeaderSent
	}
	metadataToHeader(md, s.header)
	return nil
}

func (s *serverStream) SendHeader(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return errStreamDone
	}
	if s.headerSent {
		return errHeaderSent
	}
	metadataToHeader(md, s.header)
	s.headerSent = true
	if s.unaryResponse {
		// The headers of a client-streaming call go out with its response:
		// the Connect protocol has no other place for them, and on HTTP/1.1
		// writing them early would end the request body.
		return nil
	}
	// Sending no message flushes the headers.
	return toStatusError(s.conn.Send(nil))
}

func (s *serverStream) SetTrailer(md metadata.MD) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	metadataToHeader(md, s.trailer)
}

func (s *serverStream) SendMsg(m any) error {
	var msg proto.Message
	var out *outMessage
	if s.forced.wants(m) {
		o, err := s.encodeForced(m)
		if err != nil {
			return err
		}
		out = o
	} else {
		var err error
		if msg, err = asProto(m); err != nil {
			return status.Error(codes.Internal, err.Error())
		}
		if err := checkSendSize(msg, s.maxSend); err != nil {
			return toStatusError(err)
		}
	}
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return errStreamDone
	}
	if s.unaryResponse {
		defer s.mu.Unlock()
		s.headerSent = true
		if s.response != nil {
			if s.unknown {
				return status.Error(codes.Internal, "polyrpc: unknown-service handler sent more than one response to a unary call")
			}
			return status.Error(codes.Internal, "polyrpc: client-streaming handler sent more than one response")
		}
		if out == nil {
			out = &outMessage{msg: msg}
		}
		s.response = out
		return nil
	}
	// A forced message goes out as an outMessage, which polyrpc's proto
	// codec writes as it is.
	var send any = msg
	if out != nil {
		send = out
	}
	if !s.headerSent {
		// The first message carries the headers: keep SetHeader out until
		// they are written.
		defer s.mu.Unlock()
		s.headerSent = true
		return toStatusError(s.conn.Send(send))
	}
	s.sends.Add(1)
	defer s.sends.Done()
	s.mu.Unlock()
	return toStatusError(s.conn.Send(send))
}

// RecvMsg receives a message into m. Once the handler has returned it
// fails, as SendMsg does: a proxy's goroutines may still call it.
func (s *serverStream) RecvMsg(m any) error {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done {
		return errStreamDone
	}
	err := s.recvMsg(m)
	if err != nil && err != io.EOF && s.unknown {
		s.mu.Lock()
		if s.recvErr == nil {
			s.recvErr = err
		}
		s.mu.Unlock()
	}
	return err
}

func (s *serverStream) recvMsg(m any) error {
	if s.forced.wants(m) {
		return s.recvForced(m)
	}
	if s.first != nil {
		if s.firstRead {
			return io.EOF
		}
		s.firstRead = true
		if s.stats != nil {
			return s.stats.decode(s.first, m)
		}
		return s.first.decodeRequest(m)
	}
	if err := s.conn.Receive(m); err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return toStatusError(err)
	}
	return nil
}

// streamTransport is the grpc.ServerTransportStream of a streaming call, so
// that grpc.SetHeader, grpc.SendHeader and grpc.SetTrailer work on the
// stream's context too.
type streamTransport struct {
	s *serverStream
}

func (t *streamTransport) Method() string                  { return t.s.method }
func (t *streamTransport) SetHeader(md metadata.MD) error  { return t.s.SetHeader(md) }
func (t *streamTransport) SendHeader(md metadata.MD) error { return t.s.SendHeader(md) }
func (t *streamTransport) SetTrailer(md metadata.MD) error {
	t.s.SetTrailer(md)
	return nil
}

func (w notFoundWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
