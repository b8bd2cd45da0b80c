package polyrpc

import (
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"connectrpc.com/connect"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
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
