package polyrpc

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// ClientConn is a grpc.ClientConnInterface that calls services over HTTP
// with connect-go: generated NewXxxClient functions accept it in place of a
// *grpc.ClientConn. See the package documentation for the call options it
// honours.
type ClientConn struct {
	httpClient connect.HTTPClient
	baseURL    string
	opts       []connect.ClientOption
	stats      []stats.Handler

	unary   sync.Map // method → *unaryClient
	streams sync.Map // method → *connect.Client[outMessage, outMessage]
}

var _ grpc.ClientConnInterface = (*ClientConn)(nil)

// NewClientConn returns a ClientConn that sends calls to the server at
// baseURL (for example "https://api.example.com" or
// "http://localhost:8080/prefix") through httpClient. It speaks the Connect
// protocol unless opts contain connect.WithGRPC or connect.WithGRPCWeb, and
// binary protobuf unless they contain connect.WithProtoJSON. Other
// connect-go client options, such as connect.WithSendGzip,
// connect.WithInterceptors or connect.WithHTTPGet, apply as usual.
//
// As with grpc-go's client, a reply larger than 4 MiB, after decompression,
// fails with ResourceExhausted; connect.WithReadMaxBytes sets another
// limit (with gzip, at most 4 MiB unless [ClientMaxRecvMsgSize] raises it).
func NewClientConn(httpClient connect.HTTPClient, baseURL string, opts ...connect.ClientOption) *ClientConn {
	recv := defaultMaxRecvMsgSize
	for _, opt := range opts {
		if o, ok := opt.(*clientLimitOption); ok {
			recv = o.recv
		}
	}
	all := make([]connect.ClientOption, 0, len(opts)+2)
	all = append(all,
		connect.WithReadMaxBytes(recv),
		connect.WithAcceptCompression(gzipName, limitedGzip(recv), newGzipWriter),
	)
	all = append(all, opts...)
	c := &ClientConn{
		httpClient: httpClient,
		baseURL:    strings.TrimRight(baseURL, "/"),
		opts:       all,
	}
	if hs := clientStatsHandlers(opts); len(hs) != 0 {
		c.stats = hs
		c.httpClient = &statsHTTPClient{next: httpClient}
	}
	return c
}

// clientLimitOption sets the receive limit of a ClientConn.
type clientLimitOption struct {
	connect.ClientOption // a no-op, to make it a connect.ClientOption
	recv                 int
}

// ClientMaxRecvMsgSize returns a [NewClientConn] option that sets the
// largest reply, in bytes after decompression, that the ClientConn accepts,
// as grpc.MaxCallRecvMsgSize does in grpc.WithDefaultCallOptions. The
// default is grpc-go's, 4 MiB.
func ClientMaxRecvMsgSize(n int) connect.ClientOption {
	if n <= 0 {
		n = math.MaxInt32
	}
	return &clientLimitOption{ClientOption: connect.WithClientOptions(), recv: n}
}

// unaryClient calls one unary method. Replies are decoded into a message of
// the reply type seen on the first call, then moved into the caller's reply.
type unaryClient struct {
	client    *connect.Client[outMessage, replyMessage]
	replyType protoreflect.MessageType
}

// replyMessage receives a reply. It implements proto.Message by delegating
// to a message of the reply type, made on first use, so that any protobuf
// codec can decode it.
type replyMessage struct {
	typ protoreflect.MessageType
	msg proto.Message
}

func (r *replyMessage) ProtoReflect() protoreflect.Message {
	if r.msg == nil {
		r.msg = r.typ.New().Interface()
	}
	return r.msg.ProtoReflect()
}

func (c *ClientConn) clientOptions(method string) []connect.ClientOption {
	opts := make([]connect.ClientOption, 0, len(c.opts)+2)
	if md := lookupMethod(method); md != nil {
		opts = append(opts, connect.WithSchema(md))
		if mo, ok := md.Options().(*descriptorpb.MethodOptions); ok {
			switch mo.GetIdempotencyLevel() {
			case descriptorpb.MethodOptions_NO_SIDE_EFFECTS:
				opts = append(opts, connect.WithIdempotency(connect.IdempotencyNoSideEffects))
			case descriptorpb.MethodOptions_IDEMPOTENT:
				opts = append(opts, connect.WithIdempotency(connect.IdempotencyIdempotent))
			}
		}
	}
	return append(opts, c.opts...)
}

// lookupMethod finds the descriptor of "/pkg.Service/Method".
func lookupMethod(method string) protoreflect.MethodDescriptor {
	name := strings.Replace(strings.TrimPrefix(method, "/"), "/", ".", 1)
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return nil
	}
	md, _ := d.(protoreflect.MethodDescriptor)
	return md
}

func (c *ClientConn) unaryClient(method string, reply proto.Message) *unaryClient {
	if uc, ok := c.unary.Load(method); ok {
		return uc.(*unaryClient)
	}
	replyType := reply.ProtoReflect().Type()
	opts := c.clientOptions(method)
	opts = append(opts, connect.WithResponseInitializer(func(_ connect.Spec, m any) error {
		if r, ok := m.(*replyMessage); ok {
			r.typ = replyType
		}
		return nil
	}))
	uc := &unaryClient{
		client:    connect.NewClient[outMessage, replyMessage](c.httpClient, c.baseURL+method, opts...),
		replyType: replyType,
	}
	actual, _ := c.unary.LoadOrStore(method, uc)
	return actual.(*unaryClient)
}

// Invoke calls a unary method. Outgoing metadata in ctx is sent as request
// headers; errors are status errors.
func (c *ClientConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	req, err := asProto(args)
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	rep, err := asProto(reply)
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	uc := c.unaryClient(method, rep)
	var sc *clientCall
	if len(c.stats) != 0 {
		ctx, sc = c.beginCall(ctx, method, false, false)
		sc.request = req
	}
	// The request and the message it carries, in one allocation.
	call := &struct {
		req connect.Request[outMessage]
		out outMessage
	}{out: outMessage{msg: req}}
	call.req.Msg = &call.out
	request := &call.req
	if md, ok := metadata.FromOutgoingContext(ctx); ok {
		metadataToHeader(md, request.Header())
	}
	var info connect.CallInfo
	if reportsOnCall(opts) {
		ctx, info = connect.NewClientContext(ctx)
	}
	res, err := uc.client.CallUnary(ctx, request)
	if sc != nil {
		sc.endUnary(res, err)
	}
	if info != nil {
		header, trailer, _ := responseMetadata(ctx, info)
		applyCallOptions(opts, header, trailer, info.Peer())
	}
	if err != nil {
		return toStatusError(err)
	}
	got := res.Msg.ProtoReflect().Interface()
	if moveMessage(rep, got) {
		return nil
	}
	proto.Reset(rep)
	if got.ProtoReflect().Descriptor() == rep.ProtoReflect().Descriptor() {
		proto.Merge(rep, got)
		return nil
	}
	// The caller's reply type differs from the one seen first: go through
	// the wire format.
	data, err := proto.Marshal(got)
	if err == nil {
		err = proto.Unmarshal(data, rep)
	}
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	return nil
}

// moveMessage moves the contents of src, a message that is no longer used,
// into dst, when both are of the same generated Go type: a shallow copy, as
// good as decoding into dst itself, and without the deep copy of proto.Merge.
func moveMessage(dst, src proto.Message) bool {
	d, s := reflect.ValueOf(dst), reflect.ValueOf(src)
	if d.Type() != s.Type() || d.Kind() != reflect.Pointer || d.Elem().Kind() != reflect.Struct || d.IsNil() || s.IsNil() {
		return false
	}
	d.Elem().Set(s.Elem())
	return true
}

// reportsOnCall reports whether a call option asks for the response headers,
// trailers or peer.
func reportsOnCall(opts []grpc.CallOption) bool {
	for _, opt := range opts {
		switch opt.(type) {
		case grpc.HeaderCallOption, *grpc.HeaderCallOption,
			grpc.TrailerCallOption, *grpc.TrailerCallOption,
			grpc.PeerCallOption, *grpc.PeerCallOption:
			return true
		}
	}
	return false
}

// applyCallOptions fills the call options that report on a finished call.
func applyCallOptions(opts []grpc.CallOption, header, trailer http.Header, p connect.Peer) {
	for _, opt := range opts {
		switch o := opt.(type) {
		case grpc.HeaderCallOption:
			if o.HeaderAddr != nil {
				*o.HeaderAddr = headerToMetadata(header, nil)
			}
		case *grpc.HeaderCallOption:
			if o.HeaderAddr != nil {
				*o.HeaderAddr = headerToMetadata(header, nil)
			}
		case grpc.TrailerCallOption:
			if o.TrailerAddr != nil {
				*o.TrailerAddr = headerToMetadata(trailer, nil)
			}
		case *grpc.TrailerCallOption:
			if o.TrailerAddr != nil {
				*o.TrailerAddr = headerToMetadata(trailer, nil)
			}
		case grpc.PeerCallOption:
			if o.PeerAddr != nil && p.Addr != "" {
				*o.PeerAddr = peer.Peer{Addr: parseAddr(p.Addr)}
			}
		case *grpc.PeerCallOption:
			if o.PeerAddr != nil && p.Addr != "" {
				*o.PeerAddr = peer.Peer{Addr: parseAddr(p.Addr)}
			}
		}
	}
}

func (c *ClientConn) streamClient(method string) *connect.Client[outMessage, outMessage] {
	if sc, ok := c.streams.Load(method); ok {
		return sc.(*connect.Client[outMessage, outMessage])
	}
	sc := connect.NewClient[outMessage, outMessage](c.httpClient, c.baseURL+method, c.clientOptions(method)...)
	actual, _ := c.streams.LoadOrStore(method, sc)
	return actual.(*connect.Client[outMessage, outMessage])
}

// NewStream starts a streaming call. Outgoing metadata in ctx is sent as
// request headers. A server-streaming call is sent when the request is
// closed with CloseSend, as generated clients do.
func (c *ClientConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	client := c.streamClient(method)
	var sc *clientCall
	if len(c.stats) != 0 {
		ctx, sc = c.beginCall(ctx, method, desc.ClientStreams, desc.ServerStreams)
	}
	md, _ := metadata.FromOutgoingContext(ctx)
	cs := &clientStream{
		ctx:           ctx,
		client:        client,
		opts:          opts,
		serverStreams: desc.ServerStreams,
		md:            md,
		stats:         sc,
	}
	var err error
	switch {
	case desc.ClientStreams && !desc.ServerStreams:
		stream := client.CallClientStream(ctx)
		metadataToHeader(md, stream.RequestHeader())
		cs.conn, err = stream.Conn()
	case desc.ServerStreams && !desc.ClientStreams:
		cs.lazy = true // sent by CloseSend, with its one request
		return cs, nil
	default:
		stream := client.CallBidiStream(ctx)
		metadataToHeader(md, stream.RequestHeader())
		cs.conn, err = stream.Conn()
	}
	if err != nil {
		return nil, cs.fail(err)
	}
	cs.watch()
	// Send the request headers now, as grpc-go does.
	if err := cs.conn.Send(nil); err != nil && !errors.Is(err, io.EOF) {
		return nil, cs.fail(err)
	}
	return cs, nil
}

// clientStream is the grpc.ClientStream of a streaming call.
type clientStream struct {
	ctx           context.Context
	client        *connect.Client[outMessage, outMessage]
	conn          connect.StreamingClientConn
	opts          []grpc.CallOption
	serverStreams bool
	md            metadata.MD // outgoing metadata
	stats         *clientCall // set when stats handlers are given
	err           error       // how the call ended

	// lazy server-streaming calls start in CloseSend.
	lazy     bool
	request  proto.Message
	startErr error

	finished bool
	// ready is set once a message or the end of the response arrived, so
	// connect-go is known to have the response headers.
	ready atomic.Bool
	// stopWatch stops the context watch set up by watch.
	stopWatch func() bool
}

// watch ends the request side of the call when its context ends, as grpc-go
// does: connect-go leaves the HTTP request open until the request body is
// closed, even after cancellation.
func (s *clientStream) watch() {
	conn, ctx, sc := s.conn, s.ctx, s.stats
	s.stopWatch = context.AfterFunc(s.ctx, func() {
		_ = conn.CloseRequest()
		if sc != nil {
			// As grpc-go, the call ends with its context.
			sc.end(nil, status.FromContextError(ctx.Err()).Err())
		}
	})
}

// responseMetadata is the stream's response header and trailer; ok is false
// when they are not known to be complete.
func (s *clientStream) responseMetadata() (header, trailer http.Header, ok bool) {
	if s.ready.Load() {
		return s.conn.ResponseHeader(), s.conn.ResponseTrailer(), true
	}
	return responseMetadata(s.ctx, s.conn)
}

func (s *clientStream) start() error {
	if s.conn != nil || s.startErr != nil {
		return s.startErr
	}
	if s.request == nil {
		s.startErr = status.Error(codes.Internal, "polyrpc: server-streaming call has no request message")
		return s.startErr
	}
	if s.stats != nil {
		s.stats.request = s.request
	}
	req := connect.NewRequest(&outMessage{msg: s.request})
	metadataToHeader(s.md, req.Header())
	stream, err := s.client.CallServerStream(s.ctx, req)
	if err == nil {
		s.conn, err = stream.Conn()
	}
	if err == nil {
		s.watch()
	}
	if err != nil {
		s.startErr = toStatusError(err)
		s.finish()
	}
	return s.startErr
}

func (s *clientStream) Context() context.Context { return s.ctx }

func (s *clientStream) Header() (metadata.MD, error) {
	if s.lazy {
		if err := s.start(); err != nil {
			return nil, err
		}
	}
	header, _, ok := s.responseMetadata()
	if !ok {
		return nil, status.FromContextError(s.ctx.Err()).Err()
	}
	return headerToMetadata(header, nil), nil
}

func (s *clientStream) Trailer() metadata.MD {
	if s.conn == nil {
		return nil
	}
	_, trailer, _ := s.responseMetadata()
	return headerToMetadata(trailer, nil)
}

func (s *clientStream) SendMsg(m any) error {
	msg, err := asProto(m)
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	if s.lazy {
		if s.request != nil || s.conn != nil {
			return status.Error(codes.Internal, "polyrpc: server-streaming call sends one request message")
		}
		s.request = msg
		return nil
	}
	if err := s.conn.Send(msg); err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return toStatusError(err)
	}
	if s.stats != nil {
		s.stats.sent(msg)
	}
	return nil
}

func (s *clientStream) CloseSend() error {
	if s.lazy {
		// An error surfaces in RecvMsg, as with grpc-go.
		_ = s.start()
		return nil
	}
	if err := s.conn.CloseRequest(); err != nil && !errors.Is(err, io.EOF) {
		return toStatusError(err)
	}
	return nil
}

func (s *clientStream) RecvMsg(m any) error {
	if s.lazy {
		if err := s.start(); err != nil {
			return err
		}
	}
	msg, err := asProto(m)
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	if s.stats != nil {
		s.stats.respBody.count.mark()
	}
	err = s.conn.Receive(msg)
	if err == nil && s.stats != nil {
		s.stats.received(msg)
	}
	if err == nil || errors.Is(err, io.EOF) {
		s.ready.Store(true)
	}
	if err != nil {
		if !s.serverStreams && errors.Is(err, io.EOF) {
			// As connect-go and the gRPC spec have it: a cardinality
			// violation is Unimplemented.
			return s.end(status.Error(codes.Unimplemented, "unary response has zero messages"))
		}
		return s.end(err)
	}
	if !s.serverStreams {
		// A client-streaming call has one response: expect the end of the
		// stream, so that the trailers are in and errors are seen.
		err := s.conn.Receive(msg.ProtoReflect().Type().New().Interface())
		if err == nil {
			return s.end(status.Error(codes.Unimplemented, "unary response has multiple messages"))
		}
		if !errors.Is(err, io.EOF) {
			return s.end(err)
		}
		_ = s.end(io.EOF)
	}
	return nil
}

// end finishes the call after err, returning the error RecvMsg reports.
func (s *clientStream) end(err error) error {
	s.err = err
	s.finish()
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	return toStatusError(err)
}

func (s *clientStream) finish() {
	if s.finished {
		return
	}
	s.finished = true
	if s.stats != nil {
		defer s.stats.streamEnd(s, s.err)
	}
	if s.conn == nil {
		applyCallOptions(s.opts, nil, nil, connect.Peer{})
		return
	}
	if s.stopWatch != nil {
		s.stopWatch()
	}
	_ = s.conn.CloseRequest()
	_ = s.conn.CloseResponse()
	header, trailer, _ := s.responseMetadata()
	applyCallOptions(s.opts, header, trailer, s.conn.Peer())
}

// responseMetadata returns the response header and trailer of a call once
// connect-go has the response. When ctx ends first, connect-go's accessors
// stop waiting and return maps that its request goroutine may still be
// filling, so they are not read: the call then reports no metadata, as a
// grpc-go call cancelled before its headers arrive does.
func responseMetadata(ctx context.Context, src interface {
	ResponseHeader() http.Header
	ResponseTrailer() http.Header
}) (header, trailer http.Header, ok bool) {
	if ctx.Err() != nil {
		return nil, nil, false
	}
	header = src.ResponseHeader() // waits for the response, or for ctx
	if ctx.Err() != nil {
		// Err is set before Done is closed: a nil Err here means the wait
		// ended because the response was ready.
		return nil, nil, false
	}
	return header, src.ResponseTrailer(), true
}

// fail ends a stream that could not start.
func (s *clientStream) fail(err error) error {
	err = toStatusError(err)
	if s.stats != nil {
		s.stats.end(nil, err)
	}
	return err
}
