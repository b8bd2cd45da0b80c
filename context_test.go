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

// TestMetadataToHeaderKeys checks that metadata keys become canonical header
// keys, cached or not, and that values are copied, not shared.
func TestMetadataToHeaderKeys(t *testing.T) {
	vs := []string{"a", "b"}
	for i := range 3 {
		h := http.Header{}
		metadataToHeader(metadata.MD{"x-multi-word-key": vs, "X-Upper": {"u"}, "x-data-bin": {"\x00\x01"}}, h)
		if got := h.Values("X-Multi-Word-Key"); len(got) != 2 || got[0] != "a" || got[1] != "b" {
			t.Errorf("round %d: X-Multi-Word-Key = %q", i, got)
		}
		if got := h.Get("X-Upper"); got != "u" {
			t.Errorf("round %d: X-Upper = %q", i, got)
		}
		if got := h.Get("X-Data-Bin"); got != "AAE" {
			t.Errorf("round %d: X-Data-Bin = %q", i, got)
		}
		h["X-Multi-Word-Key"][0] = "changed"
		if vs[0] != "a" {
			t.Fatal("header shares the metadata's value slice")
		}
	}
	if got := canonicalKey("x-multi-word-key"); got != "X-Multi-Word-Key" {
		t.Errorf("cached canonicalKey = %q", got)
	}
	if got := canonicalKey("bad key"); got != "bad key" {
		t.Errorf("canonicalKey of an invalid key = %q, want it unchanged as http.Header.Add does", got)
	}
}
