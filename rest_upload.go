package polyrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/polyrpc/polyrpc/internal/rest/reply"
)

// uploadChunk is the most data a google.api.HttpBody message of a REST
// upload stream carries (less if MaxRecvMsgSize is smaller).
const uploadChunk = 64 << 10

// A client-streaming method whose request is google.api.HttpBody, bound
// with body "*", takes the request body as a stream: each message the
// method receives is the next chunk of the body, with the request's
// Content-Type, so that an upload of any size is never held whole. Its one
// response is written as a unary response.

// restUpload is the grpc.ServerStream of such a call.
type restUpload struct {
	ctx     context.Context
	hctx    handlerContext
	st      unaryTransport
	req     *restRequest
	body    io.Reader
	chunk   int
	maxSend int
	eof     bool

	mu       sync.Mutex
	response proto.Message
	done     bool
}

var _ grpc.ServerStream = (*restUpload)(nil)

func (m *restMethod) serveUpload(ctx context.Context, w http.ResponseWriter, r *http.Request, req *restRequest) {
	body, st, code := restBodyReader(r)
	if st != nil {
		reply.WriteError(w, st, code)
		if req.stats != nil {
			req.stats.end(nil, status.ErrorProto(st))
		}
		return
	}
	if c, ok := body.(io.Closer); ok && body != r.Body {
		defer c.Close()
	}
	us := &restUpload{req: req, body: body, chunk: min(uploadChunk, m.maxRecv), maxSend: m.maxSend}
	us.st.method = m.fullMethod
	us.ctx = handlerCallContext(&us.hctx, ctx, r.Header, connect.Peer{Addr: r.RemoteAddr}, &us.st)
	var err error
	if m.streamInt != nil {
		err = m.streamInt(m.impl, us, m.info, m.stream)
	} else {
		err = m.stream(m.impl, us)
	}
	us.mu.Lock()
	us.done = true
	res := us.response
	us.mu.Unlock()
	h := w.Header()
	us.st.mu.Lock()
	metadataToHeader(us.st.header, h)
	metadataToHeader(us.st.trailer, h)
	us.st.headerSent = true
	us.st.mu.Unlock()
	if err == nil && res == nil {
		err = status.Error(codes.Internal, "polyrpc: client-streaming handler returned without sending a response")
	}
	if req.stats != nil {
		defer func() { req.stats.end(us.st.trailer, err) }()
	}
	if err != nil {
		st := restStatus(err)
		err = status.ErrorProto(st)
		reply.WriteError(w, st, 0)
		return
	}
	var out []byte
	if ct, data, ok := reply.HTTPBody(res.ProtoReflect()); ok && m.b.ResponseBody == nil {
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.Set("Content-Type", ct)
		out = data
	} else {
		var merr error
		if out, merr = reply.Marshal(nil, res, m.b.ResponseBody); merr != nil {
			err = status.Errorf(codes.Internal, "marshal response: %v", merr)
			reply.WriteError(w, restStatus(err), 0)
			return
		}
		h["Content-Type"] = jsonContentType
	}
	h.Set("Content-Length", strconv.Itoa(len(out)))
	if req.stats != nil {
		req.stats.out(h, res, len(out))
	}
	_, _ = w.Write(out)
}

func (s *restUpload) Context() context.Context { return s.ctx }

func (s *restUpload) SetHeader(md metadata.MD) error  { return s.st.SetHeader(md) }
func (s *restUpload) SendHeader(md metadata.MD) error { return s.st.SendHeader(md) }
func (s *restUpload) SetTrailer(md metadata.MD)       { _ = s.st.SetTrailer(md) }

// SendMsg keeps the one response, written when the method returns.
func (s *restUpload) SendMsg(m any) error {
	msg, err := asProto(m)
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	if err := checkSendSize(msg, s.maxSend); err != nil {
		return toStatusError(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return errStreamDone
	}
	if s.response != nil {
		return status.Error(codes.Internal, "polyrpc: client-streaming handler sent more than one response")
	}
	s.response = msg
	return nil
}

// RecvMsg fills m, a google.api.HttpBody, with the next chunk of the body.
func (s *restUpload) RecvMsg(m any) error {
	if s.eof {
		return io.EOF
	}
	msg, err := asProto(m)
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	buf := make([]byte, s.chunk)
	n, err := io.ReadFull(s.body, buf)
	switch {
	case errors.Is(err, io.EOF):
		s.eof = true
		return io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		s.eof = true // the last, short chunk
	case err != nil:
		if ctxErr := s.ctx.Err(); ctxErr != nil {
			return status.FromContextError(ctxErr).Err()
		}
		return status.Error(codes.InvalidArgument, fmt.Sprintf("reading the request body: %v", err))
	}
	pm := msg.ProtoReflect()
	fields := pm.Descriptor().Fields()
	ctField, dataField := fields.ByName("content_type"), fields.ByName("data")
	if ctField == nil || dataField == nil {
		return status.Errorf(codes.Internal, "polyrpc: %T is not a google.api.HttpBody", m)
	}
	pm.Set(ctField, protoreflect.ValueOfString(s.req.r.Header.Get("Content-Type")))
	pm.Set(dataField, protoreflect.ValueOfBytes(buf[:n]))
	if s.req.stats != nil {
		s.req.stats.in(msg, n)
	}
	return nil
}
