package proxy_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"net/http"

	"github.com/polyrpc/polyrpc"
)

// drain empties a backend's record of Block calls.
func (b *backend) drain() {
	for {
		select {
		case <-b.started:
		case <-b.ended:
		default:
			return
		}
	}
}

// waitEnded waits for the context of n Block calls of a backend to end and
// returns how.
func (b *backend) waitEnded(t *testing.T, n int) []error {
	t.Helper()
	var out []error
	for range n {
		select {
		case err := <-b.ended:
			out = append(out, err)
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the context of a call has not ended", b.name)
		}
	}
	return out
}

func (b *backend) waitStarted(t *testing.T) {
	t.Helper()
	select {
	case <-b.started:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no call started", b.name)
	}
}

// TestCancellation checks that a caller's cancellation and deadline reach
// the backends, one-to-one and one-to-many.
func TestCancellation(t *testing.T) {
	f := newFixture(t)
	f.eachClient(t, func(t *testing.T, c client) {
		for _, to := range []string{"b1", "many:b0,b1,b2"} {
			var bs []*backend
			for _, b := range f.backends {
				if strings.Contains(to, b.name) {
					bs = append(bs, b)
				}
			}
			t.Run(to+"/cancel", func(t *testing.T) {
				for _, b := range bs {
					b.drain()
				}
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan error, 1)
				go func() { done <- c.cc.Invoke(route(ctx, to), mBlock, wrapperspb.String(""), &structpb.ListValue{}) }()
				for _, b := range bs {
					b.waitStarted(t)
				}
				cancel()
				for _, b := range bs {
					if errs := b.waitEnded(t, 1); !errors.Is(errs[0], context.Canceled) {
						t.Errorf("%s: the call ended with %v, want Canceled", b.name, errs[0])
					}
				}
				if err := <-done; codeOf(err) != codes.Canceled {
					t.Errorf("the caller got %v", err)
				}
			})
			t.Run(to+"/deadline", func(t *testing.T) {
				for _, b := range bs {
					b.drain()
				}
				ctx, cancel := context.WithTimeout(t.Context(), time.Second)
				defer cancel()
				err := c.cc.Invoke(route(ctx, to), mBlock, wrapperspb.String(""), &structpb.ListValue{})
				if codeOf(err) != codes.DeadlineExceeded {
					t.Errorf("the caller got %v", err)
				}
				for _, b := range bs {
					// The deadline crossed: the backend's own ends the call.
					b.waitStarted(t)
					if errs := b.waitEnded(t, 1); !errors.Is(errs[0], context.DeadlineExceeded) && !errors.Is(errs[0], context.Canceled) {
						t.Errorf("%s: the call ended with %v", b.name, errs[0])
					}
				}
			})
		}
	})
}

// TestAbandonedStreams opens many streams through the proxy, abandons them
// (cancelled, or their connection closed), and checks that the proxy's and
// the backends' goroutines go back to what they were.
func TestAbandonedStreams(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		name    string
		native  bool
		streams int
		many    bool
	}{
		{"native", true, 2000, false},
		{"net-http", false, 600, false},
		{"one2many", true, 300, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr := f.serveProxy(t, c.native)
			// A Server lets a connection have 250 streams at once.
			conns := make([]*grpc.ClientConn, (c.streams+199)/200)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			for i := range conns {
				conns[i] = dial(t, addr)
				echo(t, ctx, conns[i], "b0", 1) // the connections are up
			}
			baseline := stableGoroutines()

			answers := 1
			if c.many {
				answers = 3
			}
			streamCtx, abandon := context.WithCancel(ctx)
			var wg sync.WaitGroup
			errs := make(chan error, c.streams)
			for i := range c.streams {
				wg.Go(func() {
					sctx := streamCtx
					if i%2 == 0 {
						sctx = ctx // abandoned by closing the connection
					}
					cc := conns[i%len(conns)]
					to := "b" + string(rune('0'+i%3))
					if c.many {
						to = "many:b0,b1,b2"
					}
					st, err := cc.NewStream(route(sctx, to), bidi, mEcho)
					if err == nil {
						err = st.SendMsg(wrapperspb.String("x"))
					}
					// Every backend answers once.
					for range answers {
						if err == nil {
							err = st.RecvMsg(&structpb.ListValue{})
						}
					}
					if err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("opening the streams: %v", err)
			}
			running := int64(0)
			for _, b := range f.backends {
				running += b.handlers.Load()
			}
			if c.many {
				running /= 3
			}
			if running != int64(c.streams) {
				t.Fatalf("%d streams run on the backends, want %d", running, c.streams)
			}
			abandon()
			for _, cc := range conns {
				_ = cc.Close()
			}
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				running := int64(0)
				for _, b := range f.backends {
					running += b.handlers.Load()
				}
				if running == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d backend handlers still run", running)
				}
			}
			waitGoroutines(t, baseline, 20*time.Second)
		})
	}
}

// TestSlowReader checks that a caller that stops reading stops the
// backend instead of growing the proxy's memory: the backend offers 2 GiB.
func TestSlowReader(t *testing.T) {
	f := newFixture(t)
	callers := []struct {
		name   string
		native bool
		cc     func(addr string) grpc.ClientConnInterface
	}{
		{"native/grpc-go", true, func(addr string) grpc.ClientConnInterface { return dial(t, addr) }},
		{"net-http/grpc-go", false, func(addr string) grpc.ClientConnInterface { return dial(t, addr) }},
		{"net-http/connect", false, func(addr string) grpc.ClientConnInterface {
			h2 := new(http.Protocols)
			h2.SetUnencryptedHTTP2(true)
			hc := &http.Client{Transport: &http.Transport{Protocols: h2}}
			t.Cleanup(hc.CloseIdleConnections)
			// It accepts gzip: the answers are random letters, which stay large.
			return polyrpc.NewClientConn(hc, "http://"+addr)
		}},
		{"native/polyrpc-grpc", true, func(addr string) grpc.ClientConnInterface {
			h2 := new(http.Protocols)
			h2.SetUnencryptedHTTP2(true)
			hc := &http.Client{Transport: &http.Transport{Protocols: h2}}
			t.Cleanup(hc.CloseIdleConnections)
			return polyrpc.NewClientConn(hc, "http://"+addr, connect.WithGRPC())
		}},
	}
	type run struct {
		name, route string
		native      bool
		cc          func(addr string) grpc.ClientConnInterface
	}
	var runs []run
	for _, c := range callers {
		runs = append(runs, run{c.name, "b2", c.native, c.cc})
	}
	runs = append(runs, run{"one2many/native/grpc-go", "many:b0,b1,b2", true, callers[0].cc})
	sent := func() int64 {
		var n int64
		for _, b := range f.backends {
			n += b.sent.Load()
		}
		return n
	}
	for _, c := range runs {
		t.Run(c.name, func(t *testing.T) {
			cc := c.cc(f.serveProxy(t, c.native))
			for _, b := range f.backends {
				b.sent.Store(0)
			}
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)

			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			st, err := cc.NewStream(route(ctx, c.route), &grpc.StreamDesc{ServerStreams: true}, mList)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.SendMsg(wrapperspb.String("count=2048;size=1048576")); err != nil {
				t.Fatal(err)
			}
			_ = st.CloseSend()
			if err := st.RecvMsg(&structpb.ListValue{}); err != nil {
				t.Fatal(err)
			}
			// The caller reads no more: the backend must stop.
			last, stable := int64(-1), 0
			for stable < 5 {
				time.Sleep(100 * time.Millisecond)
				n := sent()
				if n == last {
					stable++
				} else {
					stable = 0
				}
				last = n
				if ctx.Err() != nil {
					t.Fatalf("the backend keeps sending: %d messages", n)
				}
			}
			runtime.GC()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			t.Logf("the backends stopped after %d messages of 1 MiB; heap grew by %d MiB", last, growth>>20)
			if last > 160 {
				t.Errorf("the backend sent %d MiB to a caller that reads nothing", last)
			}
			if growth > 256<<20 {
				t.Errorf("the heap grew by %d MiB", growth>>20)
			}
			cancel()
		})
	}
}

// TestHostile sends what a proxy must refuse: messages past the receive
// limit, compressed bombs; the backend never sees them.
func TestHostile(t *testing.T) {
	f := newFixture(t)
	addr := f.serveProxy(t, true)
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	big := wrapperspb.String(strings.Repeat("x", 5<<20))
	before := f.backends[0].handlers.Load()

	t.Run("oversized", func(t *testing.T) {
		cc := dial(t, addr)
		err := cc.Invoke(ctx, mPing, big, &structpb.ListValue{}, grpc.MaxCallSendMsgSize(64<<20))
		if codeOf(err) != codes.ResourceExhausted {
			t.Errorf("5 MiB request = %v", err)
		}
	})
	t.Run("gzip bomb", func(t *testing.T) {
		// 5 MiB of protobuf in 5 KiB of gzip, posted by hand as gRPC (the
		// native path) and as Connect (net/http's path).
		msg, _ := proto.Marshal(big)
		var zipped bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&zipped, gzip.BestSpeed)
		_, _ = zw.Write(msg)
		_ = zw.Close()
		envelope := append([]byte{1, 0, 0, 0, 0}, zipped.Bytes()...)
		binary.BigEndian.PutUint32(envelope[1:], uint32(zipped.Len()))
		h2 := new(http.Protocols)
		h2.SetUnencryptedHTTP2(true)
		for _, c := range []struct {
			name, contentType string
			header            map[string]string
			body              []byte
		}{
			{"grpc", "application/grpc", map[string]string{"Grpc-Encoding": "gzip", "Te": "trailers"}, envelope},
			{"connect", "application/proto", map[string]string{"Content-Encoding": "gzip"}, zipped.Bytes()},
		} {
			hc := &http.Client{Transport: &http.Transport{Protocols: h2}}
			t.Cleanup(hc.CloseIdleConnections)
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+mPing, bytes.NewReader(c.body))
			req.Header.Set("Content-Type", c.contentType)
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			_ = resp.Body.Close()
			code := resp.Trailer.Get("Grpc-Status") + resp.Header.Get("Grpc-Status")
			if c.name == "connect" {
				code = strconv.Itoa(resp.StatusCode)
				if !bytes.Contains(body, []byte("resource_exhausted")) {
					code += " " + string(body)
				}
			}
			if want := map[string]string{"grpc": "8", "connect": "429"}[c.name]; code != want {
				t.Errorf("%s: gzip bomb answered %q, want %q", c.name, code, want)
			}
		}
	})
	t.Run("malformed message", func(t *testing.T) {
		// A request that is not the backend's type fails at the backend.
		cc := dial(t, addr)
		err := cc.Invoke(ctx, mPing, &structpb.ListValue{Values: []*structpb.Value{structpb.NewNumberValue(1)}}, &structpb.ListValue{})
		if codeOf(err) != codes.Internal {
			t.Errorf("malformed request = %v", err)
		}
	})
	if n := f.backends[0].handlers.Load(); n != before {
		t.Errorf("%d handlers still run", n-before)
	}
	_ = metadata.MD{}
}

// TestSlowBackend checks that a backend that stops reading stops its
// caller instead of growing the proxy's memory.
func TestSlowBackend(t *testing.T) {
	f := newFixture(t)
	for _, to := range []string{"b1", "many:b0,b1"} {
		for _, native := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/native=%v", to, native), func(t *testing.T) {
				cc := dial(t, f.serveProxy(t, native))
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
				defer cancel()
				st, err := cc.NewStream(route(ctx, to), bidi, mSink)
				if err != nil {
					t.Fatal(err)
				}
				var sent atomic.Int64
				go func() {
					msg := wrapperspb.String(incompressible(1 << 20))
					for st.SendMsg(msg) == nil {
						sent.Add(1)
					}
				}()
				last, stable := int64(-1), 0
				for stable < 5 {
					time.Sleep(100 * time.Millisecond)
					n := sent.Load()
					if n == last {
						stable++
					} else {
						stable = 0
					}
					last = n
					if ctx.Err() != nil {
						t.Fatalf("the caller keeps sending: %d messages", n)
					}
				}
				t.Logf("the caller stopped after %d messages of 1 MiB", last)
				if last > 160 {
					t.Errorf("the caller sent %d MiB to a backend that reads nothing", last)
				}
			})
		}
	}
}
