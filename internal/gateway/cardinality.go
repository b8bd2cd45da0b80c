package gateway

import (
	"errors"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// oneRequest reports whether the method's descriptor, linked into the
// program, says it ("/pkg.Service/Method") takes one request: unary and server-streaming methods. The proxy
// forwards every call as a bidirectional stream, so without this check a
// caller sending no request or several would get the backend's answer
// (grpc-go's Internal); the gateway answers Unimplemented instead, as a
// server of the method does.
func oneRequest(method string) bool {
	if i := lastSlash(method); i > 1 {
		name := protoreflect.FullName(method[1:i] + "." + method[i+1:])
		if name.IsValid() {
			if d, err := protoregistry.GlobalFiles.FindDescriptorByName(name); err == nil {
				if md, ok := d.(protoreflect.MethodDescriptor); ok {
					return !md.IsStreamingClient()
				}
			}
		}
	}
	return false
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

// oneRequestStream lets exactly one request through.
type oneRequestStream struct {
	grpc.ServerStream
	n int
}

func (s *oneRequestStream) RecvMsg(m any) error {
	s.n++
	switch s.n {
	case 1:
		err := s.ServerStream.RecvMsg(m)
		if errors.Is(err, io.EOF) {
			return status.Error(codes.Unimplemented, "rpcproxy: no request message for a method that takes one")
		}
		return err
	case 2:
		err := s.ServerStream.RecvMsg(m)
		if err == nil {
			return status.Error(codes.Unimplemented, "rpcproxy: more than one request message for a method that takes one")
		}
		return err
	}
	return io.EOF
}
