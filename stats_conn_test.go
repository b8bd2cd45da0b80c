package polyrpc

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/health"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/stats"
)

type connKey struct{}

// connRecorder records connection events, and whether the events of calls
// carry the context of their connection's TagConn.
type connRecorder struct {
	mu     sync.Mutex
	events []string
}

func (r *connRecorder) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *connRecorder) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }

func (r *connRecorder) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if _, ok := s.(*stats.End); !ok {
		return
	}
	if ctx.Value(connKey{}) == nil {
		r.add("End without the connection's tag")
		return
	}
	r.add("End")
}

func (r *connRecorder) TagConn(ctx context.Context, info *stats.ConnTagInfo) context.Context {
	if info.RemoteAddr == nil || info.LocalAddr == nil {
		r.add("TagConn without addresses")
	}
	return context.WithValue(ctx, connKey{}, true)
}

func (r *connRecorder) HandleConn(ctx context.Context, s stats.ConnStats) {
	name := "ConnEnd"
	if _, ok := s.(*stats.ConnBegin); ok {
		name = "ConnBegin"
	}
	if ctx.Value(connKey{}) == nil {
		name += " without the connection's tag"
	}
	r.add(name)
}

func (r *connRecorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// TestStatsConnHooks checks the hooks by which a Server that accepts
// connections reports them to stats handlers.
func TestStatsConnHooks(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1", true: "h2"}[h2], func(t *testing.T) {
			rec := &connRecorder{}
			s := NewServer(StatsHandler(rec))
			healthgrpc.RegisterHealthServer(s, health.NewServer())
			srv := httptest.NewUnstartedServer(s)
			srv.Config.ConnContext = s.statsConnContext
			srv.Config.ConnState = s.statsConnState
			if h2 {
				srv.EnableHTTP2 = true
				srv.StartTLS()
			} else {
				srv.Start()
			}
			hc := srv.Client()
			client := healthgrpc.NewHealthClient(NewClientConn(hc, srv.URL))
			for range 2 {
				if _, err := client.Check(t.Context(), &healthgrpc.HealthCheckRequest{}); err != nil {
					t.Fatal(err)
				}
			}
			hc.CloseIdleConnections()
			srv.Close()
			want := "ConnBegin End End ConnEnd"
			deadline := time.Now().Add(5 * time.Second)
			for {
				got := strings.Join(rec.list(), " ")
				if got == want {
					break
				} else if time.Now().After(deadline) {
					t.Fatalf("got %s, want %s", got, want)
				}
				time.Sleep(5 * time.Millisecond)
			}
			n := 0
			statsConns.Range(func(any, any) bool { n++; return true })
			if n != 0 {
				t.Errorf("%d connections still recorded after they closed", n)
			}
		})
	}
}
