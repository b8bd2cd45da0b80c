package reply

import (
	"net/http"
	"strconv"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Content types of server streams.
const (
	NDJSON = "application/x-ndjson"
	SSE    = "text/event-stream"
)

// Stream writes the messages of a server-streaming call as they are sent,
// flushing each one:
//   - newline-delimited JSON, one message per line, by default;
//   - Server-Sent Events ("data: <json>" and a blank line per message) when
//     the client asked for text/event-stream;
//   - for google.api.HttpBody messages (the method's response, without
//     response_body), the data of each message as it is, with the content
//     type of the first.
//
// An error before anything is written is an ordinary error response. After
// that, the status can only travel in the body: NDJSON ends with a line
// {"error": <google.rpc.Status>}, SSE with an "error" event whose data is
// the status; in every mode the status is also sent in the Grpc-Status,
// Grpc-Message and Grpc-Status-Details-Bin HTTP trailers.
type Stream struct {
	w        http.ResponseWriter
	rc       *http.ResponseController
	sse      bool
	httpBody bool
	field    protoreflect.FieldDescriptor
	started  bool
	buf      []byte
}

// NewStream returns the writer of a server stream. httpBody says that the
// messages are google.api.HttpBody (and field is nil); field is the
// response_body field, if any.
func NewStream(w http.ResponseWriter, sse, httpBody bool, field protoreflect.FieldDescriptor) *Stream {
	return &Stream{w: w, rc: http.NewResponseController(w), sse: sse && !httpBody, httpBody: httpBody, field: field}
}

// Started reports whether the response headers are written.
func (s *Stream) Started() bool { return s.started }

// Start writes the response headers, if not yet written. contentType is
// used in HttpBody mode.
func (s *Stream) Start(contentType string) {
	if s.started {
		return
	}
	s.started = true
	h := s.w.Header()
	switch {
	case s.httpBody:
		if contentType == "" {
			contentType = "application/octet-stream"
		}
		h.Set("Content-Type", contentType)
	case s.sse:
		h.Set("Content-Type", SSE)
		h.Set("Cache-Control", "no-cache")
	default:
		h.Set("Content-Type", NDJSON)
	}
	h.Add("Vary", "Accept")
	s.w.WriteHeader(http.StatusOK)
	_ = s.rc.Flush()
}

// Send writes one message and flushes it. It returns the length of the
// message as written.
func (s *Stream) Send(msg proto.Message) (int, error) {
	if s.httpBody {
		ct, data, _ := HTTPBody(msg.ProtoReflect())
		s.Start(ct)
		if len(data) == 0 {
			return 0, nil
		}
		if _, err := s.w.Write(data); err != nil {
			return 0, err
		}
		return len(data), s.rc.Flush()
	}
	b := s.buf[:0]
	if s.sse {
		b = append(b, "data: "...)
	}
	start := len(b)
	b, err := Marshal(b, msg, s.field)
	if err != nil {
		return 0, err
	}
	n := len(b) - start
	if s.sse {
		b = append(b, "\n\n"...)
	} else {
		b = append(b, '\n')
	}
	s.buf = b
	s.Start("")
	if _, err := s.w.Write(b); err != nil {
		return 0, err
	}
	return n, s.rc.Flush()
}

// Finish ends the stream with its status: nil for success.
func (s *Stream) Finish(st *spb.Status, detailsBin string) {
	s.Start("")
	h := s.w.Header()
	code := st.GetCode()
	h.Set(http.TrailerPrefix+"Grpc-Status", strconv.Itoa(int(code)))
	if msg := st.GetMessage(); msg != "" {
		h.Set(http.TrailerPrefix+"Grpc-Message", encodeMessage(msg))
	}
	if detailsBin != "" {
		h.Set(http.TrailerPrefix+"Grpc-Status-Details-Bin", detailsBin)
	}
	if code == 0 || s.httpBody {
		return
	}
	js := StatusJSON(st)
	var b []byte
	if s.sse {
		b = append(append(append(b, "event: error\ndata: "...), js...), "\n\n"...)
	} else {
		b = append(append(append(b, `{"error":`...), js...), "}\n"...)
	}
	_, _ = s.w.Write(b)
	_ = s.rc.Flush()
}

// encodeMessage percent-encodes a status message as gRPC's Grpc-Message
// does: bytes outside printable ASCII, and '%'.
func encodeMessage(msg string) string {
	const hex = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c >= 0x20 && c <= 0x7e && c != '%' {
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		if b == nil {
			b = append(make([]byte, 0, len(msg)+8), msg[:i]...)
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	if b == nil {
		return msg
	}
	return string(b)
}
