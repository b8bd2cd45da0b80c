package proxy

import (
	"strings"
	"time"

	"google.golang.org/grpc"
)

// Option configures a proxy handler.
type Option func(*options)

type options struct {
	serviceName     string
	methodNames     []string
	streamed        func(fullMethodName string) bool
	streamDescs     func(fullMethodName string) *grpc.StreamDesc
	requestHeaders  HeaderRule
	responseHeaders HeaderRule
	concurrency     int
	backendTimeout  time.Duration
	maxMerged       int
	maxReplay       int
}

// Defaults of the limits of one-to-many calls.
const (
	// DefaultMaxMergedSize is the default of [WithMaxMergedSize].
	DefaultMaxMergedSize = 16 << 20
	// DefaultMaxReplaySize is the default of [WithMaxReplaySize].
	DefaultMaxReplaySize = 4 << 20
)

// WithMethodNames gives the methods of the service that [RegisterService]
// registers.
func WithMethodNames(methodNames ...string) Option {
	return func(o *options) { o.methodNames = append([]string(nil), methodNames...) }
}

// WithStreamedMethodNames says which methods stream their responses:
// their one-to-many answers are interleaved instead of merged. Names are
// those of methods of the service of [RegisterService], or full names
// ("/package.Service/Method").
func WithStreamedMethodNames(streamedMethodNames ...string) Option {
	return func(o *options) {
		set := make(map[string]bool, len(streamedMethodNames))
		for _, m := range streamedMethodNames {
			if !strings.HasPrefix(m, "/") {
				m = "/" + o.serviceName + "/" + m
			}
			set[m] = true
		}
		o.streamed = func(full string) bool { return set[full] }
	}
}

// StreamedDetectorFunc reports whether a method streams its responses.
type StreamedDetectorFunc func(fullMethodName string) bool

// WithStreamedDetector says which methods stream their responses: their
// one-to-many answers are interleaved instead of merged. Without it (and
// without [WithStreamedMethodNames]), the method's descriptor decides when
// it is linked into the program (protoregistry.GlobalFiles), else the
// answers are merged.
func WithStreamedDetector(detector StreamedDetectorFunc) Option {
	return func(o *options) { o.streamed = detector }
}

// WithStreamDescs gives the stream kinds of methods, for backends that are
// not a *grpc.ClientConn (see [ClientConnBackend]) and for the choice
// between merged and interleaved answers; descs returns nil for a method
// it does not know. By default the method's descriptor in
// protoregistry.GlobalFiles says, and a method without one is called as a
// bidirectional stream.
func WithStreamDescs(descs func(fullMethodName string) *grpc.StreamDesc) Option {
	return func(o *options) { o.streamDescs = descs }
}

// HeaderRule reports whether a metadata key (lower case) crosses the proxy.
type HeaderRule func(key string) bool

// WithRequestHeaders sets which request metadata reaches the backends; by
// default, all of it. [Reserved] keys never do.
func WithRequestHeaders(rule HeaderRule) Option {
	return func(o *options) { o.requestHeaders = rule }
}

// WithResponseHeaders sets which response headers and trailers of the
// backends reach the caller; by default, all of them. [Reserved] keys
// never do.
func WithResponseHeaders(rule HeaderRule) Option {
	return func(o *options) { o.responseHeaders = rule }
}

// AllowHeaders is the rule that lets only the keys given cross; a key that
// ends with "*" stands for every key with that prefix.
func AllowHeaders(keys ...string) HeaderRule {
	m := newKeyMatcher(keys)
	return m.match
}

// DenyHeaders is the rule that lets every key cross but the keys given; a
// key that ends with "*" stands for every key with that prefix. Use it for
// the proxy's own metadata, as the keys its director reads.
func DenyHeaders(keys ...string) HeaderRule {
	m := newKeyMatcher(keys)
	return func(key string) bool { return !m.match(key) }
}

type keyMatcher struct {
	exact    map[string]bool
	prefixes []string
}

func newKeyMatcher(keys []string) *keyMatcher {
	m := &keyMatcher{exact: make(map[string]bool, len(keys))}
	for _, k := range keys {
		k = strings.ToLower(k)
		if p, ok := strings.CutSuffix(k, "*"); ok {
			m.prefixes = append(m.prefixes, p)
		} else {
			m.exact[k] = true
		}
	}
	return m
}

func (m *keyMatcher) match(key string) bool {
	if m.exact[key] {
		return true
	}
	for _, p := range m.prefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// Reserved reports whether a metadata key never crosses the proxy: HTTP/2
// pseudo headers, hop-by-hop headers (connection, keep-alive, te,
// transfer-encoding, upgrade, proxy-*, host), the transport's own (grpc-*,
// connect-*, content-type, content-length, content-encoding,
// accept-encoding, user-agent, x-user-agent, x-grpc-web) and the Trailer-
// prefixed keys of Connect unary responses. The transports of the proxy's
// two sides write their own.
func Reserved(key string) bool {
	if key == "" || key[0] == ':' {
		return true
	}
	switch key {
	case "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "host",
		"content-type", "content-length", "content-encoding", "accept-encoding",
		"user-agent", "x-user-agent", "x-grpc-web":
		return true
	}
	for _, p := range [...]string{"grpc-", "proxy-", "connect-", "trailer-"} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// WithConcurrency bounds the backends that a one-to-many call calls at
// once; the others wait for a slot. n <= 0: no bound (the default).
func WithConcurrency(n int) Option {
	return func(o *options) { o.concurrency = n }
}

// WithBackendTimeout gives every call to a backend a deadline of d after
// it starts (or the caller's, if sooner). In a one-to-many call, a backend
// that misses it becomes an error entry while the others still answer.
// d <= 0: no deadline of the proxy's own (the default).
func WithBackendTimeout(d time.Duration) Option {
	return func(o *options) { o.backendTimeout = d }
}

// WithMaxMergedSize bounds the size of a merged one-to-many reply, which
// the proxy holds until every backend has answered; a reply that would be
// larger fails the call with ResourceExhausted. The default is
// [DefaultMaxMergedSize].
func WithMaxMergedSize(n int) Option {
	return func(o *options) { o.maxMerged = n }
}

// WithMaxReplaySize bounds the request messages that a one-to-many call
// keeps for the backends that [WithConcurrency] makes wait: a backend that
// would start after more than n bytes of requests went by becomes an error
// entry (ResourceExhausted). Backends that run keep reading the requests
// at their own pace, the caller being slowed to the slowest one. The
// default is [DefaultMaxReplaySize].
func WithMaxReplaySize(n int) Option {
	return func(o *options) { o.maxReplay = n }
}
