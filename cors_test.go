package polyrpc_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/protobuf/proto"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/internal/rpctest"
)

const appOrigin = "https://app.example.com"

// corsOptions allow the test service's metadata: the request header x-user,
// the response header x-header and the trailer x-trailer.
var corsOptions = polyrpc.CORSOptions{
	AllowedOrigins: []string{appOrigin},
	AllowedHeaders: []string{"x-user"},
	ExposedHeaders: []string{"x-header", "x-trailer"},
}

// corsHeaders returns the Access-Control-* headers of h.
func corsHeaders(h http.Header) http.Header {
	out := http.Header{}
	for k, v := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out[k] = v
		}
	}
	return out
}

// preflight sends a preflight request as a browser does.
func preflight(t *testing.T, hc *http.Client, target, origin, method, headers string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodOptions, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	req.Header.Set("Access-Control-Request-Method", method)
	if headers != "" {
		req.Header.Set("Access-Control-Request-Headers", headers)
	}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// grpcWebFrame frames msg as a gRPC-Web request body.
func grpcWebFrame(t *testing.T, msg proto.Message) []byte {
	t.Helper()
	data, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 5, 5+len(data))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(data)))
	return append(frame, data...)
}

// TestCORS answers the preflight requests of Connect (POST and GET) and
// gRPC-Web calls from an allowed origin, then the calls themselves, with the
// headers a browser needs to hand the answer and its metadata to the page.
func TestCORS(t *testing.T) {
	for name, h := range servers() {
		t.Run(name, func(t *testing.T) {
			base, hc := rpctest.Start(t, polyrpc.CORS(h, corsOptions), rpctest.HTTP1)
			unary := base + "/grpc.testing.TestService/UnaryCall"
			get := base + "/polyrpc.test.Lookup/Get"

			// Browsers send the names lower-case, sorted, comma-separated.
			for _, c := range []struct{ name, target, method, headers string }{
				{"connect unary", unary, "POST", "connect-protocol-version,content-type,x-user"},
				{"connect unary with timeout", unary, "POST", "connect-protocol-version,connect-timeout-ms,content-type"},
				{"connect GET", get, "GET", "connect-protocol-version"},
				{"connect GET, no headers", get, "GET", ""},
				{"grpc-web", unary, "POST", "content-type,grpc-timeout,x-grpc-web,x-user,x-user-agent"},
				{"connect stream, compressed", unary, "POST", "connect-accept-encoding,connect-content-encoding,connect-protocol-version,content-type"},
			} {
				res := preflight(t, hc, c.target, appOrigin, c.method, c.headers)
				if res.StatusCode != http.StatusNoContent {
					t.Errorf("%s: preflight status %d, want 204", c.name, res.StatusCode)
				}
				want := http.Header{
					"Access-Control-Allow-Origin":  {appOrigin},
					"Access-Control-Allow-Methods": {c.method},
					"Access-Control-Max-Age":       {"7200"},
				}
				if c.headers != "" {
					want["Access-Control-Allow-Headers"] = []string{c.headers}
				}
				if got := corsHeaders(res.Header); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s: preflight answered\n%v\nwant\n%v", c.name, got, want)
				}
				if vary := res.Header.Values("Vary"); !slices.ContainsFunc(vary, func(v string) bool { return strings.Contains(v, "Origin") }) {
					t.Errorf("%s: Vary = %q, want Origin in it", c.name, vary)
				}
			}

			// Preflights the configuration does not allow get no CORS
			// headers, so the browser does not send the call.
			for _, c := range []struct{ name, method, headers string }{
				{"an unlisted header", "POST", "content-type,x-secret"},
				{"PUT", "PUT", "content-type"},
				{"DELETE", "DELETE", ""},
				{"unsorted names", "POST", "x-user,content-type"},
				{"repeated names", "POST", "content-type,content-type"},
				{"a wildcard", "POST", "*"},
			} {
				res := preflight(t, hc, unary, appOrigin, c.method, c.headers)
				if got := corsHeaders(res.Header); len(got) != 0 {
					t.Errorf("preflight with %s answered %v, want no CORS headers", c.name, got)
				}
			}

			exposed := func(res *http.Response) []string {
				var names []string
				for _, v := range res.Header.Values("Access-Control-Expose-Headers") {
					for name := range strings.SplitSeq(v, ",") {
						names = append(names, strings.ToLower(strings.TrimSpace(name)))
					}
				}
				return names
			}
			checkExposed := func(what string, res *http.Response, names ...string) {
				t.Helper()
				got := exposed(res)
				for _, name := range names {
					if !slices.Contains(got, name) {
						t.Errorf("%s: Access-Control-Expose-Headers = %q, want %s in it", what, got, name)
					}
				}
				if res.Header.Get("Access-Control-Allow-Origin") != appOrigin {
					t.Errorf("%s: Access-Control-Allow-Origin = %q, want %q", what, res.Header.Get("Access-Control-Allow-Origin"), appOrigin)
				}
				if res.Header.Get("Access-Control-Allow-Credentials") != "" {
					t.Errorf("%s: credentials allowed without AllowCredentials", what)
				}
			}
			protocolHeaders := []string{"grpc-status", "grpc-message", "grpc-status-details-bin", "grpc-encoding", "connect-content-encoding"}

			// The Connect unary call: metadata are headers, trailers
			// headers prefixed with Trailer-.
			req, _ := http.NewRequest(http.MethodPost, unary, strings.NewReader(`{"payload":{"body":"aGk="}}`))
			req.Header.Set("Origin", appOrigin)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Connect-Protocol-Version", "1")
			req.Header.Set("X-User", "alice")
			res, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"username":"alice"`)) {
				t.Fatalf("connect call = %d %s", res.StatusCode, body)
			}
			checkExposed("connect", res, append(protocolHeaders, "x-header", "trailer-x-header", "x-trailer", "trailer-x-trailer")...)
			if res.Header.Get("X-Header") != "header-value" || res.Header.Get("Trailer-X-Trailer") != "trailer-value" {
				t.Errorf("connect call headers = %v", res.Header)
			}

			// Connect GET.
			q := url.Values{"encoding": {"json"}, "connect": {"v1"}, "message": {`{"payload":{"body":"cQ=="}}`}}
			req, _ = http.NewRequest(http.MethodGet, get+"?"+q.Encode(), nil)
			req.Header.Set("Origin", appOrigin)
			res, err = hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"hostname":"GET"`)) {
				t.Fatalf("connect GET = %d %s", res.StatusCode, body)
			}
			checkExposed("connect GET", res, protocolHeaders...)

			// gRPC-Web.
			frame := grpcWebFrame(t, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("hi")}})
			req, _ = http.NewRequest(http.MethodPost, unary, bytes.NewReader(frame))
			req.Header.Set("Origin", appOrigin)
			req.Header.Set("Content-Type", "application/grpc-web+proto")
			req.Header.Set("X-Grpc-Web", "1")
			req.Header.Set("X-User", "bob")
			res, err = hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("bob")) || !bytes.Contains(body, []byte("grpc-status: 0")) {
				t.Fatalf("grpc-web call = %d %q", res.StatusCode, body)
			}
			checkExposed("grpc-web", res, append(protocolHeaders, "x-header")...)
			if res.Header.Get("X-Header") != "header-value" {
				t.Errorf("grpc-web call headers = %v", res.Header)
			}
		})
	}
}

// TestCORSDisallowed: other origins, and requests without one, get no CORS
// headers, on preflight and on calls; the calls themselves are served as
// without CORS (the browser, not the server, withholds the answer).
func TestCORSDisallowed(t *testing.T) {
	h := polyrpc.CORS(servers()["server"], corsOptions)
	base, hc := rpctest.Start(t, h, rpctest.HTTP1)
	unary := base + "/grpc.testing.TestService/UnaryCall"
	for _, origin := range []string{
		"https://evil.example.com",
		"http://app.example.com",          // another scheme
		"https://app.example.com:8443",    // another port
		"https://app.example.com.evil.io", // a suffix
		"https://xapp.example.com",
		"https://app.example.co",
		"null", // sandboxed frames, file: pages, some redirects
		"https://app.example.com/",
		"https://app.example.com/path",
		"https://user@app.example.com",
		"https://app.example.com, https://app.example.com",
		"*",
		"",
		strings.Repeat("https://app.example.com", 2000),
	} {
		res := preflight(t, hc, unary, origin, "POST", "content-type")
		if got := corsHeaders(res.Header); len(got) != 0 {
			t.Errorf("preflight from %.60q answered %v, want no CORS headers", origin, got)
		}

		req, _ := http.NewRequest(http.MethodPost, unary, strings.NewReader(`{}`))
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("call from %.60q = %d, want 200", origin, res.StatusCode)
		}
		if got := corsHeaders(res.Header); len(got) != 0 {
			t.Errorf("call from %.60q answered %v, want no CORS headers", origin, got)
		}
	}

	// Origins are compared without regard to case; the answer names the
	// origin as the browser sent it.
	res := preflight(t, hc, unary, "HTTPS://App.Example.COM", "POST", "content-type")
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "HTTPS://App.Example.COM" {
		t.Errorf("preflight from an upper-case origin: Access-Control-Allow-Origin = %q", got)
	}

	// Two Origin headers: the first decides; a browser never sends two.
	req, _ := http.NewRequest(http.MethodOptions, unary, nil)
	req.Header["Origin"] = []string{"https://evil.example.com", appOrigin}
	req.Header.Set("Access-Control-Request-Method", "POST")
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := corsHeaders(res.Header); len(got) != 0 {
		t.Errorf("preflight with two origins answered %v", got)
	}
}

// TestCORSHugeRequestHeaders: a preflight listing a huge number of header
// names is refused quickly, and nothing of it is reflected.
func TestCORSHugeRequestHeaders(t *testing.T) {
	base, hc := rpctest.Start(t, polyrpc.CORS(servers()["server"], corsOptions), rpctest.HTTP1)
	unary := base + "/grpc.testing.TestService/UnaryCall"
	for name, value := range map[string]string{
		"many unknown names": strings.Repeat("x-a,", 200_000),
		"one long name":      strings.Repeat("a", 800_000),
		"allowed, repeated":  strings.Repeat("content-type,", 60_000),
		"many commas":        strings.Repeat(",", 800_000),
		"much whitespace":    "content-type," + strings.Repeat(" ", 800_000) + "x-user",
	} {
		start := time.Now()
		res := preflight(t, hc, unary, appOrigin, "POST", value)
		if elapsed := time.Since(start); elapsed > 5*time.Second {
			t.Errorf("%s: preflight took %v", name, elapsed)
		}
		if got := corsHeaders(res.Header); len(got) != 0 {
			t.Errorf("%s: preflight answered with %d CORS headers, want none", name, len(got))
		}
	}
	// Past the server's header limit the request is refused.
	res := preflight(t, hc, unary, appOrigin, "POST", strings.Repeat("x-a,", 400_000))
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("preflight with 1.6 MB of headers = %d, want 431", res.StatusCode)
	}
}

// TestCORSDefaults: without origins CORS changes nothing (a preflight gets
// the 405 of a server without CORS); credentials and max-age are as asked.
func TestCORSDefaults(t *testing.T) {
	h := servers()["server"]
	if got := polyrpc.CORS(h, polyrpc.CORSOptions{ExposedHeaders: []string{"x-header"}}); got != h {
		t.Error("CORS without origins wrapped the handler")
	}
	base, hc := rpctest.Start(t, polyrpc.CORS(h, polyrpc.CORSOptions{}), rpctest.HTTP1)
	res := preflight(t, hc, base+"/grpc.testing.TestService/UnaryCall", appOrigin, "POST", "content-type")
	if res.StatusCode != http.StatusMethodNotAllowed || len(corsHeaders(res.Header)) != 0 {
		t.Errorf("preflight without origins = %d %v, want 405 without CORS headers", res.StatusCode, corsHeaders(res.Header))
	}

	for _, c := range []struct {
		opts        polyrpc.CORSOptions
		origin      string
		credentials string
		maxAge      string
	}{
		{polyrpc.CORSOptions{AllowedOrigins: []string{appOrigin}, AllowCredentials: true}, appOrigin, "true", "7200"},
		{polyrpc.CORSOptions{AllowedOrigins: []string{appOrigin}, MaxAge: 10 * time.Minute}, appOrigin, "", "600"},
		{polyrpc.CORSOptions{AllowedOrigins: []string{appOrigin}, MaxAge: time.Millisecond}, appOrigin, "", "1"},
		{polyrpc.CORSOptions{AllowedOrigins: []string{appOrigin}, MaxAge: -1}, appOrigin, "", "0"},
		{polyrpc.CORSOptions{AllowedOrigins: []string{"*"}}, "*", "", "7200"},
		{polyrpc.CORSOptions{AllowedOrigins: []string{"https://*.example.com"}}, appOrigin, "", "7200"},
	} {
		base, hc := rpctest.Start(t, polyrpc.CORS(h, c.opts), rpctest.HTTP1)
		res := preflight(t, hc, base+"/grpc.testing.TestService/UnaryCall", appOrigin, "POST", "content-type")
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != c.origin {
			t.Errorf("%+v: Access-Control-Allow-Origin = %q, want %q", c.opts, got, c.origin)
		}
		if got := res.Header.Get("Access-Control-Allow-Credentials"); got != c.credentials {
			t.Errorf("%+v: Access-Control-Allow-Credentials = %q, want %q", c.opts, got, c.credentials)
		}
		if got := res.Header.Get("Access-Control-Max-Age"); got != c.maxAge {
			t.Errorf("%+v: Access-Control-Max-Age = %q, want %q", c.opts, got, c.maxAge)
		}
	}

	// The methods of REST bindings are allowed only when listed.
	rest := polyrpc.CORS(h, polyrpc.CORSOptions{AllowedOrigins: []string{appOrigin}, AllowedMethods: []string{"PUT", "PATCH", "DELETE"}})
	for method, allowed := range map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "put": false, "HEAD": false, "CONNECT": false} {
		req := httptest.NewRequest(http.MethodOptions, "/v1/orders/1", nil)
		req.Header.Set("Origin", appOrigin)
		req.Header.Set("Access-Control-Request-Method", method)
		rec := httptest.NewRecorder()
		rest.ServeHTTP(rec, req)
		if got := rec.Header().Get("Access-Control-Allow-Origin") != ""; got != allowed {
			t.Errorf("AllowedMethods PUT, PATCH, DELETE: preflight of %s allowed: %v, want %v", method, got, allowed)
		}
	}

	// A wildcard stands for a run of characters in the host, nothing else.
	wild := polyrpc.CORS(h, polyrpc.CORSOptions{AllowedOrigins: []string{"https://*.example.com"}})
	for origin, allowed := range map[string]bool{
		"https://a.example.com":      true,
		"https://a.b.example.com":    true,
		"https://example.com":        false,
		"https://evilexample.com":    false,
		"http://a.example.com":       false,
		"https://a.example.com.evil": false,
	} {
		req := httptest.NewRequest(http.MethodOptions, "/grpc.testing.TestService/UnaryCall", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		rec := httptest.NewRecorder()
		wild.ServeHTTP(rec, req)
		if got := rec.Header().Get("Access-Control-Allow-Origin") != ""; got != allowed {
			t.Errorf("https://*.example.com allows %s: %v, want %v", origin, got, allowed)
		}
	}
}

// TestCORSBadOptions: options that cannot be what was meant panic at once.
func TestCORSBadOptions(t *testing.T) {
	h := http.NotFoundHandler()
	for _, opts := range []polyrpc.CORSOptions{
		{AllowedOrigins: []string{"*"}, AllowCredentials: true},
		{AllowedOrigins: []string{"https://app.example.com/"}},
		{AllowedOrigins: []string{"https://app.example.com/path"}},
		{AllowedOrigins: []string{"app.example.com"}},
		{AllowedOrigins: []string{"null"}},
		{AllowedOrigins: []string{""}},
		{AllowedOrigins: []string{"https://"}},
		{AllowedOrigins: []string{"https://*.*.example.com"}},
		{AllowedOrigins: []string{"*://app.example.com"}},
		{AllowedOrigins: []string{"https://app.example.com:*"}},
		{AllowedOrigins: []string{"https://app.example.com?q"}},
		{AllowedOrigins: []string{"https://user@app.example.com"}},
		{AllowedOrigins: []string{"https://app.example.com, https://other.example.com"}},
		{AllowedOrigins: []string{appOrigin}, AllowedHeaders: []string{"*"}},
		{AllowedOrigins: []string{appOrigin}, AllowedHeaders: []string{"x user"}},
		{AllowedOrigins: []string{appOrigin}, ExposedHeaders: []string{""}},
		{AllowedOrigins: []string{appOrigin}, ExposedHeaders: []string{"x-a,x-b"}},
		{AllowedOrigins: []string{appOrigin}, AllowedMethods: []string{"PUT, DELETE"}},
		{AllowedOrigins: []string{appOrigin}, AllowedMethods: []string{"*"}},
		{AllowedOrigins: []string{appOrigin}, AllowedMethods: []string{""}},
		{AllowedOrigins: []string{appOrigin}, AllowedMethods: []string{"TRACE"}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("CORS(%+v) did not panic", opts)
				}
			}()
			polyrpc.CORS(h, opts)
		}()
	}
	for _, origin := range []string{appOrigin, "http://localhost:5173", "http://127.0.0.1:8080", "https://*.example.com", "http://[::1]:3000", "*"} {
		polyrpc.CORS(h, polyrpc.CORSOptions{AllowedOrigins: []string{origin}, AllowedHeaders: []string{"authorization", "x-token-bin"}})
	}
}
