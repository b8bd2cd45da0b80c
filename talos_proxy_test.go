package polyrpc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	gproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/polyrpc/polyrpc"
)

// The behaviours that the Talos transparent proxy (siderolabs/grpc-proxy)
// tests, with a small director-based proxy in its manner on a Server: raw
// frames under a forced codec, a director that picks one backend or several
// per call, and for several backends unary answers concatenated (the
// repeated field 1 of the reply merges) and streamed answers interleaved,
// every entry attributed to its backend in field 99 and a failed backend
// turned into an entry that carries its error. The proxy is the Server's
// UnknownServiceHandler, and is registered as a service for one method too,
// as siderolabs' RegisterService does.

const (
	talosService  = "polyrpc.talos.Multi"
	talosPing     = "/" + talosService + "/Ping"     // unary: StringValue -> ListValue
	talosFail     = "/" + talosService + "/Fail"     // unary, always FailedPrecondition
	talosEcho     = "/" + talosService + "/Echo"     // bidi: StringValue -> ListValue
	talosEchoFail = "/" + talosService + "/EchoFail" // bidi, always FailedPrecondition
	talosMetaNum  = 99                               // the field of an entry's backend
	talosUserErr  = "Userspace error."
)

// talosFrame is a message of the proxy: its bytes as on the wire.
type talosFrame struct{ b []byte }

// talosCodec passes frames through and marshals other messages with
// grpc-go's proto codec.
type talosCodec struct{}

func (talosCodec) Name() string { return "proto" }

func (talosCodec) Marshal(v any) (mem.BufferSlice, error) {
	if f, ok := v.(*talosFrame); ok {
		return mem.BufferSlice{mem.SliceBuffer(f.b)}, nil
	}
	return encoding.GetCodecV2(gproto.Name).Marshal(v)
}

func (talosCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if f, ok := v.(*talosFrame); ok {
		f.b = data.Materialize()
		return nil
	}
	return encoding.GetCodecV2(gproto.Name).Unmarshal(data, v)
}

// talosBackend is a backend of the proxy.
type talosBackend struct {
	name string
	conn *grpc.ClientConn
}

// talosDirector picks the backends of a call: one, forwarded as it is, or
// several (many).
type talosDirector func(ctx context.Context, method string) (many bool, backends []*talosBackend, err error)

func talosProxy(director talosDirector) grpc.StreamHandler {
	return func(_ any, ss grpc.ServerStream) error {
		method, ok := grpc.MethodFromServerStream(ss)
		if !ok {
			return status.Error(codes.Internal, "no method in the stream")
		}
		many, backends, err := director(ss.Context(), method)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(ss.Context())
		defer cancel()
		md, _ := metadata.FromIncomingContext(ctx)
		ctx = metadata.NewOutgoingContext(ctx, md.Copy())
		if !many {
			return talosOne(ctx, ss, method, backends[0])
		}
		return talosMany(ctx, ss, method, backends)
	}
}

var talosDesc = &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}

// talosOne forwards a call to one backend as it is.
func talosOne(ctx context.Context, ss grpc.ServerStream, method string, b *talosBackend) error {
	cs, err := grpc.NewClientStream(ctx, talosDesc, b.conn, method)
	if err != nil {
		return err
	}
	up := make(chan error, 1)
	go func() {
		for {
			f := &talosFrame{}
			if err := ss.RecvMsg(f); err != nil {
				if err == io.EOF {
					err = cs.CloseSend()
				}
				up <- err
				return
			}
			if err := cs.SendMsg(f); err != nil {
				up <- nil // the backend's status says why
				return
			}
		}
	}()
	down := make(chan error, 1)
	go func() {
		if h, err := cs.Header(); err == nil {
			if err := ss.SendHeader(h); err != nil {
				down <- err
				return
			}
		}
		for {
			f := &talosFrame{}
			if err := cs.RecvMsg(f); err != nil {
				ss.SetTrailer(cs.Trailer())
				if err == io.EOF {
					err = nil
				}
				down <- err
				return
			}
			if err := ss.SendMsg(f); err != nil {
				down <- err
				return
			}
		}
	}()
	for {
		select {
		case err := <-up:
			if err != nil {
				return status.Errorf(codes.Internal, "receiving from the client: %v", err)
			}
			up = nil
		case err := <-down:
			return err
		}
	}
}

// talosStreamed reports whether the answers of a method to several
// backends are interleaved rather than merged.
func talosStreamed(method string) bool { return method == talosEcho || method == talosEchoFail }

// talosMark appends the backend's name in field 99 to each entry of a
// merged reply (streamed: to the message).
func talosMark(name string, streamed bool, msg []byte) ([]byte, error) {
	meta := protowire.AppendString(protowire.AppendTag(nil, talosMetaNum, protowire.BytesType), name)
	if streamed {
		return append(msg, meta...), nil
	}
	var out []byte
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, msg[n:])
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		if num == 1 && typ == protowire.BytesType {
			entry, _ := protowire.ConsumeBytes(msg[n:])
			out = protowire.AppendTag(out, 1, protowire.BytesType)
			out = protowire.AppendBytes(out, append(slices.Clone(entry), meta...))
		} else {
			out = append(out, msg[:n+m]...)
		}
		msg = msg[n+m:]
	}
	return out, nil
}

// talosErrorEntry is the entry of a failed backend: a ListValue of one
// value that says the error (streamed: the message itself, else the entry
// of the reply).
func talosErrorEntry(name string, streamed bool, err error) []byte {
	text := fmt.Sprintf("error %s: %s", status.Code(err), status.Convert(err).Message())
	b, _ := proto.Marshal(&structpb.ListValue{Values: []*structpb.Value{structpb.NewStringValue(text)}})
	b, _ = talosMark(name, false, b)
	if streamed {
		// One ListValue message with the marked value, plus the mark.
		return append(b, protowire.AppendString(protowire.AppendTag(nil, talosMetaNum, protowire.BytesType), name)...)
	}
	return b
}

// talosMany forwards a call to several backends.
func talosMany(ctx context.Context, ss grpc.ServerStream, method string, backends []*talosBackend) error {
	streamed := talosStreamed(method)
	var sendMu sync.Mutex // SendMsg, SetHeader and SetTrailer from several goroutines
	send := func(b []byte) error {
		sendMu.Lock()
		defer sendMu.Unlock()
		return ss.SendMsg(&talosFrame{b: b})
	}
	streams := make([]grpc.ClientStream, len(backends))
	entries := make([][]byte, len(backends))
	for i, b := range backends {
		cs, err := grpc.NewClientStream(ctx, talosDesc, b.conn, method)
		if err != nil {
			entries[i] = talosErrorEntry(b.name, streamed, err)
			continue
		}
		streams[i] = cs
	}
	// Requests go to every backend.
	go func() {
		for {
			f := &talosFrame{}
			err := ss.RecvMsg(f)
			for _, cs := range streams {
				if cs == nil {
					continue
				}
				if err == io.EOF {
					_ = cs.CloseSend()
				} else if err == nil {
					_ = cs.SendMsg(f)
				}
			}
			if err != nil {
				return // a failed receive ends the call with its own status
			}
		}
	}()
	var wg sync.WaitGroup
	for i, cs := range streams {
		if cs == nil {
			if streamed {
				if err := send(entries[i]); err != nil {
					return err
				}
			}
			continue
		}
		wg.Go(func() {
			name := backends[i].name
			var got []byte
			first := true
			for {
				f := &talosFrame{}
				err := cs.RecvMsg(f)
				if first && err == nil || err == io.EOF {
					if h, herr := cs.Header(); herr == nil {
						sendMu.Lock()
						_ = ss.SetHeader(h) // fails once the headers are sent
						sendMu.Unlock()
					}
				}
				first = false
				if err == io.EOF {
					sendMu.Lock()
					ss.SetTrailer(cs.Trailer())
					sendMu.Unlock()
					entries[i] = got
					return
				}
				if err != nil {
					if streamed {
						_ = send(talosErrorEntry(name, true, err))
					} else {
						entries[i] = talosErrorEntry(name, false, err)
					}
					return
				}
				b, merr := talosMark(name, streamed, f.b)
				if merr != nil {
					b = talosErrorEntry(name, streamed, merr)
				}
				if streamed {
					if err := send(b); err != nil {
						return
					}
				} else {
					got = append(got, b...)
				}
			}
		})
	}
	wg.Wait()
	if streamed {
		return nil
	}
	return send(slices.Concat(entries...))
}

// talosServer is a backend: it answers with its name, the request and the
// client's x-client metadata, sends headers and trailers, and fails on
// demand.
type talosServer struct{ name string }

func (s talosServer) answer(v string, i int) *structpb.ListValue {
	return &structpb.ListValue{Values: []*structpb.Value{
		structpb.NewStringValue(s.name), structpb.NewStringValue(v), structpb.NewNumberValue(float64(i)),
	}}
}

func (s talosServer) ping(ctx context.Context, req *wrapperspb.StringValue) (*structpb.ListValue, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if err := grpc.SendHeader(ctx, metadata.Pairs("x-server-header", s.name)); err != nil {
		return nil, err
	}
	if err := grpc.SetTrailer(ctx, metadata.Pairs("x-server-trailer", s.name)); err != nil {
		return nil, err
	}
	return s.answer(req.GetValue()+"|client="+strings.Join(md.Get("x-client"), ","), 42), nil
}

func (s talosServer) echo(stream grpc.ServerStream) error {
	if err := stream.SendHeader(metadata.Pairs("x-server-header", s.name)); err != nil {
		return err
	}
	for i := 0; ; i++ {
		req := &wrapperspb.StringValue{}
		if err := stream.RecvMsg(req); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		if err := stream.SendMsg(s.answer(req.GetValue(), i)); err != nil {
			return err
		}
	}
	stream.SetTrailer(metadata.Pairs("x-server-trailer", s.name))
	return nil
}

func talosUnary(h func(talosServer, context.Context, *wrapperspb.StringValue) (*structpb.ListValue, error)) grpc.MethodHandler {
	return func(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
		req := &wrapperspb.StringValue{}
		if err := dec(req); err != nil {
			return nil, err
		}
		return h(srv.(talosServer), ctx, req)
	}
}

var talosServiceDesc = grpc.ServiceDesc{
	ServiceName: talosService,
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Ping", Handler: talosUnary(talosServer.ping)},
		{MethodName: "Fail", Handler: talosUnary(func(talosServer, context.Context, *wrapperspb.StringValue) (*structpb.ListValue, error) {
			return nil, status.Error(codes.FailedPrecondition, talosUserErr)
		})},
	},
	Streams: []grpc.StreamDesc{
		{StreamName: "Echo", ClientStreams: true, ServerStreams: true, Handler: func(srv any, stream grpc.ServerStream) error {
			return srv.(talosServer).echo(stream)
		}},
		{StreamName: "EchoFail", ClientStreams: true, ServerStreams: true, Handler: func(any, grpc.ServerStream) error {
			return status.Error(codes.FailedPrecondition, talosUserErr)
		}},
	},
}

const talosBackends = 3

// newTalosProxy starts the backends and a Server that proxies to them:
// without x-targets metadata a call goes to backend 0 alone; with it, to
// the backends it lists, -1 being a backend that is down. x-reject makes
// the director refuse the call.
func newTalosProxy(t *testing.T, opts ...polyrpc.ServerOption) *polyrpc.Server {
	t.Helper()
	dial := func(addr string) *grpc.ClientConn {
		conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.ForceCodecV2(talosCodec{})))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return conn
	}
	backends := make([]*talosBackend, talosBackends)
	for i := range backends {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		name := "server" + strconv.Itoa(i)
		gs := grpc.NewServer()
		gs.RegisterService(&talosServiceDesc, talosServer{name: name})
		go func() { _ = gs.Serve(lis) }()
		t.Cleanup(gs.Stop)
		backends[i] = &talosBackend{name: name, conn: dial(lis.Addr().String())}
	}
	// A backend that is down: nothing listens at its address.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downAddr := lis.Addr().String()
	_ = lis.Close()
	down := &talosBackend{name: "server-1", conn: dial(downAddr)}

	director := func(ctx context.Context, _ string) (bool, []*talosBackend, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		if len(md.Get("x-reject")) != 0 {
			return false, nil, status.Error(codes.PermissionDenied, "testing rejection")
		}
		if len(md.Get("x-down")) != 0 {
			return false, []*talosBackend{down}, nil
		}
		targets := md.Get("x-targets")
		if len(targets) == 0 {
			return false, backends[:1], nil
		}
		var picked []*talosBackend
		for _, target := range strings.Split(strings.Join(targets, ","), ",") {
			i, err := strconv.Atoi(strings.TrimSpace(target))
			switch {
			case err != nil || i < -1 || i >= len(backends):
				return false, nil, status.Errorf(codes.InvalidArgument, "bad target %q", target)
			case i == -1:
				picked = append(picked, down)
			default:
				picked = append(picked, backends[i])
			}
		}
		return true, picked, nil
	}
	handler := talosProxy(director)
	opts = append(opts, polyrpc.ForceServerCodecV2(talosCodec{}), polyrpc.UnknownServiceHandler(handler))
	s := polyrpc.NewServer(opts...)
	// Echo is a registered method served by the proxy, as with
	// siderolabs' RegisterService; the service's other methods are unknown
	// ones, which go to the UnknownServiceHandler.
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: talosService,
		HandlerType: (*any)(nil),
		Streams:     []grpc.StreamDesc{{StreamName: "Echo", Handler: handler, ClientStreams: true, ServerStreams: true}},
	}, nil)
	return s
}

// talosClients returns the clients of a proxy at addr: grpc-go, and
// polyrpc's over gRPC, gRPC-Web and Connect on HTTP/2.
func talosClients(t *testing.T, addr string) map[string]grpc.ClientConnInterface {
	t.Helper()
	h2 := new(http.Protocols)
	h2.SetUnencryptedHTTP2(true)
	clients := map[string]grpc.ClientConnInterface{"grpc-go": dialGRPC(t, "http://"+addr)}
	for _, p := range protocols {
		// A connection of its own: Serve sorts a connection to the native
		// gRPC path or to net/http's by its first call.
		hc := &http.Client{Transport: &http.Transport{Protocols: h2}}
		t.Cleanup(hc.CloseIdleConnections)
		clients[p.name] = polyrpc.NewClientConn(hc, "http://"+addr, p.opts...)
	}
	return clients
}

// talosEntry is an entry of an answer: the backend that the proxy says it
// comes from, and its values.
type talosEntry struct {
	backend string
	values  []*structpb.Value
}

// talosMarkOf returns the field-99 mark in a message's unknown fields.
func talosMarkOf(m proto.Message) string {
	raw := m.ProtoReflect().GetUnknown()
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return ""
		}
		if num == talosMetaNum && typ == protowire.BytesType {
			v, _ := protowire.ConsumeString(raw[n:])
			return v
		}
		m := protowire.ConsumeFieldValue(num, typ, raw[n:])
		if m < 0 {
			return ""
		}
		raw = raw[n+m:]
	}
	return ""
}

// checkTalosEntries checks that the entries come from the backends named
// (each once), that each backend's own answer says its name as the proxy
// does, and returns them by backend.
func checkTalosEntries(t *testing.T, entries []talosEntry, want ...string) map[string]talosEntry {
	t.Helper()
	by := make(map[string]talosEntry)
	for _, e := range entries {
		if _, dup := by[e.backend]; dup {
			t.Errorf("two entries from %q", e.backend)
		}
		by[e.backend] = e
		if len(e.values) == 0 {
			t.Errorf("entry of %q has no values", e.backend)
			continue
		}
		if first := e.values[0].GetStringValue(); !strings.HasPrefix(first, "error ") && first != e.backend {
			t.Errorf("the proxy says %q, the backend says %q", e.backend, first)
		}
	}
	if len(by) != len(want) {
		t.Errorf("entries from %v, want %v", slices.Sorted(maps.Keys(by)), want)
	}
	for _, w := range want {
		if _, ok := by[w]; !ok {
			t.Errorf("no entry from %q", w)
		}
	}
	return by
}

// unaryEntries splits a merged reply into the backends' entries: the runs
// of values that the proxy marks with the same backend.
func unaryEntries(reply *structpb.ListValue) []talosEntry {
	var out []talosEntry
	for _, v := range reply.GetValues() {
		mark := talosMarkOf(v)
		if n := len(out); n > 0 && out[n-1].backend == mark {
			out[n-1].values = append(out[n-1].values, v)
			continue
		}
		out = append(out, talosEntry{backend: mark, values: []*structpb.Value{v}})
	}
	return out
}

// talosPingMany calls Ping on the backends listed.
func talosPingMany(ctx context.Context, cc grpc.ClientConnInterface, method string, targets string, opts ...grpc.CallOption) ([]talosEntry, error) {
	ctx = metadata.AppendToOutgoingContext(ctx, "x-targets", targets, "x-client", "true")
	reply := &structpb.ListValue{}
	if err := cc.Invoke(ctx, method, wrapperspb.String("foo"), reply, opts...); err != nil {
		return nil, err
	}
	return unaryEntries(reply), nil
}

func TestTalosProxy(t *testing.T) {
	for _, path := range []struct {
		name string
		opts []polyrpc.ServerOption
	}{
		{"native", nil},
		{"net-http", []polyrpc.ServerOption{polyrpc.NativeGRPC(false)}},
	} {
		t.Run(path.name, func(t *testing.T) {
			s := newTalosProxy(t, path.opts...)
			addr, _ := serveTCP(t, s)
			for name, cc := range talosClients(t, addr) {
				t.Run(name, func(t *testing.T) {
					t.Run("one2one", func(t *testing.T) { talosOne2One(t, cc) })
					t.Run("one2many", func(t *testing.T) { talosOne2Many(t, cc) })
				})
			}
		})
	}
}

// talosTimeout bounds a group of calls, so that a proxy that hangs fails
// the test.
const talosTimeout = 10 * time.Second

func talosOne2One(t *testing.T, cc grpc.ClientConnInterface) {
	ctx, cancel := context.WithTimeout(t.Context(), talosTimeout)
	defer cancel()

	t.Run("client metadata reaches the backend", func(t *testing.T) {
		for range 20 {
			out := &structpb.ListValue{}
			err := cc.Invoke(metadata.AppendToOutgoingContext(ctx, "x-client", "true"), talosPing, wrapperspb.String("foo"), out)
			if err != nil {
				t.Fatal(err)
			}
			if v := out.GetValues(); len(v) != 3 || v[0].GetStringValue() != "server0" ||
				v[1].GetStringValue() != "foo|client=true" || v[2].GetNumberValue() != 42 {
				t.Fatalf("Ping = %v", out)
			}
		}
	})

	t.Run("server headers and trailers come back", func(t *testing.T) {
		var header, trailer metadata.MD
		out := &structpb.ListValue{}
		if err := cc.Invoke(ctx, talosPing, wrapperspb.String("foo"), out, grpc.Header(&header), grpc.Trailer(&trailer)); err != nil {
			t.Fatal(err)
		}
		if got := header.Get("x-server-header"); !slices.Equal(got, []string{"server0"}) {
			t.Errorf("header x-server-header = %q (%v)", got, header)
		}
		if got := trailer.Get("x-server-trailer"); !slices.Equal(got, []string{"server0"}) {
			t.Errorf("trailer x-server-trailer = %q (%v)", got, trailer)
		}
	})

	t.Run("application error", func(t *testing.T) {
		err := cc.Invoke(ctx, talosFail, wrapperspb.String("foo"), &structpb.ListValue{})
		if s := status.Convert(err); s.Code() != codes.FailedPrecondition || s.Message() != talosUserErr {
			t.Errorf("Fail = %v", err)
		}
		err = cc.Invoke(ctx, "/"+talosService+"/NoSuchMethod", wrapperspb.String("foo"), &structpb.ListValue{})
		if status.Code(err) != codes.Unimplemented {
			t.Errorf("unknown method of the backend = %v", err)
		}
	})

	t.Run("connection error", func(t *testing.T) {
		ctx := metadata.AppendToOutgoingContext(ctx, "x-down", "true")
		err := cc.Invoke(ctx, talosPing, wrapperspb.String("foo"), &structpb.ListValue{})
		if status.Code(err) != codes.Unavailable {
			t.Errorf("Ping to a backend that is down = %v, want Unavailable", err)
		}
		st, err := cc.NewStream(ctx, talosDesc, talosEcho)
		if err == nil {
			_ = st.CloseSend()
			err = st.RecvMsg(&structpb.ListValue{})
		}
		if status.Code(err) != codes.Unavailable {
			t.Errorf("Echo to a backend that is down = %v, want Unavailable", err)
		}
	})

	t.Run("director error", func(t *testing.T) {
		err := cc.Invoke(metadata.AppendToOutgoingContext(ctx, "x-reject", "true"), talosPing, wrapperspb.String("foo"), &structpb.ListValue{})
		if s := status.Convert(err); s.Code() != codes.PermissionDenied || s.Message() != "testing rejection" {
			t.Errorf("rejected = %v", err)
		}
	})

	t.Run("full duplex", func(t *testing.T) {
		for range 10 {
			talosEchoOne(t, ctx, cc, 20)
		}
	})

	t.Run("concurrent streams", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() { talosEchoOne(t, ctx, cc, 10) })
		}
		wg.Wait()
	})

	t.Run("application error on a stream", func(t *testing.T) {
		st, err := cc.NewStream(ctx, talosDesc, talosEchoFail)
		if err != nil {
			t.Fatal(err)
		}
		_ = st.CloseSend()
		err = st.RecvMsg(&structpb.ListValue{})
		if s := status.Convert(err); s.Code() != codes.FailedPrecondition || s.Message() != talosUserErr {
			t.Errorf("EchoFail = %v", err)
		}
	})
}

// talosEchoOne runs a full-duplex stream of n pings to backend 0: each
// answer comes before the next ping, the header before the first answer,
// the trailer at the end.
func talosEchoOne(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, n int) {
	st, err := cc.NewStream(ctx, talosDesc, talosEcho)
	if err != nil {
		t.Error(err)
		return
	}
	for i := range n {
		if err := st.SendMsg(wrapperspb.String("foo:" + strconv.Itoa(i))); err != nil {
			t.Errorf("Send: %v", err)
			return
		}
		out := &structpb.ListValue{}
		if err := st.RecvMsg(out); err != nil {
			t.Errorf("Recv %d: %v", i, err)
			return
		}
		if v := out.GetValues(); len(v) != 3 || v[0].GetStringValue() != "server0" ||
			v[1].GetStringValue() != "foo:"+strconv.Itoa(i) || v[2].GetNumberValue() != float64(i) {
			t.Errorf("answer %d = %v", i, out)
			return
		}
		if i == 0 {
			if h, err := st.Header(); err != nil || !slices.Equal(h.Get("x-server-header"), []string{"server0"}) {
				t.Errorf("stream header = %v, %v", h, err)
			}
		}
	}
	if err := st.CloseSend(); err != nil {
		t.Errorf("CloseSend: %v", err)
	}
	if err := st.RecvMsg(&structpb.ListValue{}); err != io.EOF {
		t.Errorf("end of stream = %v, want io.EOF", err)
	}
	if got := st.Trailer().Get("x-server-trailer"); !slices.Equal(got, []string{"server0"}) {
		t.Errorf("stream trailer = %v", st.Trailer())
	}
}

func talosOne2Many(t *testing.T, cc grpc.ClientConnInterface) {
	ctx, cancel := context.WithTimeout(t.Context(), talosTimeout)
	defer cancel()
	all := []string{"server0", "server1", "server2"}

	t.Run("client metadata reaches every backend", func(t *testing.T) {
		for range 10 {
			entries, err := talosPingMany(ctx, cc, talosPing, "0,1,2")
			if err != nil {
				t.Fatal(err)
			}
			for name, e := range checkTalosEntries(t, entries, all...) {
				if len(e.values) != 3 || e.values[1].GetStringValue() != "foo|client=true" || e.values[2].GetNumberValue() != 42 {
					t.Errorf("%s: %v", name, e.values)
				}
			}
		}
	})

	t.Run("targets", func(t *testing.T) {
		for _, targets := range [][]string{{"1", "2"}, {"2", "1", "0"}, {"0"}} {
			entries, err := talosPingMany(ctx, cc, talosPing, strings.Join(targets, ","))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, target := range targets {
				want = append(want, "server"+target)
			}
			checkTalosEntries(t, entries, want...)
		}
	})

	t.Run("server headers and trailers come back", func(t *testing.T) {
		var header, trailer metadata.MD
		entries, err := talosPingMany(ctx, cc, talosPing, "0,1,2", grpc.Header(&header), grpc.Trailer(&trailer))
		if err != nil {
			t.Fatal(err)
		}
		checkTalosEntries(t, entries, all...)
		if got := header.Get("x-server-header"); len(got) == 0 {
			t.Errorf("no x-server-header in %v", header)
		}
		if got := slices.Sorted(slices.Values(trailer.Get("x-server-trailer"))); !slices.Equal(got, all) {
			t.Errorf("trailer x-server-trailer = %q, want every backend's", got)
		}
	})

	t.Run("connection error", func(t *testing.T) {
		entries, err := talosPingMany(ctx, cc, talosPing, "0,-1,2")
		if err != nil {
			t.Fatal(err)
		}
		by := checkTalosEntries(t, entries, "server0", "server-1", "server2")
		if v := by["server-1"].values; len(v) != 1 || !strings.HasPrefix(v[0].GetStringValue(), "error Unavailable: ") {
			t.Errorf("down backend's entry = %v", v)
		}
		if v := by["server2"].values; len(v) != 3 || v[1].GetStringValue() != "foo|client=true" {
			t.Errorf("server2's entry = %v", v)
		}
	})

	t.Run("application error", func(t *testing.T) {
		entries, err := talosPingMany(ctx, cc, talosFail, "0,1,2")
		if err != nil {
			t.Fatalf("the errors should be entries of the reply: %v", err)
		}
		for name, e := range checkTalosEntries(t, entries, all...) {
			if len(e.values) != 1 || e.values[0].GetStringValue() != "error FailedPrecondition: "+talosUserErr {
				t.Errorf("%s: %v", name, e.values)
			}
		}
	})

	t.Run("director error", func(t *testing.T) {
		ctx := metadata.AppendToOutgoingContext(ctx, "x-reject", "true")
		_, err := talosPingMany(ctx, cc, talosPing, "0,1")
		if s := status.Convert(err); s.Code() != codes.PermissionDenied || s.Message() != "testing rejection" {
			t.Errorf("rejected = %v", err)
		}
	})

	t.Run("full duplex", func(t *testing.T) {
		for range 5 {
			talosEchoMany(t, ctx, cc, 10)
		}
	})

	t.Run("full duplex concurrent", func(t *testing.T) {
		const n = 20
		st, err := cc.NewStream(metadata.AppendToOutgoingContext(ctx, "x-targets", "0,1,2"), talosDesc, talosEcho)
		if err != nil {
			t.Fatal(err)
		}
		sent := make(chan error, 1)
		go func() {
			for i := range n {
				if err := st.SendMsg(wrapperspb.String("foo:" + strconv.Itoa(i))); err != nil {
					sent <- err
					return
				}
			}
			sent <- st.CloseSend()
		}()
		next := map[string]int{}
		for range n * talosBackends {
			out := &structpb.ListValue{}
			if err := st.RecvMsg(out); err != nil {
				t.Fatalf("Recv: %v", err)
			}
			name, v := talosMarkOf(out), out.GetValues()
			if len(v) != 3 || v[0].GetStringValue() != name || v[2].GetNumberValue() != float64(next[name]) {
				t.Fatalf("answer of %q = %v, want counter %d", name, out, next[name])
			}
			next[name]++
		}
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
		if err := st.RecvMsg(&structpb.ListValue{}); err != io.EOF {
			t.Errorf("end of stream = %v", err)
		}
		if len(next) != talosBackends {
			t.Errorf("answers from %v", next)
		}
	})

	t.Run("application and connection errors on a stream", func(t *testing.T) {
		for _, c := range []struct {
			method, targets string
			errors          int
		}{
			{talosEchoFail, "0,1,2", 3},
			{talosEcho, "0,-1,2", 1},
		} {
			st, err := cc.NewStream(metadata.AppendToOutgoingContext(ctx, "x-targets", c.targets), talosDesc, c.method)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.CloseSend(); err != nil {
				t.Fatal(err)
			}
			var errs []string
			for {
				out := &structpb.ListValue{}
				err := st.RecvMsg(out)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("%s: %v", c.method, err)
				}
				if s := out.GetValues()[0].GetStringValue(); strings.HasPrefix(s, "error ") {
					errs = append(errs, talosMarkOf(out)+": "+s)
				}
			}
			if len(errs) != c.errors {
				t.Errorf("%s to %s: errors %q, want %d", c.method, c.targets, errs, c.errors)
			}
			for _, e := range errs {
				if c.method == talosEchoFail && !strings.HasSuffix(e, "error FailedPrecondition: "+talosUserErr) ||
					c.method == talosEcho && !strings.HasPrefix(e, "server-1: error Unavailable: ") {
					t.Errorf("%s: error entry %q", c.method, e)
				}
			}
		}
	})
}

// talosEchoMany runs a full-duplex stream of n pings to every backend: each
// ping is answered by each backend before the next.
func talosEchoMany(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, n int) {
	st, err := cc.NewStream(metadata.AppendToOutgoingContext(ctx, "x-targets", "0,1,2"), talosDesc, talosEcho)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := st.SendMsg(wrapperspb.String("foo:" + strconv.Itoa(i))); err != nil {
			t.Fatalf("Send: %v", err)
		}
		var entries []talosEntry
		for range talosBackends {
			out := &structpb.ListValue{}
			if err := st.RecvMsg(out); err != nil {
				t.Fatalf("Recv %d: %v", i, err)
			}
			if v := out.GetValues(); len(v) != 3 || v[1].GetStringValue() != "foo:"+strconv.Itoa(i) || v[2].GetNumberValue() != float64(i) {
				t.Errorf("answer %d = %v", i, out)
			}
			entries = append(entries, talosEntry{backend: talosMarkOf(out), values: out.GetValues()})
		}
		checkTalosEntries(t, entries, "server0", "server1", "server2")
		if i == 0 {
			if h, err := st.Header(); err != nil || len(h.Get("x-server-header")) == 0 {
				t.Errorf("stream header = %v, %v", h, err)
			}
		}
	}
	if err := st.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if err := st.RecvMsg(&structpb.ListValue{}); err != io.EOF {
		t.Errorf("end of stream = %v, want io.EOF", err)
	}
	if got := slices.Sorted(slices.Values(st.Trailer().Get("x-server-trailer"))); !slices.Equal(got, []string{"server0", "server1", "server2"}) {
		t.Errorf("stream trailer = %v", st.Trailer())
	}
}
