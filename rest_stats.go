package polyrpc

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
)

// restStats reports a REST call to grpc-go stats handlers, as grpc.Server
// reports a call: TagRPC, InHeader and Begin before the request is read,
// InPayload once it is bound, OutHeader and OutPayload per response
// message, then OutTrailer and End. Lengths are those of the JSON (or
// HttpBody) bytes on the wire, before any transfer encoding.
type restStats struct {
	handlers []stats.Handler
	ctx      context.Context // the context TagRPC returned
	begin    time.Time

	mu         sync.Mutex
	headerSent bool
}

func startRESTStats(ctx context.Context, handlers []stats.Handler, method string, r *http.Request, serverStreams bool) *restStats {
	md := incomingMetadata(r.Header)
	state, _ := ctx.Value(tlsStateKey{}).(*tls.ConnectionState)
	local, _ := ctx.Value(http.LocalAddrContextKey).(net.Addr)
	pr := newPeer(connect.Peer{Addr: r.RemoteAddr}, state, local)
	tagged := peer.NewContext(metadata.NewIncomingContext(ctx, md), pr)
	info := &stats.RPCTagInfo{FullMethodName: method}
	for _, h := range handlers {
		tagged = h.TagRPC(tagged, info)
	}
	s := &restStats{handlers: handlers, ctx: tagged, begin: time.Now()}
	s.handle(&stats.InHeader{
		FullMethod:  method,
		RemoteAddr:  pr.Addr,
		LocalAddr:   local,
		Compression: r.Header.Get("Content-Encoding"),
		Header:      md,
	})
	s.handle(&stats.Begin{BeginTime: s.begin, IsServerStream: serverStreams})
	return s
}

func (s *restStats) handle(st stats.RPCStats) {
	for _, h := range s.handlers {
		h.HandleRPC(s.ctx, st)
	}
}

func (s *restStats) in(m any, n int) {
	s.handle(&stats.InPayload{Payload: m, Length: n, CompressedLength: n, WireLength: n, RecvTime: time.Now()})
}

// out reports the response headers (once) and a message.
func (s *restStats) out(h http.Header, m any, n int) {
	s.outHeader(h)
	s.handle(&stats.OutPayload{Payload: m, Length: n, CompressedLength: n, WireLength: n, SentTime: time.Now()})
}

func (s *restStats) outHeader(h http.Header) {
	s.mu.Lock()
	sent := s.headerSent
	s.headerSent = true
	s.mu.Unlock()
	if !sent {
		s.handle(&stats.OutHeader{Header: userMetadata(h)})
	}
}

func (s *restStats) end(trailer metadata.MD, err error) {
	s.handle(&stats.OutTrailer{Trailer: trailer})
	s.handle(&stats.End{BeginTime: s.begin, EndTime: time.Now(), Error: err})
}
