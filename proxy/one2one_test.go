package proxy_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const callTimeout = 10 * time.Second

func TestOne2One(t *testing.T) {
	f := newFixture(t)
	f.eachClient(t, func(t *testing.T, c client) { one2one(t, f, c.cc) })
}

// TestOne2OneGRPCServer runs the proxy on a plain grpc.Server.
func TestOne2OneGRPCServer(t *testing.T) {
	f := newFixture(t)
	one2one(t, f, dial(t, f.serveGRPCProxy(t)))
}

func one2one(t *testing.T, f *fixture, cc grpc.ClientConnInterface) {
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()

	t.Run("metadata reaches the backend, by the rules", func(t *testing.T) {
		for range 10 {
			out := &structpb.ListValue{}
			ctx := metadata.AppendToOutgoingContext(route(ctx, "b1"), "x-client", "yes", "proxy-authorization", "secret")
			if err := cc.Invoke(ctx, mPing, wrapperspb.String("foo"), out); err != nil {
				t.Fatal(err)
			}
			v := values(out)
			if len(v) != 5 || v[0] != "b1" || v[1] != "foo" || v[2] != "yes" {
				t.Fatalf("Ping = %v", v)
			}
			keys := strings.Split(v[3].(string), ",")
			if !slices.Contains(keys, "x-client") || slices.Contains(keys, "x-route") || slices.Contains(keys, "proxy-authorization") {
				t.Errorf("the backend got the keys %q", keys)
			}
			if v[4] != true {
				t.Errorf("the backend's call has no deadline")
			}
		}
	})

	t.Run("headers and trailers come back, by the rules", func(t *testing.T) {
		var header, trailer metadata.MD
		if err := cc.Invoke(ctx, mPing, wrapperspb.String("foo"), &structpb.ListValue{}, grpc.Header(&header), grpc.Trailer(&trailer)); err != nil {
			t.Fatal(err)
		}
		if got := header.Get("x-server-header"); !slices.Equal(got, []string{"b0"}) {
			t.Errorf("header = %v", header)
		}
		if got := trailer.Get("x-server-trailer"); !slices.Equal(got, []string{"b0"}) {
			t.Errorf("trailer = %v", trailer)
		}
		if len(header.Get("x-secret")) != 0 || len(trailer.Get("x-secret-trailer")) != 0 {
			t.Errorf("denied keys crossed: header %v, trailer %v", header, trailer)
		}
	})

	t.Run("application error with details", func(t *testing.T) {
		err := cc.Invoke(ctx, mFail, wrapperspb.String("foo"), &structpb.ListValue{})
		st := status.Convert(err)
		if st.Code() != codes.FailedPrecondition || st.Message() != userErr {
			t.Fatalf("Fail = %v", err)
		}
		if d := st.Details(); len(d) != 1 || !proto.Equal(d[0].(proto.Message), wrapperspb.String("the detail")) {
			t.Errorf("details = %v", d)
		}
		err = cc.Invoke(ctx, "/"+testService+"/Nope", wrapperspb.String("foo"), &structpb.ListValue{})
		if status.Code(err) != codes.Unimplemented {
			t.Errorf("unknown method of the backend = %v", err)
		}
	})

	t.Run("connection error", func(t *testing.T) {
		err := cc.Invoke(route(ctx, "down"), mPing, wrapperspb.String("foo"), &structpb.ListValue{})
		if status.Code(err) != codes.Unavailable {
			t.Errorf("Ping to a backend that is down = %v", err)
		}
		st, err := cc.NewStream(route(ctx, "down"), bidi, mEcho)
		if err == nil {
			_ = st.CloseSend()
			err = st.RecvMsg(&structpb.ListValue{})
		}
		if status.Code(err) != codes.Unavailable {
			t.Errorf("Echo to a backend that is down = %v", err)
		}
	})

	t.Run("director error", func(t *testing.T) {
		err := cc.Invoke(route(ctx, "reject"), mPing, wrapperspb.String("foo"), &structpb.ListValue{})
		if s := status.Convert(err); s.Code() != codes.PermissionDenied || s.Message() != "testing rejection" {
			t.Errorf("rejected = %v", err)
		}
	})

	t.Run("full duplex", func(t *testing.T) {
		for range 5 {
			echo(t, ctx, cc, "b2", 20)
		}
	})

	t.Run("concurrent streams", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() { echo(t, ctx, cc, "b"+strconv.Itoa(i%3), 10) })
		}
		wg.Wait()
	})

	t.Run("server stream, failing mid-stream", func(t *testing.T) {
		st, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, mList)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.SendMsg(wrapperspb.String("count=5;fail=3")); err != nil {
			t.Fatal(err)
		}
		_ = st.CloseSend()
		n := 0
		for {
			err = st.RecvMsg(&structpb.ListValue{})
			if err != nil {
				break
			}
			n++
		}
		s := status.Convert(err)
		if n != 3 || s.Code() != codes.DataLoss || len(s.Details()) != 1 ||
			!proto.Equal(s.Details()[0].(proto.Message), wrapperspb.String("detail of b0")) {
			t.Errorf("%d answers, then %v (details %v)", n, err, s.Details())
		}
	})

	t.Run("client stream", func(t *testing.T) {
		st, err := cc.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true}, mSum)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"1", "2", "3"} {
			if err := st.SendMsg(wrapperspb.String(v)); err != nil {
				t.Fatal(err)
			}
		}
		_ = st.CloseSend()
		out := &structpb.ListValue{}
		if err := st.RecvMsg(out); err != nil {
			t.Fatal(err)
		}
		if v := values(out); len(v) != 2 || v[1] != "1+2+3" {
			t.Errorf("Sum = %v", v)
		}
	})

	t.Run("stress", func(t *testing.T) {
		for i := range 100 {
			out := &structpb.ListValue{}
			if err := cc.Invoke(ctx, mPing, wrapperspb.String(strconv.Itoa(i)), out); err != nil {
				t.Fatal(err)
			}
			if v := values(out); v[1] != strconv.Itoa(i) {
				t.Fatalf("Ping %d = %v", i, v)
			}
		}
	})
}

// echo runs a full-duplex stream of n requests: each answer comes before
// the next request, the header before the first answer, the trailer at the
// end.
func echo(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, to string, n int) {
	st, err := cc.NewStream(route(ctx, to), bidi, mEcho)
	if err != nil {
		t.Error(err)
		return
	}
	for i := range n {
		if err := st.SendMsg(wrapperspb.String("m" + strconv.Itoa(i))); err != nil {
			t.Errorf("Send: %v", err)
			return
		}
		out := &structpb.ListValue{}
		if err := st.RecvMsg(out); err != nil {
			t.Errorf("Recv %d: %v", i, err)
			return
		}
		if v := values(out); len(v) != 3 || v[0] != to || v[1] != "m"+strconv.Itoa(i) || v[2] != float64(i) {
			t.Errorf("answer %d = %v", i, v)
			return
		}
		if i == 0 {
			if h, err := st.Header(); err != nil || !slices.Equal(h.Get("x-server-header"), []string{to}) {
				t.Errorf("header = %v, %v", h, err)
			}
		}
	}
	if err := st.CloseSend(); err != nil {
		t.Errorf("CloseSend: %v", err)
	}
	if err := st.RecvMsg(&structpb.ListValue{}); !errors.Is(err, io.EOF) {
		t.Errorf("end = %v", err)
	}
	if got := st.Trailer().Get("x-server-trailer"); !slices.Equal(got, []string{to}) {
		t.Errorf("trailer = %v", st.Trailer())
	}
}
