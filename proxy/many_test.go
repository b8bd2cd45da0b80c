package proxy_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/polyrpc/polyrpc/proxy"
)

// meta is the field-99 ResponseMetadata of an answer.
type meta struct {
	host, err string
	status    *spb.Status
}

func metaOf(t testing.TB, m proto.Message) meta {
	t.Helper()
	raw := m.ProtoReflect().GetUnknown()
	var out meta
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			t.Fatalf("bad unknown fields in %v", m)
		}
		l := protowire.ConsumeFieldValue(num, typ, raw[n:])
		if num == 99 && typ == protowire.BytesType {
			b, _ := protowire.ConsumeBytes(raw[n:])
			for len(b) > 0 {
				num, _, n := protowire.ConsumeTag(b)
				v, m := protowire.ConsumeBytes(b[n:])
				switch num {
				case 1:
					out.host = string(v)
				case 2:
					out.err = string(v)
				case 3:
					out.status = &spb.Status{}
					if err := proto.Unmarshal(v, out.status); err != nil {
						t.Fatal(err)
					}
				}
				b = b[n+m:]
			}
		}
		raw = raw[n+l:]
	}
	return out
}

// entry is the part of a merged reply that comes from one backend.
type entry struct {
	meta
	values []any
}

// entries splits a merged reply by the backend of its values.
func entries(t testing.TB, reply *structpb.ListValue) map[string]entry {
	t.Helper()
	out := map[string]entry{}
	for _, v := range reply.GetValues() {
		m := metaOf(t, v)
		if m.host == "" {
			t.Fatalf("value %v says no backend", v)
		}
		e := out[m.host]
		e.meta = m
		e.values = append(e.values, v.AsInterface())
		out[m.host] = e
	}
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestOne2Many(t *testing.T) {
	f := newFixture(t)
	f.eachClient(t, func(t *testing.T, c client) { one2many(t, c.cc) })
}

func TestOne2ManyGRPCServer(t *testing.T) {
	f := newFixture(t)
	one2many(t, dial(t, f.serveGRPCProxy(t)))
}

func one2many(t *testing.T, cc grpc.ClientConnInterface) {
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	all := []string{"b0", "b1", "b2"}

	t.Run("metadata reaches every backend", func(t *testing.T) {
		for range 5 {
			out := &structpb.ListValue{}
			ctx := metadata.AppendToOutgoingContext(route(ctx, "many:b0,b1,b2"), "x-client", "yes")
			if err := cc.Invoke(ctx, mPing, wrapperspb.String("foo"), out); err != nil {
				t.Fatal(err)
			}
			es := entries(t, out)
			if got := keys(es); !slices.Equal(got, all) {
				t.Fatalf("entries from %v", got)
			}
			for name, e := range es {
				if len(e.values) != 5 || e.values[0] != name || e.values[1] != "foo" || e.values[2] != "yes" || strings.Contains(e.values[3].(string), "x-route") {
					t.Errorf("%s: %v", name, e.values)
				}
			}
		}
	})

	t.Run("targets", func(t *testing.T) {
		for _, targets := range [][]string{{"b1", "b2"}, {"b2"}, {"b2", "b0", "b1"}} {
			out := &structpb.ListValue{}
			if err := cc.Invoke(route(ctx, "many:"+strings.Join(targets, ",")), mPing, wrapperspb.String("foo"), out); err != nil {
				t.Fatal(err)
			}
			// Merged in the director's order.
			var order []string
			for _, v := range out.GetValues() {
				if h := metaOf(t, v).host; len(order) == 0 || order[len(order)-1] != h {
					order = append(order, h)
				}
			}
			if !slices.Equal(order, targets) {
				t.Errorf("entries in the order %v, want %v", order, targets)
			}
		}
	})

	t.Run("headers and trailers come back", func(t *testing.T) {
		var header, trailer metadata.MD
		if err := cc.Invoke(route(ctx, "many:b0,b1,b2"), mPing, wrapperspb.String("foo"), &structpb.ListValue{}, grpc.Header(&header), grpc.Trailer(&trailer)); err != nil {
			t.Fatal(err)
		}
		if len(header.Get("x-server-header")) == 0 || len(header.Get("x-secret")) != 0 {
			t.Errorf("header = %v", header)
		}
		if got := slices.Sorted(slices.Values(trailer.Get("x-server-trailer"))); !slices.Equal(got, all) {
			t.Errorf("trailer = %v", trailer)
		}
	})

	t.Run("connection error is an entry", func(t *testing.T) {
		out := &structpb.ListValue{}
		if err := cc.Invoke(route(ctx, "many:b0,down,b2"), mPing, wrapperspb.String("foo"), out); err != nil {
			t.Fatal(err)
		}
		es := entries(t, out)
		if got := keys(es); !slices.Equal(got, []string{"b0", "b2", "down"}) {
			t.Fatalf("entries from %v", got)
		}
		if d := es["down"]; d.status == nil || codes.Code(d.status.GetCode()) != codes.Unavailable || !strings.Contains(d.err, "Unavailable") {
			t.Errorf("the entry of the backend that is down: %+v", d)
		}
		if v := es["b2"].values; len(v) != 5 || v[1] != "foo" {
			t.Errorf("b2: %v", v)
		}
	})

	t.Run("application errors are entries with details", func(t *testing.T) {
		out := &structpb.ListValue{}
		if err := cc.Invoke(route(ctx, "many:b0,b1,b2"), mFail, wrapperspb.String("foo"), out); err != nil {
			t.Fatal(err)
		}
		es := entries(t, out)
		if got := keys(es); !slices.Equal(got, all) {
			t.Fatalf("entries from %v", got)
		}
		for name, e := range es {
			if e.status == nil || codes.Code(e.status.GetCode()) != codes.FailedPrecondition || e.status.GetMessage() != userErr || len(e.status.GetDetails()) != 1 {
				t.Errorf("%s: %+v", name, e.meta)
			}
		}
	})

	t.Run("director error", func(t *testing.T) {
		err := cc.Invoke(route(ctx, "reject"), mPing, wrapperspb.String("foo"), &structpb.ListValue{})
		if codeOf(err) != codes.PermissionDenied {
			t.Errorf("rejected = %v", err)
		}
	})

	t.Run("full duplex", func(t *testing.T) {
		st, err := cc.NewStream(route(ctx, "many:b0,b1,b2"), bidi, mEcho)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if err := st.SendMsg(wrapperspb.String("m")); err != nil {
				t.Fatal(err)
			}
			var from []string
			for range 3 {
				out := &structpb.ListValue{}
				if err := st.RecvMsg(out); err != nil {
					t.Fatalf("Recv %d: %v", i, err)
				}
				m, v := metaOf(t, out), values(out)
				if len(v) != 3 || v[0] != m.host || v[2] != float64(i) {
					t.Fatalf("answer %d of %s: %v", i, m.host, v)
				}
				from = append(from, m.host)
			}
			if slices.Sort(from); !slices.Equal(from, all) {
				t.Fatalf("answers %d from %v", i, from)
			}
		}
		_ = st.CloseSend()
		if err := st.RecvMsg(&structpb.ListValue{}); !errors.Is(err, io.EOF) {
			t.Fatalf("end = %v", err)
		}
		if got := slices.Sorted(slices.Values(st.Trailer().Get("x-server-trailer"))); !slices.Equal(got, all) {
			t.Errorf("trailer = %v", st.Trailer())
		}
	})

	t.Run("server stream interleaved, failing mid-stream", func(t *testing.T) {
		got := listMany(t, ctx, cc, "many:b0,down,b1,b2", "count=4;fail=2;on=b1")
		want := map[string]int{"b0": 4, "b1": 2, "b2": 4}
		for name, n := range want {
			if len(got[name].answers) != n {
				t.Errorf("%s: %d answers, want %d", name, len(got[name].answers), n)
			}
		}
		if e := got["b1"].errs; len(e) != 1 || codes.Code(e[0].GetCode()) != codes.DataLoss || len(e[0].GetDetails()) != 1 {
			t.Errorf("b1's errors: %v", e)
		}
		if e := got["down"].errs; len(e) != 1 || codes.Code(e[0].GetCode()) != codes.Unavailable {
			t.Errorf("down's errors: %v", e)
		}
		for _, name := range []string{"b0", "b2"} {
			if len(got[name].errs) != 0 {
				t.Errorf("%s's errors: %v", name, got[name].errs)
			}
		}
	})

	t.Run("mode per call", func(t *testing.T) {
		// The director merges the answers of a streaming method on demand.
		ctx := metadata.AppendToOutgoingContext(route(ctx, "many:b0,b1"), "x-mode", "merged")
		st, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, mList)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.SendMsg(wrapperspb.String("count=3")); err != nil {
			t.Fatal(err)
		}
		_ = st.CloseSend()
		out := &structpb.ListValue{}
		if err := st.RecvMsg(out); err != nil {
			t.Fatal(err)
		}
		es := entries(t, out)
		if len(es["b0"].values) != 9 || len(es["b1"].values) != 9 { // 3 answers of 3 values
			t.Errorf("merged: %v", es)
		}
		if err := st.RecvMsg(&structpb.ListValue{}); !errors.Is(err, io.EOF) {
			t.Errorf("after the merged reply: %v", err)
		}
	})
}

type listed struct {
	answers [][]any
	errs    []*spb.Status
}

// listMany calls List on several backends and sorts the interleaved
// answers by backend, checking that each backend's come in order.
func listMany(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, to, commands string) map[string]*listed {
	t.Helper()
	st, err := cc.NewStream(route(ctx, to), &grpc.StreamDesc{ServerStreams: true}, mList)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SendMsg(wrapperspb.String(commands)); err != nil {
		t.Fatal(err)
	}
	_ = st.CloseSend()
	got := map[string]*listed{}
	for {
		out := &structpb.ListValue{}
		err := st.RecvMsg(out)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		m := metaOf(t, out)
		l := got[m.host]
		if l == nil {
			l = &listed{}
			got[m.host] = l
		}
		if m.status != nil {
			l.errs = append(l.errs, m.status)
			continue
		}
		v := values(out)
		if len(v) != 3 || v[0] != m.host || v[1] != float64(len(l.answers)) {
			t.Fatalf("answer %d of %s: %v", len(l.answers), m.host, v)
		}
		l.answers = append(l.answers, v)
	}
	return got
}

// TestOne2ManyLimits checks the concurrency bound, the backends'
// deadlines and the bounds of merged replies and of replayed requests.
func TestOne2ManyLimits(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(t.Context(), 4*callTimeout)
	defer cancel()

	t.Run("concurrency", func(t *testing.T) {
		cc := dial(t, f.serveProxy(t, true, proxy.WithConcurrency(1)))
		st, err := cc.NewStream(route(ctx, "many:b0,b1,b2"), &grpc.StreamDesc{ServerStreams: true}, mList)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_ = st.SendMsg(wrapperspb.String("count=3;sleep=20ms;on=*"))
		_ = st.CloseSend()
		var order []string
		for {
			out := &structpb.ListValue{}
			if err := st.RecvMsg(out); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			order = append(order, metaOf(t, out).host)
		}
		// One backend at a time: each backend's answers in one run.
		if len(order) != 9 || len(slices.Compact(slices.Clone(order))) != 3 {
			t.Errorf("answers from %v", order)
		}
		if d := time.Since(start); d < 9*20*time.Millisecond {
			t.Errorf("the backends answered in %v: at once", d)
		}
	})

	t.Run("backend deadline", func(t *testing.T) {
		cc := dial(t, f.serveProxy(t, true, proxy.WithBackendTimeout(300*time.Millisecond)))
		start := time.Now()
		got := listMany(t, ctx, cc, "many:b0,b1", "count=2;sleep=30s;on=b1")
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("the call took %v", d)
		}
		if len(got["b0"].answers) != 2 {
			t.Errorf("b0: %v", got["b0"])
		}
		if e := got["b1"].errs; len(e) != 1 || codes.Code(e[0].GetCode()) != codes.DeadlineExceeded {
			t.Errorf("b1: %v", got["b1"])
		}
	})

	t.Run("merged size", func(t *testing.T) {
		cc := dial(t, f.serveProxy(t, true, proxy.WithMaxMergedSize(1000)))
		ctx := metadata.AppendToOutgoingContext(route(ctx, "many:b0,b1"), "x-mode", "merged")
		st, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, mList)
		if err != nil {
			t.Fatal(err)
		}
		_ = st.SendMsg(wrapperspb.String("count=1;size=600"))
		_ = st.CloseSend()
		if err := st.RecvMsg(&structpb.ListValue{}); codeOf(err) != codes.ResourceExhausted {
			t.Errorf("a merged reply past the bound: %v", err)
		}
	})

	t.Run("replay bound", func(t *testing.T) {
		cc := dial(t, f.serveProxy(t, true, proxy.WithConcurrency(1), proxy.WithMaxReplaySize(100)))
		st, err := cc.NewStream(route(ctx, "many:b0,b1"), bidi, mEcho)
		if err != nil {
			t.Fatal(err)
		}
		var first string
		for i := range 10 {
			if err := st.SendMsg(wrapperspb.String(strings.Repeat("x", 50))); err != nil {
				t.Fatal(err)
			}
			out := &structpb.ListValue{}
			if err := st.RecvMsg(out); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = metaOf(t, out).host
			}
		}
		_ = st.CloseSend()
		out := &structpb.ListValue{}
		if err := st.RecvMsg(out); err != nil {
			t.Fatal(err)
		}
		m := metaOf(t, out)
		if m.host == first || m.status == nil || codes.Code(m.status.GetCode()) != codes.ResourceExhausted {
			t.Errorf("the backend that waited: %+v (first %s)", m, first)
		}
		if err := st.RecvMsg(out); !errors.Is(err, io.EOF) {
			t.Errorf("end = %v", err)
		}
	})
}

func codeOf(err error) codes.Code {
	return statusCode(err)
}
