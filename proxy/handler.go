package proxy

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// TransparentHandler returns a handler that forwards every call it is
// given to the backends that director picks: the server's
// UnknownServiceHandler (polyrpc.UnknownServiceHandler or
// grpc.UnknownServiceHandler). The server must force [Codec] on its calls
// (polyrpc.ForceServerCodecV2 or grpc.ForceServerCodecV2).
func TransparentHandler(director StreamDirector, opts ...Option) grpc.StreamHandler {
	return newHandler(director, "", opts).handle
}

// RegisterService registers the proxy on server for the methods of
// serviceName given with [WithMethodNames], as a service whose methods are
// all bidirectional streams, as siderolabs' RegisterService does. The
// server must force [Codec] on its calls. Connect's unary protocol does
// not call stream methods: for Connect callers of unary methods, use
// [TransparentHandler].
func RegisterService(server grpc.ServiceRegistrar, director StreamDirector, serviceName string, opts ...Option) {
	h := newHandler(director, serviceName, opts)
	desc := &grpc.ServiceDesc{ServiceName: serviceName, HandlerType: (*any)(nil)}
	for _, m := range h.opts.methodNames {
		desc.Streams = append(desc.Streams, grpc.StreamDesc{
			StreamName:    m,
			Handler:       h.handle,
			ServerStreams: true,
			ClientStreams: true,
		})
	}
	server.RegisterService(desc, h)
}

type handler struct {
	director StreamDirector
	opts     *options
	callOpts []grpc.CallOption // of calls on a *grpc.ClientConn
	descs    sync.Map          // method -> *grpc.StreamDesc, from descriptors
}

func newHandler(director StreamDirector, serviceName string, opts []Option) *handler {
	o := &options{serviceName: serviceName, maxMerged: DefaultMaxMergedSize, maxReplay: DefaultMaxReplaySize}
	for _, opt := range opts {
		opt(o)
	}
	return &handler{
		director: director,
		opts:     o,
		callOpts: []grpc.CallOption{grpc.ForceCodecV2(Codec())},
	}
}

var bidiDesc = &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}

func (h *handler) handle(_ any, ss grpc.ServerStream) error {
	method, ok := grpc.MethodFromServerStream(ss)
	if !ok {
		return status.Error(codes.Internal, "proxy: the server stream has no method")
	}
	mode, backends, err := h.director(ss.Context(), method)
	if err != nil {
		return err
	}
	switch mode {
	case One2One:
		if len(backends) != 1 || backends[0] == nil {
			return status.Errorf(codes.Internal, "proxy: a one-to-one call needs one backend, the director gave %d", len(backends))
		}
		return h.one2one(ss, method, backends[0])
	case One2Many, One2ManyMerged, One2ManyStreamed:
		if len(backends) == 0 {
			return status.Error(codes.Unavailable, "proxy: no backend for the call")
		}
		streamed := mode == One2ManyStreamed || mode == One2Many && h.streamed(method)
		return h.one2many(ss, method, streamed, backends)
	}
	return status.Errorf(codes.Internal, "proxy: unknown mode %v", mode)
}

// backendContext is the context of a call to a backend.
func (h *handler) backendContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if h.opts.backendTimeout > 0 {
		return context.WithTimeout(ctx, h.opts.backendTimeout)
	}
	return context.WithCancel(ctx)
}

// open starts the call to a backend.
func (h *handler) open(ctx context.Context, method string, b Backend) (grpc.ClientStream, error) {
	var (
		cc  grpc.ClientConnInterface
		err error
	)
	switch cb := b.(type) {
	case *ConnBackend:
		// Forwarded as GetClientConn does, with one copy of the metadata.
		if cb.Conn == nil {
			return nil, status.Errorf(codes.Unavailable, "proxy: backend %s has no connection", cb.Name)
		}
		cc = cb.Conn
		ctx = h.forward(ctx)
	case ClientConnBackend:
		ctx, cc, err = cb.GetClientConn(ctx, method)
	default:
		var conn *grpc.ClientConn
		ctx, conn, err = b.GetConnection(ctx, method)
		if conn != nil {
			cc = conn
		}
	}
	if err != nil {
		return nil, err
	}
	if cc == nil || ctx == nil {
		return nil, status.Errorf(codes.Unavailable, "proxy: backend %s gave no connection", b)
	}
	if _, ok := b.(*ConnBackend); !ok {
		ctx = h.outgoing(ctx)
	}
	if conn, ok := cc.(*grpc.ClientConn); ok {
		return conn.NewStream(ctx, bidiDesc, method, h.callOpts...)
	}
	return newConnStream(ctx, cc, method, h.desc(method))
}

// forward returns ctx with the incoming metadata that may reach a backend
// as its outgoing metadata.
func (h *handler) forward(ctx context.Context) context.Context {
	md, ok := metadata.FromIncomingContext(ctx) // a copy
	if !ok {
		return ctx
	}
	h.dropRequest(md)
	return metadata.NewOutgoingContext(ctx, md)
}

// outgoing removes from ctx's outgoing metadata what must not reach a
// backend.
func (h *handler) outgoing(ctx context.Context) context.Context {
	md, ok := metadata.FromOutgoingContext(ctx) // a copy
	if !ok {
		return ctx
	}
	h.dropRequest(md)
	return metadata.NewOutgoingContext(ctx, md)
}

// dropRequest removes from md the keys that must not reach a backend.
func (h *handler) dropRequest(md metadata.MD) {
	for k := range md {
		if Reserved(k) || h.opts.requestHeaders != nil && !h.opts.requestHeaders(k) {
			delete(md, k)
		}
	}
}

// response returns the response metadata of a backend that crosses to the
// caller. The metadata of a grpc-go stream is a copy, changed in place.
func (h *handler) response(cs grpc.ClientStream, md metadata.MD) metadata.MD {
	if _, ok := cs.(*connStream); !ok {
		for k := range md {
			if h.dropResponse(k) {
				delete(md, k)
			}
		}
		return md
	}
	drop := false
	for k := range md {
		if h.dropResponse(k) {
			drop = true
			break
		}
	}
	if !drop {
		return md
	}
	out := make(metadata.MD, len(md))
	for k, v := range md {
		if !h.dropResponse(k) {
			out[k] = v
		}
	}
	return out
}

func (h *handler) dropResponse(k string) bool {
	k = strings.ToLower(k)
	return Reserved(k) || h.opts.responseHeaders != nil && !h.opts.responseHeaders(k)
}

// knownDesc returns the stream kinds of a method, nil if unknown.
func (h *handler) knownDesc(method string) *grpc.StreamDesc {
	if h.opts.streamDescs != nil {
		if d := h.opts.streamDescs(method); d != nil {
			return d
		}
	}
	if d, ok := h.descs.Load(method); ok {
		return d.(*grpc.StreamDesc)
	}
	name := strings.Replace(strings.TrimPrefix(method, "/"), "/", ".", 1)
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return nil
	}
	md, ok := d.(protoreflect.MethodDescriptor)
	if !ok {
		return nil
	}
	// Only methods linked into the program are kept: their number is bounded.
	sd := &grpc.StreamDesc{StreamName: string(md.Name()), ClientStreams: md.IsStreamingClient(), ServerStreams: md.IsStreamingServer()}
	h.descs.Store(method, sd)
	return sd
}

// desc returns the stream kinds of a method, a bidirectional stream if
// unknown.
func (h *handler) desc(method string) *grpc.StreamDesc {
	if d := h.knownDesc(method); d != nil {
		return d
	}
	return bidiDesc
}

// streamed reports whether the one-to-many answers of a method are
// interleaved.
func (h *handler) streamed(method string) bool {
	if h.opts.streamed != nil {
		return h.opts.streamed(method)
	}
	d := h.knownDesc(method)
	return d != nil && d.ServerStreams
}

// one2one forwards a call to one backend as it is.
func (h *handler) one2one(ss grpc.ServerStream, method string, b Backend) error {
	ctx, cancel := h.backendContext(ss.Context())
	defer cancel()
	cs, err := h.open(ctx, method, b)
	if err != nil {
		return err
	}
	var upErr atomic.Pointer[error]
	go forwardRequests(ss, cs, func(err error) {
		upErr.Store(&err)
		cancel()
	})
	// Responses, in this goroutine.
	if md, err := cs.Header(); err == nil && md != nil {
		if err := ss.SendHeader(h.response(cs, md)); err != nil {
			return err
		}
	}
	f := &Frame{}
	for {
		err := cs.RecvMsg(f)
		if err != nil {
			if p := upErr.Load(); p != nil {
				return clientError(*p)
			}
			if tr := cs.Trailer(); len(tr) != 0 {
				ss.SetTrailer(h.response(cs, tr))
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		// The codec keeps the payload until it is written; the next
		// receive makes a new one.
		if err := ss.SendMsg(f); err != nil {
			return err
		}
	}
}

// forwardRequests forwards the caller's messages to a backend until the
// caller closes its side, which closes the backend's; a failure to receive
// is given to fail. A failure to send ends the forwarding: the backend's
// status says why.
func forwardRequests(ss grpc.ServerStream, cs grpc.ClientStream, fail func(error)) {
	f := &Frame{}
	for {
		if err := ss.RecvMsg(f); err != nil {
			if errors.Is(err, io.EOF) {
				_ = cs.CloseSend()
				return
			}
			fail(err)
			return
		}
		if err := cs.SendMsg(f); err != nil {
			return
		}
	}
}

// clientError is the status of a call whose caller's messages could not be
// received.
func clientError(err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	if s := status.FromContextError(err); s.Code() != codes.Unknown {
		return s.Err()
	}
	return status.Errorf(codes.Internal, "proxy: receiving from the caller: %v", err)
}

var _ encoding.CodecV2 = rawCodec{}
