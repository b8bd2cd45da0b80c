package polyrpc

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// How a server reports calls to stats handlers.
//
// service.ServeHTTP hands a call to a service with stats handlers to
// serveWithStats, which wraps the request body, the response writer and the
// request context in a serverCall. A connect-go request gate (statsGate) runs
// TagRPC and reports InHeader and Begin once connect-go has accepted the
// request, before any message is read. The method's code reports the
// messages it receives and sends. When connect-go has written the response,
// serveWithStats reports what was sent last (the response of a unary or
// client-streaming call, which connect-go writes after the method returns),
// the trailer and the end. A request that connect-go refuses before the gate
// (wrong HTTP method or content type) is not reported, as grpc.Server
// reports nothing for a request that is not a gRPC call.

type serverCallKey struct{}

// serverCall is the stats state of one call. It is the request's context
// for connect-go, so that the gate and the method find it.
type serverCall struct {
	context.Context // the request's context
	handlers        []stats.Handler
	ctx             context.Context // the context TagRPC returned

	w    statsWriter
	body countingBody

	wire            wire
	recvCompression string
	clientStreams   bool
	serverStreams   bool

	began     bool
	beginTime time.Time
	// entered is set once the method's code runs; err is its outcome.
	entered bool
	err     error
	unary   *unaryTransport // set for unary calls
	reply   any             // the response of a unary call
	stream  *serverStream   // set for streaming calls

	mu         sync.Mutex
	headerSent bool
}

func (sc *serverCall) Value(key any) any {
	if key == (serverCallKey{}) {
		return sc
	}
	return sc.Context.Value(key)
}

func serverCallFrom(ctx context.Context) *serverCall {
	sc, _ := ctx.Value(serverCallKey{}).(*serverCall)
	return sc
}

func (sc *serverCall) handle(s stats.RPCStats) {
	for _, h := range sc.handlers {
		h.HandleRPC(sc.ctx, s)
	}
}

// serveWithStats serves a call to a service with stats handlers.
func serveWithStats(h http.Handler, w http.ResponseWriter, r *http.Request, handlers []stats.Handler) {
	sc := &serverCall{Context: r.Context(), handlers: handlers}
	sc.w.ResponseWriter = w
	sc.body.ReadCloser = r.Body
	if r.Method == http.MethodGet {
		sc.wire = getWire(r.URL)
		sc.recvCompression = getCompression(r.URL)
	}
	r = r.WithContext(sc)
	r.Body = &sc.body
	h.ServeHTTP(&sc.w, r)
	sc.finish()
}

// statsGate is the connect-go request gate of services with stats handlers.
func statsGate(ctx context.Context, spec connect.Spec, p connect.Peer, header http.Header) (context.Context, error) {
	sc := serverCallFrom(ctx)
	if sc == nil {
		return nil, nil
	}
	sc.began = true
	sc.beginTime = time.Now()
	if !sc.wire.get {
		sc.wire = wireOf(header.Get("Content-Type"))
		sc.recvCompression = sc.wire.compression(header)
	}
	sc.clientStreams = spec.StreamType&connect.StreamTypeClient != 0
	sc.serverStreams = spec.StreamType&connect.StreamTypeServer != 0

	// TagRPC sees what grpc.Server's stats handlers see: the incoming
	// metadata and the peer.
	md := incomingMetadata(header)
	state, _ := ctx.Value(tlsStateKey{}).(*tls.ConnectionState)
	local, _ := ctx.Value(http.LocalAddrContextKey).(net.Addr)
	pr := newPeer(p, state, local)
	tagged := peer.NewContext(metadata.NewIncomingContext(ctx, md), pr)
	method := spec.Procedure
	if method == unknownProcedure {
		// A call of the UnknownServiceHandler: the method it called.
		if call, ok := grpc.ServerTransportStreamFromContext(ctx).(*unknownCall); ok {
			method = call.method
		}
	}
	info := &stats.RPCTagInfo{FullMethodName: method}
	for _, h := range sc.handlers {
		tagged = h.TagRPC(tagged, info)
	}
	sc.ctx = tagged
	sc.handle(&stats.InHeader{
		FullMethod:  method,
		RemoteAddr:  pr.Addr,
		LocalAddr:   local,
		Compression: sc.recvCompression,
		Header:      md,
	})
	sc.handle(&stats.Begin{
		BeginTime:      sc.beginTime,
		IsClientStream: sc.clientStreams,
		IsServerStream: sc.serverStreams,
	})
	return tagged, nil
}

// unaryDecoder returns the dec function of a unary call: it reports the
// request when the grpc-go handler decodes it, as grpc.Server does.
func (sc *serverCall) unaryDecoder(in *inMessage, st *unaryTransport) func(any) error {
	sc.entered = true
	sc.w.methodRan = true
	sc.unary = st
	return func(m any) error {
		return sc.decode(in, m)
	}
}

// decode decodes the request of a unary or server-streaming call into m and
// reports it. connect-go has read the whole body by now.
func (sc *serverCall) decode(in *inMessage, m any) error {
	length := in.size
	if !in.set && in.decoded != nil {
		length = messageSize(in.decoded, sc.wire.json)
	}
	if err := in.decodeRequest(m); err != nil {
		return err
	}
	sc.inPayload(m, func() int { return length })
	return nil
}

func (sc *serverCall) inPayload(m any, length func() int) {
	n, compressedLen, wireLen := sc.body.count.sizes(sc.wire, sc.recvCompression != "", length)
	sc.handle(&stats.InPayload{
		Payload:          m,
		Length:           n,
		CompressedLength: compressedLen,
		WireLength:       wireLen,
		RecvTime:         time.Now(),
	})
}

// unaryDone records the outcome of a unary method.
func (sc *serverCall) unaryDone(reply any, err error) {
	sc.reply = reply
	sc.err = toStatusError(toConnectError(err))
}

// attach follows a streaming call: the stream's connection reports the
// messages it sends and receives.
func (sc *serverCall) attach(ss *serverStream) {
	sc.entered = true
	sc.w.methodRan = true
	sc.stream = ss
	ss.stats = sc
	if ss.conn != nil {
		ss.conn = &statsConn{StreamingHandlerConn: ss.conn, sc: sc}
	}
}

// streamDone records the outcome of a streaming method.
func (sc *serverCall) streamDone(err error) {
	sc.err = toStatusError(toConnectError(err))
	if sc.err == nil && sc.stream.unaryResponse && sc.stream.response == nil {
		sc.err = status.Error(codes.Internal, sc.stream.noResponse())
	}
}

// outHeader reports the response headers, once.
func (sc *serverCall) outHeader() {
	sc.mu.Lock()
	sent := sc.headerSent
	sc.headerSent = true
	sc.mu.Unlock()
	if sent {
		return
	}
	h := sc.w.Header()
	sc.handle(&stats.OutHeader{
		Header:      userMetadata(h),
		Compression: sc.wire.compression(h),
	})
}

func (sc *serverCall) outPayload(m any) {
	compressed := sc.wire.compression(sc.w.Header()) != ""
	n, compressedLen, wireLen := sc.w.count.sizes(sc.wire.response(), compressed, func() int {
		return messageSize(m, sc.wire.json)
	})
	sc.handle(&stats.OutPayload{
		Payload:          m,
		Length:           n,
		CompressedLength: compressedLen,
		WireLength:       wireLen,
		SentTime:         time.Now(),
	})
}

// finish reports the end of a call once connect-go has written the
// response.
func (sc *serverCall) finish() {
	if !sc.began {
		return
	}
	err := sc.err
	if !sc.entered {
		// connect-go, a request gate or a connect-go interceptor ended the
		// call before the method ran: read the status from the response.
		err = sc.w.status(sc.wire)
	}
	responseSent := sc.stream == nil || sc.stream.unaryResponse
	if err == nil && sc.entered && responseSent {
		// connect-go wrote the response of a unary or client-streaming call
		// after the method returned. Nothing marked the count of the body:
		// its head is the start of the response message.
		sc.outHeader()
		reply := sc.reply
		if sc.stream != nil && sc.stream.response != nil {
			reply = sc.stream.response.msg
		}
		sc.outPayload(reply)
	} else if len(userMetadata(sc.w.Header())) != 0 {
		// As grpc.Server: headers go out before the status when there are
		// some; otherwise the status travels alone.
		sc.outHeader()
	}
	sc.handle(&stats.OutTrailer{Trailer: sc.trailer()})
	if err == nil && sc.w.err != nil {
		err = status.Error(codes.Unavailable, sc.w.err.Error())
		if ctxErr := sc.Context.Err(); ctxErr != nil {
			err = status.FromContextError(ctxErr).Err()
		}
	}
	sc.handle(&stats.End{BeginTime: sc.beginTime, EndTime: time.Now(), Error: err})
}

// trailer is the trailing metadata the method set.
func (sc *serverCall) trailer() metadata.MD {
	switch {
	case sc.stream != nil:
		return headerToMetadata(sc.stream.trailer, nil)
	case sc.unary != nil && sc.unary.info != nil:
		return headerToMetadata(sc.unary.info.ResponseTrailer(), nil)
	case sc.unary != nil:
		sc.unary.mu.Lock()
		defer sc.unary.mu.Unlock()
		return sc.unary.trailer.Copy()
	}
	return metadata.MD{}
}

// statsConn reports the messages a streaming method sends and receives.
type statsConn struct {
	connect.StreamingHandlerConn
	sc *serverCall
}

func (c *statsConn) Send(m any) error {
	c.sc.w.count.mark()
	if err := c.StreamingHandlerConn.Send(m); err != nil {
		return err
	}
	c.sc.outHeader()
	if m != nil {
		c.sc.outPayload(m)
	}
	return nil
}

func (c *statsConn) Receive(m any) error {
	c.sc.body.count.mark()
	if err := c.StreamingHandlerConn.Receive(m); err != nil {
		return err
	}
	if _, forced := m.(*inMessage); !forced {
		// A message for the forced codec is reported once decoded (forced.go).
		c.sc.inPayload(m, func() int { return messageSize(m, c.sc.wire.json) })
	}
	return nil
}

// statsWriter is the response writer of a call with stats handlers: it
// counts the body and, until the method runs, keeps the start of the body,
// where connect-go writes an error that ends a call before the method.
type statsWriter struct {
	http.ResponseWriter
	count     byteCounter
	methodRan bool
	early     []byte // the body written before the method ran, up to maxEarlyBody
	code      int
	err       error
}

const maxEarlyBody = 4096

func (w *statsWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statsWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if !w.methodRan && len(w.early) < maxEarlyBody && w.count.n == int64(len(w.early)) {
		w.early = append(w.early, p[:min(len(p), maxEarlyBody-len(w.early))]...)
	}
	n, err := w.ResponseWriter.Write(p)
	w.count.add(p[:n])
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

func (w *statsWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statsWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// status reads the status of a call that ended before its method ran from
// the response connect-go wrote: grpc-status for gRPC and gRPC-Web (in the
// headers, trailers or the trailer frame), the error in the body for
// Connect.
func (w *statsWriter) status(wr wire) error {
	h := w.Header()
	if wr.grpc {
		code, msg := h.Get("Grpc-Status"), h.Get("Grpc-Message")
		if code == "" {
			code, msg = h.Get(http.TrailerPrefix+"Grpc-Status"), h.Get(http.TrailerPrefix+"Grpc-Message")
		}
		if code == "" && wr.web {
			code, msg = webTrailerStatus(w.early)
		}
		if code == "" {
			return status.Error(codes.Unknown, "polyrpc: call ended without a status")
		}
		c, err := strconv.ParseUint(code, 10, 32)
		if err != nil {
			return status.Error(codes.Unknown, "polyrpc: malformed grpc-status "+code)
		}
		if c == 0 {
			return nil
		}
		if m, err := url.PathUnescape(msg); err == nil {
			msg = m
		}
		return status.Error(codes.Code(c), msg)
	}
	body := w.early
	if wr.enveloped {
		// Connect streaming: the end-stream message, {"error": {...}}.
		var end struct {
			Error *connectWireError `json:"error"`
		}
		if len(body) < 5 || json.Unmarshal(body[5:], &end) != nil {
			return status.Error(codes.Unknown, "polyrpc: call ended without a status")
		}
		if end.Error == nil {
			return nil
		}
		return end.Error.status()
	}
	if w.code == http.StatusOK {
		return nil
	}
	var ce connectWireError
	if json.Unmarshal(body, &ce) != nil {
		return status.Error(codes.Unknown, "polyrpc: call failed with HTTP status "+strconv.Itoa(w.code))
	}
	return ce.status()
}

// connectWireError is an error as the Connect protocol writes it.
type connectWireError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *connectWireError) status() error {
	var code connect.Code
	if err := code.UnmarshalText([]byte(e.Code)); err != nil {
		return status.Error(codes.Unknown, e.Message)
	}
	return status.Error(codes.Code(code), e.Message)
}

// webTrailerStatus finds grpc-status and grpc-message in the trailer frame
// of a gRPC-Web body.
func webTrailerStatus(body []byte) (code, msg string) {
	for len(body) >= 5 {
		n := int(binary.BigEndian.Uint32(body[1:5]))
		if len(body) < 5+n {
			return "", ""
		}
		if body[0]&0x80 != 0 {
			for line := range strings.SplitSeq(string(body[5:5+n]), "\r\n") {
				k, v, ok := strings.Cut(line, ":")
				if !ok {
					continue
				}
				switch strings.ToLower(strings.TrimSpace(k)) {
				case "grpc-status":
					code = strings.TrimSpace(v)
				case "grpc-message":
					msg = strings.TrimSpace(v)
				}
			}
			return code, msg
		}
		body = body[5+n:]
	}
	return "", ""
}

// Connection stats.
//
// grpc.Server calls TagConn and reports ConnBegin and ConnEnd for each
// connection it accepts. ServeHTTP sees requests, not connections; a Server
// that accepts connections itself hooks these two methods into its
// http.Server:
//
//	hs := &http.Server{Handler: s, ConnContext: s.statsConnContext, ConnState: s.statsConnState}
//
// Calls on the connection then derive their contexts from the one TagConn
// returned, as on grpc.Server.

// statsConns maps the connections reported to stats handlers to the
// function that reports their end.
var statsConns sync.Map // net.Conn → func()

// statsConnContext is an http.Server.ConnContext: it runs TagConn and
// reports ConnBegin for a new connection.
func (s *Server) statsConnContext(ctx context.Context, conn net.Conn) context.Context {
	handlers := s.config.interceptors.stats
	if len(handlers) == 0 {
		return ctx
	}
	info := &stats.ConnTagInfo{RemoteAddr: conn.RemoteAddr(), LocalAddr: conn.LocalAddr()}
	for _, h := range handlers {
		ctx = h.TagConn(ctx, info)
	}
	for _, h := range handlers {
		h.HandleConn(ctx, &stats.ConnBegin{})
	}
	statsConns.Store(conn, func() {
		for _, h := range handlers {
			h.HandleConn(ctx, &stats.ConnEnd{})
		}
	})
	return ctx
}

// statsConnState is an http.Server.ConnState: it reports ConnEnd when a
// connection closes or is hijacked.
func (s *Server) statsConnState(conn net.Conn, state http.ConnState) {
	if state != http.StateClosed && state != http.StateHijacked {
		return
	}
	if end, ok := statsConns.LoadAndDelete(conn); ok {
		end.(func())()
	}
}
