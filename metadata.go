package polyrpc

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"connectrpc.com/connect"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// protocolHeader reports whether the lower-case header key belongs to the
// RPC protocol or to HTTP itself rather than to the application. Such headers
// never appear in metadata, and metadata never sets them.
func protocolHeader(key string) bool {
	if strings.HasPrefix(key, "connect-") {
		return true
	}
	switch key {
	case "grpc-timeout", "grpc-encoding", "grpc-accept-encoding", "grpc-message-type",
		"grpc-status", "grpc-message", "grpc-status-details-bin",
		"te", "trailer", "content-length", "content-encoding", "accept-encoding",
		"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
		"host", "x-grpc-web", "x-user-agent":
		return true
	}
	return false
}

// headerToMetadata converts HTTP headers into gRPC metadata: keys are lower
// case, binary ("-bin") values are base64-decoded, and protocol headers are
// left out.
func headerToMetadata(h http.Header, md metadata.MD) metadata.MD {
	if md == nil {
		md = make(metadata.MD, len(h))
	}
	for k, vs := range h {
		key, known := lowerKeys[k]
		if !known {
			key = strings.ToLower(k)
		}
		if protocolHeader(key) || strings.HasPrefix(key, ":") {
			continue
		}
		if strings.HasSuffix(key, "-bin") {
			for _, v := range vs {
				for part := range strings.SplitSeq(v, ",") {
					decoded, err := connect.DecodeBinaryHeader(strings.TrimSpace(part))
					if err != nil {
						continue
					}
					md[key] = append(md[key], string(decoded))
				}
			}
			continue
		}
		if len(md[key]) == 0 {
			md[key] = vs[:len(vs):len(vs)] // appending copies
		} else {
			md[key] = append(md[key], vs...)
		}
	}
	return md
}

// checkBinaryHeaders reports a request header with a "-bin" key whose value
// is not base64, as grpc-go does: such a call fails with Internal and a
// message naming the header, instead of reaching the handler without the
// key.
func checkBinaryHeaders(h http.Header) error {
	for k, vs := range h {
		if len(k) < 4 || !strings.EqualFold(k[len(k)-4:], "-bin") {
			continue
		}
		for _, v := range vs {
			for part := range strings.SplitSeq(v, ",") {
				if _, err := connect.DecodeBinaryHeader(strings.TrimSpace(part)); err != nil {
					if len(v) > 64 {
						v = v[:64] + "..."
					}
					return connect.NewError(connect.CodeInternal,
						fmt.Errorf("malformed binary metadata %q in header %q: %v", v, strings.ToLower(k), err))
				}
			}
		}
	}
	return nil
}

// lowerKeys holds the lower-case form of common canonical header keys, to
// spare an allocation per header.
var lowerKeys = func() map[string]string {
	keys := []string{
		"Accept", "Accept-Encoding", "Authorization", "Connect-Accept-Encoding",
		"Connect-Content-Encoding", "Connect-Protocol-Version", "Connect-Timeout-Ms",
		"Content-Encoding", "Content-Length", "Content-Type", "Grpc-Accept-Encoding",
		"Grpc-Encoding", "Grpc-Timeout", "Host", "Te", "Traceparent", "Tracestate",
		"User-Agent", "X-Grpc-Web", "X-Request-Id", "X-User-Agent",
	}
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		m[k] = strings.ToLower(k)
	}
	return m
}()

// metadataToHeader adds metadata to HTTP headers, base64-encoding binary
// values. Reserved keys are skipped, as grpc-go does.
func metadataToHeader(md metadata.MD, h http.Header) {
	for k, vs := range md {
		key := strings.ToLower(k)
		if key == "" || protocolHeader(key) || strings.HasPrefix(key, ":") ||
			key == "content-type" || key == "user-agent" {
			continue
		}
		ck := canonicalKey(key)
		if strings.HasSuffix(key, "-bin") {
			for _, v := range vs {
				h[ck] = append(h[ck], connect.EncodeBinaryHeader([]byte(v)))
			}
			continue
		}
		h[ck] = append(h[ck], vs...)
	}
}

// canonicalKeys caches the canonical HTTP form of metadata keys: metadata
// keys are lower case, and canonicalising one costs an allocation per call.
// Keys come from the application, not from requests; the cache stops
// growing at maxCanonicalKeys all the same.
var (
	canonicalKeys     sync.Map // lower-case key → canonical key
	canonicalKeyCount atomic.Int32
)

const maxCanonicalKeys = 512

func canonicalKey(key string) string {
	if ck, ok := canonicalKeys.Load(key); ok {
		return ck.(string)
	}
	ck := http.CanonicalHeaderKey(key)
	if canonicalKeyCount.Load() < maxCanonicalKeys {
		if _, loaded := canonicalKeys.LoadOrStore(key, ck); !loaded {
			canonicalKeyCount.Add(1)
		}
	}
	return ck
}

// incomingMetadata builds the metadata a grpc-go server would show a handler:
// every application header plus ":authority".
func incomingMetadata(h http.Header) metadata.MD {
	md := headerToMetadata(h, make(metadata.MD, len(h)+1))
	if host := h.Get("Host"); host != "" {
		md[":authority"] = []string{host}
	}
	return md
}

// newPeer describes the client as grpc-go's peer package does.
func newPeer(p connect.Peer, state *tls.ConnectionState, local net.Addr) *peer.Peer {
	pr := &peer.Peer{Addr: parseAddr(p.Addr), LocalAddr: local}
	if state != nil {
		pr.AuthInfo = credentials.TLSInfo{
			State:          *state,
			CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity},
		}
	}
	return pr
}

func parseAddr(s string) net.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return net.TCPAddrFromAddrPort(ap)
	}
	return stringAddr(s)
}

// stringAddr is a net.Addr for remote addresses that are not host:port, such
// as those of Unix sockets or in-memory listeners.
type stringAddr string

func (a stringAddr) Network() string { return "unknown" }
func (a stringAddr) String() string  { return string(a) }
