package polyrpc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/polyrpc/polyrpc"
)

// corsPage calls the servers named in its query from the browser: a
// Connect unary call with JSON, a Connect GET, and a gRPC-Web call framed by
// hand, each reading response metadata. It writes what it got, as JSON,
// into #result.
const corsPage = `<!doctype html>
<meta charset="utf-8">
<title>polyrpc CORS</title>
<style>body { font: 13px monospace; }</style>
<h1>Calls to other origins</h1>
<pre id="result">running</pre>
<script>
"use strict";
const te = new TextEncoder(), td = new TextDecoder();

async function connectUnary(base) {
  const res = await fetch(base + "/grpc.testing.TestService/UnaryCall", {
    method: "POST",
    headers: {"Content-Type": "application/json", "Connect-Protocol-Version": "1", "X-User": "alice"},
    body: JSON.stringify({payload: {body: btoa("hi")}}),
  });
  const msg = await res.json();
  return {status: res.status, username: msg.username, body: atob(msg.payload.body),
    header: res.headers.get("x-header"), trailer: res.headers.get("trailer-x-trailer")};
}

async function connectGet(base) {
  const q = new URLSearchParams({encoding: "json", connect: "v1", message: JSON.stringify({payload: {body: btoa("q")}})});
  const res = await fetch(base + "/polyrpc.test.Lookup/Get?" + q);
  const msg = await res.json();
  return {status: res.status, hostname: msg.hostname, body: atob(msg.payload.body)};
}

// The protobuf wire format, as much as the calls need: length-delimited
// fields only.
function varint(n) {
  const out = [];
  for (; n > 127; n >>>= 7) out.push((n & 127) | 128);
  out.push(n);
  return out;
}
function field(num, bytes) { return [...varint(num << 3 | 2), ...varint(bytes.length), ...bytes]; }
function fields(buf) {
  const out = {};
  let i = 0;
  const read = () => { let n = 0, s = 0, b; do { b = buf[i++]; n |= (b & 127) << s; s += 7; } while (b & 128); return n; };
  while (i < buf.length) {
    const key = read();
    if ((key & 7) === 2) { const len = read(); out[key >>> 3] = buf.subarray(i, i + len); i += len; }
    else if ((key & 7) === 0) read();
    else throw new Error("unexpected wire type " + (key & 7));
  }
  return out;
}

async function grpcWeb(base) {
  const msg = field(3, field(2, [...te.encode("hi")])); // SimpleRequest{payload: {body: "hi"}}
  const body = new Uint8Array(5 + msg.length);
  new DataView(body.buffer).setUint32(1, msg.length);
  body.set(msg, 5);
  const res = await fetch(base + "/grpc.testing.TestService/UnaryCall", {
    method: "POST",
    headers: {"Content-Type": "application/grpc-web+proto", "X-Grpc-Web": "1", "X-User-Agent": "polyrpc-cors-test", "X-User": "bob"},
    body,
  });
  const buf = new Uint8Array(await res.arrayBuffer());
  const out = {status: res.status, header: res.headers.get("x-header"), trailers: {}};
  for (let i = 0; i + 5 <= buf.length; ) {
    const flags = buf[i], len = new DataView(buf.buffer, buf.byteOffset + i + 1, 4).getUint32(0);
    const data = buf.subarray(i + 5, i + 5 + len);
    i += 5 + len;
    if (flags & 0x80) {
      for (const line of td.decode(data).split("\r\n")) {
        const j = line.indexOf(":");
        if (j > 0) out.trailers[line.slice(0, j).trim().toLowerCase()] = line.slice(j + 1).trim();
      }
    } else {
      const f = fields(data); // SimpleResponse{payload = 1, username = 2}
      out.username = td.decode(f[2] || new Uint8Array());
      out.body = td.decode(fields(f[1] || new Uint8Array())[2] || new Uint8Array());
    }
  }
  return out;
}

async function attempt(call, base) {
  try { return await call(base); } catch (e) { return {error: String(e)}; }
}

(async () => {
  const result = {};
  for (const [name, base] of new URLSearchParams(location.search)) {
    result[name] = {connect: await attempt(connectUnary, base), get: await attempt(connectGet, base), grpcweb: await attempt(grpcWeb, base)};
  }
  document.getElementById("result").textContent = JSON.stringify(result, null, 2);
  document.body.dataset.done = "true";
})();
</script>
`

// corsCall is what the page reports of one call.
type corsCall struct {
	Error    string            `json:"error"`
	Status   int               `json:"status"`
	Username string            `json:"username"`
	Body     string            `json:"body"`
	Header   string            `json:"header"`
	Trailer  string            `json:"trailer"`
	Hostname string            `json:"hostname"`
	Trailers map[string]string `json:"trailers"`
}

// findChromium returns the browser to drive. Without one the test is
// skipped, except in CI, where .ci/run installs Chromium and the test must
// run.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found; CI must run the browser test (.ci/run installs it)")
	}
	t.Skip("chromium not found; install it (apt-get install chromium) to run the browser test")
	return ""
}

// TestCORSBrowser loads a page from one origin in headless Chromium and
// calls polyrpc.Servers on other origins with fetch(): one wrapped with
// polyrpc.CORS allowing the page's origin, which answers every call and
// lets the page read the metadata; one without CORS and one allowing
// another origin, which the browser keeps from the page.
func TestCORSBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := findChromium(t)

	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, corsPage)
	}))
	defer page.Close()

	// Each server counts the requests it receives, by method.
	type counted struct {
		mu     sync.Mutex
		counts map[string]int
	}
	serve := func(wrap func(http.Handler) http.Handler) (*httptest.Server, *counted) {
		c := &counted{counts: map[string]int{}}
		h := wrap(servers()["server"])
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.mu.Lock()
			c.counts[r.Method]++
			c.mu.Unlock()
			h.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv, c
	}
	allowed, _ := serve(func(h http.Handler) http.Handler {
		return polyrpc.CORS(h, polyrpc.CORSOptions{
			AllowedOrigins: []string{page.URL},
			AllowedHeaders: []string{"x-user"},
			ExposedHeaders: []string{"x-header", "x-trailer"},
		})
	})
	plain, plainCount := serve(func(h http.Handler) http.Handler { return h })
	other, _ := serve(func(h http.Handler) http.Handler {
		return polyrpc.CORS(h, polyrpc.CORSOptions{
			AllowedOrigins: []string{"http://127.0.0.1:1"},
			AllowedHeaders: []string{"x-user"},
			ExposedHeaders: []string{"x-header", "x-trailer"},
		})
	})

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(900, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	defer cancelCtx()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	target := page.URL + "/?allowed=" + allowed.URL + "&plain=" + plain.URL + "&other=" + other.URL
	if err := chromedp.Do(ctx,
		chromedp.Navigate(target),
		chromedp.Poll[chromedp.Void](`document.body.dataset.done === "true"`, chromedp.WithPollingInterval(20*time.Millisecond)),
	); err != nil {
		t.Fatalf("loading %s in %s: %v", target, exe, err)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("result").textContent`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the page got:\n%s", text)
	var result map[string]map[string]corsCall
	if err := json.Unmarshal([]byte(text), &result); err != nil {
		t.Fatalf("the page's result: %v", err)
	}

	got := result["allowed"]
	if c := got["connect"]; c.Error != "" || c.Status != 200 || c.Username != "alice" || c.Body != "hi" ||
		c.Header != "header-value" || c.Trailer != "trailer-value" {
		t.Errorf("Connect call to the server with CORS: %+v", c)
	}
	if c := got["get"]; c.Error != "" || c.Status != 200 || c.Hostname != http.MethodGet || c.Body != "q" {
		t.Errorf("Connect GET to the server with CORS: %+v", c)
	}
	if c := got["grpcweb"]; c.Error != "" || c.Status != 200 || c.Username != "bob" || c.Body != "hi" ||
		c.Header != "header-value" || c.Trailers["grpc-status"] != "0" || c.Trailers["x-trailer"] != "trailer-value" {
		t.Errorf("gRPC-Web call to the server with CORS: %+v", c)
	}

	// Without CORS, or with another origin allowed, the browser keeps
	// every answer from the page: fetch fails.
	for _, name := range []string{"plain", "other"} {
		for call, c := range result[name] {
			if c.Error == "" || c.Status != 0 {
				t.Errorf("%s call to the %s server reached the page: %+v", call, name, c)
			}
		}
	}
	// The POST calls were stopped at the preflight: the server without
	// CORS never saw them.
	plainCount.mu.Lock()
	if n := plainCount.counts[http.MethodPost]; n != 0 {
		t.Errorf("the server without CORS received %d POST requests, want 0", n)
	}
	if n := plainCount.counts[http.MethodOptions]; n == 0 {
		t.Error("the server without CORS received no preflight request")
	}
	plainCount.mu.Unlock()

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 makes a PNG
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if d := os.Getenv("POLYRPC_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		dir = d
	}
	path := filepath.Join(dir, "cors.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
