package polyrpc_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"
	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/polyrpc/polyrpc"
)

// echoService answers any input quickly, unlike testService, whose inputs
// can ask it to wait or to send large responses.
type echoService struct {
	testpb.UnimplementedTestServiceServer
}

func (echoService) UnaryCall(_ context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	return &testpb.SimpleResponse{Payload: req.GetPayload()}, nil
}

func (echoService) StreamingOutputCall(req *testpb.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	return stream.Send(&testpb.StreamingOutputCallResponse{Payload: req.GetPayload()})
}

func (echoService) StreamingInputCall(stream grpc.ClientStreamingServer[testpb.StreamingInputCallRequest, testpb.StreamingInputCallResponse]) error {
	n := 0
	for {
		if _, err := stream.Recv(); err != nil {
			if err == io.EOF {
				return stream.SendAndClose(&testpb.StreamingInputCallResponse{AggregatedPayloadSize: int32(n)})
			}
			return err
		}
		n++
	}
}

// FuzzRequestBody sends arbitrary bodies to every method in every protocol
// form: the answer is a success or a client error, never a server failure.
func FuzzRequestBody(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add([]byte("{}"), uint8(1))
	f.Add([]byte(`{"payload":{"body":"aGk="}}`), uint8(1))
	f.Add([]byte{0x0a, 0x02, 0x08, 0x01}, uint8(0))
	f.Add([]byte{0xff, 0xff, 0xff}, uint8(2))
	f.Add([]byte{0x1a, 0x05, 0x12, 0x03, 'a', 'b', 'c'}, uint8(3))
	s := polyrpc.NewServer()
	testpb.RegisterTestServiceServer(s, echoService{})
	paths := []string{
		testpb.TestService_UnaryCall_FullMethodName,
		testpb.TestService_StreamingOutputCall_FullMethodName,
		testpb.TestService_StreamingInputCall_FullMethodName,
	}
	contentTypes := []string{"application/proto", "application/json", "application/connect+proto", "application/grpc", "application/grpc-web+json"}
	f.Fuzz(func(t *testing.T, body []byte, which uint8) {
		path := paths[int(which)%len(paths)]
		ct := contentTypes[int(which/4)%len(contentTypes)]
		payload := body
		if ct != "application/proto" && ct != "application/json" {
			env := make([]byte, 5, 5+len(body))
			binary.BigEndian.PutUint32(env[1:], uint32(len(body)))
			payload = append(env, body...)
		}
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, path, bytes.NewReader(payload))
		req.Header.Set("Content-Type", ct)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Errorf("%s %s %q: HTTP %d %s", ct, path, body, rec.Code, rec.Body)
		}
		if st := rec.Result().Trailer.Get("Grpc-Status"); st == "13" || st == "2" {
			t.Errorf("%s %s %q: grpc-status %s %s", ct, path, body, st, rec.Result().Trailer.Get("Grpc-Message"))
		}
	})
}
