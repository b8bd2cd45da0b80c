package polyrpc_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/polyrpc/polyrpc"
)

// TestClientStreamHeaderAfterCancel cancels bidirectional calls while their
// response headers arrive and then asks for the headers. connect-go's
// accessors stop waiting when the context ends and hand out maps that its
// request goroutine may still be filling; reading them then was a data race
// (a fatal concurrent map access without -race). Header must instead report
// the cancellation, or the complete headers when they were in first.
func TestClientStreamHeaderAfterCancel(t *testing.T) {
	var open atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		open.Add(1)
		defer open.Add(-1)
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("X-Custom", "v")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)

	client := testpb.NewTestServiceClient(polyrpc.NewClientConn(srv.Client(), srv.URL, connect.WithGRPC()))
	n := 400
	if testing.Short() {
		n = 50
	}
	for range n {
		ctx, cancel := context.WithCancel(t.Context())
		var trailer metadata.MD
		stream, err := client.FullDuplexCall(ctx, grpc.Trailer(&trailer))
		if err != nil {
			cancel()
			continue
		}
		time.Sleep(time.Duration(rand.IntN(400)) * time.Microsecond)
		cancel()
		md, err := stream.Header()
		switch {
		case err != nil:
			if status.Code(err) != codes.Canceled {
				t.Fatalf("Header after cancel: %v, want Canceled", err)
			}
		case md.Get("x-custom") == nil:
			t.Fatalf("Header after cancel = %v, want the server's x-custom header or an error", md)
		}
		_ = stream.Trailer()
		if err := stream.RecvMsg(new(testpb.StreamingOutputCallResponse)); status.Code(err) != codes.Canceled {
			t.Fatalf("RecvMsg after cancel: %v, want Canceled", err)
		}
	}
	// Every cancelled call must also end its HTTP request.
	deadline := time.Now().Add(5 * time.Second)
	for open.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := open.Load(); n > 0 {
		t.Fatalf("%d cancelled calls left their HTTP request open", n)
	}
}
