package polyrpc

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/polyrpc/polyrpc/internal/rest"
	"github.com/polyrpc/polyrpc/internal/rest/bind"
	"github.com/polyrpc/polyrpc/internal/rest/reply"
	restroute "github.com/polyrpc/polyrpc/internal/rest/route"
)

// REST: every method with a google.api.http option is also served at its
// REST paths, by NewHandler and Server alike. The bindings are built once,
// from the service descriptor found in protoregistry.GlobalFiles
// (lookupService), and the requests are served by the grpc-go method
// handlers, as on the other protocols, with polyrpc's context, metadata,
// interceptors and limits. internal/rest holds the stages: route (path
// templates and routing), bind (request binding), reply (responses,
// streams, errors).

// restMethod serves one REST binding of a method.
type restMethod struct {
	b          *rest.Binding
	filter     bind.QueryFilter
	fullMethod string
	impl       any
	maxRecv    int
	maxSend    int
	// One of unary or stream.
	unary       grpc.MethodHandler
	unaryInt    grpc.UnaryServerInterceptor
	stream      grpc.StreamHandler
	streamInt   grpc.StreamServerInterceptor
	info        *grpc.StreamServerInfo
	httpBodyIn  bool            // the body is read into a google.api.HttpBody
	httpBodyOut bool            // the response is a google.api.HttpBody, sent as it is
	stats       []stats.Handler // rest_stats.go
	// upload is set for a client stream of google.api.HttpBody with body
	// "*": the request body, in chunks (rest_upload.go).
	upload bool
}

// restRouter routes REST requests to their methods.
type restRouter struct {
	router  restroute.Router[*restMethod]
	methods []*restMethod
}

// newRESTMethods returns the REST bindings of a service's methods, nil when
// there are none.
func newRESTMethods(desc *grpc.ServiceDesc, impl any, schema protoreflect.ServiceDescriptor, cfg *serverConfig,
	unaryInt grpc.UnaryServerInterceptor, streamInt grpc.StreamServerInterceptor) []*restMethod {
	if schema == nil {
		return nil
	}
	var out []*restMethod
	add := func(name string, fill func(m *restMethod)) {
		md := schema.Methods().ByName(protoreflect.Name(name))
		if md == nil {
			return
		}
		bindings, errs := rest.Bindings(md)
		for _, err := range errs {
			log.Printf("polyrpc: REST binding not served: %v", err)
		}
		for _, b := range bindings {
			m := &restMethod{
				b:          b,
				filter:     b.QueryFilter(),
				fullMethod: "/" + desc.ServiceName + "/" + name,
				impl:       impl,
				maxRecv:    cfg.limits.recv(),
				maxSend:    cfg.limits.maxSend,
				stats:      cfg.interceptors.stats,
			}
			m.httpBodyOut = b.ResponseBody == nil && bind.IsHTTPBody(md.Output())
			m.httpBodyIn = b.Body == "*" && bind.IsHTTPBody(md.Input()) ||
				b.BodyField != nil && b.BodyField.Message() != nil && bind.IsHTTPBody(b.BodyField.Message())
			fill(m)
			out = append(out, m)
		}
	}
	for i := range desc.Methods {
		md := &desc.Methods[i]
		add(md.MethodName, func(m *restMethod) {
			m.unary, m.unaryInt = md.Handler, unaryInt
		})
	}
	for i := range desc.Streams {
		sd := &desc.Streams[i]
		add(sd.StreamName, func(m *restMethod) {
			m.stream, m.streamInt = sd.Handler, streamInt
			m.info = &grpc.StreamServerInfo{FullMethod: m.fullMethod, IsClientStream: sd.ClientStreams, IsServerStream: sd.ServerStreams}
			m.upload = sd.ClientStreams && !sd.ServerStreams && m.b.Body == "*" && bind.IsHTTPBody(m.b.Method.Input())
		})
	}
	return out
}

// newRESTRouter routes the given methods. A binding whose path and HTTP
// method are taken by an earlier one is not served, and logged.
func newRESTRouter(methods []*restMethod) *restRouter {
	if len(methods) == 0 {
		return nil
	}
	rr := &restRouter{methods: methods}
	for _, m := range methods {
		if err := rr.router.Add(m.b.Verb, m.b.Template, m); err != nil {
			log.Printf("polyrpc: REST binding of %s not served: %v", m.fullMethod, err)
		}
	}
	return rr
}

// serve serves r if it matches a REST binding, and reports whether it did.
func (rr *restRouter) serve(w http.ResponseWriter, r *http.Request) bool {
	if rr == nil {
		return false
	}
	path := r.URL.EscapedPath()
	m, res, allow := rr.router.Lookup(r.Method, path)
	if res != restroute.Found && r.Method == http.MethodHead {
		// HEAD is GET without the body, unless a rule says otherwise.
		m, res, _ = rr.router.Lookup(http.MethodGet, path)
	}
	switch res {
	case restroute.NotFound:
		return false
	case restroute.MethodNotAllowed:
		w.Header().Set("Allow", strings.Join(allow, ", "))
		reply.WriteError(w, &spb.Status{Code: int32(codes.Unimplemented),
			Message: fmt.Sprintf("method %s not allowed for %s", r.Method, path)}, http.StatusMethodNotAllowed)
		return true
	}
	m.Value.serve(w, r, &m)
	return true
}

// restError answers a call that fails before its method runs.
func restError(w http.ResponseWriter, code codes.Code, httpStatus int, format string, args ...any) {
	reply.WriteError(w, &spb.Status{Code: int32(code), Message: fmt.Sprintf(format, args...)}, httpStatus)
}

// restStatus converts an error returned by a grpc-go handler as
// toConnectError does for the other protocols.
func restStatus(err error) *spb.Status {
	st, _ := status.FromError(toStatusError(toConnectError(err)))
	return st.Proto()
}

// jsonContentType is the Content-Type header value of JSON responses,
// shared: net/http only reads it.
var jsonContentType = []string{"application/json"}

var restBodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (m *restMethod) serve(w http.ResponseWriter, r *http.Request, match *restroute.Match[*restMethod]) {
	if m.info != nil && m.info.IsClientStream && !m.upload {
		kind := "client-streaming"
		if m.info.IsServerStream {
			kind = "bidirectional-streaming"
		}
		restError(w, codes.Unimplemented, http.StatusNotImplemented,
			"method %s is %s: it is not served over REST; call it with gRPC, gRPC-Web or Connect", m.fullMethod, kind)
		return
	}
	ctx := r.Context()
	if r.TLS != nil {
		ctx = context.WithValue(ctx, tlsStateKey{}, r.TLS)
	}
	if t := r.Header.Get("Grpc-Timeout"); t != "" {
		d, ok := parseGRPCTimeout(t)
		if !ok {
			restError(w, codes.InvalidArgument, http.StatusBadRequest, "malformed grpc-timeout header %q", clipValue(t))
			return
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	req := restRequest{m: m, match: match, r: r}
	if len(m.stats) != 0 {
		req.stats = startRESTStats(ctx, m.stats, m.fullMethod, r, m.info != nil && m.info.IsServerStream)
		ctx = req.stats.ctx
	}
	if m.upload {
		if r.URL.RawQuery != "" {
			st := &spb.Status{Code: int32(codes.InvalidArgument),
				Message: fmt.Sprintf("unknown query parameter: the body binds every field of %s", m.b.Method.Input().FullName())}
			reply.WriteError(w, st, 0)
			if req.stats != nil {
				req.stats.end(nil, status.ErrorProto(st))
			}
			return
		}
		m.serveUpload(ctx, w, r, &req)
		return
	}
	if m.b.Body != "" {
		buf := restBodyPool.Get().(*bytes.Buffer)
		buf.Reset()
		if st, code := readRESTBody(r, buf, m.maxRecv); st != nil {
			restBodyPool.Put(buf)
			reply.WriteError(w, st, code)
			if req.stats != nil {
				req.stats.end(nil, status.ErrorProto(st))
			}
			return
		}
		req.body = buf.Bytes()
		// An HttpBody keeps the bytes: its buffer is not reused.
		if !m.httpBodyIn && buf.Cap() <= 1<<20 {
			defer restBodyPool.Put(buf)
		}
	}
	if m.unary != nil {
		m.serveUnary(ctx, w, r, &req)
		return
	}
	m.serveStream(ctx, w, r, &req)
}

// readRESTBody reads the request body into buf, within the receive limit
// and after gzip decompression. It returns the status and HTTP status of a
// body that cannot be read.
func readRESTBody(r *http.Request, buf *bytes.Buffer, max int) (*spb.Status, int) {
	fail := func(code codes.Code, httpStatus int, format string, args ...any) (*spb.Status, int) {
		return &spb.Status{Code: int32(code), Message: fmt.Sprintf(format, args...)}, httpStatus
	}
	if r.ContentLength > int64(max) {
		return fail(codes.ResourceExhausted, http.StatusRequestEntityTooLarge,
			"request body larger than max (%d vs. %d)", r.ContentLength, max)
	}
	body, st, code := restBodyReader(r)
	if st != nil {
		return st, code
	}
	if c, ok := body.(io.Closer); ok && body != r.Body {
		defer c.Close()
	}
	n, err := buf.ReadFrom(io.LimitReader(body, int64(max)+1))
	switch {
	case n > int64(max):
		return fail(codes.ResourceExhausted, http.StatusRequestEntityTooLarge,
			"request body larger than max (more than %d bytes)", max)
	case err != nil:
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return fail(codes.ResourceExhausted, http.StatusRequestEntityTooLarge, "request body too large: %v", err)
		}
		if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fail(codes.InvalidArgument, http.StatusBadRequest, "malformed request body: %v", err)
		}
		return fail(codes.Canceled, 499, "reading the request body: %v", err)
	}
	return nil, 0
}

// restBodyReader returns the reader of the request body, decompressed:
// gzip is the only Content-Encoding accepted.
func restBodyReader(r *http.Request) (io.Reader, *spb.Status, int) {
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return r.Body, nil, 0
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, &spb.Status{Code: int32(codes.InvalidArgument), Message: fmt.Sprintf("malformed gzip request body: %v", err)}, http.StatusBadRequest
		}
		return zr, nil, 0
	default:
		return nil, &spb.Status{Code: int32(codes.Unimplemented),
			Message: fmt.Sprintf("unsupported Content-Encoding %q (only gzip is accepted)", clipValue(enc))}, http.StatusUnsupportedMediaType
	}
}

// restRequest is what binds a request message.
type restRequest struct {
	m     *restMethod
	match *restroute.Match[*restMethod]
	r     *http.Request
	body  []byte
	stats *restStats // nil without stats handlers
}

// bind fills msg from the body, then the path variables (which win over
// the body, as in grpc-gateway), then the query parameters, and fills an
// empty update_mask of a PATCH.
func (q *restRequest) bind(v any) error {
	msg, err := asProto(v)
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	b := q.m.b
	pm := msg.ProtoReflect()
	if b.Body != "" {
		if err := bind.Body(pm, b.BodyField, q.body, q.r.Header.Get("Content-Type")); err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
	}
	i := 0
	err = q.match.Vars(func(fieldPath, value string) error {
		fds := b.PathFields[i]
		i++
		return bind.SetPath(pm, fds, fieldPath, value)
	})
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	if q.r.URL.RawQuery != "" {
		if err := bind.Query(pm, q.r.URL.RawQuery, q.m.filter); err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
	}
	if b.UpdateMask != nil && len(q.body) != 0 {
		mask := pm.Mutable(b.UpdateMask).Message()
		list := mask.Mutable(mask.Descriptor().Fields().ByName("paths")).List()
		if list.Len() == 0 {
			paths, err := bind.MaskPaths(q.body, b.BodyField.Message())
			if err != nil {
				return status.Error(codes.InvalidArgument, err.Error())
			}
			for _, p := range paths {
				list.Append(protoreflect.ValueOfString(p))
			}
		}
	}
	if q.stats != nil {
		q.stats.in(msg, len(q.body))
	}
	return nil
}

// restUnaryCall holds what polyrpc adds to a unary REST call, in one
// allocation.
type restUnaryCall struct {
	ctx handlerContext
	st  unaryTransport
	buf []byte
}

func (m *restMethod) serveUnary(ctx context.Context, w http.ResponseWriter, r *http.Request, req *restRequest) {
	call := &restUnaryCall{st: unaryTransport{method: m.fullMethod}}
	hctx := handlerCallContext(&call.ctx, ctx, r.Header, connect.Peer{Addr: r.RemoteAddr}, &call.st)
	res, err := m.unary(m.impl, hctx, req.bind, m.unaryInt)
	h := w.Header()
	call.st.mu.Lock()
	metadataToHeader(call.st.header, h)
	metadataToHeader(call.st.trailer, h)
	call.st.headerSent = true
	call.st.mu.Unlock()
	if req.stats != nil {
		defer func() { req.stats.end(call.st.trailer, err) }()
	}
	if err != nil {
		st := restStatus(err)
		err = status.ErrorProto(st)
		if req.stats != nil {
			req.stats.outHeader(h)
		}
		reply.WriteError(w, st, 0)
		return
	}
	msg, err := asProto(res)
	if err != nil {
		restError(w, codes.Internal, http.StatusInternalServerError, "%v", err)
		return
	}
	if serr := checkSendSize(msg, m.maxSend); serr != nil {
		st := restStatus(serr)
		err = status.ErrorProto(st)
		reply.WriteError(w, st, 0)
		return
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && notModified(r.Header, h) {
		// The handler set an ETag (grpc.SetHeader) that the client has.
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if m.httpBodyOut {
		ct, data, _ := reply.HTTPBody(msg.ProtoReflect())
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.Set("Content-Type", ct)
		h.Set("Content-Length", strconv.Itoa(len(data)))
		if req.stats != nil {
			req.stats.out(h, msg, len(data))
		}
		_, _ = w.Write(data)
		return
	}
	out, merr := reply.Marshal(call.buf, msg, m.b.ResponseBody)
	if merr != nil {
		err = status.Errorf(codes.Internal, "marshal response: %v", merr)
		restError(w, codes.Internal, http.StatusInternalServerError, "marshal response: %v", merr)
		return
	}
	h["Content-Type"] = jsonContentType
	h.Set("Content-Length", strconv.Itoa(len(out)))
	if req.stats != nil {
		req.stats.out(h, msg, len(out))
	}
	_, _ = w.Write(out)
}

// restStream is the grpc.ServerStream of a server-streaming REST call.
type restStream struct {
	ctx     context.Context
	hctx    handlerContext
	st      restStreamTransport
	req     *restRequest
	w       http.ResponseWriter
	out     *reply.Stream
	maxSend int
	recvd   bool

	mu      sync.Mutex
	trailer metadata.MD
	done    bool
}

var _ grpc.ServerStream = (*restStream)(nil)

func (m *restMethod) serveStream(ctx context.Context, w http.ResponseWriter, r *http.Request, req *restRequest) {
	ss := &restStream{
		req:     req,
		w:       w,
		out:     reply.NewStream(w, reply.WantsSSE(r.Header.Get("Accept")), m.httpBodyOut, m.b.ResponseBody),
		maxSend: m.maxSend,
	}
	ss.st.s = ss
	ss.ctx = handlerCallContext(&ss.hctx, ctx, r.Header, connect.Peer{Addr: r.RemoteAddr}, &ss.st)
	var err error
	if m.streamInt != nil {
		err = m.streamInt(m.impl, ss, m.info, m.stream)
	} else {
		err = m.stream(m.impl, ss)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.done = true
	if req.stats != nil {
		defer func() { req.stats.end(ss.trailer, err) }()
	}
	if err != nil && !ss.out.Started() {
		metadataToHeader(ss.trailer, w.Header())
		st := restStatus(err)
		err = status.ErrorProto(st)
		if req.stats != nil {
			req.stats.outHeader(w.Header())
		}
		reply.WriteError(w, st, 0)
		return
	}
	var st *spb.Status
	var details string
	if err != nil {
		st = restStatus(err)
		err = status.ErrorProto(st)
		if len(st.GetDetails()) != 0 {
			if b, merr := proto.Marshal(st); merr == nil {
				details = base64.RawStdEncoding.EncodeToString(b)
			}
		}
	}
	if !ss.out.Started() {
		metadataToHeader(ss.trailer, w.Header())
	} else {
		h := w.Header()
		tmp := make(http.Header, len(ss.trailer))
		metadataToHeader(ss.trailer, tmp)
		for k, vs := range tmp {
			for _, v := range vs {
				h.Add(http.TrailerPrefix+k, v)
			}
		}
	}
	ss.out.Finish(st, details)
}

func (s *restStream) Context() context.Context { return s.ctx }

func (s *restStream) SetHeader(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return errStreamDone
	}
	if s.out.Started() {
		return errHeaderSent
	}
	metadataToHeader(md, s.w.Header())
	return nil
}

func (s *restStream) SendHeader(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return errStreamDone
	}
	if s.out.Started() {
		return errHeaderSent
	}
	metadataToHeader(md, s.w.Header())
	s.out.Start("")
	return nil
}

func (s *restStream) SetTrailer(md metadata.MD) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.trailer = metadata.Join(s.trailer, md)
	}
}

func (s *restStream) SendMsg(m any) error {
	msg, err := asProto(m)
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	if err := checkSendSize(msg, s.maxSend); err != nil {
		return toStatusError(err)
	}
	if err := s.ctx.Err(); err != nil {
		return status.FromContextError(err).Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return errStreamDone
	}
	n, err := s.out.Send(msg)
	if err != nil {
		return status.Error(codes.Unavailable, "writing the response: "+err.Error())
	}
	if s.req.stats != nil {
		s.req.stats.out(s.w.Header(), msg, n)
	}
	return nil
}

func (s *restStream) RecvMsg(m any) error {
	if s.recvd {
		return io.EOF
	}
	s.recvd = true
	return s.req.bind(m)
}

// restStreamTransport is the grpc.ServerTransportStream of a REST stream.
type restStreamTransport struct {
	s *restStream
}

func (t *restStreamTransport) Method() string                  { return t.s.req.m.fullMethod }
func (t *restStreamTransport) SetHeader(md metadata.MD) error  { return t.s.SetHeader(md) }
func (t *restStreamTransport) SendHeader(md metadata.MD) error { return t.s.SendHeader(md) }
func (t *restStreamTransport) SetTrailer(md metadata.MD) error {
	t.s.SetTrailer(md)
	return nil
}

// notModified reports whether the ETag of a response, set by the handler,
// matches the request's If-None-Match (weak comparison, RFC 9110).
func notModified(req, resp http.Header) bool {
	etag := resp.Get("Etag")
	inm := req.Get("If-None-Match")
	if etag == "" || inm == "" {
		return false
	}
	etag = strings.TrimPrefix(etag, "W/")
	for tag := range strings.SplitSeq(inm, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}

// parseGRPCTimeout parses a grpc-timeout header: at most 8 digits and a
// unit (H, M, S, m, u, n).
func parseGRPCTimeout(s string) (time.Duration, bool) {
	if len(s) < 2 || len(s) > 9 {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 'H':
		unit = time.Hour
	case 'M':
		unit = time.Minute
	case 'S':
		unit = time.Second
	case 'm':
		unit = time.Millisecond
	case 'u':
		unit = time.Microsecond
	case 'n':
		unit = time.Nanosecond
	default:
		return 0, false
	}
	if n > int64(1<<62)/int64(unit) {
		return 1 << 62, true
	}
	return time.Duration(n) * unit, true
}

func clipValue(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
