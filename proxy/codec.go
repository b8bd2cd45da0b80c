package proxy

import (
	"google.golang.org/grpc/encoding"
	gproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
)

// Frame is a message of the proxy: its bytes as they are on the wire.
type Frame struct {
	Payload []byte
}

// NewFrame returns a frame that holds payload, for the codec of [Codec].
func NewFrame(payload []byte) *Frame { return &Frame{Payload: payload} }

// Codec returns the codec the proxy needs on its server and its client
// calls: it passes the bytes of a [Frame] through untouched and marshals
// every other message with grpc-go's proto codec. Its name is "proto", so
// the backends see protobuf calls. Do not register it with
// encoding.RegisterCodecV2.
func Codec() encoding.CodecV2 { return CodecWithParent(encoding.GetCodecV2(gproto.Name)) }

// CodecWithParent is [Codec] with another codec for the messages that are
// not frames. The codec takes the parent's name.
func CodecWithParent(parent encoding.CodecV2) encoding.CodecV2 {
	if parent == nil {
		panic("proxy: CodecWithParent(nil)")
	}
	return rawCodec{parent}
}

type rawCodec struct{ parent encoding.CodecV2 }

func (c rawCodec) Name() string { return c.parent.Name() }

func (c rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if f, ok := v.(*Frame); ok {
		// grpc-go keeps the buffer until it is written: the frame's bytes
		// are not touched after a send (every receive makes new ones).
		return mem.BufferSlice{mem.SliceBuffer(f.Payload)}, nil
	}
	return c.parent.Marshal(v)
}

func (c rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if f, ok := v.(*Frame); ok {
		f.Payload = data.Materialize()
		return nil
	}
	return c.parent.Unmarshal(data, v)
}
