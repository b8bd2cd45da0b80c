package openapicheck_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/pluginpb"

	validator "github.com/pb33f/libopenapi-validator"

	"github.com/polyrpc/polyrpc"
	restpb "github.com/polyrpc/polyrpc/golden/rpc/rest"
	"github.com/polyrpc/polyrpc/internal/gen/doc"
	"github.com/polyrpc/polyrpc/internal/openapicheck"
)

// The end-to-end test: protoc-gen-rpcdoc format=openapi documents
// golden/rpc/rest, a polyrpc.Server serves it on loopback, and every
// request and response exchanged, over Connect and over REST, is checked
// against the document with libopenapi-validator.

// request is the CodeGeneratorRequest protoc would send for a linked
// file (without source info: no comments).
func request(t *testing.T, file protoreflect.FileDescriptor, param string) *pluginpb.CodeGeneratorRequest {
	t.Helper()
	var files []*descriptorpb.FileDescriptorProto
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		for i := 0; i < fd.Imports().Len(); i++ {
			add(fd.Imports().Get(i).FileDescriptor)
		}
		files = append(files, protodesc.ToFileDescriptorProto(fd))
	}
	add(file)
	return &pluginpb.CodeGeneratorRequest{
		FileToGenerate: []string{file.Path()},
		ProtoFile:      files,
		Parameter:      proto.String(param),
	}
}

func document(t *testing.T, baseURL string) (validator.Validator, string) {
	t.Helper()
	resp := doc.Generate(request(t, restpb.File_rest_rest_proto, "format=openapi,base_url="+baseURL))
	if resp.Error != nil {
		t.Fatal(resp.GetError())
	}
	if len(resp.File) != 1 || resp.File[0].GetName() != "index.openapi.json" {
		t.Fatalf("files: %v", resp.File)
	}
	spec := resp.File[0].GetContent()
	v, err := openapicheck.Document([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	return v, spec
}

type abe struct {
	restpb.UnimplementedABitOfEverythingServiceServer
}

func (abe) Create(_ context.Context, m *restpb.ABitOfEverything) (*restpb.ABitOfEverything, error) {
	return m, nil
}

func (abe) CreateBody(_ context.Context, m *restpb.ABitOfEverything) (*restpb.ABitOfEverything, error) {
	return m, nil
}

func (abe) Lookup(_ context.Context, id *restpb.IdMessage) (*restpb.ABitOfEverything, error) {
	if id.GetUuid() == "missing" {
		return nil, status.Error(codes.NotFound, "no such thing")
	}
	return &restpb.ABitOfEverything{Uuid: id.GetUuid(), Int64Value: -1 << 40, Uint64Value: 1 << 60, FloatValue: 1.5,
		EnumValue: restpb.NumericEnum_ONE, MapValue: map[string]restpb.NumericEnum{"a": restpb.NumericEnum_ONE},
		OneofValue: &restpb.ABitOfEverything_OneofString{OneofString: "x"}, BytesValue: []byte{0, 1, 0xff}}, nil
}

func (abe) Update(context.Context, *restpb.ABitOfEverything) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (abe) CheckGetQueryParams(_ context.Context, m *restpb.ABitOfEverything) (*restpb.ABitOfEverything, error) {
	return m, nil
}

func (abe) CheckPostQueryParams(_ context.Context, m *restpb.ABitOfEverything) (*restpb.ABitOfEverything, error) {
	return m, nil
}

func (abe) Custom(_ context.Context, m *restpb.ABitOfEverything) (*restpb.ABitOfEverything, error) {
	return m, nil
}

func (abe) ErrorWithDetails(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	st, err := status.New(codes.Unknown, "with details").WithDetails(&errdetails.ErrorInfo{Reason: "TEST", Domain: "example.com"})
	if err != nil {
		return nil, err
	}
	return nil, st.Err()
}

func (abe) GetResponseBody(_ context.Context, id *restpb.IdMessage) (*restpb.ResponseBodyOut, error) {
	return &restpb.ResponseBodyOut{Response: &restpb.ResponseBodyOut_Response{Data: id.GetUuid()}}, nil
}

func (abe) ListResponseBodies(_ context.Context, id *restpb.IdMessage) (*restpb.RepeatedResponseBodyOut, error) {
	return &restpb.RepeatedResponseBodyOut{Response: []*restpb.ResponseBodyOut_Response{{Data: id.GetUuid()}, {Data: "b"}}}, nil
}

type messaging struct {
	restpb.UnimplementedMessagingServer
}

func (messaging) GetMessage(_ context.Context, r *restpb.GetMessageRequest) (*restpb.Message, error) {
	return &restpb.Message{MessageId: r.GetMessageId(), Text: r.GetUserId() + "/" + r.GetSub().GetSubfield()}, nil
}

func (messaging) UpdateMessage(_ context.Context, r *restpb.UpdateMessageRequest) (*restpb.Message, error) {
	m := proto.Clone(r.GetMessage()).(*restpb.Message)
	m.MessageId = r.GetMessageId()
	return m, nil
}

func (messaging) GetByName(_ context.Context, r *restpb.NameRequest) (*restpb.Message, error) {
	return &restpb.Message{Name: r.GetName()}, nil
}

func (messaging) GetTopic(_ context.Context, r *restpb.NameRequest) (*restpb.Message, error) {
	return &restpb.Message{Name: r.GetName()}, nil
}

func (messaging) CancelTopic(_ context.Context, r *restpb.NameRequest) (*restpb.Message, error) {
	return &restpb.Message{Name: r.GetName(), Text: "cancelled"}, nil
}

func (messaging) UpdateMessageStar(_ context.Context, m *restpb.Message) (*restpb.Message, error) {
	return m, nil
}

// exchange sends a request, checks its status and validates the request
// and the response against the document.
func exchange(t *testing.T, v validator.Validator, method, u, contentType, body string, wantStatus int, header ...string) []byte {
	t.Helper()
	return do(t, v, openapicheck.Exchange, method, u, contentType, body, wantStatus, header...)
}

// refused sends a request that breaks the document: the request must not
// validate, the answer must.
func refused(t *testing.T, v validator.Validator, method, u, contentType, body string, wantStatus int, header ...string) []byte {
	t.Helper()
	return do(t, v, openapicheck.Refused, method, u, contentType, body, wantStatus, header...)
}

type checkFunc func(validator.Validator, *http.Request, []byte, *http.Response, []byte) error

func do(t *testing.T, v validator.Validator, check checkFunc, method, u, contentType, body string, wantStatus int, header ...string) []byte {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != wantStatus {
		t.Errorf("%s %s: status %d (%s), want %d", method, u, resp.StatusCode, b, wantStatus)
	}
	if err := check(v, req, []byte(body), resp, b); err != nil {
		t.Error(err)
	}
	return b
}

func server(t *testing.T) string {
	s := polyrpc.NewServer()
	restpb.RegisterABitOfEverythingServiceServer(s, abe{})
	restpb.RegisterMessagingServer(s, messaging{})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts.URL
}

const everything = `{"uuid":"u1","int64Value":"-12","uint64Value":"18446744073709551615","floatValue":"NaN","doubleValue":2.5,` +
	`"enumValue":"ONE","repeatedStringValue":["a","b"],"mapValue":{"k":"ONE"},"mappedNestedValue":{"n":{"name":"x","amount":3,"ok":"TRUE"}},` +
	`"timestampValue":"2024-01-02T03:04:05.5Z","durationValue":"1.5s","fieldMaskValue":"uuid,singleNested.name",` +
	`"stringWrapper":"w","int64Wrapper":"5","boolWrapper":true,"doubleWrapper":-0.5,"oneofEmpty":{},"bytesValue":"AAH/",` +
	`"singleNested":{"name":"n","amount":7,"ok":"FALSE"},"repeatedInt64Value":["1",2],"optionalStringValue":"o","recursive":{"uuid":"r"}}`

func TestConnectExchangesValidate(t *testing.T) {
	base := server(t)
	v, _ := document(t, base)
	const ct = "application/json"
	p := base + "/rest.v1.ABitOfEverythingService/"
	exchange(t, v, "POST", p+"CreateBody", ct, everything, 200, "Connect-Protocol-Version", "1")
	exchange(t, v, "POST", p+"Lookup", ct, `{"uuid":"x"}`, 200, "Connect-Protocol-Version", "1", "Connect-Timeout-Ms", "5000")
	exchange(t, v, "POST", p+"Lookup", ct, `{"uuid":"missing"}`, 404)
	exchange(t, v, "POST", p+"ErrorWithDetails", ct, `{}`, 500)
	exchange(t, v, "POST", p+"Update", ct, `{"uuid":"x"}`, 200)
	exchange(t, v, "POST", p+"GetResponseBody", ct, `{"uuid":"x"}`, 200)
	exchange(t, v, "POST", p+"NoRest", ct, `{}`, 501) // unimplemented
	exchange(t, v, "POST", base+"/rest.v1.Messaging/GetMessage", ct, `{"messageId":"m","sub":{"subfield":"s"}}`, 200)
	// A malformed body is refused, and the error still matches the document.
	refused(t, v, "POST", p+"Lookup", ct, `{"uuid":`, 400)
	refused(t, v, "POST", p+"Lookup", ct, `{"uuid":["x"]}`, 400)

	// A request that breaks the document is caught: the check can fail.
	req, _ := http.NewRequest("POST", p+"Lookup", strings.NewReader(`{"uuid":7}`))
	req.Header.Set("Content-Type", ct)
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {ct}}}
	if err := openapicheck.Exchange(v, req, []byte(`{"uuid":7}`), resp, []byte(`{}`)); err == nil {
		t.Error("a number for a string field validates")
	}
	resp.Header.Set("Content-Type", ct)
	req, _ = http.NewRequest("POST", p+"Lookup", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", ct)
	if err := openapicheck.Exchange(v, req, []byte(`{}`), resp, []byte(`{"int64Value":"1.5"}`)); err == nil {
		t.Error("a response with a fraction in an int64 validates")
	}
}

func TestConnectGetExchangesValidate(t *testing.T) {
	// Connect GET needs idempotency_level NO_SIDE_EFFECTS, which
	// golden/rpc/rest does not set: the document must not offer it.
	base := server(t)
	v, spec := document(t, base)
	if strings.Contains(spec, `"rest.v1.ABitOfEverythingService.Lookup_connect_get"`) {
		t.Fatal("Connect GET documented for a method without NO_SIDE_EFFECTS")
	}
	q := url.Values{"encoding": {"json"}, "message": {`{"uuid":"x"}`}, "connect": {"v1"}}
	req, _ := http.NewRequest("GET", base+"/rest.v1.ABitOfEverythingService/Lookup?"+q.Encode(), nil)
	if ok, _ := v.ValidateHttpRequestSync(req); ok {
		t.Error("a Connect GET to a method without NO_SIDE_EFFECTS validates")
	}
}

var _ = bytes.NewReader
