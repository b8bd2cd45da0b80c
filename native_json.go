package polyrpc

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// JSON callers of the unknown-service handler on the native gRPC path. The
// forced codec takes protobuf bytes, but grpc-go gives it every message
// whatever the call's content subtype; so the native path's grpc.Server
// has the forced codec wrapped in nativeCodec, which hands over the wire
// bytes of a nativeRaw, and a JSON call whose method's descriptor is
// linked in is transcoded around the handler, as on net/http's path.

// nativeCodec is the forced codec of the native path's grpc.Server.
type nativeCodec struct {
	encoding.CodecV2
}

// nativeRaw is a message as it is on the wire.
type nativeRaw struct {
	data []byte
}

func (c nativeCodec) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(*nativeRaw); ok {
		return mem.BufferSlice{mem.SliceBuffer(r.data)}, nil
	}
	return c.CodecV2.Marshal(v)
}

func (c nativeCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if r, ok := v.(*nativeRaw); ok {
		r.data = data.Materialize()
		return nil
	}
	return c.CodecV2.Unmarshal(data, v)
}

// nativeJSONStream transcodes the messages of a JSON caller to and from
// the protobuf bytes that the forced codec takes and gives.
type nativeJSONStream struct {
	grpc.ServerStream
	cfg     *unknownConfig
	method  string
	inType  protoreflect.MessageType
	outType protoreflect.MessageType
}

func (s *nativeJSONStream) RecvMsg(m any) error {
	var raw nativeRaw
	if err := s.ServerStream.RecvMsg(&raw); err != nil {
		return err
	}
	msg := s.inType.New().Interface()
	if err := (grpcJSONCodec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(raw.data)}, msg); err != nil {
		return status.Error(codes.InvalidArgument, "unmarshal message: "+err.Error())
	}
	data, err := proto.Marshal(msg)
	if err != nil {
		return status.Errorf(codes.Internal, "polyrpc: transcoding the request of %s: %v", s.method, err)
	}
	if s.cfg.v1 != nil {
		err = s.cfg.v1.Unmarshal(data, m)
	} else {
		err = s.cfg.codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(data)}, m)
	}
	if err != nil {
		return status.Errorf(codes.Internal, "grpc: failed to unmarshal the received message: %v", err)
	}
	return nil
}

func (s *nativeJSONStream) SendMsg(m any) error {
	bs, err := s.cfg.codec.Marshal(m)
	if err != nil {
		return status.Errorf(codes.Internal, "grpc: error while marshaling: %v", err)
	}
	data := bs.Materialize()
	bs.Free()
	msg := s.outType.New().Interface()
	if err := proto.Unmarshal(data, msg); err != nil {
		return status.Errorf(codes.Internal, "polyrpc: transcoding the response of %s: %v", s.method, err)
	}
	out, err := (grpcJSONCodec{}).Marshal(msg)
	if err != nil {
		return status.Errorf(codes.Internal, "polyrpc: transcoding the response of %s: %v", s.method, err)
	}
	return s.ServerStream.SendMsg(&nativeRaw{data: out.Materialize()})
}
