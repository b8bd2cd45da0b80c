// Package reply is the response stage of REST serving: it writes response
// messages as JSON (or the selected response_body field, or a
// google.api.HttpBody as it is), server streams as newline-delimited JSON
// or Server-Sent Events, and errors as the HTTP status of their gRPC code
// with a google.rpc.Status JSON body, details included.
package reply

import (
	"bytes"
	"net/http"
	"strings"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// HTTPStatus returns the HTTP status of a gRPC code, as grpc-gateway and
// Google APIs map them.
func HTTPStatus(c codes.Code) int {
	switch c {
	case codes.OK:
		return http.StatusOK
	case codes.Canceled:
		return 499 // Client Closed Request
	case codes.Unknown:
		return http.StatusInternalServerError
	case codes.InvalidArgument:
		return http.StatusBadRequest
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists:
		return http.StatusConflict
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.FailedPrecondition:
		// Deliberately not 412: grpc-gateway and Google APIs use 400.
		return http.StatusBadRequest
	case codes.Aborted:
		return http.StatusConflict
	case codes.OutOfRange:
		return http.StatusBadRequest
	case codes.Unimplemented:
		return http.StatusNotImplemented
	case codes.Internal:
		return http.StatusInternalServerError
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	case codes.DataLoss:
		return http.StatusInternalServerError
	}
	return http.StatusInternalServerError
}

// StatusJSON encodes a status as google.rpc.Status JSON. Details whose type
// is not linked into the program cannot be written as JSON and are left
// out.
func StatusJSON(st *spb.Status) []byte {
	out := st
	for i, d := range st.GetDetails() {
		if _, err := protoregistry.GlobalTypes.FindMessageByURL(d.GetTypeUrl()); err != nil {
			out = &spb.Status{Code: st.GetCode(), Message: st.GetMessage()}
			for _, d := range st.GetDetails()[:i] {
				out.Details = append(out.Details, d)
			}
			for _, d := range st.GetDetails()[i+1:] {
				if _, err := protoregistry.GlobalTypes.FindMessageByURL(d.GetTypeUrl()); err == nil {
					out.Details = append(out.Details, d)
				}
			}
			break
		}
	}
	b, err := protojson.Marshal(out)
	if err != nil {
		b, _ = protojson.Marshal(&spb.Status{Code: st.GetCode(), Message: st.GetMessage()})
	}
	return b
}

// WriteError answers with the HTTP status of st's code (or httpStatus, if
// not zero) and st as a google.rpc.Status JSON body.
func WriteError(w http.ResponseWriter, st *spb.Status, httpStatus int) {
	if httpStatus == 0 {
		httpStatus = HTTPStatus(codes.Code(st.GetCode()))
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Del("Content-Length")
	w.WriteHeader(httpStatus)
	_, _ = w.Write(StatusJSON(st))
}

// Marshal encodes a response message, or its response_body field fd, as
// JSON (protojson, lowerCamelCase names, default values left out).
func Marshal(dst []byte, msg proto.Message, fd protoreflect.FieldDescriptor) ([]byte, error) {
	if fd == nil {
		return protojson.MarshalOptions{}.MarshalAppend(dst, msg)
	}
	m := msg.ProtoReflect()
	if fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
		return protojson.MarshalOptions{}.MarshalAppend(dst, m.Get(fd).Message().Interface())
	}
	// A scalar, list or map: marshal a message with only that field, and
	// keep the field's value.
	tmp := m.Type().New()
	tmp.Set(fd, m.Get(fd))
	b, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(tmp.Interface())
	if err != nil {
		return nil, err
	}
	i := bytes.IndexByte(b, ':')
	v := bytes.TrimSpace(b[i+1:])
	v = bytes.TrimSuffix(v, []byte("}"))
	return append(dst, bytes.TrimSpace(v)...), nil
}

// HTTPBody returns the content type and data of a google.api.HttpBody
// message, and whether msg is one.
func HTTPBody(m protoreflect.Message) (contentType string, data []byte, ok bool) {
	md := m.Descriptor()
	if md.FullName() != "google.api.HttpBody" {
		return "", nil, false
	}
	fields := md.Fields()
	return m.Get(fields.ByName("content_type")).String(), m.Get(fields.ByName("data")).Bytes(), true
}

// WantsSSE reports whether the Accept header asks for Server-Sent Events.
func WantsSSE(accept string) bool {
	return strings.Contains(accept, "text/event-stream")
}
