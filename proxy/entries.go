package proxy

import (
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// ResponseMetadata says which backend an answer of a one-to-many call
// comes from, as Talos' common.Metadata: on the wire, hostname is field 1,
// error field 2 and status (a google.rpc.Status) field 3.
type ResponseMetadata struct {
	Hostname string
	Error    string
	Status   *status.Status // nil: none
}

func (m ResponseMetadata) appendTo(b []byte) []byte {
	if m.Hostname != "" {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, m.Hostname)
	}
	if m.Error != "" {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, m.Error)
	}
	if m.Status != nil {
		st, _ := proto.Marshal(m.Status.Proto())
		b = protowire.AppendTag(b, 3, protowire.BytesType)
		b = protowire.AppendBytes(b, st)
	}
	return b
}

// AppendMetadata attributes an answer of a one-to-many call with md at the
// given field: appended to the message when streaming, else to each entry
// of the reply's repeated field 1 (the reply's other fields are kept).
// Appending a field to the bytes of a message merges it into the message,
// so field must be a message field of the entries (or unknown to them).
func AppendMetadata(msg []byte, streaming bool, field protowire.Number, md ResponseMetadata) ([]byte, error) {
	meta := md.appendTo(nil)
	if streaming {
		msg = protowire.AppendTag(msg, field, protowire.BytesType)
		return protowire.AppendBytes(msg, meta), nil
	}
	out := make([]byte, 0, len(msg)+8*len(meta))
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, msg[n:])
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		if num == 1 && typ == protowire.BytesType {
			entry, _ := protowire.ConsumeBytes(msg[n:])
			extra := protowire.SizeTag(field) + protowire.SizeBytes(len(meta))
			out = protowire.AppendTag(out, 1, protowire.BytesType)
			out = protowire.AppendVarint(out, uint64(len(entry)+extra))
			out = append(out, entry...)
			out = protowire.AppendTag(out, field, protowire.BytesType)
			out = protowire.AppendBytes(out, meta)
		} else {
			out = append(out, msg[:n+m]...)
		}
		msg = msg[n+m:]
	}
	return out, nil
}

// ErrorEntry returns the answer that stands for a backend's failure in a
// one-to-many call: a message whose field holds a ResponseMetadata with
// the backend's name, err's text and status; when not streaming, a reply
// whose one entry (field 1) is that message.
func ErrorEntry(streaming bool, field protowire.Number, backend string, err error) []byte {
	meta := ResponseMetadata{Hostname: backend, Error: err.Error(), Status: status.Convert(err)}.appendTo(nil)
	entry := protowire.AppendTag(nil, field, protowire.BytesType)
	entry = protowire.AppendBytes(entry, meta)
	if streaming {
		return entry
	}
	return protowire.AppendBytes(protowire.AppendTag(make([]byte, 0, len(entry)+8), 1, protowire.BytesType), entry)
}
