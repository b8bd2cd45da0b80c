package polyrpc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/emptypb"
)

// grpc-go's proxy hooks: a handler of the calls to services and methods that
// are not registered, and a codec forced on them. Transparent proxies built
// for grpc.Server (a raw-frame codec plus a stream handler that forwards the
// frames with grpc.NewClientStream) run on a Server unchanged, and so are
// reachable over Connect, gRPC-Web and gRPC.

// unknownConfig holds the options of the unknown-service handler.
type unknownConfig struct {
	handler grpc.StreamHandler
	codec   encoding.CodecV2 // nil: messages are decoded as for registered services
	// v1 is set when the codec was given as an encoding.Codec (or a
	// grpc.Codec): such a codec may keep the bytes it unmarshals, which are
	// then never reused.
	v1 encoding.Codec
}

type unknownHandlerOption struct{ h grpc.StreamHandler }

func (o unknownHandlerOption) applyToServer(c *serverConfig) { c.unknown.handler = o.h }

// UnknownServiceHandler returns a [ServerOption] that, as
// grpc.UnknownServiceHandler does, serves the calls to services that are not
// registered, and to unknown methods of registered ones, with h, as
// bidirectional streams, through the Server's stream interceptors.
// grpc.MethodFromServerStream gives the called method; connect-go
// interceptors, whose Spec names the procedure
// "/polyrpc.UnknownService/Call", find it with grpc.Method(ctx). Calls come in every
// protocol: gRPC, gRPC-Web and Connect (a Connect unary call is a stream of
// one request and one response; over HTTP/1.1, where no protocol streams
// both ways, a streaming call is one request and a stream of responses).
//
// With a forced codec ([ForceServerCodec], [ForceServerCodecV2],
// [CustomCodec]), the stream's RecvMsg and SendMsg give the bytes of a
// caller using the binary protobuf codec to the forced codec as they are on
// the wire. A caller using JSON is transcoded to and from protobuf when the
// method's descriptor is linked into the program (protoregistry.GlobalFiles),
// and refused with Unimplemented otherwise. Without a forced codec, RecvMsg
// and SendMsg take protobuf messages, in the caller's codec.
func UnknownServiceHandler(h grpc.StreamHandler) ServerOption { return unknownHandlerOption{h} }

type forcedCodecOption struct{ cfg unknownConfig }

func (o forcedCodecOption) applyToServer(c *serverConfig) {
	c.unknown.codec, c.unknown.v1 = o.cfg.codec, o.cfg.v1
}

// ForceServerCodecV2 returns a [ServerOption] that forces codec on the
// messages of the calls served by the [UnknownServiceHandler], whatever the
// caller's codec, as grpc.ForceServerCodecV2 does. On the native gRPC path
// of [Server.Serve] it is grpc-go's own option, so that, as on a
// grpc.Server, it applies to registered services too; on net/http's path,
// registered services keep polyrpc's codecs. A raw-frame codec, whose
// Unmarshal keeps the bytes and whose Marshal returns them, passes a
// protobuf caller's messages through untouched.
func ForceServerCodecV2(codec encoding.CodecV2) ServerOption {
	return forcedCodecOption{unknownConfig{codec: codec}}
}

// ForceServerCodec is [ForceServerCodecV2] for a codec of grpc-go's older
// encoding.Codec form, as grpc.ForceServerCodec.
func ForceServerCodec(codec encoding.Codec) ServerOption {
	return forcedCodecOption{unknownConfig{codec: codecV1Bridge{codec}, v1: codec}}
}

// CustomCodec is [ForceServerCodec] for a codec of grpc-go's deprecated
// grpc.Codec form, as grpc.CustomCodec, which older proxies use.
//
//nolint:staticcheck // grpc.Codec is what such proxies give
func CustomCodec(codec grpc.Codec) ServerOption {
	v1 := codecV0Bridge{codec}
	return forcedCodecOption{unknownConfig{codec: codecV1Bridge{v1}, v1: v1}}
}

type codecV1Bridge struct{ c encoding.Codec }

func (b codecV1Bridge) Name() string { return b.c.Name() }

func (b codecV1Bridge) Marshal(v any) (mem.BufferSlice, error) {
	data, err := b.c.Marshal(v)
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(data)}, nil
}

func (b codecV1Bridge) Unmarshal(data mem.BufferSlice, v any) error {
	return b.c.Unmarshal(data.Materialize(), v)
}

//nolint:staticcheck // grpc.Codec
type codecV0Bridge struct{ c grpc.Codec }

func (b codecV0Bridge) Name() string                       { return b.c.String() }
func (b codecV0Bridge) Marshal(v any) ([]byte, error)      { return b.c.Marshal(v) }
func (b codecV0Bridge) Unmarshal(data []byte, v any) error { return b.c.Unmarshal(data, v) }

// serveNativeUnknown serves a call to an unknown service or method on the
// native path, as grpc.Server serves it.
func (s *Server) serveNativeUnknown(full string, stream grpc.ServerStream) error {
	u := &s.config.unknown
	if u.codec != nil {
		// grpc-go gives the forced codec every message, whatever the call's
		// content subtype: a JSON caller is transcoded when the method's
		// descriptor is known (native_json.go), refused otherwise.
		md, _ := metadata.FromIncomingContext(stream.Context())
		if ct := md.Get("content-type"); len(ct) > 0 {
			if name := grpcCodecName(ct[0]); name != codecNameProto {
				desc := methodDescriptor(full)
				if name != codecNameJSON || desc == nil {
					return status.Errorf(codes.Unimplemented, "polyrpc: method %s is forwarded as protobuf bytes, and the %s codec needs the method's descriptor to be transcoded, which this server does not have: call it with the proto codec", full, name)
				}
				stream = &nativeJSONStream{ServerStream: stream, cfg: u, method: full,
					inType: messageType(desc.Input()), outType: messageType(desc.Output())}
			}
		}
	}
	info := &grpc.StreamServerInfo{FullMethod: full, IsClientStream: true, IsServerStream: true}
	if s.streamChain != nil {
		return s.streamChain(nil, stream, info, u.handler)
	}
	return u.handler(nil, stream)
}

// grpcCodecName returns the codec of a gRPC content type.
func grpcCodecName(ct string) string {
	base, _, _ := strings.Cut(ct, ";")
	base = strings.ToLower(strings.TrimSpace(base))
	switch base {
	case "application/grpc", "application/grpc-web":
		return codecNameProto
	}
	for _, p := range []string{"application/grpc-web+", "application/grpc+", "application/connect+", "application/"} {
		if strings.HasPrefix(base, p) {
			return base[len(p):]
		}
	}
	return base
}

// unknownService serves, on net/http's path, the calls to unknown services
// and methods with the UnknownServiceHandler, through connect handlers
// chosen by the request: Connect unary calls by a unary handler, streams on
// HTTP/2 and HTTP/3 by a bidirectional one, streams on HTTP/1.1 by a
// server-streaming one.
type unknownService struct {
	cfg         *unknownConfig
	interceptor grpc.StreamServerInterceptor
	maxSend     int
	stats       []stats.Handler
	errors      *connect.ErrorWriter

	unary, unaryGet, bidi, serverStream, clientStream *connect.Handler
}

// unknownProcedure is the procedure that connect-go interceptors see in the
// Spec of calls to unknown methods: connect-go fixes a handler's Spec when
// it is built, and the handlers are built once per Server. grpc.Method
// gives such interceptors the method (unknownCall).
const unknownProcedure = "/polyrpc.UnknownService/Call"

func newUnknownService(cfg *serverConfig, chain grpc.StreamServerInterceptor) *unknownService {
	u := &unknownService{
		cfg:         &cfg.unknown,
		interceptor: chain,
		maxSend:     cfg.limits.maxSend,
		stats:       cfg.interceptors.stats,
	}
	base := handlerBaseOptions(cfg)
	u.errors = connect.NewErrorWriter(base...)
	u.unary = connect.NewUnaryHandler(unknownProcedure, u.serveUnary, base...)
	// GET, for the methods whose descriptor says they have no side effects.
	get := append([]connect.HandlerOption{connect.WithIdempotency(connect.IdempotencyNoSideEffects)}, base...)
	u.unaryGet = connect.NewUnaryHandler(unknownProcedure, u.serveUnary, get...)
	u.bidi = connect.NewBidiStreamHandler(unknownProcedure, u.serveBidi, base...)
	u.serverStream = connect.NewServerStreamHandler(unknownProcedure, u.serveServerStream, base...)
	u.clientStream = connect.NewClientStreamHandler(unknownProcedure, u.serveClientStream, base...)
	return u
}

// unknownCall is what a connect handler learns of the request. It is the
// grpc.ServerTransportStream of the request's context until the handler's
// stream takes over, so that grpc.Method gives the method called in
// connect-go interceptors too, whose Spec has unknownProcedure.
type unknownCall struct {
	method string
	codec  string
	// unserved is set when the handler answered a unary call with
	// Unimplemented without reading its request: it serves no such
	// method, which the Connect protocol's unary form says with HTTP 404,
	// as connect-go's mux and the Server's own answers do.
	unserved bool
}

var _ grpc.ServerTransportStream = (*unknownCall)(nil)

// errNoStreamYet is the error of setting metadata through the context of a
// connect-go interceptor.
var errNoStreamYet = status.Error(codes.Internal, "polyrpc: the call's grpc-go stream does not exist yet: a connect-go interceptor sets metadata on the connect request and response")

func (c *unknownCall) Method() string               { return c.method }
func (c *unknownCall) SetHeader(metadata.MD) error  { return errNoStreamYet }
func (c *unknownCall) SendHeader(metadata.MD) error { return errNoStreamYet }
func (c *unknownCall) SetTrailer(metadata.MD) error { return errNoStreamYet }

// unknownCallFrom returns the unknownCall of a request's context.
func unknownCallFrom(ctx context.Context) *unknownCall {
	call, _ := grpc.ServerTransportStreamFromContext(ctx).(*unknownCall)
	return call
}

// unservedWriter turns the 501 of an unserved call into a 404.
type unservedWriter struct {
	http.ResponseWriter
	call *unknownCall
}

func (w *unservedWriter) WriteHeader(code int) {
	if code == http.StatusNotImplemented && w.call.unserved {
		code = http.StatusNotFound
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *unservedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (u *unknownService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := checkBinaryHeaders(r.Header); err != nil {
		_ = u.errors.Write(w, r, err)
		return
	}
	if i := lastSlash(r.URL.Path); i <= 1 || i == len(r.URL.Path)-1 {
		// As on grpc.Server, only "/service/method" reaches the handler.
		writeUnimplemented(u.errors, w, r, "malformed method name "+strconv.Quote(r.URL.Path))
		return
	}
	call := &unknownCall{method: r.URL.Path}
	var h *connect.Handler
	if r.Method == http.MethodGet {
		call.codec = r.URL.Query().Get("encoding")
		h = u.unary
		if noSideEffects(call.method) {
			h = u.unaryGet
		}
	} else {
		ct := r.Header.Get("Content-Type")
		call.codec = grpcCodecName(ct)
		ct = strings.ToLower(strings.TrimSpace(ct))
		switch {
		case !strings.HasPrefix(ct, "application/grpc") && !strings.HasPrefix(ct, "application/connect+"):
			h = u.unary
		case r.ProtoMajor >= 2:
			h = u.bidi
		default:
			// HTTP/1.1 streams one way only: requests when the descriptor
			// says the method streams only requests, else responses.
			h = u.serverStream
			if md := methodDescriptor(call.method); md != nil && md.IsStreamingClient() && !md.IsStreamingServer() {
				h = u.clientStream
			}
		}
	}
	if h == u.unary || h == u.unaryGet {
		w = &unservedWriter{ResponseWriter: w, call: call}
	}
	ctx := grpc.NewContextWithServerTransportStream(r.Context(), call)
	if r.TLS != nil {
		ctx = context.WithValue(ctx, tlsStateKey{}, r.TLS)
	}
	r = r.WithContext(ctx)
	if len(u.stats) != 0 {
		serveWithStats(h, w, r, u.stats)
		return
	}
	h.ServeHTTP(w, r)
}

// methodDescriptor finds the descriptor of "/pkg.Service/Method" in
// protoregistry.GlobalFiles.
func methodDescriptor(full string) protoreflect.MethodDescriptor {
	i := lastSlash(full)
	if i <= 0 {
		return nil
	}
	name := protoreflect.FullName(full[1:i] + "." + full[i+1:])
	if !name.IsValid() {
		return nil
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
	if err != nil {
		return nil
	}
	md, _ := d.(protoreflect.MethodDescriptor)
	return md
}

// noSideEffects reports whether the descriptor of the method says it has no
// side effects: only such methods may be called with GET, which a browser
// sends across origins without asking.
func noSideEffects(full string) bool {
	md := methodDescriptor(full)
	if md == nil {
		return false
	}
	mo, ok := md.Options().(*descriptorpb.MethodOptions)
	return ok && mo.GetIdempotencyLevel() == descriptorpb.MethodOptions_NO_SIDE_EFFECTS
}

func messageType(d protoreflect.MessageDescriptor) protoreflect.MessageType {
	if mt, err := protoregistry.GlobalTypes.FindMessageByName(d.FullName()); err == nil {
		return mt
	}
	return dynamicpb.NewMessageType(d)
}

// newStream starts the stream of a call; it fails for a caller that does
// not use protobuf when the forced codec expects protobuf bytes and the
// method's descriptor is not known.
func (u *unknownService) newStream(ctx context.Context) (*serverStream, error) {
	call := unknownCallFrom(ctx)
	if call == nil {
		return nil, connect.NewError(connect.CodeInternal, errors.New("polyrpc: call without request"))
	}
	ss := &serverStream{method: call.method, maxSend: u.maxSend, unknown: true}
	ss.forced.cfg, ss.forced.all = u.cfg, true
	if u.cfg.codec != nil && call.codec != codecNameProto {
		md := methodDescriptor(call.method)
		if md == nil {
			return nil, connect.NewError(connect.CodeUnimplemented, fmt.Errorf(
				"polyrpc: method %s is forwarded as protobuf bytes, and the %s codec needs the method's descriptor to be transcoded, which this server does not have: call it with the proto codec",
				call.method, call.codec))
		}
		ss.forced.inType, ss.forced.outType = messageType(md.Input()), messageType(md.Output())
	}
	return ss, nil
}

func (u *unknownService) run(ctx context.Context, ss *serverStream, header http.Header, p connect.Peer) error {
	info := &grpc.StreamServerInfo{FullMethod: ss.method, IsClientStream: true, IsServerStream: true}
	return ss.serve(ctx, header, p, len(u.stats) != 0, nil, u.cfg.handler, u.interceptor, info)
}

func (u *unknownService) serveUnary(ctx context.Context, req *connect.Request[inMessage]) (*connect.Response[outMessage], error) {
	ss, err := u.newStream(ctx)
	if err != nil {
		return nil, err
	}
	resp := &connect.Response[outMessage]{}
	ss.header, ss.trailer = resp.Header(), resp.Trailer()
	ss.first, ss.unaryResponse = req.Msg, true
	if err := u.run(ctx, ss, req.Header(), req.Peer()); err != nil {
		if ce, ok := err.(*connect.Error); ok {
			mergeHeader(ce.Meta(), ss.header)
			mergeHeader(ce.Meta(), ss.trailer)
			if call := unknownCallFrom(ctx); call != nil && ce.Code() == connect.CodeUnimplemented && !ss.firstRead {
				call.unserved = true
			}
		}
		return nil, err
	}
	return unaryResponse(ss, resp)
}

func (u *unknownService) serveClientStream(ctx context.Context, cs *connect.ClientStream[inMessage]) (*connect.Response[outMessage], error) {
	ss, err := u.newStream(ctx)
	if err != nil {
		return nil, err
	}
	conn := cs.Conn()
	ss.conn, ss.header, ss.trailer, ss.unaryResponse = conn, conn.ResponseHeader(), conn.ResponseTrailer(), true
	if err := u.run(ctx, ss, conn.RequestHeader(), conn.Peer()); err != nil {
		return nil, err
	}
	return unaryResponse(ss, &connect.Response[outMessage]{})
}

// unaryResponse returns the one response of a call that has one.
func unaryResponse(s *serverStream, resp *connect.Response[outMessage]) (*connect.Response[outMessage], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.response == nil {
		return nil, connect.NewError(connect.CodeInternal, errors.New(s.noResponse()))
	}
	resp.Msg = s.response
	return resp, nil
}

func mergeHeader(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = append(dst[k], vs...)
	}
}

func (u *unknownService) serveBidi(ctx context.Context, stream *connect.BidiStream[inMessage, outMessage]) error {
	ss, err := u.newStream(ctx)
	if err != nil {
		return err
	}
	conn := stream.Conn()
	ss.conn, ss.header, ss.trailer = conn, conn.ResponseHeader(), conn.ResponseTrailer()
	return u.run(ctx, ss, conn.RequestHeader(), conn.Peer())
}

func (u *unknownService) serveServerStream(ctx context.Context, req *connect.Request[inMessage], stream *connect.ServerStream[outMessage]) error {
	ss, err := u.newStream(ctx)
	if err != nil {
		return err
	}
	conn := stream.Conn()
	ss.conn, ss.header, ss.trailer = conn, conn.ResponseHeader(), conn.ResponseTrailer()
	ss.first = req.Msg
	return u.run(ctx, ss, req.Header(), req.Peer())
}

// errStreamDone is the error of sending on a stream whose handler has
// returned.
var errStreamDone = status.Error(codes.Canceled, "polyrpc: the stream is done: its handler has returned")

// forcedEncode marshals m with the forced codec; outType, if set, is the
// type the bytes are transcoded into for a caller that does not use
// protobuf.
func forcedEncode(cfg *unknownConfig, method string, outType protoreflect.MessageType, maxSend int, m any) (*outMessage, error) {
	var data []byte
	if cfg.v1 != nil {
		d, err := cfg.v1.Marshal(m)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "grpc: error while marshaling: %v", err)
		}
		data = d
	} else {
		bs, err := cfg.codec.Marshal(m)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "grpc: error while marshaling: %v", err)
		}
		data = bs.Materialize()
		bs.Free()
	}
	if maxSend > 0 && len(data) > maxSend {
		return nil, status.Errorf(codes.ResourceExhausted, "trying to send message larger than max (%d vs. %d)", len(data), maxSend)
	}
	if outType != nil {
		msg := outType.New().Interface()
		if err := proto.Unmarshal(data, msg); err != nil {
			return nil, status.Errorf(codes.Internal, "polyrpc: transcoding the response of %s: %v", method, err)
		}
		return &outMessage{msg: msg}, nil
	}
	return &outMessage{msg: &rawProto{data: data}}, nil
}

// forcedDecode unmarshals a received message into m with the forced codec;
// inType, if set, is the type the message is transcoded from for a caller
// that does not use protobuf.
func forcedDecode(cfg *unknownConfig, method string, inType protoreflect.MessageType, in *inMessage, m any) error {
	var data []byte
	if in.decoded != nil {
		// connect-go's request initializer has decoded the request of a
		// registered method into its input type already (methodOptions).
		if in.decodeErr != nil {
			return status.Error(codes.InvalidArgument, "unmarshal message: "+in.decodeErr.Error())
		}
		d, err := proto.Marshal(in.decoded)
		if err != nil {
			return status.Errorf(codes.Internal, "polyrpc: transcoding the request of %s: %v", method, err)
		}
		data = d
	} else if inType != nil {
		msg := inType.New().Interface()
		err := in.decodeBytes(msg)
		in.release()
		if err != nil {
			return status.Error(codes.InvalidArgument, "unmarshal message: "+err.Error())
		}
		if data, err = proto.Marshal(msg); err != nil {
			return status.Errorf(codes.Internal, "polyrpc: transcoding the request of %s: %v", method, err)
		}
	} else if in.set {
		data = in.data
	}
	var err error
	if cfg.v1 != nil {
		// The codec may keep the bytes: they are its own from now on.
		in.buf, in.data = nil, nil
		if data == nil {
			data = []byte{}
		}
		err = cfg.v1.Unmarshal(data, m)
	} else {
		err = cfg.codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(data)}, m)
		in.release()
	}
	if err != nil {
		return status.Errorf(codes.Internal, "grpc: failed to unmarshal the received message: %v", err)
	}
	return nil
}

// rawProto is a message already in the binary protobuf format: polyrpc's
// proto codec writes its bytes as they are, and any other protobuf
// marshaler does too, since they are its unknown fields.
type rawProto struct {
	data []byte
}

func (r *rawProto) ProtoReflect() protoreflect.Message {
	m := (&emptypb.Empty{}).ProtoReflect()
	m.SetUnknown(r.data)
	return m
}
