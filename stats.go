package polyrpc

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// StatsHandler returns an [Option] that reports every call to h, as
// grpc.StatsHandler does for a grpc.Server: TagRPC, then InHeader, Begin,
// InPayload for each received message, OutHeader, OutPayload for each sent
// message, OutTrailer and End, on every protocol. The context TagRPC returns
// is the one the grpc-go interceptors and the implementation see, so
// OpenTelemetry's otelgrpc.NewServerHandler() traces and measures the calls
// unchanged. The option may be given more than once: every handler sees every
// event, in the order the options were given. A nil handler is ignored.
//
// Message lengths are measured on the wire; what connect-go does not show,
// such as the wire length of headers, is reported as zero, as grpc-go
// reports what it does not know. See the package documentation.
func StatsHandler(h stats.Handler) Option {
	o := &interceptorOption{HandlerOption: connect.WithHandlerOptions()}
	if h != nil {
		o.stats = []stats.Handler{h}
	}
	return o
}

// WithStatsHandler returns a client option for [NewClientConn] that reports
// every call made through the ClientConn to h, as grpc.WithStatsHandler does
// for a grpc.ClientConn, so otelgrpc.NewClientHandler() traces calls
// unchanged and propagates their trace context in the request headers.
// Events: TagRPC, Begin, OutHeader, OutPayload, InHeader, InPayload,
// InTrailer, End. The option may be given more than once. It is a
// connect.ClientOption so that it travels with the other options of
// NewClientConn, as grpc.WithStatsHandler travels with grpc.NewClient's;
// given to connect.NewClient directly, it does nothing.
func WithStatsHandler(h stats.Handler) connect.ClientOption {
	return &clientStatsOption{ClientOption: connect.WithClientOptions(), handler: h}
}

type clientStatsOption struct {
	// The embedded no-op option makes clientStatsOption a connect.ClientOption.
	connect.ClientOption
	handler stats.Handler
}

// clientStatsHandlers returns the handlers of the WithStatsHandler options
// among opts.
func clientStatsHandlers(opts []connect.ClientOption) []stats.Handler {
	var hs []stats.Handler
	for _, opt := range opts {
		if o, ok := opt.(*clientStatsOption); ok && o.handler != nil {
			hs = append(hs, o.handler)
		}
	}
	return hs
}

// wire describes how a protocol carries messages.
type wire struct {
	// enveloped is set for gRPC, gRPC-Web and Connect streaming, which put a
	// five-byte prefix (flags, length) in front of every message; Connect
	// unary sends the bare message as the body.
	enveloped bool
	grpc      bool // gRPC or gRPC-Web: status in grpc-status
	web       bool // gRPC-Web
	get       bool // Connect unary GET: the message is in the query string
	json      bool // the JSON codec
	// The length of a GET request's message as sent (decoded from the query
	// string), and as it stands in the URL.
	getLen, getWireLen int
}

// wireOf tells the protocol and codec from a request's Content-Type.
func wireOf(contentType string) wire {
	ct := strings.ToLower(contentType)
	w := wire{json: strings.Contains(ct, "json")}
	switch {
	case strings.HasPrefix(ct, "application/grpc-web"):
		w.enveloped, w.grpc, w.web = true, true, true
	case strings.HasPrefix(ct, "application/grpc"):
		w.enveloped, w.grpc = true, true
	case strings.HasPrefix(ct, "application/connect+"):
		w.enveloped = true
	}
	return w
}

// response is the wire of the response to a request of this wire: the
// response to a GET request has its message in the body.
func (w wire) response() wire {
	w.get = false
	return w
}

// compression returns the compression named in the headers of one side of
// a call of this protocol, "" for none.
func (w wire) compression(h http.Header) string {
	var name string
	switch {
	case w.grpc:
		name = h.Get("Grpc-Encoding")
	case w.enveloped:
		name = h.Get("Connect-Content-Encoding")
	default:
		name = h.Get("Content-Encoding")
	}
	if name == "identity" {
		return ""
	}
	return name
}

// byteCounter counts the bytes of a body, and keeps the first five bytes
// after the last mark: the prefix of the message that follows it.
type byteCounter struct {
	n     int64
	start int64
	head  [5]byte
	headN int
}

func (c *byteCounter) add(p []byte) {
	if c.headN < len(c.head) {
		c.headN += copy(c.head[c.headN:], p)
	}
	c.n += int64(len(p))
}

func (c *byteCounter) mark() {
	c.start = c.n
	c.headN = 0
}

// sizes returns the lengths of the message that went through the body since
// the last mark: uncompressed (computed by length when the message was
// compressed), compressed and on the wire. compressed tells whether a bare
// (not enveloped) message was compressed. Lengths that cannot be known are
// zero.
func (c *byteCounter) sizes(w wire, compressed bool, length func() int) (n, compressedLen, wireLen int) {
	if w.enveloped {
		if c.headN < len(c.head) {
			return length(), 0, 0
		}
		compressedLen = int(binary.BigEndian.Uint32(c.head[1:]))
		if c.head[0]&1 == 0 {
			return compressedLen, compressedLen, compressedLen + len(c.head)
		}
		return length(), compressedLen, compressedLen + len(c.head)
	}
	if w.get {
		// The message travels in the query string, not in the body.
		if compressed {
			return length(), w.getLen, w.getWireLen
		}
		return w.getLen, w.getLen, w.getWireLen
	}
	wireLen = int(c.n - c.start)
	if !compressed {
		return wireLen, wireLen, wireLen
	}
	return length(), wireLen, wireLen
}

// getWire describes the message of a Connect GET request.
func getWire(u *url.URL) wire {
	q := u.Query()
	w := wire{get: true, json: q.Get("encoding") == "json"}
	msg := q.Get("message")
	w.getLen = len(msg)
	if q.Get("base64") == "1" {
		if data, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(msg, "=")); err == nil {
			w.getLen = len(data)
		}
	}
	for param := range strings.SplitSeq(u.RawQuery, "&") {
		if v, ok := strings.CutPrefix(param, "message="); ok {
			w.getWireLen = len(v)
		}
	}
	return w
}

// getCompression is the compression of a Connect GET request's message.
func getCompression(u *url.URL) string {
	if c := u.Query().Get("compression"); c != "identity" {
		return c
	}
	return ""
}

// countingBody counts the bytes read from a request or response body.
type countingBody struct {
	io.ReadCloser
	// mu guards count where the body is read on another goroutine: the
	// HTTP client may still send a request when the response arrives.
	mu    sync.Mutex
	count byteCounter
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.mu.Lock()
	b.count.add(p[:n])
	b.mu.Unlock()
	return n, err
}

func (b *countingBody) snapshot() byteCounter {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.count
}

// messageSize is the encoded length of m in the codec: what a received
// message measured before it was compressed, or a sent one will measure.
func messageSize(m any, json bool) int {
	msg, err := asProto(m)
	if err != nil {
		return 0
	}
	if !json {
		return proto.Size(msg)
	}
	data, err := protojson.Marshal(msg)
	if err != nil {
		return 0
	}
	return len(data)
}

// userMetadata is the application metadata among headers: what a grpc-go
// peer puts in the Header of InHeader and OutHeader events.
func userMetadata(h http.Header) metadata.MD {
	md := headerToMetadata(h, nil)
	delete(md, "content-type")
	delete(md, "user-agent")
	delete(md, "vary")
	for k := range md {
		// Trailers that net/http sends after the body, in the header map.
		if strings.HasPrefix(k, "trailer:") {
			delete(md, k)
		}
	}
	return md
}

// Server side.
//
// A call to a service with stats handlers is followed through three hooks:
// service.ServeHTTP wraps the request body, the response writer and the
// request context in a serverCall (serveWithStats); a connect-go request gate
// (statsGate) runs TagRPC and reports InHeader and Begin once connect-go has
// accepted the request, before any message is read; the method's code
// reports received and sent messages; and when connect-go has written the
// response, serveWithStats reports what was sent last (the response of unary
// and client-streaming calls, which connect-go writes after the method
// returns), the trailer and the end. A call that connect-go refuses before
// the gate (wrong HTTP method or content type) is reported not at all, as
// grpc.Server reports nothing for a request that is not a gRPC call.

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
	info := &stats.RPCTagInfo{FullMethodName: spec.Procedure}
	for _, h := range sc.handlers {
		tagged = h.TagRPC(tagged, info)
	}
	sc.ctx = tagged
	sc.handle(&stats.InHeader{
		FullMethod:  spec.Procedure,
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
	length := len(in.data)
	if in.data == nil && in.decoded != nil {
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
	ss.conn = &statsConn{StreamingHandlerConn: ss.conn, sc: sc}
}

// streamDone records the outcome of a streaming method.
func (sc *serverCall) streamDone(err error) {
	sc.err = toStatusError(toConnectError(err))
	if sc.err == nil && sc.stream.unaryResponse && sc.stream.response == nil {
		sc.err = status.Error(codes.Internal, "polyrpc: client-streaming handler returned without sending a response")
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
		// after the method returned.
		// Nothing marked the count: it holds the whole body, and its head is
		// the start of the response message.
		sc.outHeader()
		reply := sc.reply
		if sc.stream != nil {
			reply = sc.stream.response
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
		return headerToMetadata(sc.stream.conn.ResponseTrailer(), nil)
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
	c.sc.inPayload(m, func() int { return messageSize(m, c.sc.wire.json) })
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

// Client side.
//
// A ClientConn with stats handlers runs TagRPC and reports Begin when a call
// starts (Invoke, NewStream), and passes the call's state to its HTTP client
// in the request's context. The HTTP client (statsHTTPClient) reports
// OutHeader as the request goes out, OutPayload for the one request of a
// unary or server-streaming call once it is sent, and InHeader when the
// response arrives; it counts both bodies. The ClientConn reports the
// messages of streams as they are sent and received, and InTrailer and End
// when the call ends.

type clientCallKey struct{}

// clientCall is the stats state of one client call. It is the call's
// context.
type clientCall struct {
	context.Context // the context TagRPC returned
	handlers        []stats.Handler
	beginTime       time.Time
	oneRequest      bool // unary or server-streaming
	request         any  // the one request

	reqBody  countingBody
	respBody countingBody

	mu       sync.Mutex // guards what the HTTP client learns
	wire     wire
	sendComp string
	recvComp string
	resp     *http.Response
	ended    bool
}

func (cc *clientCall) Value(key any) any {
	if key == (clientCallKey{}) {
		return cc
	}
	return cc.Context.Value(key)
}

func (cc *clientCall) handle(s stats.RPCStats) {
	for _, h := range cc.handlers {
		h.HandleRPC(cc.Context, s)
	}
}

// beginCall starts the stats of a call: the returned context carries the
// handlers' tags (and, with otelgrpc, the trace context to send).
func (c *ClientConn) beginCall(ctx context.Context, method string, clientStreams, serverStreams bool) (context.Context, *clientCall) {
	cc := &clientCall{handlers: c.stats, beginTime: time.Now(), oneRequest: !clientStreams}
	// polyrpc never waits for a connection to become ready: calls fail fast.
	info := &stats.RPCTagInfo{FullMethodName: method, FailFast: true}
	for _, h := range c.stats {
		ctx = h.TagRPC(ctx, info)
	}
	cc.Context = ctx
	cc.handle(&stats.Begin{
		Client:         true,
		BeginTime:      cc.beginTime,
		FailFast:       true,
		IsClientStream: clientStreams,
		IsServerStream: serverStreams,
	})
	return cc, cc
}

// statsHTTPClient is the HTTP client of a ClientConn with stats handlers.
type statsHTTPClient struct {
	next connect.HTTPClient
}

func (c *statsHTTPClient) Do(req *http.Request) (*http.Response, error) {
	cc, _ := req.Context().Value(clientCallKey{}).(*clientCall)
	if cc == nil {
		return c.next.Do(req)
	}
	w := wireOf(req.Header.Get("Content-Type"))
	sendComp := w.compression(req.Header)
	if req.Method == http.MethodGet {
		w, sendComp = getWire(req.URL), getCompression(req.URL)
	}
	cc.mu.Lock()
	cc.wire, cc.sendComp = w, sendComp
	cc.mu.Unlock()
	if req.Body != nil && req.Body != http.NoBody {
		cc.reqBody.ReadCloser = req.Body
		req.Body = &cc.reqBody
	}
	authority := req.Host
	if authority == "" {
		authority = req.URL.Host
	}
	cc.handle(&stats.OutHeader{
		Client:      true,
		Compression: sendComp,
		Header:      userMetadata(req.Header),
		Authority:   authority,
		FullMethod:  fullMethod(req.URL.Path),
		RemoteAddr:  ipAddr(req.URL.Host),
	})
	resp, err := c.next.Do(req)
	if err != nil {
		return resp, err
	}
	if cc.oneRequest {
		count := cc.reqBody.snapshot()
		if req.ContentLength > count.n {
			// The response came before the HTTP client sent the whole body;
			// a unary request's length is known.
			count.n = req.ContentLength
		}
		cc.outPayload(cc.request, &count, w, sendComp != "")
	}
	recvComp := w.compression(resp.Header)
	cc.mu.Lock()
	cc.resp, cc.recvComp = resp, recvComp
	cc.mu.Unlock()
	cc.respBody.ReadCloser = resp.Body
	resp.Body = &cc.respBody
	if !w.grpc || resp.Header.Get("Grpc-Status") == "" {
		// A gRPC response with the status in its headers is trailers-only:
		// grpc-go reports it as a trailer alone.
		cc.handle(&stats.InHeader{
			Client:      true,
			Compression: recvComp,
			Header:      userMetadata(resp.Header),
		})
	}
	return resp, nil
}

// fullMethod returns "/pkg.Service/Method" from the end of a request path.
func fullMethod(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return path
	}
	j := strings.LastIndexByte(path[:i], '/')
	return path[j:]
}

// ipAddr returns host:port as a net.Addr when host is an IP address: the
// address the call goes to without a name lookup. Otherwise nil: the
// address a name resolves to is not visible outside the HTTP client.
func ipAddr(hostport string) net.Addr {
	a := parseAddr(hostport)
	if _, ok := a.(*net.TCPAddr); ok {
		return a
	}
	return nil
}

func (cc *clientCall) outPayload(m any, count *byteCounter, w wire, compressed bool) {
	n, compressedLen, wireLen := count.sizes(w, compressed, func() int { return messageSize(m, w.json) })
	cc.handle(&stats.OutPayload{
		Client:           true,
		Payload:          m,
		Length:           n,
		CompressedLength: compressedLen,
		WireLength:       wireLen,
		SentTime:         time.Now(),
	})
}

// sent reports a message sent on a client or bidirectional stream. The
// HTTP client sends it in its own time, so its length is the message's: the
// compressed length of a compressed message is not known.
func (cc *clientCall) sent(m any) {
	cc.mu.Lock()
	w, compressed := cc.wire, cc.sendComp != ""
	cc.mu.Unlock()
	n := messageSize(m, w.json)
	compressedLen, wireLen := n, n+5
	if compressed {
		compressedLen, wireLen = 0, 0
	}
	cc.handle(&stats.OutPayload{
		Client:           true,
		Payload:          m,
		Length:           n,
		CompressedLength: compressedLen,
		WireLength:       wireLen,
		SentTime:         time.Now(),
	})
}

// received reports a received message, read since the last mark of the
// response body.
func (cc *clientCall) received(m any) {
	cc.mu.Lock()
	w, compressed := cc.wire.response(), cc.recvComp != ""
	cc.mu.Unlock()
	n, compressedLen, wireLen := cc.respBody.count.sizes(w, compressed, func() int { return messageSize(m, w.json) })
	cc.handle(&stats.InPayload{
		Client:           true,
		Payload:          m,
		Length:           n,
		CompressedLength: compressedLen,
		WireLength:       wireLen,
		RecvTime:         time.Now(),
	})
}

// end reports the trailer, when a response arrived, and the end of the call.
func (cc *clientCall) end(trailer http.Header, err error) {
	cc.mu.Lock()
	ended, resp := cc.ended, cc.resp
	cc.ended = true
	cc.mu.Unlock()
	if ended {
		return
	}
	var md metadata.MD
	if resp != nil {
		md = headerToMetadata(trailer, nil)
		cc.handle(&stats.InTrailer{Client: true, Trailer: md})
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	cc.handle(&stats.End{
		Client:    true,
		BeginTime: cc.beginTime,
		EndTime:   time.Now(),
		Trailer:   md,
		Error:     toStatusError(err),
	})
}

// endUnary reports the reply and the end of a unary call.
func (cc *clientCall) endUnary(res *connect.Response[replyMessage], err error) {
	var trailer http.Header
	if err == nil {
		cc.received(res.Msg.ProtoReflect().Interface())
		trailer = res.Trailer()
	} else if ce := new(connect.Error); errors.As(err, &ce) {
		trailer = ce.Meta()
	}
	cc.end(trailer, err)
}

// streamEnd reports the end of a stream.
func (cc *clientCall) streamEnd(s *clientStream, err error) {
	var trailer http.Header
	if s.conn != nil {
		if _, t, ok := s.responseMetadata(); ok {
			trailer = t
		}
	}
	if err == nil {
		err = s.startErr
	}
	cc.end(trailer, err)
}
