package proxy

import (
	"context"
	"errors"
	"io"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// connStream is a call on a grpc.ClientConnInterface that is not a
// *grpc.ClientConn, which takes protobuf messages rather than frames: a
// frame crosses as an emptypb.Empty whose unknown fields are its bytes,
// which protobuf codecs marshal as they are. Calls whose caller sends one
// message (unary and server-streaming) start once that message is known,
// as what the method is changes the request on some protocols (Connect's
// unary calls are not enveloped).
type connStream struct {
	ctx    context.Context
	cc     grpc.ClientConnInterface
	method string
	desc   grpc.StreamDesc

	inner grpc.ClientStream // once started
	recvd bool              // a response was received, for calls of one response

	// Calls whose caller sends one message.
	once    sync.Once
	sent    chan struct{} // closed by CloseSend
	req     *emptypb.Empty
	tooMany bool // the caller sent a second message
	started bool
	err     error       // the unary call's or the start's error
	reply   []byte      // the unary call's reply
	header  metadata.MD // the unary call's
	trailer metadata.MD
}

func newConnStream(ctx context.Context, cc grpc.ClientConnInterface, method string, desc *grpc.StreamDesc) (*connStream, error) {
	s := &connStream{ctx: ctx, cc: cc, method: method, desc: *desc}
	if !desc.ClientStreams {
		s.sent = make(chan struct{})
		return s, nil
	}
	inner, err := cc.NewStream(ctx, desc, method)
	if err != nil {
		return nil, err
	}
	s.inner = inner
	return s, nil
}

func (s *connStream) Context() context.Context { return s.ctx }

func (s *connStream) SendMsg(m any) error {
	msg, err := asEmpty(m)
	if err != nil {
		return err
	}
	if s.sent == nil {
		return s.inner.SendMsg(msg)
	}
	if s.req != nil {
		// The call fails; it starts now, so that it fails without waiting
		// for the caller to close its side.
		s.tooMany = true
		s.once.Do(func() { close(s.sent) })
		return status.Errorf(codes.Unimplemented, "proxy: method %s takes one request message", s.method)
	}
	s.req = msg
	return nil
}

func (s *connStream) CloseSend() error {
	if s.sent == nil {
		return s.inner.CloseSend()
	}
	s.once.Do(func() { close(s.sent) })
	return nil
}

// start makes a call whose caller sends one message, once it is sent.
func (s *connStream) start() error {
	if s.started {
		return s.err
	}
	s.started = true
	select {
	case <-s.sent:
	case <-s.ctx.Done():
		s.err = status.FromContextError(s.ctx.Err()).Err()
		return s.err
	}
	if s.req == nil || s.tooMany {
		sent := "none"
		if s.tooMany {
			sent = "more"
		}
		s.err = status.Errorf(codes.Unimplemented, "proxy: method %s takes one request message, the caller sent %s", s.method, sent)
		return s.err
	}
	if !s.desc.ServerStreams {
		reply := &emptypb.Empty{}
		s.err = s.cc.Invoke(s.ctx, s.method, s.req, reply, grpc.Header(&s.header), grpc.Trailer(&s.trailer))
		s.reply = reply.ProtoReflect().GetUnknown()
		return s.err
	}
	inner, err := s.cc.NewStream(s.ctx, &s.desc, s.method)
	if err == nil {
		if err = inner.SendMsg(s.req); err == nil || errors.Is(err, io.EOF) {
			err = inner.CloseSend()
		}
	}
	if err != nil {
		s.err = err
		return err
	}
	s.inner = inner
	return nil
}

func (s *connStream) Header() (metadata.MD, error) {
	if s.sent != nil {
		if err := s.start(); err != nil {
			return nil, nil // as grpc-go: RecvMsg says the error
		}
		if s.inner == nil {
			return s.header, nil
		}
	}
	return s.inner.Header()
}

func (s *connStream) Trailer() metadata.MD {
	if s.inner == nil {
		return s.trailer
	}
	return s.inner.Trailer()
}

func (s *connStream) RecvMsg(m any) error {
	f, ok := m.(*Frame)
	if !ok {
		return status.Errorf(codes.Internal, "proxy: %T is not a frame", m)
	}
	if s.sent != nil {
		if err := s.start(); err != nil {
			return err
		}
	}
	if !s.desc.ServerStreams && s.recvd {
		return io.EOF
	}
	if s.inner == nil {
		f.Payload = s.reply
		s.recvd = true
		return nil
	}
	msg := &emptypb.Empty{}
	if err := s.inner.RecvMsg(msg); err != nil {
		return err
	}
	f.Payload = msg.ProtoReflect().GetUnknown()
	s.recvd = true
	return nil
}

func asEmpty(m any) (*emptypb.Empty, error) {
	f, ok := m.(*Frame)
	if !ok {
		return nil, status.Errorf(codes.Internal, "proxy: %T is not a frame", m)
	}
	msg := &emptypb.Empty{}
	if len(f.Payload) != 0 {
		msg.ProtoReflect().SetUnknown(f.Payload)
	}
	return msg, nil
}
