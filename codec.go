package polyrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/runtime/protoimpl"
	"google.golang.org/protobuf/types/known/emptypb"
)

const (
	codecNameProto           = "proto"
	codecNameJSON            = "json"
	codecNameJSONCharsetUTF8 = "json; charset=utf-8"
)

// inMessage holds a received message that has not been decoded yet. A
// grpc-go method handler decodes it later, through the dec function it is
// given, into a message of the type it chooses. The bytes are copied: connect
// reuses its read buffers.
//
// inMessage also implements proto.Message, for connect-go interceptors that
// look at requests: when the method's input type is known, the first call to
// ProtoReflect decodes the message into that type, and the handler then
// receives a copy of it, with any change an interceptor made.
type inMessage struct {
	data  []byte
	buf   *[]byte // data's pooled buffer
	codec messageCodec
	set   bool
	size  int // the length of the received message

	msgType   protoreflect.MessageType // the input type, if known
	decoded   proto.Message
	decodeErr error
}

// ProtoReflect decodes the message into its input type. Without a known
// type, the message is an empty, read-only one.
func (in *inMessage) ProtoReflect() protoreflect.Message {
	if in.decoded != nil {
		return in.decoded.ProtoReflect()
	}
	if in.msgType == nil {
		return (*emptypb.Empty)(nil).ProtoReflect()
	}
	msg := in.msgType.New().Interface()
	in.decodeErr = in.decodeBytes(msg)
	in.decoded = msg
	in.release()
	return msg.ProtoReflect()
}

// decode unmarshals the received message into m.
func (in *inMessage) decode(m any) error {
	msg, err := asProto(m)
	if err != nil {
		return err
	}
	if in.decoded == nil {
		err := in.decodeBytes(msg)
		if in.msgType != nil && msg.ProtoReflect().Descriptor() == in.msgType.Descriptor() {
			// From now on the handler's message stands for the request: a
			// connect-go interceptor that looks at the request after the
			// handler sees it, and the bytes go back to the pool.
			in.decoded = msg
			in.decodeErr = err
			in.release()
		}
		return err
	}
	if msg == in.decoded {
		return in.decodeErr
	}
	if in.decodeErr != nil {
		return in.decodeErr
	}
	if moveMessage(msg, in.decoded) {
		// The handler's message now stands for the request.
		in.decoded = msg
		return nil
	}
	proto.Reset(msg)
	if msg.ProtoReflect().Descriptor() == in.decoded.ProtoReflect().Descriptor() {
		proto.Merge(msg, in.decoded)
		return nil
	}
	data, err := proto.Marshal(in.decoded)
	if err != nil {
		return err
	}
	return proto.Unmarshal(data, msg)
}

func (in *inMessage) decodeBytes(msg proto.Message) error {
	if !in.set {
		// connect does not call the codec for an empty enveloped message: the
		// zero value is the message.
		proto.Reset(msg)
		return nil
	}
	return in.codec.unmarshal(in.data, msg)
}

// inBuffers holds the buffers that received messages are copied into until
// they are decoded.
var inBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBuffer is the largest buffer kept for reuse.
const maxPooledBuffer = 1 << 20

// store keeps a copy of data until the message is decoded.
func (in *inMessage) store(data []byte) {
	if in.buf == nil {
		in.buf = inBuffers.Get().(*[]byte)
	}
	*in.buf = append((*in.buf)[:0], data...)
	in.data = *in.buf
}

// release returns the copy of the received bytes to the pool, once they are
// decoded and no longer needed.
func (in *inMessage) release() {
	if in.buf == nil {
		return
	}
	if cap(*in.buf) <= maxPooledBuffer {
		inBuffers.Put(in.buf)
	}
	in.buf = nil
	in.data = nil
}

// outMessage carries a message to be sent. It implements proto.Message by
// delegating to the message it carries, so that any protobuf codec can
// marshal it, not only polyrpc's.
type outMessage struct {
	msg proto.Message
}

func (o *outMessage) ProtoReflect() protoreflect.Message { return o.msg.ProtoReflect() }

// asProto returns m as a protobuf API v2 message. Messages generated for the
// older github.com/golang/protobuf API are wrapped.
func asProto(m any) (proto.Message, error) {
	switch m := m.(type) {
	case *outMessage:
		return m.msg, nil
	case proto.Message:
		return m, nil
	case protoadapt.MessageV1:
		return protoimpl.X.ProtoMessageV2Of(m), nil
	case nil:
		return nil, errors.New("polyrpc: nil message")
	default:
		return nil, fmt.Errorf("polyrpc: %T is not a protobuf message", m)
	}
}

// messageCodec is a connect.Codec that also understands inMessage and
// outMessage. Its wire behaviour mirrors connect-go's own codecs.
type messageCodec interface {
	connect.Codec
	unmarshal(data []byte, m proto.Message) error
}

func newCodecOptions() []connect.HandlerOption {
	return []connect.HandlerOption{
		connect.WithCodec(protoCodec{}),
		connect.WithCodec(jsonCodec{name: codecNameJSON}),
		connect.WithCodec(jsonCodec{name: codecNameJSONCharsetUTF8}),
	}
}

// unmarshalInto decodes data into a message. An inMessage whose type is
// known decodes it at once into a message of that type, which the handler
// then receives: one copy of the request, not two. Without a known type the
// bytes are kept until the handler says which message it wants. Either way,
// a decoding error reaches the handler through its dec function, as with
// grpc-go.
func unmarshalInto(c messageCodec, data []byte, m any) error {
	if in, ok := m.(*inMessage); ok {
		in.codec = c
		in.set = true
		in.size = len(data)
		if in.msgType != nil {
			msg := in.msgType.New().Interface()
			in.decodeErr = c.unmarshal(data, msg)
			in.decoded = msg
			return nil
		}
		in.store(data)
		return nil
	}
	msg, err := asProto(m)
	if err != nil {
		return err
	}
	return c.unmarshal(data, msg)
}

type protoCodec struct{}

func (protoCodec) Name() string { return codecNameProto }

func (protoCodec) Marshal(m any) ([]byte, error) {
	msg, err := asProto(m)
	if err != nil {
		return nil, err
	}
	return proto.Marshal(msg)
}

func (protoCodec) MarshalAppend(dst []byte, m any) ([]byte, error) {
	if o, ok := m.(*outMessage); ok {
		if r, ok := o.msg.(*rawProto); ok {
			return append(dst, r.data...), nil
		}
	}
	msg, err := asProto(m)
	if err != nil {
		return nil, err
	}
	return proto.MarshalOptions{}.MarshalAppend(dst, msg)
}

func (protoCodec) MarshalStable(m any) ([]byte, error) {
	msg, err := asProto(m)
	if err != nil {
		return nil, err
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(msg)
}

func (protoCodec) IsBinary() bool { return true }

func (c protoCodec) Unmarshal(data []byte, m any) error { return unmarshalInto(c, data, m) }

func (protoCodec) unmarshal(data []byte, m proto.Message) error {
	if err := proto.Unmarshal(data, m); err != nil {
		return fmt.Errorf("unmarshal into %T: %w", m, err)
	}
	return nil
}

type jsonCodec struct {
	name string
}

func (c jsonCodec) Name() string { return c.name }

func (jsonCodec) Marshal(m any) ([]byte, error) {
	msg, err := asProto(m)
	if err != nil {
		return nil, err
	}
	return protojson.MarshalOptions{}.Marshal(msg)
}

func (jsonCodec) MarshalAppend(dst []byte, m any) ([]byte, error) {
	msg, err := asProto(m)
	if err != nil {
		return nil, err
	}
	return protojson.MarshalOptions{}.MarshalAppend(dst, msg)
}

func (c jsonCodec) MarshalStable(m any) ([]byte, error) {
	// protojson output has no stable whitespace; compact it.
	data, err := c.Marshal(m)
	if err != nil {
		return nil, err
	}
	compacted := bytes.NewBuffer(data[:0])
	if err := json.Compact(compacted, data); err != nil {
		return nil, err
	}
	return compacted.Bytes(), nil
}

func (jsonCodec) IsBinary() bool { return false }

func (c jsonCodec) Unmarshal(data []byte, m any) error { return unmarshalInto(c, data, m) }

func (jsonCodec) unmarshal(data []byte, m proto.Message) error {
	if len(data) == 0 {
		return errors.New("zero-length payload is not a valid JSON object")
	}
	// Like connect-go, discard unknown fields so that clients and servers need
	// not use exactly the same version of the schema.
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, m); err != nil {
		return fmt.Errorf("unmarshal into %T: %w", m, err)
	}
	return nil
}
