package polyrpc_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/polyrpc/polyrpc"
	restpb "github.com/polyrpc/polyrpc/golden/rpc/rest"
	"github.com/polyrpc/polyrpc/internal/rpctest"
)

// The REST tests port the behaviours of grpc-gateway v2's
// examples/internal/integration tests against a_bit_of_everything.proto,
// and the HttpRule examples of google/api/http.proto, onto
// golden/rpc/rest/rest.proto. Vanguard's path parser and router cases are
// in internal/rest/route, its parameter cases in internal/rest/bind.

// abeServer is the ABitOfEverythingService of the tests: an in-memory
// store, as in grpc-gateway's examples.
type abeServer struct {
	restpb.UnimplementedABitOfEverythingServiceServer
	mu    sync.Mutex
	store map[string]*restpb.ABitOfEverything
	n     int
	// gate, if set, is received from before each Download chunk after the
	// first.
	gate chan struct{}
	// downloadDone, if set, receives what Download returns.
	downloadDone chan error
	// timeoutDone, if set, receives the error of the context of Timeout.
	timeoutDone chan error
	// uploadChunks, if set, receives the size of each chunk UploadStream
	// receives.
	uploadChunks chan int
}

func newABEServer() *abeServer {
	return &abeServer{store: map[string]*restpb.ABitOfEverything{}}
}

func (s *abeServer) create(m *restpb.ABitOfEverything) *restpb.ABitOfEverything {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	m = proto.Clone(m).(*restpb.ABitOfEverything)
	m.Uuid = fmt.Sprintf("uuid-%d", s.n)
	s.store[m.Uuid] = m
	return proto.Clone(m).(*restpb.ABitOfEverything)
}

func (s *abeServer) Create(_ context.Context, m *restpb.ABitOfEverything) (*restpb.ABitOfEverything, error) {
	return s.create(m), nil
}

func (s *abeServer) CreateBody(_ context.Context, m *restpb.ABitOfEverything) (*restpb.ABitOfEverything, error) {
	return s.create(m), nil
}

func (s *abeServer) Lookup(_ context.Context, id *restpb.IdMessage) (*restpb.ABitOfEverything, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.store[id.GetUuid()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no entity %q", id.GetUuid())
	}
	return proto.Clone(m).(*restpb.ABitOfEverything), nil
}

func (s *abeServer) Update(_ context.Context, m *restpb.ABitOfEverything) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.store[m.GetUuid()]; !ok {
		return nil, status.Errorf(codes.NotFound, "no entity %q", m.GetUuid())
	}
	s.store[m.GetUuid()] = m
	return &emptypb.Empty{}, nil
}

// UpdateV2 applies the update mask, or replaces the entity without one.
func (s *abeServer) UpdateV2(_ context.Context, req *restpb.UpdateV2Request) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.store[req.GetAbe().GetUuid()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no entity %q", req.GetAbe().GetUuid())
	}
	if len(req.GetUpdateMask().GetPaths()) == 0 {
		s.store[old.Uuid] = req.GetAbe()
		return &emptypb.Empty{}, nil
	}
	for _, p := range req.GetUpdateMask().GetPaths() {
		if err := applyPath(old.ProtoReflect(), req.GetAbe().ProtoReflect(), strings.Split(p, ".")); err != nil {
			return nil, err
		}
	}
	return &emptypb.Empty{}, nil
}

func applyPath(dst, src protoreflect.Message, path []string) error {
	fd := dst.Descriptor().Fields().ByName(protoreflect.Name(path[0]))
	if fd == nil {
		return status.Errorf(codes.InvalidArgument, "no field %q", path[0])
	}
	if len(path) == 1 {
		if src.Has(fd) {
			dst.Set(fd, src.Get(fd))
		} else {
			dst.Clear(fd)
		}
		return nil
	}
	return applyPath(dst.Mutable(fd).Message(), src.Get(fd).Message(), path[1:])
}

func (s *abeServer) Delete(_ context.Context, id *restpb.IdMessage) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.store, id.GetUuid())
	return &emptypb.Empty{}, nil
}

func (s *abeServer) CheckGetQueryParams(_ context.Context, m *restpb.ABitOfEverything) (*restpb.ABitOfEverything, error) {
	return m, nil
}

func (s *abeServer) CheckPostQueryParams(_ context.Context, m *restpb.ABitOfEverything) (*restpb.ABitOfEverything, error) {
	return m, nil
}

func (s *abeServer) CheckRepeatedBody(_ context.Context, m *restpb.ABitOfEverything) (*restpb.ABitOfEverything, error) {
	return m, nil
}

func (s *abeServer) Custom(_ context.Context, m *restpb.ABitOfEverything) (*restpb.ABitOfEverything, error) {
	return m, nil
}

func (s *abeServer) Lock(_ context.Context, m *restpb.IdMessage) (*restpb.IdMessage, error) {
	return m, nil
}

func (s *abeServer) ErrorWithDetails(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	st, err := status.New(codes.Unknown, "with details").WithDetails(&errdetails.DebugInfo{
		StackEntries: []string{"foo:1"},
		Detail:       "error debug details",
	})
	if err != nil {
		return nil, err
	}
	return nil, st.Err()
}

func (s *abeServer) Timeout(ctx context.Context, _ *emptypb.Empty) (*emptypb.Empty, error) {
	<-ctx.Done()
	if s.timeoutDone != nil {
		s.timeoutDone <- ctx.Err()
	}
	return nil, ctx.Err()
}

// Metadata echoes x-value as a response header and a trailer, and the
// peer's address as x-peer.
func (s *abeServer) Metadata(ctx context.Context, _ *emptypb.Empty) (*emptypb.Empty, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	p, _ := peer.FromContext(ctx)
	addr := ""
	if p != nil && p.Addr != nil {
		addr = p.Addr.String()
	}
	if err := grpc.SetHeader(ctx, metadata.Pairs("x-echo", strings.Join(md.Get("x-value"), ","), "x-peer", addr,
		"x-method", grpc.ServerTransportStreamFromContext(ctx).Method())); err != nil {
		return nil, err
	}
	if err := grpc.SetTrailer(ctx, metadata.Pairs("x-trailer", "t")); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func (s *abeServer) GetResponseBody(ctx context.Context, id *restpb.IdMessage) (*restpb.ResponseBodyOut, error) {
	// Caching headers are the handler's to set.
	if err := grpc.SetHeader(ctx, metadata.Pairs("etag", `"v-`+id.GetUuid()+`"`, "cache-control", "max-age=60")); err != nil {
		return nil, err
	}
	return &restpb.ResponseBodyOut{Response: &restpb.ResponseBodyOut_Response{Data: id.GetUuid()}}, nil
}

func (s *abeServer) ListResponseBodies(_ context.Context, id *restpb.IdMessage) (*restpb.RepeatedResponseBodyOut, error) {
	return &restpb.RepeatedResponseBodyOut{Response: []*restpb.ResponseBodyOut_Response{{Data: id.GetUuid()}, {Data: "second"}}}, nil
}

func (s *abeServer) ListStream(req *restpb.ListRequest, stream grpc.ServerStreamingServer[restpb.ABitOfEverything]) error {
	if err := stream.SetHeader(metadata.Pairs("x-stream", "h")); err != nil {
		return err
	}
	for i := range req.GetCount() {
		if err := stream.Send(&restpb.ABitOfEverything{Int32Value: i, StringValue: "line\nbreak"}); err != nil {
			return err
		}
	}
	stream.SetTrailer(metadata.Pairs("x-stream-trailer", "t"))
	if c := req.GetFailCode(); c != 0 {
		st, _ := status.New(codes.Code(c), "failed after "+strconv.Itoa(int(req.GetCount()))).WithDetails(&errdetails.ErrorInfo{Reason: "TEST"})
		return st.Err()
	}
	return nil
}

func (s *abeServer) StreamResponseBody(req *restpb.ListRequest, stream grpc.ServerStreamingServer[restpb.ResponseBodyOut]) error {
	for i := range req.GetCount() {
		if err := stream.Send(&restpb.ResponseBodyOut{Response: &restpb.ResponseBodyOut_Response{Data: strconv.Itoa(int(i))}}); err != nil {
			return err
		}
	}
	return nil
}

func (s *abeServer) Download(req *restpb.DownloadRequest, stream grpc.ServerStreamingServer[httpbody.HttpBody]) (err error) {
	if s.downloadDone != nil {
		defer func() { s.downloadDone <- err }()
	}
	for i := range req.GetChunks() {
		if i > 0 && s.gate != nil {
			select {
			case <-s.gate:
			case <-stream.Context().Done():
				return stream.Context().Err()
			}
		}
		if err := stream.Send(&httpbody.HttpBody{ContentType: "text/plain", Data: fmt.Appendf(nil, "%s chunk %d\n", req.GetName(), i)}); err != nil {
			return err
		}
	}
	return nil
}

func (s *abeServer) Upload(_ context.Context, req *restpb.UploadRequest) (*httpbody.HttpBody, error) {
	return &httpbody.HttpBody{
		ContentType: req.GetFile().GetContentType(),
		Data:        append([]byte(req.GetName()+":"), req.GetFile().GetData()...),
	}, nil
}

func (s *abeServer) UploadStream(stream grpc.ClientStreamingServer[httpbody.HttpBody, httpbody.HttpBody]) error {
	var n, chunks int
	ct := ""
	for {
		m, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		n += len(m.GetData())
		chunks++
		ct = m.GetContentType()
		if s.uploadChunks != nil {
			s.uploadChunks <- len(m.GetData())
		}
	}
	return stream.SendAndClose(&httpbody.HttpBody{ContentType: "text/plain", Data: fmt.Appendf(nil, "%s: %d bytes in %d chunks", ct, n, chunks)})
}

type messagingServer struct {
	restpb.UnimplementedMessagingServer
}

func (messagingServer) GetMessage(_ context.Context, req *restpb.GetMessageRequest) (*restpb.Message, error) {
	return &restpb.Message{MessageId: req.GetMessageId(), Text: fmt.Sprintf("revision=%d sub=%s user=%s", req.GetRevision(), req.GetSub().GetSubfield(), req.GetUserId())}, nil
}

func (messagingServer) UpdateMessage(_ context.Context, req *restpb.UpdateMessageRequest) (*restpb.Message, error) {
	return &restpb.Message{MessageId: req.GetMessageId(), Text: req.GetMessage().GetText()}, nil
}

func (messagingServer) UpdateMessageStar(_ context.Context, req *restpb.Message) (*restpb.Message, error) {
	return req, nil
}

func (messagingServer) GetByName(_ context.Context, req *restpb.NameRequest) (*restpb.Message, error) {
	return &restpb.Message{Name: req.GetName()}, nil
}

func (messagingServer) GetTopic(_ context.Context, req *restpb.NameRequest) (*restpb.Message, error) {
	return &restpb.Message{Name: req.GetName()}, nil
}

func (messagingServer) CancelTopic(_ context.Context, req *restpb.NameRequest) (*restpb.Message, error) {
	return &restpb.Message{Name: "cancelled " + req.GetName()}, nil
}

// restServer serves both services on a polyrpc.Server over HTTP/1.1.
func restServer(t testing.TB, abe *abeServer, opts ...polyrpc.ServerOption) string {
	t.Helper()
	s := polyrpc.NewServer(opts...)
	restpb.RegisterABitOfEverythingServiceServer(s, abe)
	restpb.RegisterMessagingServer(s, messagingServer{})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts.URL
}

type restResponse struct {
	code   int
	header http.Header
	body   []byte
	// trailer is read after the body.
	trailer http.Header
}

func (r restResponse) String() string { return fmt.Sprintf("%d %s", r.code, r.body) }

func doREST(t testing.TB, method, url, body string, header ...string) restResponse {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return restResponse{code: resp.StatusCode, header: resp.Header, body: b, trailer: resp.Trailer}
}

func decodeABE(t testing.TB, b []byte) *restpb.ABitOfEverything {
	t.Helper()
	m := &restpb.ABitOfEverything{}
	if err := protojson.Unmarshal(b, m); err != nil {
		t.Fatalf("response %s: %v", b, err)
	}
	return m
}

// statusBody decodes a google.rpc.Status JSON error body.
type statusBody struct {
	Code    int32            `json:"code"`
	Message string           `json:"message"`
	Details []map[string]any `json:"details"`
}

func wantError(t testing.TB, r restResponse, httpStatus int, code codes.Code, msgPart string) statusBody {
	t.Helper()
	if r.code != httpStatus {
		t.Fatalf("status %d, want %d: %s", r.code, httpStatus, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type %q", ct)
	}
	var st statusBody
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	if codes.Code(st.Code) != code || !strings.Contains(st.Message, msgPart) {
		t.Fatalf("error %d %q, want %d (%v) with %q", st.Code, st.Message, code, code, msgPart)
	}
	return st
}

func TestRESTCreatePathVariables(t *testing.T) {
	base := restServer(t, newABEServer())
	want := &restpb.ABitOfEverything{
		FloatValue:               1.5,
		DoubleValue:              2.5,
		Int64Value:               4294967296,
		Uint64Value:              9223372036854775807,
		Int32Value:               -2147483648,
		Fixed64Value:             9223372036854775807,
		Fixed32Value:             4294967295,
		BoolValue:                true,
		StringValue:              "strprefix/foo",
		Uint32Value:              4294967295,
		Sfixed32Value:            2147483647,
		Sfixed64Value:            -4611686018427387904,
		Sint32Value:              2147483647,
		Sint64Value:              4611686018427387903,
		NonConventionalNameValue: "camelCase",
		EnumValue:                restpb.NumericEnum_ONE,
	}
	u := fmt.Sprintf("%s/v1/example/a_bit_of_everything/%f/%f/%d/separator/%d/%d/%d/%d/%v/%s/%d/%d/%d/%d/%d/%s/%s", base,
		want.FloatValue, want.DoubleValue, want.Int64Value, want.Uint64Value, want.Int32Value, want.Fixed64Value,
		want.Fixed32Value, want.BoolValue, want.StringValue, want.Uint32Value, want.Sfixed32Value, want.Sfixed64Value,
		want.Sint32Value, want.Sint64Value, want.NonConventionalNameValue, want.EnumValue)
	r := doREST(t, "POST", u, "{}")
	if r.code != 200 {
		t.Fatal(r)
	}
	got := decodeABE(t, r.body)
	if got.Uuid == "" {
		t.Error("no uuid")
	}
	got.Uuid = ""
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Error(diff)
	}
	// The enum by number, too.
	r = doREST(t, "POST", strings.Replace(u, "/ONE", "/1", 1), "")
	if r.code != 200 || decodeABE(t, r.body).EnumValue != restpb.NumericEnum_ONE {
		t.Fatal(r)
	}
	// A value that is not an int64 is the caller's fault, named.
	bad := strings.Replace(u, "/4294967296/", "/not_int64/", 1)
	wantError(t, doREST(t, "POST", bad, ""), 400, codes.InvalidArgument, `int64_value: invalid value "not_int64" for type int64`)
	wantError(t, doREST(t, "POST", strings.Replace(u, "/ONE", "/TWO", 1), ""), 400, codes.InvalidArgument, "enum_value")
	// string_value is "strprefix/*": another prefix is another path.
	if r := doREST(t, "POST", strings.Replace(u, "strprefix/foo", "other/foo", 1), ""); r.code != 404 {
		t.Fatal(r)
	}
}

func TestRESTCreateBodyLookupUpdateDelete(t *testing.T) {
	base := restServer(t, newABEServer())
	opt := "optional-str"
	want := &restpb.ABitOfEverything{
		FloatValue:          1.5,
		DoubleValue:         2.5,
		Int64Value:          4294967296,
		Uint64Value:         9223372036854775807,
		StringValue:         "strprefix/foo",
		BytesValue:          []byte("bytes \x00\xff"),
		EnumValue:           restpb.NumericEnum_ONE,
		Nested:              []*restpb.ABitOfEverything_Nested{{Name: "bar", Amount: 10}, {Name: "baz", Amount: 20}},
		RepeatedStringValue: []string{"a", "b", "c"},
		OneofValue:          &restpb.ABitOfEverything_OneofString{OneofString: "x"},
		MapValue:            map[string]restpb.NumericEnum{"a": restpb.NumericEnum_ONE, "b": restpb.NumericEnum_ZERO},
		MappedStringValue:   map[string]string{"a": "x", "b": "y"},
		MappedNestedValue:   map[string]*restpb.ABitOfEverything_Nested{"a": {Name: "x", Amount: 1}},
		TimestampValue:      timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)),
		DurationValue:       durationpb.New(90 * time.Second),
		FieldMaskValue:      &fieldmaskpb.FieldMask{Paths: []string{"a.b", "c"}},
		StringWrapper:       wrapperspb.String(""),
		Int64Wrapper:        wrapperspb.Int64(-5),
		OptionalStringValue: &opt,
		RepeatedEnumValue:   []restpb.NumericEnum{restpb.NumericEnum_ONE, restpb.NumericEnum_ZERO},
	}
	body, err := protojson.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	r := doREST(t, "POST", base+"/v1/example/a_bit_of_everything", string(body))
	if r.code != 200 {
		t.Fatal(r)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	created := decodeABE(t, r.body)
	want.Uuid = created.Uuid
	if diff := cmp.Diff(want, created, protocmp.Transform()); diff != "" {
		t.Fatal(diff)
	}
	r = doREST(t, "GET", base+"/v1/example/a_bit_of_everything/"+created.Uuid, "")
	if r.code != 200 {
		t.Fatal(r)
	}
	if diff := cmp.Diff(want, decodeABE(t, r.body), protocmp.Transform()); diff != "" {
		t.Fatal(diff)
	}
	// HEAD, a custom rule of the method.
	if r := doREST(t, "HEAD", base+"/v1/example/a_bit_of_everything/"+created.Uuid, ""); r.code != 200 || len(r.body) != 0 {
		t.Fatal(r)
	}
	// PUT with body "*"; the path wins over the body's uuid.
	r = doREST(t, "PUT", base+"/v1/example/a_bit_of_everything/"+created.Uuid, `{"uuid":"other","stringValue":"put"}`)
	if r.code != 200 || string(r.body) != "{}" {
		t.Fatal(r)
	}
	r = doREST(t, "GET", base+"/v1/example/a_bit_of_everything/"+created.Uuid, "")
	if got := decodeABE(t, r.body); got.StringValue != "put" || got.Uuid != created.Uuid {
		t.Fatal(r)
	}
	if r := doREST(t, "DELETE", base+"/v1/example/a_bit_of_everything/"+created.Uuid, ""); r.code != 200 {
		t.Fatal(r)
	}
	// Lookup of a missing entity: 404 with the google.rpc.Status.
	wantError(t, doREST(t, "GET", base+"/v1/example/a_bit_of_everything/"+created.Uuid, ""), 404, codes.NotFound, "no entity")
	// Proto names in the body too; unknown fields are discarded, as by
	// polyrpc's Connect JSON codec and grpc-gateway's default.
	r = doREST(t, "POST", base+"/v1/example/a_bit_of_everything", `{"string_value":"snake","no_such_field":1}`)
	if r.code != 200 || decodeABE(t, r.body).StringValue != "snake" {
		t.Fatal(r)
	}
	// An empty body is an empty message (grpc-gateway's TestPostWithEmptyBody).
	if r := doREST(t, "POST", base+"/v1/example/a_bit_of_everything", ""); r.code != 200 {
		t.Fatal(r)
	}
}

func TestRESTMalformedBody(t *testing.T) {
	base := restServer(t, newABEServer())
	for _, c := range []struct{ body, want string }{
		{`{"string_value": `, "malformed JSON body"},
		{`{"int32_value": "x"}`, "int32Value"},
		{`{"timestamp_value": "yesterday"}`, `invalid google.protobuf.Timestamp value "yesterday"`},
		{`[1,2]`, "malformed JSON body"},
		{strings.Repeat(`{"recursive":`, 20000) + strings.Repeat("}", 20000), "malformed JSON body"},
	} {
		r := doREST(t, "POST", base+"/v1/example/a_bit_of_everything", c.body)
		if r.code != 400 {
			t.Errorf("body %.40s: %v", c.body, r)
			continue
		}
		wantError(t, r, 400, codes.InvalidArgument, c.want)
	}
	// An unknown enum name is discarded like an unknown field (protojson
	// with DiscardUnknown, as polyrpc's Connect JSON codec and grpc-gateway).
	if r := doREST(t, "POST", base+"/v1/example/a_bit_of_everything", `{"enum_value": "NOPE"}`); r.code != 200 {
		t.Fatal(r)
	}
	// body "single_nested": the error names the body field.
	wantError(t, doREST(t, "POST", base+"/v1/example/a_bit_of_everything/params/post/x", `{"amount":"many"}`), 400, codes.InvalidArgument, "single_nested")
}

func TestRESTPatchUpdateMask(t *testing.T) {
	abe := newABEServer()
	base := restServer(t, abe)
	create := func() string {
		m := abe.create(&restpb.ABitOfEverything{StringValue: "strprefix/bar", Int32Value: 32,
			SingleNested: &restpb.ABitOfEverything_Nested{Name: "n", Amount: 1}})
		return m.Uuid
	}
	get := func(id string) *restpb.ABitOfEverything {
		return decodeABE(t, doREST(t, "GET", base+"/v1/example/a_bit_of_everything/"+id, "").body)
	}
	// PATCH, body "abe", no update_mask: the mask is the body's fields.
	id := create()
	if r := doREST(t, "PATCH", base+"/v2/example/a_bit_of_everything/"+id, `{"string_value":"strprefix/foo","singleNested":{"amount":2}}`); r.code != 200 {
		t.Fatal(r)
	}
	got := get(id)
	if got.StringValue != "strprefix/foo" || got.Int32Value != 32 || got.SingleNested.GetName() != "n" || got.SingleNested.GetAmount() != 2 {
		t.Fatalf("after PATCH: %v", got)
	}
	// An update_mask given by the caller (query parameter) is kept.
	id = create()
	if r := doREST(t, "PATCH", base+"/v2/example/a_bit_of_everything/"+id+"?update_mask=int32_value", `{"string_value":"ignored","int32_value":7}`); r.code != 200 {
		t.Fatal(r)
	}
	if got := get(id); got.StringValue != "strprefix/bar" || got.Int32Value != 7 {
		t.Fatalf("after PATCH with mask: %v", got)
	}
	// PUT of the same method has no automatic mask: a replacement.
	id = create()
	if r := doREST(t, "PUT", base+"/v2/example/a_bit_of_everything/"+id, `{"string_value":"replaced"}`); r.code != 200 {
		t.Fatal(r)
	}
	if got := get(id); got.StringValue != "replaced" || got.Int32Value != 0 {
		t.Fatalf("after PUT: %v", got)
	}
	// body "*": the mask is the caller's, inside the body.
	id = create()
	if r := doREST(t, "PATCH", base+"/v2a/example/a_bit_of_everything/"+id, `{"abe":{"int32_value":9,"string_value":"no"},"update_mask":"int32Value"}`); r.code != 200 {
		t.Fatal(r)
	}
	if got := get(id); got.StringValue != "strprefix/bar" || got.Int32Value != 9 {
		t.Fatalf("after PATCH body *: %v", got)
	}
}

func TestRESTQueryParameters(t *testing.T) {
	base := restServer(t, newABEServer())
	get := func(query string) restResponse {
		return doREST(t, "GET", base+"/v1/example/a_bit_of_everything/params/get/foo?"+query, "")
	}
	q := url.Values{}
	q.Set("double_value", "1234.56")
	q.Set("bool_value", "true")
	q.Add("repeated_string_value", "demo1")
	q.Add("repeated_string_value", "demo2")
	q.Set("optional_string_value", "optional-val")
	q.Set("mapped_string_value[map_key]", "map_value")
	q.Set("map_value[k]", "ONE")
	q.Set("enum_value", "1")
	q.Add("repeatedEnumValue", "ONE") // JSON name
	q.Add("repeatedEnumValue", "0")
	q.Add("repeated_int64_value", "-9007199254740993")
	q.Set("timestamp_value", "2026-01-02T03:04:05.000006Z")
	q.Set("duration_value", "1.5s")
	q.Set("field_mask_value", "a.b,cD")
	q.Set("string_wrapper", "wrapped")
	q.Set("int64_wrapper", "42")
	q.Set("bool_wrapper", "false")
	q.Set("double_wrapper", "NaN")
	q.Set("bytes_value", "YWJjMTIzIT8kKiYoKSctPUB-") // URL alphabet
	q.Set("single_nested.amount", "7")
	q.Set("single_nested.ok", "TRUE")
	q.Set("recursive.recursive.string_value", "deep")
	q.Set("oneof_string", "o")
	r := get(q.Encode())
	if r.code != 200 {
		t.Fatal(r)
	}
	optional := "optional-val"
	want := &restpb.ABitOfEverything{
		SingleNested:        &restpb.ABitOfEverything_Nested{Name: "foo", Amount: 7, Ok: restpb.ABitOfEverything_Nested_TRUE},
		DoubleValue:         1234.56,
		BoolValue:           true,
		RepeatedStringValue: []string{"demo1", "demo2"},
		OptionalStringValue: &optional,
		MappedStringValue:   map[string]string{"map_key": "map_value"},
		MapValue:            map[string]restpb.NumericEnum{"k": restpb.NumericEnum_ONE},
		EnumValue:           restpb.NumericEnum_ONE,
		RepeatedEnumValue:   []restpb.NumericEnum{restpb.NumericEnum_ONE, restpb.NumericEnum_ZERO},
		RepeatedInt64Value:  []int64{-9007199254740993},
		TimestampValue:      timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)),
		DurationValue:       durationpb.New(1500 * time.Millisecond),
		FieldMaskValue:      &fieldmaskpb.FieldMask{Paths: []string{"a.b", "c_d"}},
		StringWrapper:       wrapperspb.String("wrapped"),
		Int64Wrapper:        wrapperspb.Int64(42),
		BoolWrapper:         wrapperspb.Bool(false),
		BytesValue:          []byte("abc123!?$*&()'-=@~"),
		Recursive:           &restpb.ABitOfEverything{Recursive: &restpb.ABitOfEverything{StringValue: "deep"}},
		OneofValue:          &restpb.ABitOfEverything_OneofString{OneofString: "o"},
	}
	got := decodeABE(t, r.body)
	if got.DoubleWrapper == nil || got.DoubleWrapper.Value == got.DoubleWrapper.Value {
		t.Errorf("double_wrapper %v, want NaN", got.DoubleWrapper)
	}
	got.DoubleWrapper = nil
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Error(diff)
	}
	// Nested enum in the path (grpc-gateway's TestNestedEnumGetQueryParams).
	r = doREST(t, "GET", base+"/v1/example/a_bit_of_everything/params/get/nested_enum/TRUE", "")
	if r.code != 200 || decodeABE(t, r.body).GetSingleNested().GetOk() != restpb.ABitOfEverything_Nested_TRUE {
		t.Fatal(r)
	}
	// POST with body "single_nested" and query parameters for the rest.
	r = doREST(t, "POST", base+"/v1/example/a_bit_of_everything/params/post/hello?int32_value=3&string_wrapper=w", `{"name":"n","amount":4}`)
	got = decodeABE(t, r.body)
	if r.code != 200 || got.StringValue != "hello" || got.Int32Value != 3 || got.SingleNested.GetName() != "n" || got.SingleNested.GetAmount() != 4 || got.StringWrapper.GetValue() != "w" {
		t.Fatal(r)
	}
	// A repeated body field takes a JSON array.
	r = doREST(t, "POST", base+"/v1/example/a_bit_of_everything/params/repeated?int32_value=1", `["x","y"]`)
	if got := decodeABE(t, r.body); r.code != 200 || !cmp.Equal(got.RepeatedStringValue, []string{"x", "y"}) || got.Int32Value != 1 {
		t.Fatal(r)
	}

	// Errors are 400 and name the parameter. Unknown parameters are
	// deliberately refused (grpc-gateway ignores them), so that a misspelt
	// parameter does not silently do nothing.
	for _, c := range []struct{ query, want string }{
		{"no_such_field=1", `no_such_field: unknown query parameter`},
		{"single_nested.nope=1", `single_nested.nope: unknown query parameter`},
		{"string_value.x=1", `string_value.x: unknown query parameter`},
		{"int32_value=2147483648", `int32_value: invalid value "2147483648" for type int32`},
		{"float_value=3.5e38", `float_value: invalid value`},
		{"uint32_value=-1", `uint32_value`},
		{"bool_value=maybe", `bool_value`},
		{"double_value=inf", `double_value`},
		{"enum_value=TWO", `enum_value: invalid value "TWO" for enum rest.v1.NumericEnum`},
		{"timestamp_value=yesterday", `timestamp_value: invalid Timestamp`},
		{"duration_value=5", `duration_value: invalid Duration`},
		{"bytes_value=%25%25", `bytes_value`},
		{"int64_wrapper=x", `int64_wrapper`},
		{"recursive=x", `recursive: a message field takes no single value`},
		{"single_nested=x", `single_nested: bound by the URL path`},
		{"nested.name=x", `nested.name: unknown query parameter`},
		{"mapped_string_value=x", `mapped_string_value: a map field takes parameters`},
		{"mapped_nested_value[k]=x", `a map of messages`},
		{"single_nested.name=x", `single_nested.name: bound by the URL path`},
		{"oneof_string=a&oneof_empty=", `oneof oneof_value already has field oneof_string set`},
		{"string_value=%zz", `string_value: malformed percent-encoding`},
		{strings.Repeat("recursive.", 40) + "string_value=x", `unknown query parameter`},
	} {
		wantError(t, get(c.query), 400, codes.InvalidArgument, c.want)
	}
	// body "*": no query parameters at all (google/api/http.proto).
	wantError(t, doREST(t, "POST", base+"/v1/example/a_bit_of_everything?string_value=x", "{}"), 400, codes.InvalidArgument, "the body binds every field")
	// The body field is not a query parameter either.
	wantError(t, doREST(t, "POST", base+"/v1/example/a_bit_of_everything/params/post/hello?single_nested.name=x", "{}"), 400, codes.InvalidArgument, "bound by the request body")
}

// The examples of google/api/http.proto.
func TestRESTHttpRuleExamples(t *testing.T) {
	base := restServer(t, newABEServer())
	for _, c := range []struct {
		method, path, body string
		want               *restpb.Message
	}{
		{"GET", "/v1/messages/123456", "", &restpb.Message{MessageId: "123456", Text: "revision=0 sub= user="}},
		{"GET", "/v1/messages/123456?revision=2&sub.subfield=foo", "", &restpb.Message{MessageId: "123456", Text: "revision=2 sub=foo user="}},
		{"GET", "/v1/users/me/messages/123456", "", &restpb.Message{MessageId: "123456", Text: "revision=0 sub= user=me"}},
		{"GET", "/v1/messages/123456/foo", "", &restpb.Message{MessageId: "123456", Text: "revision=0 sub=foo user="}},
		{"PATCH", "/v1/messages/123456", `{ "text": "Hi!" }`, &restpb.Message{MessageId: "123456", Text: "Hi!"}},
		{"PATCH", "/v1/star/messages/123456", `{ "text": "Hi!" }`, &restpb.Message{MessageId: "123456", Text: "Hi!"}},
		{"GET", "/v1/shelves/s1/books/b%2F1", "", &restpb.Message{Name: "shelves/s1/books/b%2F1"}},
		{"GET", "/v1/projects/p1/topics/t%201", "", &restpb.Message{Name: "projects/p1/topics/t 1"}},
		{"POST", "/v1/projects/p1/topics/t1:cancel", "", &restpb.Message{Name: "cancelled projects/p1/topics/t1"}},
		// A single-segment variable is decoded whole, %2F included.
		{"GET", "/v1/messages/a%2Fb%3Ac", "", &restpb.Message{MessageId: "a/b:c", Text: "revision=0 sub= user="}},
	} {
		r := doREST(t, c.method, base+c.path, c.body)
		if r.code != 200 {
			t.Fatalf("%s %s: %v", c.method, c.path, r)
		}
		got := &restpb.Message{}
		if err := protojson.Unmarshal(r.body, got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c.want, got, protocmp.Transform()); diff != "" {
			t.Errorf("%s %s: %s", c.method, c.path, diff)
		}
	}
	// A topic name with an extra segment matches nothing.
	if r := doREST(t, "GET", base+"/v1/projects/p1/topics/t1/x", ""); r.code != 404 {
		t.Fatal(r)
	}
}

func TestRESTVerbsAndMethods(t *testing.T) {
	base := restServer(t, newABEServer())
	r := doREST(t, "POST", base+"/v1/example/a_bit_of_everything/abc:custom?int32_value=5", "")
	if got := decodeABE(t, r.body); r.code != 200 || got.Uuid != "abc" || got.Int32Value != 5 {
		t.Fatal(r)
	}
	r = doREST(t, "LOCK", base+"/v1/example/a_bit_of_everything/abc", "")
	if r.code != 200 || !strings.Contains(string(r.body), `"abc"`) {
		t.Fatal(r)
	}
	// A path served for other methods: 405 with Allow.
	r = doREST(t, "PATCH", base+"/v1/example/a_bit_of_everything/abc", "")
	wantError(t, r, 405, codes.Unimplemented, "PATCH not allowed")
	if allow := r.header.Get("Allow"); allow != "GET, HEAD, PUT, DELETE, LOCK" {
		t.Errorf("Allow %q", allow)
	}
	// HEAD of a GET binding without a HEAD rule.
	if r := doREST(t, "HEAD", base+"/v1/messages/1", ""); r.code != 200 {
		t.Fatal(r)
	}
	// Unknown paths keep the Server's answer (grpc-gateway's TestUnknownPath).
	if r := doREST(t, "POST", base+"/", "{}"); r.code != 404 {
		t.Fatal(r)
	}
	// Unimplemented methods are 501 (grpc-gateway's TestNotImplemented).
	s := polyrpc.NewServer()
	restpb.RegisterMessagingServer(s, restpb.UnimplementedMessagingServer{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	wantError(t, doREST(t, "GET", ts.URL+"/v1/messages/1", ""), 501, codes.Unimplemented, "GetMessage not implemented")
}

func TestRESTResponseBody(t *testing.T) {
	base := restServer(t, newABEServer())
	r := doREST(t, "GET", base+"/responsebody/foo", "")
	if r.code != 200 || string(bytes.ReplaceAll(r.body, []byte(" "), nil)) != `{"data":"foo"}` {
		t.Fatal(r)
	}
	if r.header.Get("Etag") != `"v-foo"` || r.header.Get("Cache-Control") != "max-age=60" {
		t.Errorf("caching headers %v", r.header)
	}
	// A conditional GET with the ETag: 304, no body.
	for _, inm := range []string{`"v-foo"`, `W/"v-foo"`, `"x", "v-foo"`, "*"} {
		if r := doREST(t, "GET", base+"/responsebody/foo", "", "If-None-Match", inm); r.code != 304 || len(r.body) != 0 {
			t.Errorf("If-None-Match %s: %v", inm, r)
		}
	}
	if r := doREST(t, "GET", base+"/responsebody/foo", "", "If-None-Match", `"v-bar"`); r.code != 200 {
		t.Errorf("other ETag: %v", r)
	}
	r = doREST(t, "GET", base+"/responsebodies/foo", "")
	if r.code != 200 || string(bytes.ReplaceAll(r.body, []byte(" "), nil)) != `[{"data":"foo"},{"data":"second"}]` {
		t.Fatal(r)
	}
	r = doREST(t, "GET", base+"/responsebody/stream/2", "")
	if r.code != 200 || strings.ReplaceAll(string(r.body), " ", "") != "{\"data\":\"0\"}\n{\"data\":\"1\"}\n" {
		t.Fatalf("%q", r.body)
	}
}

func TestRESTErrors(t *testing.T) {
	base := restServer(t, newABEServer())
	st := wantError(t, doREST(t, "GET", base+"/v2/example/errorwithdetails", ""), 500, codes.Unknown, "with details")
	if len(st.Details) != 1 || st.Details[0]["@type"] != "type.googleapis.com/google.rpc.DebugInfo" || st.Details[0]["detail"] != "error debug details" {
		t.Fatalf("details %v", st.Details)
	}
	// Deadlines: grpc-timeout (grpc-gateway's TestTimeout, TestInvalidTimeout).
	wantError(t, doREST(t, "GET", base+"/v2/example/timeout", "", "Grpc-Timeout", "10m"), 504, codes.DeadlineExceeded, "")
	wantError(t, doREST(t, "GET", base+"/v2/example/timeout", "", "Grpc-Timeout", "INVALID"), 400, codes.InvalidArgument, "grpc-timeout")
	// Client and bidi streaming: 501 naming the method. Deliberately unlike
	// grpc-gateway, which reads a client stream from a body of concatenated
	// JSON messages (testABEBulkCreate): over REST a client cannot tell where
	// a stream ends or see responses interleaved with its requests.
	wantError(t, doREST(t, "POST", base+"/v1/example/a_bit_of_everything/bulk", "{}"), 501, codes.Unimplemented,
		"method /rest.v1.ABitOfEverythingService/BulkCreate is client-streaming")
	wantError(t, doREST(t, "POST", base+"/v1/example/a_bit_of_everything/echo", "{}"), 501, codes.Unimplemented,
		"method /rest.v1.ABitOfEverythingService/BulkEcho is bidirectional-streaming")
}

func TestRESTMetadataAndInterceptors(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		mu.Lock()
		seen = append(seen, "unary "+info.FullMethod)
		mu.Unlock()
		if md, _ := metadata.FromIncomingContext(ctx); len(md.Get("x-deny")) != 0 {
			return nil, status.Error(codes.PermissionDenied, "denied")
		}
		return h(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		mu.Lock()
		seen = append(seen, "stream "+info.FullMethod)
		mu.Unlock()
		return h(srv, ss)
	}
	base := restServer(t, newABEServer(), polyrpc.ChainUnaryInterceptor(unary), polyrpc.ChainStreamInterceptor(stream))
	r := doREST(t, "GET", base+"/v2/example/metadata", "", "X-Value", "v1")
	if r.code != 200 {
		t.Fatal(r)
	}
	if r.header.Get("X-Echo") != "v1" || r.header.Get("X-Trailer") != "t" || r.header.Get("X-Method") != "/rest.v1.ABitOfEverythingService/Metadata" {
		t.Errorf("headers %v", r.header)
	}
	if !strings.HasPrefix(r.header.Get("X-Peer"), "127.0.0.1:") {
		t.Errorf("peer %q", r.header.Get("X-Peer"))
	}
	wantError(t, doREST(t, "GET", base+"/v2/example/metadata", "", "X-Deny", "1"), 403, codes.PermissionDenied, "denied")
	// Non-ASCII values and odd keys (grpc-gateway's
	// testEchoWithNonASCIIHeaderValues, testEchoWithInvalidHeaderKey).
	r = doREST(t, "GET", base+"/v2/example/metadata", "", "X-Value", "Gjøvik", "X-Foo+Bar", "Hello")
	if r.code != 200 || r.header.Get("X-Echo") != "Gjøvik" {
		t.Errorf("non-ASCII metadata: %v %v", r, r.header)
	}
	if r := doREST(t, "GET", base+"/v1/example/a_bit_of_everything?count=1", ""); r.code != 200 {
		t.Fatal(r)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"unary /rest.v1.ABitOfEverythingService/Metadata", "unary /rest.v1.ABitOfEverythingService/Metadata",
		"unary /rest.v1.ABitOfEverythingService/Metadata", "stream /rest.v1.ABitOfEverythingService/ListStream"}
	if !cmp.Equal(seen, want) {
		t.Errorf("interceptors saw %q, want %q", seen, want)
	}
}

func TestRESTServerStream(t *testing.T) {
	base := restServer(t, newABEServer())
	// NDJSON: one message per line, newlines in strings escaped.
	r := doREST(t, "GET", base+"/v1/example/a_bit_of_everything?count=3", "")
	if r.code != 200 || r.header.Get("Content-Type") != "application/x-ndjson" || r.header.Get("X-Stream") != "h" {
		t.Fatal(r, r.header)
	}
	lines := strings.Split(strings.TrimSuffix(string(r.body), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines: %q", len(lines), r.body)
	}
	for i, l := range lines {
		if m := decodeABE(t, []byte(l)); m.Int32Value != int32(i) || m.StringValue != "line\nbreak" {
			t.Errorf("line %d: %s", i, l)
		}
	}
	if r.trailer.Get("Grpc-Status") != "0" || r.trailer.Get("X-Stream-Trailer") != "t" {
		t.Errorf("trailers %v", r.trailer)
	}
	// An error after messages: a last line {"error": status}, and trailers.
	r = doREST(t, "GET", base+"/v1/example/a_bit_of_everything?count=2&fail_code=9", "")
	lines = strings.Split(strings.TrimSuffix(string(r.body), "\n"), "\n")
	if r.code != 200 || len(lines) != 3 {
		t.Fatal(r)
	}
	var last struct{ Error statusBody }
	if err := json.Unmarshal([]byte(lines[2]), &last); err != nil || last.Error.Code != 9 || last.Error.Message != "failed after 2" ||
		len(last.Error.Details) != 1 || last.Error.Details[0]["reason"] != "TEST" {
		t.Fatalf("last line %s (%v)", lines[2], err)
	}
	if r.trailer.Get("Grpc-Status") != "9" || r.trailer.Get("Grpc-Message") != "failed after 2" || r.trailer.Get("Grpc-Status-Details-Bin") == "" {
		t.Errorf("trailers %v", r.trailer)
	}
	// An error before any message: an ordinary error response.
	wantError(t, doREST(t, "GET", base+"/v1/example/a_bit_of_everything?count=0&fail_code=5", ""), 404, codes.NotFound, "failed after 0")
	// SSE when asked.
	r = doREST(t, "GET", base+"/v1/example/a_bit_of_everything?count=2&fail_code=9", "", "Accept", "text/event-stream")
	if r.code != 200 || r.header.Get("Content-Type") != "text/event-stream" {
		t.Fatal(r)
	}
	events := strings.Split(strings.TrimSuffix(string(r.body), "\n\n"), "\n\n")
	if len(events) != 3 || !strings.HasPrefix(events[0], "data: {") || !strings.HasPrefix(events[2], "event: error\ndata: {") {
		t.Fatalf("events %q", events)
	}
	if m := decodeABE(t, []byte(strings.TrimPrefix(events[1], "data: "))); m.Int32Value != 1 {
		t.Errorf("event 1: %s", events[1])
	}
}

func TestRESTHttpBody(t *testing.T) {
	abe := newABEServer()
	abe.gate = make(chan struct{})
	base := restServer(t, abe)
	// Download streams: the first chunk arrives while the handler waits
	// before sending the second.
	resp, err := http.Get(base + "/v1/files/dir/a%2Fb.txt?chunks=3")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	br := bufio.NewReader(resp.Body)
	for i := range 3 {
		if i > 0 {
			abe.gate <- struct{}{}
		}
		line, err := br.ReadString('\n')
		if err != nil || line != fmt.Sprintf("dir/a%%2Fb.txt chunk %d\n", i) {
			t.Fatalf("chunk %d: %q %v", i, line, err)
		}
	}
	if rest, _ := io.ReadAll(br); len(rest) != 0 {
		t.Errorf("trailing %q", rest)
	}
	// Upload: any content type, the body as it is.
	req, _ := http.NewRequest("POST", base+"/v1/files/x/y.png:upload", bytes.NewReader([]byte{0x89, 'P', 'N', 'G', 0}))
	req.Header.Set("Content-Type", "image/png")
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	got, _ := io.ReadAll(resp2.Body)
	if resp2.StatusCode != 200 || resp2.Header.Get("Content-Type") != "image/png" || string(got) != "x/y.png:\x89PNG\x00" {
		t.Fatalf("%d %v %q", resp2.StatusCode, resp2.Header, got)
	}
}

// TestRESTClientGone follows grpc-gateway's TestExcessBody: a client that
// cancels a unary call ends the handler's context.
func TestRESTClientGone(t *testing.T) {
	abe := newABEServer()
	abe.timeoutDone = make(chan error, 1)
	base := restServer(t, abe)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v2/example/timeout", nil)
	go func() {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-abe.timeoutDone:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("handler context ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler context not done after the client left")
	}
}

// TestRESTUploadStream: a client stream of google.api.HttpBody takes the
// request body in chunks, as it arrives, whatever its total size.
func TestRESTUploadStream(t *testing.T) {
	abe := newABEServer()
	base := restServer(t, abe, polyrpc.MaxRecvMsgSize(32<<10))
	upload := func(body io.Reader, header ...string) restResponse {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/v1/uploads/stream", body)
		req.Header.Set("Content-Type", "video/mp4")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return restResponse{code: resp.StatusCode, header: resp.Header, body: b}
	}
	// 1 MiB, 32 times the receive limit, in chunks of at most the limit.
	r := upload(bytes.NewReader(make([]byte, 1<<20)))
	if r.code != 200 || string(r.body) != "video/mp4: 1048576 bytes in 32 chunks" || r.header.Get("Content-Type") != "text/plain" {
		t.Fatal(r)
	}
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write(make([]byte, 100<<10))
	_ = zw.Close()
	if r := upload(&zipped, "Content-Encoding", "gzip"); r.code != 200 || string(r.body) != "video/mp4: 102400 bytes in 4 chunks" {
		t.Fatal(r)
	}
	if r := upload(strings.NewReader("")); r.code != 200 || string(r.body) != ": 0 bytes in 0 chunks" {
		t.Fatal(r)
	}
	wantError(t, upload(strings.NewReader("x"), "Content-Encoding", "br"), 415, codes.Unimplemented, "Content-Encoding")
	// The first chunk reaches the method before the client sends the rest.
	abe.uploadChunks = make(chan int, 1)
	pr, pw := io.Pipe()
	done := make(chan restResponse, 1)
	go func() { done <- upload(pr) }()
	if _, err := pw.Write(make([]byte, 32<<10)); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-abe.uploadChunks:
		if n != 32<<10 {
			t.Errorf("first chunk of %d bytes", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no chunk before the end of the body")
	}
	_, _ = pw.Write([]byte("tail"))
	pw.Close()
	if n := <-abe.uploadChunks; n != 4 {
		t.Errorf("last chunk of %d bytes", n)
	}
	if r := <-done; r.code != 200 || string(r.body) != "video/mp4: 32772 bytes in 2 chunks" {
		t.Fatal(r)
	}
	abe.uploadChunks = nil
	wantError(t, doREST(t, "POST", base+"/v1/uploads/stream?x=1", "data"), 400, codes.InvalidArgument, "unknown query parameter")
}

// TestRESTGeneratedHandler serves REST through the generated NewXxxHandler,
// and the other protocols on the same handler still work.
func TestRESTGeneratedHandler(t *testing.T) {
	abe := newABEServer()
	mux := http.NewServeMux()
	path, h := restpb.NewABitOfEverythingServiceHandler(abe)
	mux.Handle(path, h)
	mux.Handle("/v1/", h) // the REST paths of the service
	_, mh := restpb.NewMessagingHandler(messagingServer{})
	mux.Handle("/v1/messages/", mh)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	r := doREST(t, "POST", ts.URL+"/v1/example/a_bit_of_everything", `{"stringValue":"gen"}`)
	if r.code != 200 {
		t.Fatal(r)
	}
	id := decodeABE(t, r.body).Uuid
	// Connect JSON on the same handler.
	r = doREST(t, "POST", ts.URL+"/rest.v1.ABitOfEverythingService/Lookup", `{"uuid":"`+id+`"}`)
	if r.code != 200 || decodeABE(t, r.body).StringValue != "gen" {
		t.Fatal(r)
	}
	r = doREST(t, "GET", ts.URL+"/v1/messages/7?revision=3", "")
	if r.code != 200 || !strings.Contains(string(r.body), "revision=3") {
		t.Fatal(r)
	}
}

func TestRESTHostile(t *testing.T) {
	base := restServer(t, newABEServer(), polyrpc.MaxRecvMsgSize(1<<16))
	post := func(body io.Reader, header ...string) restResponse {
		req, _ := http.NewRequest("POST", base+"/v1/example/a_bit_of_everything", body)
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return restResponse{code: resp.StatusCode, header: resp.Header, body: b}
	}
	big := `{"stringValue":"` + strings.Repeat("x", 1<<16) + `"}`
	wantError(t, post(strings.NewReader(big)), 413, codes.ResourceExhausted, "larger than max")
	// Without a Content-Length.
	wantError(t, post(io.MultiReader(strings.NewReader(big))), 413, codes.ResourceExhausted, "larger than max")
	// gzip: accepted, limited after decompression; a bomb stops early.
	var small bytes.Buffer
	zw := gzip.NewWriter(&small)
	_, _ = zw.Write([]byte(`{"stringValue":"zipped"}`))
	_ = zw.Close()
	if r := post(&small, "Content-Encoding", "gzip"); r.code != 200 || decodeABE(t, r.body).StringValue != "zipped" {
		t.Fatal(r)
	}
	bomb := gzipBomb(t, 1<<30)
	start := time.Now()
	wantError(t, post(bytes.NewReader(bomb), "Content-Encoding", "gzip"), 413, codes.ResourceExhausted, "larger than max")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gzip bomb took %v", d)
	}
	wantError(t, post(strings.NewReader("not gzip"), "Content-Encoding", "gzip"), 400, codes.InvalidArgument, "gzip")
	wantError(t, post(strings.NewReader("{}"), "Content-Encoding", "br"), 415, codes.Unimplemented, "Content-Encoding")
	// Odd paths: no match, no panic.
	for _, p := range []string{"//", "/v1//example", "/v1/example/a_bit_of_everything/..", "/v1/example/a_bit_of_everything/%2e%2e",
		"/v1/files/" + strings.Repeat("a/", 300) + "b", "/v1/messages/:", "/v1/projects/%2F/topics/%00", "/:cancel", "/v1/x::"} {
		r := doREST(t, "GET", base+p, "")
		if r.code >= 500 {
			t.Errorf("GET %s: %v", p, r)
		}
	}
	// Many query parameters are bounded by the server's header limit.
	r := doREST(t, "GET", base+"/v1/example/a_bit_of_everything/params/get/x?"+strings.Repeat("repeated_string_value=a&", 20000), "")
	if r.code != 200 {
		t.Errorf("20000 parameters: %d", r.code)
	}
	// A client that goes away mid-stream ends the handler.
	abe := newABEServer()
	abe.gate = make(chan struct{})
	abe.downloadDone = make(chan error, 1)
	base2 := restServer(t, abe)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base2+"/v1/files/f?chunks=2", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = bufio.NewReader(resp.Body).ReadString('\n')
	cancel()
	resp.Body.Close()
	select {
	case err := <-abe.downloadDone:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("handler returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler still waiting after the client left")
	}
}

// restStatsRecorder records the kinds of the stats of server calls.
type restStatsRecorder struct {
	mu     sync.Mutex
	events []string
}

type restTagKey struct{}

func (r *restStatsRecorder) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, restTagKey{}, info.FullMethodName)
}

func (r *restStatsRecorder) HandleRPC(ctx context.Context, s stats.RPCStats) {
	e := fmt.Sprintf("%T", s)
	switch s := s.(type) {
	case *stats.InHeader:
		e += " " + s.FullMethod + " " + strings.Join(s.Header.Get("x-user"), ",")
	case *stats.InPayload:
		e += " " + strconv.Itoa(s.Length)
	case *stats.OutPayload:
		e += " " + strconv.Itoa(s.Length)
	case *stats.OutHeader:
		e += " " + strings.Join(s.Header.Get("x-stream"), ",")
	case *stats.End:
		if s.Error != nil {
			e += " " + status.Code(s.Error).String()
		}
	}
	if ctx.Value(restTagKey{}) == nil {
		e += " untagged"
	}
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *restStatsRecorder) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (r *restStatsRecorder) HandleConn(context.Context, stats.ConnStats) {}

func (r *restStatsRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.events
	r.events = nil
	return e
}

func TestRESTStats(t *testing.T) {
	rec := &restStatsRecorder{}
	base := restServer(t, newABEServer(), polyrpc.StatsHandler(rec))
	body := `{"text":"Hi!"}`
	r := doREST(t, "PATCH", base+"/v1/messages/1", body, "X-User", "u1")
	if r.code != 200 {
		t.Fatal(r)
	}
	want := []string{
		"*stats.InHeader /rest.v1.Messaging/UpdateMessage u1",
		"*stats.Begin",
		"*stats.InPayload " + strconv.Itoa(len(body)),
		"*stats.OutHeader ",
		"*stats.OutPayload " + strconv.Itoa(len(r.body)),
		"*stats.OutTrailer",
		"*stats.End",
	}
	if got := rec.take(); !cmp.Equal(got, want) {
		t.Errorf("unary: %q, want %q", got, want)
	}
	r = doREST(t, "GET", base+"/v1/example/a_bit_of_everything?count=2&fail_code=9", "")
	got := rec.take()
	if len(got) != 8 || got[0] != "*stats.InHeader /rest.v1.ABitOfEverythingService/ListStream " || got[2] != "*stats.InPayload 0" ||
		got[3] != "*stats.OutHeader h" || !strings.HasPrefix(got[4], "*stats.OutPayload ") || got[7] != "*stats.End FailedPrecondition" {
		t.Errorf("stream: %q (%s)", got, r.body)
	}
	wantError(t, doREST(t, "POST", base+"/v1/example/a_bit_of_everything", "{", "X-User", "u2"), 400, codes.InvalidArgument, "")
	if got := rec.take(); len(got) == 0 || got[len(got)-1] != "*stats.End InvalidArgument" {
		t.Errorf("bad request: %q", got)
	}
}

// TestRESTTransports makes a unary call, a server stream with trailers and
// an error over each HTTP version, TLS included (the peer sees it).
func TestRESTTransports(t *testing.T) {
	for _, tr := range rpctest.Transports {
		t.Run(string(tr), func(t *testing.T) {
			s := polyrpc.NewServer()
			restpb.RegisterABitOfEverythingServiceServer(s, newABEServer())
			restpb.RegisterMessagingServer(s, messagingServer{})
			base, hc := rpctest.Start(t, s, tr)
			get := func(path string) (*http.Response, string) {
				resp, err := hc.Get(base + path)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp, string(b)
			}
			resp, body := get("/v1/messages/1?revision=2")
			if resp.StatusCode != 200 || !strings.Contains(body, "revision=2") || resp.ProtoMajor != map[bool]int{true: 2, false: 1}[tr.HTTP2()] {
				t.Fatalf("%s %d %s", resp.Proto, resp.StatusCode, body)
			}
			resp, body = get("/v1/example/a_bit_of_everything?count=2&fail_code=9")
			if resp.StatusCode != 200 || strings.Count(body, "\n") != 3 || resp.Trailer.Get("Grpc-Status") != "9" {
				t.Fatalf("stream: %d %q %v", resp.StatusCode, body, resp.Trailer)
			}
			resp, body = get("/v1/example/a_bit_of_everything/nope")
			if resp.StatusCode != 404 || !strings.Contains(body, `"code":5`) {
				t.Fatalf("error: %d %s", resp.StatusCode, body)
			}
		})
	}
}
