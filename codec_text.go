package polyrpc

import (
	"fmt"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

const codecNameText = "text"

// CodecOption is an option that adds a codec. Like connect.WithCodec, it
// configures handlers (as a connect.HandlerOption, for [NewHandler] and
// generated NewXxxHandler functions), a [Server] (as a [ServerOption]) and a
// [ClientConn] (as a connect.ClientOption, for [NewClientConn]). A handler
// or Server accepts the codec's messages in addition to the others; a client
// sends its requests with it.
type CodecOption interface {
	connect.Option
	ServerOption
}

// WithProtoText returns a [CodecOption] for the protobuf text format
// (google.golang.org/protobuf/encoding/prototext), named "text" on the wire:
// Content-Type application/text for Connect unary calls,
// application/connect+text, application/grpc+text and
// application/grpc-web+text for streams, and encoding=text in Connect GET
// requests.
//
// The text format is off unless this option is given, as with connect-go and
// grpc-go: it is meant for people (curl, logs, tests) rather than programs,
// its output is not stable across protobuf-go releases, and a server need not
// parse more formats than its callers use. Like the JSON codec, it discards
// unknown fields and enum names, and a message that cannot be parsed fails
// the call with InvalidArgument. Its stable form, used by Connect GET
// requests, is stable within one build of a program only.
func WithProtoText() CodecOption {
	return &codecOption{Option: connect.WithCodec(textCodec{})}
}

type codecOption struct {
	connect.Option
}

func (o *codecOption) applyToServer(c *serverConfig) {
	c.handlerOptions = append(c.handlerOptions, o.Option)
}

// textCodec is the protobuf text format codec. Like protoCodec and
// jsonCodec, it understands inMessage and outMessage.
type textCodec struct{}

var _ messageCodec = textCodec{}

func (textCodec) Name() string { return codecNameText }

func (textCodec) Marshal(m any) ([]byte, error) {
	msg, err := asProto(m)
	if err != nil {
		return nil, err
	}
	return prototext.MarshalOptions{}.Marshal(msg)
}

func (textCodec) MarshalAppend(dst []byte, m any) ([]byte, error) {
	msg, err := asProto(m)
	if err != nil {
		return nil, err
	}
	return prototext.MarshalOptions{}.MarshalAppend(dst, msg)
}

// MarshalStable returns the same output for the same message within one
// build: prototext orders fields and map entries, and varies its whitespace
// only between builds.
func (c textCodec) MarshalStable(m any) ([]byte, error) { return c.Marshal(m) }

func (textCodec) IsBinary() bool { return false }

func (c textCodec) Unmarshal(data []byte, m any) error { return unmarshalInto(c, data, m) }

func (textCodec) unmarshal(data []byte, m proto.Message) error {
	// An empty text is the empty message, as an empty binary one is.
	if err := (prototext.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, m); err != nil {
		return fmt.Errorf("unmarshal into %T: %w", m, err)
	}
	return nil
}
