// Package gateway_test runs the gateway example: the order management
// service on grpc-go's grpc.Server (gRPC only) behind rpcproxy configured
// by rpcproxy.yaml, called with Connect, gRPC-Web and gRPC, and from the
// page in web/ in a browser.
package gateway_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"google.golang.org/grpc/metadata"

	gatewayexample "github.com/polyrpc/polyrpc/examples/gateway"
	"github.com/polyrpc/polyrpc/examples/ordermgt"
	ecommercev1 "github.com/polyrpc/polyrpc/examples/ordermgt/gen/ecommerce/v1"
	"github.com/polyrpc/polyrpc/internal/gateway"
)

const token = "demo-token"

// start runs the backend on grpc.Server and rpcproxy's gateway from
// rpcproxy.yaml, both on loopback ports; cors, when set, replaces the
// page's origin. It returns the gateway's address.
func start(t *testing.T, cors string) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- ordermgt.Serve(ctx, lis, ordermgt.Config{
			Engine: ordermgt.EngineGRPC, Token: token,
			Log:             slog.New(slog.NewTextHandler(io.Discard, nil)),
			ShutdownTimeout: time.Second,
		})
	}()
	t.Cleanup(func() { cancel(); <-done })

	cfg, err := gateway.Load("rpcproxy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Backends) != 1 || cfg.Backends[0].Target != "dns:///localhost:50051" {
		t.Fatalf("rpcproxy.yaml: backends %+v", cfg.Backends)
	}
	cfg.Backends[0].Target = "dns:///" + lis.Addr().String()
	if cors != "" {
		cfg.CORS.AllowedOrigins = []string{cors}
	}
	gw, err := gateway.New(cfg, gateway.WithAccessLog(nil), gateway.WithErrorLog(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	glis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gw.Serve(glis) }()
	t.Cleanup(func() { _ = gw.Close() })
	select {
	case <-gw.DescriptorsLoaded():
	case <-time.After(10 * time.Second):
		t.Fatal("the backend's descriptors did not load")
	}
	return glis.Addr().String()
}

// TestScenario runs the order management scenario (every method kind)
// through rpcproxy with each protocol.
func TestScenario(t *testing.T) {
	addr := start(t, "")
	for _, c := range []struct {
		name string
		cfg  ordermgt.ClientConfig
	}{
		{"connect", ordermgt.ClientConfig{Protocol: ordermgt.ProtocolConnect}},
		{"grpcweb", ordermgt.ClientConfig{Protocol: ordermgt.ProtocolGRPCWeb}},
		{"grpc", ordermgt.ClientConfig{Protocol: ordermgt.ProtocolGRPC, Engine: ordermgt.EngineGRPC}},
		{"connect/http1.1", ordermgt.ClientConfig{Protocol: ordermgt.ProtocolConnect, HTTP1: true}},
		{"grpcweb/http1.1", ordermgt.ClientConfig{Protocol: ordermgt.ProtocolGRPCWeb, HTTP1: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Addr = addr
			conn, closeConn, err := ordermgt.Dial(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer closeConn()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var out bytes.Buffer
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
			if err := ordermgt.Scenario(ctx, ecommercev1.NewOrderManagementClient(conn), &out, !c.cfg.HTTP1); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			for _, want := range []string{"GetOrder without a token: Unauthenticated", "AddOrder: ord-", "NotFound"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// TestJSON: a caller using JSON, as the page does, is transcoded with the
// service's descriptor.
func TestJSON(t *testing.T) {
	addr := start(t, "")
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/ecommerce.v1.OrderManagement/AddOrder",
		strings.NewReader(`{"order":{"items":["Pixel"],"destination":"Paris","price":10,"description":"d"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), `{"id":"ord-`) {
		t.Errorf("AddOrder in JSON: %d %s", res.StatusCode, body)
	}
}

// TestBrowser loads the page in headless Chromium: it adds an order and
// searches, through rpcproxy, across origins.
func TestBrowser(t *testing.T) {
	exe := findChromium(t)
	page := httptest.NewServer(gatewayexample.Page())
	defer page.Close()
	addr := start(t, page.URL)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()
	err := chromedp.Do(ctx,
		chromedp.Navigate(page.URL+"/?api=http://"+addr),
		chromedp.WaitVisible(chromedp.CSS("#add")),
		chromedp.Click(chromedp.CSS("#add")),
		chromedp.Poll[chromedp.Void](`document.getElementById("out").textContent.includes("added ord-")`),
		chromedp.Click(chromedp.CSS("#search")),
		chromedp.Poll[chromedp.Void](`document.getElementById("out").textContent.includes('search "google":')`),
	)
	out, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("out").textContent`))
	if err != nil {
		t.Fatalf("%v\npage output: %s", err, out)
	}
	if !strings.Contains(out, "added ord-") || !strings.Contains(out, "to San Jose, CA") ||
		!strings.Contains(out, "found ord-") || strings.Contains(out, "error") {
		t.Errorf("page output:\n%s", out)
	}
}

// findChromium returns the browser to drive; without one the test is
// skipped, except in CI.
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
