package polyrpc

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
)

// How a ClientConn reports calls to stats handlers.
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
