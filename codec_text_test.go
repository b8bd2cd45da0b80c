package polyrpc_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/internal/rpctest"
)

// contentTypes records the Content-Type of every request a handler serves.
type contentTypes struct {
	next http.Handler
	mu   sync.Mutex
	seen map[string]bool
}

func (c *contentTypes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	if r.Method == http.MethodGet {
		ct = "GET encoding=" + r.URL.Query().Get("encoding")
	}
	c.mu.Lock()
	c.seen[ct] = true
	c.mu.Unlock()
	c.next.ServeHTTP(w, r)
}

// TestProtoText calls handlers and a Server that accept the text codec
// through a ClientConn that sends it, on every protocol.
func TestProtoText(t *testing.T) {
	for serverName, h := range servers(polyrpc.WithProtoText()) {
		rec := &contentTypes{next: h, seen: map[string]bool{}}
		base, hc := rpctest.Start(t, rec, rpctest.H2C)
		t.Run(serverName, func(t *testing.T) {
			for _, p := range protocols {
				opts := append(append([]connect.ClientOption{}, p.opts...), polyrpc.WithProtoText())
				cc := polyrpc.NewClientConn(hc, base, opts...)
				t.Run(p.name, func(t *testing.T) {
					exercise(t, testpb.NewTestServiceClient(cc), hostOf(base), true)
					testUnknown(t, cc)
				})
			}
			// Connect GET, with the text in the query string.
			cc := polyrpc.NewClientConn(hc, base, connect.WithHTTPGet(), polyrpc.WithProtoText())
			reply := new(testpb.SimpleResponse)
			req := &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("q&a=b \x00")}}
			if err := cc.Invoke(t.Context(), "/polyrpc.test.Lookup/Get", req, reply); err != nil {
				t.Fatal(err)
			}
			if reply.GetHostname() != http.MethodGet || string(reply.GetPayload().GetBody()) != "q&a=b \x00" {
				t.Errorf("GET = %v", reply)
			}
		})
		for _, want := range []string{
			"application/text", "application/connect+text", "application/grpc+text",
			"application/grpc-web+text", "GET encoding=text",
		} {
			if !rec.seen[want] {
				t.Errorf("%s: no request with %q; saw %v", serverName, want, rec.seen)
			}
		}
		for ct := range rec.seen {
			if !strings.HasSuffix(ct, "text") {
				t.Errorf("%s: a request with %q", serverName, ct)
			}
		}
	}
}

// TestProtoTextOffByDefault checks that handlers and Servers refuse the text
// codec unless it is asked for.
func TestProtoTextOffByDefault(t *testing.T) {
	for serverName, h := range servers() {
		t.Run(serverName, func(t *testing.T) {
			base, hc := rpctest.Start(t, h, rpctest.H2C)
			res := post(t, hc, base+"/grpc.testing.TestService/UnaryCall", "application/text", []byte(`payload { body: "hi" }`))
			if res.code != http.StatusUnsupportedMediaType {
				t.Errorf("Connect unary text: %d %s, want 415", res.code, res.body)
			}
			res = post(t, hc, base+"/grpc.testing.TestService/UnaryCall", "application/grpc+text", envelope(`payload { body: "hi" }`))
			if res.code != http.StatusUnsupportedMediaType {
				t.Errorf("gRPC text: %d %s, want 415", res.code, res.body)
			}
			q := url.Values{"encoding": {"text"}, "message": {`payload { body: "q" }`}}
			res = get(t, hc, base+"/polyrpc.test.Lookup/Get?"+q.Encode())
			if res.code == http.StatusOK {
				t.Errorf("Connect GET text: %d %s, want an error", res.code, res.body)
			}

			cc := polyrpc.NewClientConn(hc, base, polyrpc.WithProtoText())
			_, err := testpb.NewTestServiceClient(cc).UnaryCall(t.Context(), &testpb.SimpleRequest{})
			if status.Code(err) == codes.OK {
				t.Error("text call to a server without the text codec succeeded")
			}
		})
	}
}

// TestProtoTextHostile sends text that is not a valid message: the answer is
// InvalidArgument with the parser's error, on every protocol.
func TestProtoTextHostile(t *testing.T) {
	// Text that no message type accepts, then text that SimpleRequest, the
	// input of UnaryCall and Get, does not accept.
	syntax := []string{
		`payload {`,
		`payload { body: "unterminated }`,
		strings.Repeat(`payload { `, 20000),
		"\x00\x01\x02",
	}
	typed := []string{
		`payload { body: 12 }`,
		`response_size: "x"`,
		`response_size: 99999999999999999999`,
		`payload { body: "\xff" } fill_username: maybe`,
	}
	for serverName, h := range servers(polyrpc.WithProtoText()) {
		t.Run(serverName, func(t *testing.T) {
			base, hc := rpctest.Start(t, h, rpctest.H2C)
			for i, body := range append(syntax, typed...) {
				short := body
				if len(short) > 40 {
					short = short[:40] + "..."
				}
				res := post(t, hc, base+"/grpc.testing.TestService/UnaryCall", "application/text", []byte(body))
				if res.code != http.StatusBadRequest || !bytes.Contains(res.body, []byte(`"code":"invalid_argument"`)) ||
					!bytes.Contains(res.body, []byte("unmarshal")) {
					t.Errorf("Connect unary %q: %d %s, want 400 invalid_argument", short, res.code, res.body)
				}
				paths := []string{"UnaryCall"}
				if i < len(syntax) {
					paths = append(paths, "StreamingOutputCall", "StreamingInputCall", "FullDuplexCall")
				}
				for _, path := range paths {
					res := post(t, hc, base+"/grpc.testing.TestService/"+path, "application/grpc+text", envelope(body))
					if got := res.trailer.Get("Grpc-Status"); got != "3" {
						t.Errorf("gRPC %s %q: grpc-status %q (%s), want 3", path, short, got, res.trailer.Get("Grpc-Message"))
					}
				}
				q := url.Values{"encoding": {"text"}, "message": {body}}
				res = get(t, hc, base+"/polyrpc.test.Lookup/Get?"+q.Encode())
				if res.code != http.StatusBadRequest || !bytes.Contains(res.body, []byte(`"code":"invalid_argument"`)) {
					t.Errorf("Connect GET %q: %d %s, want 400 invalid_argument", short, res.code, res.body)
				}
			}

			// Unknown fields are discarded, as the JSON codec does, and an
			// empty text is the empty message.
			res := post(t, hc, base+"/grpc.testing.TestService/UnaryCall", "application/text",
				[]byte(`no_such_field: 1 payload { body: "hi" } other { a: [1, 2] }`))
			if res.code != http.StatusOK || !bytes.Contains(res.body, []byte(`body:`)) || !bytes.Contains(res.body, []byte(`"hi"`)) {
				t.Errorf("text with unknown fields: %d %s", res.code, res.body)
			}
			res = post(t, hc, base+"/grpc.testing.TestService/EmptyCall", "application/text", nil)
			if res.code != http.StatusOK {
				t.Errorf("empty text: %d %s", res.code, res.body)
			}
		})
	}
}

// envelope frames a message for the gRPC and Connect streaming protocols.
func envelope(payload string) []byte {
	b := make([]byte, 5, 5+len(payload))
	binary.BigEndian.PutUint32(b[1:], uint32(len(payload)))
	return append(b, payload...)
}

type rawResponse struct {
	code    int
	body    []byte
	trailer http.Header
}

func post(t *testing.T, hc *http.Client, url, contentType string, body []byte) rawResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if strings.HasPrefix(contentType, "application/grpc") {
		req.Header.Set("TE", "trailers")
	}
	return do(t, hc, req)
}

func get(t *testing.T, hc *http.Client, url string) rawResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, hc, req)
}

func do(t *testing.T, hc *http.Client, req *http.Request) rawResponse {
	t.Helper()
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawResponse{code: res.StatusCode, body: data, trailer: res.Trailer}
}
