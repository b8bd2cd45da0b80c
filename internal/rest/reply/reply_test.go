package reply

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// The mapping of grpc-gateway v2's runtime.HTTPStatusFromCode.
func TestHTTPStatus(t *testing.T) {
	want := map[codes.Code]int{
		codes.OK: 200, codes.Canceled: 499, codes.Unknown: 500, codes.InvalidArgument: 400,
		codes.DeadlineExceeded: 504, codes.NotFound: 404, codes.AlreadyExists: 409,
		codes.PermissionDenied: 403, codes.Unauthenticated: 401, codes.ResourceExhausted: 429,
		codes.FailedPrecondition: 400, codes.Aborted: 409, codes.OutOfRange: 400,
		codes.Unimplemented: 501, codes.Internal: 500, codes.Unavailable: 503, codes.DataLoss: 500,
		codes.Code(99): 500,
	}
	for c, s := range want {
		if got := HTTPStatus(c); got != s {
			t.Errorf("HTTPStatus(%v) = %d, want %d", c, got, s)
		}
	}
}

func TestWriteError(t *testing.T) {
	known, _ := anypb.New(&errdetails.ErrorInfo{Reason: "R"})
	unknown := &anypb.Any{TypeUrl: "type.googleapis.com/no.such.Type", Value: []byte{1}}
	rec := httptest.NewRecorder()
	WriteError(rec, &spb.Status{Code: 5, Message: "gone", Details: []*anypb.Any{unknown, known}}, 0)
	body := strings.ReplaceAll(rec.Body.String(), " ", "")
	if rec.Code != 404 || rec.Header().Get("Content-Type") != "application/json" ||
		body != `{"code":5,"message":"gone","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"R"}]}` {
		t.Fatalf("%d %v %s", rec.Code, rec.Header(), body)
	}
}

func TestMarshalResponseBody(t *testing.T) {
	m, _ := structpb.NewStruct(map[string]any{"a": 1})
	v := structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewStringValue("x")}})
	fd := v.ProtoReflect().Descriptor().Fields().ByName("list_value")
	b, err := Marshal(nil, v, fd)
	if err != nil || strings.ReplaceAll(string(b), " ", "") != `["x"]` {
		t.Errorf("list: %s %v", b, err)
	}
	sv := structpb.NewStringValue("s")
	b, err = Marshal(nil, sv, sv.ProtoReflect().Descriptor().Fields().ByName("string_value"))
	if err != nil || string(b) != `"s"` {
		t.Errorf("scalar: %s %v", b, err)
	}
	b, err = Marshal(nil, m, nil)
	if err != nil || strings.ReplaceAll(string(b), " ", "") != `{"a":1}` {
		t.Errorf("message: %s %v", b, err)
	}
}

func TestStreamModes(t *testing.T) {
	rec := httptest.NewRecorder()
	s := NewStream(rec, true, false, nil)
	if n, err := s.Send(structpb.NewStringValue("a")); n != 3 || err != nil {
		t.Errorf("Send: %d %v", n, err)
	}
	s.Finish(&spb.Status{Code: 13, Message: "bad\nnews %"}, "")
	if got := rec.Body.String(); !strings.HasPrefix(got, "data: \"a\"\n\nevent: error\ndata: {") {
		t.Errorf("SSE %q", got)
	}
	if got := rec.Header().Get(http.TrailerPrefix + "Grpc-Message"); got != "bad%0Anews %25" {
		t.Errorf("Grpc-Message %q", got)
	}
	if WantsSSE("application/json") || !WantsSSE("text/html, text/event-stream;q=0.9") {
		t.Error("WantsSSE")
	}
}
