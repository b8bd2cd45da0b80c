package polyrpc

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// On HTTP/1.1, net/http notices that a client went away only once the
// request body has been read to its end: until then nothing reads from the
// connection. A client-streaming call whose client vanishes mid-body, while
// the handler waits for something other than the next message, would
// therefore never end, and its goroutines would stay for good. HTTP/2 has no
// such gap.
//
// The Server closes it without touching the connection's bytes (reading them
// ahead of net/http would race with its own reads): while an HTTP/1.1
// client-streaming call runs, a goroutine asks the kernel every
// peerCheckInterval whether the client has closed its side of the TCP
// connection, and cancels the call's context if it has. It needs the
// connection, which ConnContext puts in the request's context: Serve does
// that; an http.Server of one's own gets it with ConnContext.

// peerCheckInterval is how often the connection of an HTTP/1.1 client
// stream is checked.
const peerCheckInterval = 500 * time.Millisecond

// errClientGone is the cause of a call's cancellation when its client went
// away.
var errClientGone = errors.New("polyrpc: the client closed the connection before the end of the request")

type peerConnKey struct{}

// ConnContext is an http.Server.ConnContext that keeps the connection in
// the context of its requests, so that an HTTP/1.1 client-streaming call
// ends when its client goes away mid-body (see [Server.Serve], which sets
// it). For an http.Server of one's own:
//
//	srv := &http.Server{Handler: s, ConnContext: polyrpc.ConnContext}
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, peerConnKey{}, c)
}

// watchPeer returns r with a context that ends when the client of r's
// connection has gone away, and a function to call when the call is done.
// Without a known connection, or where the kernel cannot tell, r is
// returned as it is.
func watchPeer(r *http.Request) (*http.Request, func()) {
	c, _ := r.Context().Value(peerConnKey{}).(net.Conn)
	if c == nil {
		return r, func() {}
	}
	if _, ok := peerGone(c); !ok {
		return r, func() {}
	}
	ctx, cancel := context.WithCancelCause(r.Context())
	go func() {
		t := time.NewTicker(peerCheckInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if gone, _ := peerGone(c); gone {
					cancel(errClientGone)
					return
				}
			}
		}
	}()
	return r.WithContext(ctx), func() { cancel(nil) }
}

// netConner is a connection that wraps another, as the sorted connections
// of Serve do.
type netConner interface{ NetConn() net.Conn }

// tcpConn returns the TCP connection under c, if any.
func tcpConn(c net.Conn) *net.TCPConn {
	for range 4 {
		switch v := c.(type) {
		case *net.TCPConn:
			return v
		case netConner:
			c = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}
