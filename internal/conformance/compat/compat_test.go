package compat

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"

	conformancev1 "github.com/polyrpc/polyrpc/internal/conformance/gen/connectrpc/conformance/v1"
)

func TestMessageFraming(t *testing.T) {
	var buf bytes.Buffer
	want := []*conformancev1.ClientCompatRequest{
		{TestName: "first", Host: "127.0.0.1", Port: 8080},
		{},
		{TestName: "third", RequestHeaders: []*conformancev1.Header{{Name: "x", Value: []string{"y"}}}},
	}
	for _, m := range want {
		if err := WriteMessage(&buf, m); err != nil {
			t.Fatal(err)
		}
	}
	if got := buf.Bytes()[:4]; !bytes.Equal(got, []byte{0, 0, 0, byte(proto.Size(want[0]))}) {
		t.Fatalf("length prefix = %v, want big-endian %d", got, proto.Size(want[0]))
	}
	for i, w := range want {
		got := &conformancev1.ClientCompatRequest{}
		if err := ReadMessage(&buf, got); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if diff := cmp.Diff(w, got, protocmp.Transform()); diff != "" {
			t.Errorf("message %d (-want +got):\n%s", i, diff)
		}
	}
	if err := ReadMessage(&buf, &conformancev1.ClientCompatRequest{}); err != io.EOF {
		t.Errorf("at clean end: err = %v, want io.EOF", err)
	}
	// A message cut short is an error, not a clean end.
	if err := WriteMessage(&buf, want[0]); err != nil {
		t.Fatal(err)
	}
	buf.Truncate(buf.Len() - 1)
	if err := ReadMessage(&buf, &conformancev1.ClientCompatRequest{}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated message: err = %v, want io.ErrUnexpectedEOF", err)
	}
	if err := ReadMessage(bytes.NewReader([]byte{0, 0}), &conformancev1.ClientCompatRequest{}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated prefix: err = %v, want io.ErrUnexpectedEOF", err)
	}
	if err := ReadMessage(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff}), &conformancev1.ClientCompatRequest{}); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("oversized message: err = %v, want a size error", err)
	}
}

func TestMetadataConversion(t *testing.T) {
	headers := []*conformancev1.Header{
		{Name: "X-Text", Value: []string{"a", "b"}},
		{Name: "x-data-bin", Value: []string{"AAEC/w"}}, // base64 of 00 01 02 ff, unpadded
	}
	md := ToMetadata(headers)
	want := metadata.MD{"x-text": {"a", "b"}, "x-data-bin": {"\x00\x01\x02\xff"}}
	if diff := cmp.Diff(want, md); diff != "" {
		t.Errorf("ToMetadata (-want +got):\n%s", diff)
	}
	back := FromMetadata(md)
	wantBack := []*conformancev1.Header{
		{Name: "x-data-bin", Value: []string{"AAEC/w"}},
		{Name: "x-text", Value: []string{"a", "b"}},
	}
	if diff := cmp.Diff(wantBack, back, protocmp.Transform()); diff != "" {
		t.Errorf("FromMetadata (-want +got):\n%s", diff)
	}
	if md["x-data-bin"][0] != "\x00\x01\x02\xff" {
		t.Error("FromMetadata changed its input")
	}
}

func TestErrorConversion(t *testing.T) {
	detail, err := anypb.New(&conformancev1.ConformancePayload_RequestInfo{TimeoutMs: proto.Int64(5)})
	if err != nil {
		t.Fatal(err)
	}
	// A detail whose type this program does not know must survive too.
	unknown := &anypb.Any{TypeUrl: "type.googleapis.com/example.Unknown", Value: []byte{8, 1}}
	in := &conformancev1.Error{
		Code:    conformancev1.Code_CODE_RESOURCE_EXHAUSTED,
		Message: proto.String("too much"),
		Details: []*anypb.Any{detail, unknown},
	}
	st := status.Convert(ToStatusError(in))
	if st.Code() != codes.ResourceExhausted || st.Message() != "too much" {
		t.Errorf("status = %v %q, want ResourceExhausted %q", st.Code(), st.Message(), "too much")
	}
	if diff := cmp.Diff(in, FromStatusError(st.Err()), protocmp.Transform()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got := FromStatusError(errors.New("plain")); got.GetCode() != conformancev1.Code_CODE_UNKNOWN || got.GetMessage() != "plain" {
		t.Errorf("plain error = %v, want Unknown \"plain\"", got)
	}
}

func TestCompressionRoundTrip(t *testing.T) {
	payload := bytes.Repeat([]byte("conformance payload "), 500)
	for c, a := range algorithms {
		t.Run(a.name, func(t *testing.T) {
			opts, err := ClientCompression(c)
			if err != nil || len(opts) != 2 {
				t.Fatalf("ClientCompression(%v) = %d options, %v", c, len(opts), err)
			}
			// connect-go pools compressors: each is Reset and reused.
			comp, decomp := a.newCompressor(), a.newDecompressor()
			for round := range 3 {
				var compressed bytes.Buffer
				comp.Reset(&compressed)
				if _, err := comp.Write(payload); err != nil {
					t.Fatal(err)
				}
				if err := comp.Close(); err != nil {
					t.Fatal(err)
				}
				if compressed.Len() >= len(payload) {
					t.Errorf("round %d: %d compressed bytes for %d bytes of input", round, compressed.Len(), len(payload))
				}
				if err := decomp.Reset(&compressed); err != nil {
					t.Fatalf("round %d: Reset: %v", round, err)
				}
				got, err := io.ReadAll(decomp)
				if err != nil {
					t.Fatalf("round %d: read: %v", round, err)
				}
				if err := decomp.Close(); err != nil {
					t.Fatalf("round %d: Close: %v", round, err)
				}
				if !bytes.Equal(got, payload) {
					t.Fatalf("round %d: decompressed %d bytes, want the %d bytes written", round, len(got), len(payload))
				}
			}
		})
	}
	if len(HandlerCompressions()) != len(algorithms) {
		t.Errorf("HandlerCompressions registers %d algorithms, want %d", len(HandlerCompressions()), len(algorithms))
	}
	if _, err := ClientCompression(conformancev1.Compression(99)); err == nil {
		t.Error("ClientCompression(99): no error")
	}
}
