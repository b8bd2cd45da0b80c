package polyrpc

import (
	"context"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// TestHandlerContext checks that grpc-go's own accessors find metadata, peer
// and transport stream in a handlerContext, also through derived contexts,
// and that other values still come from the parent.
func TestHandlerContext(t *testing.T) {
	if !grpcKeys.ok {
		t.Fatal("grpc-go's context keys were not found: handlers fall back to the slower context")
	}
	type parentKey struct{}
	parent := context.WithValue(t.Context(), parentKey{}, "parent")
	header := http.Header{"X-User": {"alice"}, "Host": {"example.com"}, "Grpc-Timeout": {"1S"}}
	st := &unaryTransport{method: "/pkg.Service/Method"}
	var hc handlerContext
	ctx := handlerCallContext(&hc, parent, header, connect.Peer{Addr: "127.0.0.1:1234"}, st)
	ctx, cancel := context.WithCancel(context.WithValue(ctx, struct{}{}, 1))
	defer cancel()

	md, ok := metadata.FromIncomingContext(ctx)
	if !ok || len(md.Get("x-user")) != 1 || md.Get("x-user")[0] != "alice" || md.Get(":authority")[0] != "example.com" || len(md.Get("grpc-timeout")) != 0 {
		t.Errorf("incoming metadata = %v, %v", md, ok)
	}
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr.String() != "127.0.0.1:1234" || p.Addr.Network() != "tcp" {
		t.Errorf("peer = %v, %v", p, ok)
	}
	if method, ok := grpc.Method(ctx); !ok || method != "/pkg.Service/Method" {
		t.Errorf("grpc.Method = %q, %v", method, ok)
	}
	if got := ctx.Value(parentKey{}); got != "parent" {
		t.Errorf("parent value = %v", got)
	}
	cancel()
	if ctx.Err() == nil {
		t.Error("derived context not cancelled")
	}
	if parent.Err() != nil {
		t.Error("parent cancelled by its child")
	}
}
