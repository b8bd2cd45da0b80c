package polyrpc

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// A grpc-go handler finds its incoming metadata, its peer and its server
// transport stream in its context, under keys private to grpc-go. Adding three
// values to the context of every call costs an allocation each, and building
// the metadata and the peer costs more, though most handlers never look at
// them. handlerContext instead answers grpc-go's lookups itself, building
// metadata and peer on first use. It learns the keys by letting grpc-go's own
// accessors read a probe context, and checks the answers by a round trip
// through grpc-go's own constructors; should that ever fail, polyrpc adds the
// values to the context the ordinary way.
var grpcKeys grpcContextKeys

func init() {
	grpcKeys = probeGRPCKeys()
	grpcKeys.ok = grpcKeys.metadata != nil && checkGRPCKeys()
}

type grpcContextKeys struct {
	metadata, peer, stream any
	ok                     bool
}

// keyProbe records the first key it is asked for.
type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	if p.key == nil {
		p.key = key
	}
	return nil
}

func probeGRPCKeys() (keys grpcContextKeys) {
	probe := func(read func(ctx context.Context)) any {
		p := &keyProbe{Context: context.Background()}
		read(p)
		return p.key
	}
	keys.metadata = probe(func(ctx context.Context) { metadata.FromIncomingContext(ctx) })
	keys.peer = probe(func(ctx context.Context) { peer.FromContext(ctx) })
	keys.stream = probe(func(ctx context.Context) { grpc.ServerTransportStreamFromContext(ctx) })
	if keys.metadata == nil || keys.peer == nil || keys.stream == nil ||
		keys.metadata == keys.peer || keys.metadata == keys.stream || keys.peer == keys.stream {
		return grpcContextKeys{}
	}
	return keys
}

// checkGRPCKeys reports whether grpc-go's accessors find what a
// handlerContext answers under grpcKeys.
func checkGRPCKeys() bool {
	md := metadata.MD{"k": {"v"}}
	p := &peer.Peer{}
	st := &unaryTransport{method: "/probe/Probe"}
	ctx := &handlerContext{Context: context.Background(), stream: st, md: md, peer: p}
	ctx.mdOnce.Do(func() {})
	ctx.peerOnce.Do(func() {})
	gotMD, ok := metadata.FromIncomingContext(ctx)
	gotPeer, _ := peer.FromContext(ctx)
	return ok && len(gotMD.Get("k")) == 1 && gotMD.Get("k")[0] == "v" && gotPeer == p &&
		grpc.ServerTransportStreamFromContext(ctx) == st
}

// handlerContext is the context of a grpc-go handler: it answers grpc-go's
// lookups of incoming metadata, peer and server transport stream, and
// delegates everything else to the request's context.
type handlerContext struct {
	context.Context
	header   http.Header
	peerAddr string
	stream   grpc.ServerTransportStream

	mdOnce   sync.Once
	md       metadata.MD
	peerOnce sync.Once
	peer     *peer.Peer
}

func (c *handlerContext) init(ctx context.Context, header http.Header, p connect.Peer, st grpc.ServerTransportStream) {
	c.Context = ctx
	c.header = header
	c.peerAddr = p.Addr
	c.stream = st
}

func (c *handlerContext) Value(key any) any {
	switch key {
	case grpcKeys.metadata:
		c.mdOnce.Do(c.buildMetadata)
		return c.md
	case grpcKeys.peer:
		c.peerOnce.Do(c.buildPeer)
		return c.peer
	case grpcKeys.stream:
		return c.stream
	}
	return c.Context.Value(key)
}

func (c *handlerContext) buildMetadata() {
	if c.md == nil {
		c.md = incomingMetadata(c.header)
	}
}

func (c *handlerContext) buildPeer() {
	if c.peer == nil {
		state, _ := c.Context.Value(tlsStateKey{}).(*tls.ConnectionState)
		local, _ := c.Context.Value(http.LocalAddrContextKey).(net.Addr)
		c.peer = newPeer(connect.Peer{Addr: c.peerAddr}, state, local)
	}
}

// handlerCallContext returns the context for a grpc-go handler: hc, set up,
// or, should grpc-go's keys be unknown, the context with the values added.
func handlerCallContext(hc *handlerContext, ctx context.Context, header http.Header, p connect.Peer, st grpc.ServerTransportStream) context.Context {
	if !grpcKeys.ok {
		return newHandlerContext(ctx, header, p, st)
	}
	hc.init(ctx, header, p, st)
	return hc
}
