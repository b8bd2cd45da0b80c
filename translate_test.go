package polyrpc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

func TestToConnectError(t *testing.T) {
	detail := &errdetails.RetryInfo{}
	withDetails, err := status.New(codes.Unavailable, "try later").WithDetails(detail)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		err     error
		code    connect.Code
		msg     string
		details int
	}{
		{withDetails.Err(), connect.CodeUnavailable, "try later", 1},
		{status.Error(codes.NotFound, "x"), connect.CodeNotFound, "x", 0},
		{fmt.Errorf("lookup: %w", status.Error(codes.NotFound, "x")), connect.CodeNotFound, "lookup: rpc error: code = NotFound desc = x", 0},
		{context.Canceled, connect.CodeCanceled, "context canceled", 0},
		{fmt.Errorf("wait: %w", context.DeadlineExceeded), connect.CodeDeadlineExceeded, "wait: context deadline exceeded", 0},
		{errors.New("boom"), connect.CodeUnknown, "boom", 0},
		{connect.NewError(connect.CodeAborted, errors.New("as is")), connect.CodeAborted, "as is", 0},
	}
	for _, tt := range tests {
		var ce *connect.Error
		if !errors.As(toConnectError(tt.err), &ce) {
			t.Fatalf("%v: not a connect error", tt.err)
		}
		if ce.Code() != tt.code || ce.Message() != tt.msg || len(ce.Details()) != tt.details {
			t.Errorf("%v: got %v %q %d details, want %v %q %d", tt.err, ce.Code(), ce.Message(), len(ce.Details()), tt.code, tt.msg, tt.details)
		}
	}
}

func TestToStatusError(t *testing.T) {
	ce := connect.NewError(connect.CodePermissionDenied, errors.New("no"))
	info := &errdetails.ErrorInfo{Reason: "R"}
	d, err := connect.NewErrorDetail(info)
	if err != nil {
		t.Fatal(err)
	}
	ce.AddDetail(d)
	st := status.Convert(toStatusError(ce))
	if st.Code() != codes.PermissionDenied || st.Message() != "no" || len(st.Details()) != 1 {
		t.Fatalf("status = %v", st)
	}
	if got, ok := st.Details()[0].(proto.Message); !ok || !proto.Equal(got, info) {
		t.Errorf("detail = %v", st.Details()[0])
	}
	if c := status.Code(toStatusError(context.Canceled)); c != codes.Canceled {
		t.Errorf("context.Canceled = %v", c)
	}
	if c := status.Code(toStatusError(errors.New("x"))); c != codes.Unknown {
		t.Errorf("plain error = %v", c)
	}
}

func TestHeaderToMetadata(t *testing.T) {
	h := http.Header{
		"X-Custom":                 {"a", "b"},
		"X-Data-Bin":               {connect.EncodeBinaryHeader([]byte{0, 1}) + "," + connect.EncodeBinaryHeader([]byte{2})},
		"Content-Type":             {"application/grpc"},
		"User-Agent":               {"test"},
		"Grpc-Timeout":             {"1S"},
		"Grpc-Accept-Encoding":     {"gzip"},
		"Connect-Protocol-Version": {"1"},
		"Connect-Timeout-Ms":       {"100"},
		"Te":                       {"trailers"},
		"Content-Length":           {"12"},
		"Host":                     {"example.com:443"},
	}
	want := metadata.MD{
		"x-custom":     {"a", "b"},
		"x-data-bin":   {"\x00\x01", "\x02"},
		"content-type": {"application/grpc"},
		"user-agent":   {"test"},
		":authority":   {"example.com:443"},
	}
	if diff := cmp.Diff(want, incomingMetadata(h)); diff != "" {
		t.Errorf("incoming metadata (-want +got):\n%s", diff)
	}
}

func TestMetadataToHeader(t *testing.T) {
	md := metadata.MD{
		"x-custom":    {"a"},
		"x-data-bin":  {"\x00\xff"},
		"grpc-status": {"0"},
		":path":       {"/x"},
	}
	h := http.Header{}
	metadataToHeader(md, h)
	want := http.Header{
		"X-Custom":   {"a"},
		"X-Data-Bin": {connect.EncodeBinaryHeader([]byte{0, 0xff})},
	}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
}

// legacyMessage is a message of the older github.com/golang/protobuf API:
// it has no ProtoReflect method.
type legacyMessage struct {
	Name string `protobuf:"bytes,1,opt,name=name,proto3" json:"name,omitempty"`
}

func (m *legacyMessage) Reset()         { *m = legacyMessage{} }
func (m *legacyMessage) String() string { return m.Name }
func (*legacyMessage) ProtoMessage()    {}

func TestCodecs(t *testing.T) {
	for _, c := range []messageCodec{protoCodec{}, jsonCodec{name: codecNameJSON}} {
		t.Run(c.Name(), func(t *testing.T) {
			data, err := c.Marshal(&legacyMessage{Name: "old"})
			if err != nil {
				t.Fatal(err)
			}
			got := new(legacyMessage)
			if err := c.Unmarshal(data, got); err != nil || got.Name != "old" {
				t.Fatalf("legacy round trip = %q, %v", got.Name, err)
			}

			// A received message is kept and decoded later into any type.
			in := new(inMessage)
			if err := c.Unmarshal(data, in); err != nil {
				t.Fatal(err)
			}
			data[0] = 'X' // the codec's buffer is reused by connect
			got = new(legacyMessage)
			if err := in.decode(got); err != nil || got.Name != "old" {
				t.Fatalf("deferred decode = %q, %v", got.Name, err)
			}

			stable, err := c.(interface{ MarshalStable(any) ([]byte, error) }).MarshalStable(&outMessage{msg: &errdetails.ErrorInfo{Reason: "r", Domain: "d"}})
			if err != nil {
				t.Fatal(err)
			}
			info := new(errdetails.ErrorInfo)
			if err := c.unmarshal(stable, info); err != nil || info.GetReason() != "r" {
				t.Fatalf("stable round trip = %v, %v", info, err)
			}
			if _, err := c.Marshal("not a message"); err == nil {
				t.Error("Marshal of a string succeeded")
			}
		})
	}
	// Empty input: zero message for binary, an error for JSON, as connect-go.
	if err := (&inMessage{codec: protoCodec{}, set: true}).decode(new(legacyMessage)); err != nil {
		t.Errorf("empty proto: %v", err)
	}
	if err := (&inMessage{codec: jsonCodec{name: codecNameJSON}, set: true}).decode(new(legacyMessage)); err == nil {
		t.Error("empty JSON decoded")
	}
}
