package proxy_test

import (
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/polyrpc/polyrpc/proxy"
)

func TestReserved(t *testing.T) {
	for _, k := range []string{":authority", ":path", "connection", "keep-alive", "te", "transfer-encoding", "upgrade",
		"proxy-authorization", "proxy-connection", "host", "grpc-timeout", "grpc-status-details-bin", "content-type",
		"content-length", "content-encoding", "accept-encoding", "connect-timeout-ms", "connect-protocol-version",
		"user-agent", "x-user-agent", "x-grpc-web", "trailer", "trailer-x-foo", ""} {
		if !proxy.Reserved(k) {
			t.Errorf("Reserved(%q) = false", k)
		}
	}
	for _, k := range []string{"authorization", "x-request-id", "traceparent", "x-foo-bin", "cookie", "grpcx", "tea"} {
		if proxy.Reserved(k) {
			t.Errorf("Reserved(%q) = true", k)
		}
	}
}

func TestHeaderRules(t *testing.T) {
	allow := proxy.AllowHeaders("Authorization", "x-trace-*")
	deny := proxy.DenyHeaders("cookie", "x-internal-*")
	for _, c := range []struct {
		key           string
		allow, allow2 bool
	}{
		{"authorization", true, true},
		{"x-trace-id", true, true},
		{"x-trace", false, true},
		{"cookie", false, false},
		{"x-internal-route", false, false},
		{"x-other", false, true},
	} {
		if got := allow(c.key); got != c.allow {
			t.Errorf("AllowHeaders(%q) = %v", c.key, got)
		}
		if got := deny(c.key); got != c.allow2 {
			t.Errorf("DenyHeaders(%q) = %v", c.key, got)
		}
	}
}

func TestAppendMetadata(t *testing.T) {
	reply, _ := structpb.NewList([]any{"a", 1.0})
	b, _ := proto.Marshal(reply)
	got, err := proxy.AppendMetadata(b, false, 99, proxy.ResponseMetadata{Hostname: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	out := &structpb.ListValue{}
	if err := proto.Unmarshal(got, out); err != nil {
		t.Fatal(err)
	}
	if v := out.AsSlice(); len(v) != 2 || v[0] != "a" || v[1] != 1.0 {
		t.Errorf("values %v", v)
	}
	for _, v := range out.GetValues() {
		if m := metaOf(t, v); m.host != "n1" || m.err != "" || m.status != nil {
			t.Errorf("entry %v: %+v", v, m)
		}
	}

	// Streamed: the message itself.
	got, _ = proxy.AppendMetadata(b, true, 99, proxy.ResponseMetadata{Hostname: "n2"})
	out = &structpb.ListValue{}
	if err := proto.Unmarshal(got, out); err != nil || metaOf(t, out).host != "n2" || len(out.GetValues()) != 2 {
		t.Errorf("streamed: %v, %v", out, err)
	}

	if _, err := proxy.AppendMetadata([]byte{0x0a, 0xff}, false, 99, proxy.ResponseMetadata{Hostname: "n"}); err == nil {
		t.Errorf("malformed reply: no error")
	}
}

func TestErrorEntry(t *testing.T) {
	st, _ := status.New(codes.Unavailable, "gone").WithDetails(structpb.NewStringValue("why"))
	for _, streaming := range []bool{false, true} {
		b := proxy.ErrorEntry(streaming, 99, "n3", st.Err())
		out := &structpb.ListValue{}
		if err := proto.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
		m := metaOf(t, out)
		if !streaming {
			if len(out.GetValues()) != 1 {
				t.Fatalf("reply %v", out)
			}
			m = metaOf(t, out.GetValues()[0])
		}
		if m.host != "n3" || m.err != st.Err().Error() || codes.Code(m.status.GetCode()) != codes.Unavailable || len(m.status.GetDetails()) != 1 {
			t.Errorf("streaming %v: %+v", streaming, m)
		}
	}
	b := proxy.ErrorEntry(true, 99, "n4", errors.New("plain"))
	out := &structpb.ListValue{}
	_ = proto.Unmarshal(b, out)
	if m := metaOf(t, out); m.err != "plain" || codes.Code(m.status.GetCode()) != codes.Unknown {
		t.Errorf("plain error: %+v", m)
	}
}
