package polyrpc

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// A codec forced with ForceServerCodecV2 (or ForceServerCodec, CustomCodec)
// on net/http's path also serves the registered stream methods whose
// handler receives and sends messages that are not protobuf ones: the raw
// frames of a proxy that registers its forwarding handler as a service, as
// siderolabs/grpc-proxy's RegisterService does. Handlers of protobuf
// messages keep polyrpc's codecs, and so every caller's codec.

// forcedStream is the forced codec's state in a registered stream.
type forcedStream struct {
	cfg *unknownConfig // nil: no forced codec
	// all is set for the calls of the UnknownServiceHandler: the codec
	// takes every message, and newStream has set the types.
	all bool

	once            sync.Once
	err             error // the caller's codec cannot be given to the forced codec
	inType, outType protoreflect.MessageType
}

// wants reports whether m is a message for the forced codec.
func (f *forcedStream) wants(m any) bool {
	if f.cfg == nil || f.cfg.codec == nil {
		return false
	}
	if f.all {
		return true
	}
	if m == nil {
		return false
	}
	_, err := asProto(m)
	return err != nil
}

// setup finds, once, whether the caller's messages reach the forced codec as
// they are (protobuf) or transcoded, which needs the method's descriptor.
func (f *forcedStream) setup(s *serverStream) error {
	if f.all {
		return nil
	}
	f.once.Do(func() {
		codec := grpcCodecName(s.conn.RequestHeader().Get("Content-Type"))
		if codec == codecNameProto {
			return
		}
		md := methodDescriptor(s.method)
		if md == nil {
			f.err = status.Errorf(codes.Unimplemented,
				"polyrpc: method %s takes protobuf bytes, and the %s codec needs the method's descriptor to be transcoded, which this server does not have: call it with the proto codec",
				s.method, codec)
			return
		}
		f.inType, f.outType = messageType(md.Input()), messageType(md.Output())
	})
	return f.err
}

// recvForced receives a message into m with the forced codec, and reports
// it to the stats handlers once decoded, with m as its payload, as grpc-go
// does.
func (s *serverStream) recvForced(m any) error {
	if err := s.forced.setup(s); err != nil {
		return err
	}
	in := s.first
	if in != nil {
		if s.firstRead {
			return io.EOF
		}
		s.firstRead = true
	} else {
		in = &s.recvd
		in.release()
		*in = inMessage{}
		if err := s.conn.Receive(in); err != nil {
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			return toStatusError(err)
		}
	}
	size := in.size
	if err := forcedDecode(s.forced.cfg, s.method, s.forced.inType, in, m); err != nil {
		return err
	}
	if s.stats != nil {
		s.stats.inPayload(m, func() int { return size })
	}
	return nil
}

// encodeForced marshals m with the forced codec.
func (s *serverStream) encodeForced(m any) (*outMessage, error) {
	if err := s.forced.setup(s); err != nil {
		return nil, err
	}
	out, err := forcedEncode(s.forced.cfg, s.method, s.forced.outType, s.maxSend, m)
	if err != nil {
		return nil, err
	}
	if out == nil || out.msg == nil {
		return nil, status.Error(codes.Internal, fmt.Sprintf("polyrpc: the forced codec gave no message for %T", m))
	}
	return out, nil
}

// finish marks the stream done once its handler has returned: goroutines
// that the handler left behind, as a proxy's, may still send, which then
// fails as on a grpc.Server instead of writing to a finished response, and
// a send under way ends first. It returns the outcome of the call: the
// handler's err, or the first failed receive of an unknown method's call.
func (s *serverStream) finish(err error) error {
	s.mu.Lock()
	s.done = true
	if s.recvErr != nil {
		// As grpc-go does, a failed receive ends the call with its own
		// status, whatever the handler makes of it (a proxy typically
		// wraps it in Internal).
		err = s.recvErr
	}
	s.mu.Unlock()
	s.sends.Wait()
	return err
}
