package ordermgt_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/polyrpc/polyrpc/examples/ordermgt"
)

// TestREST makes the README's REST calls (curl there) against the
// polyrpc.Server engine: the google.api.http options of
// order_management.proto, served by the same implementation, with the same
// interceptors (the bearer token) as the other protocols.
func TestREST(t *testing.T) {
	addr, _ := serve(t, ordermgt.Config{Engine: ordermgt.EngineHTTP})
	call := func(method, path, body string, header ...string) (*http.Response, string) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, "http://"+addr+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := call("POST", "/v1/orders", `{"items":["Google Pixel 9"],"destination":"San Jose, CA","price":799}`)
	var added struct{ ID string }
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &added) != nil || added.ID == "" {
		t.Fatalf("AddOrder: %d %s", resp.StatusCode, body)
	}
	resp, body = call("GET", "/v1/orders/"+added.ID, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"destination":"San Jose, CA"`) || !strings.Contains(body, `"ORDER_STATUS_PENDING"`) {
		t.Fatalf("GetOrder: %d %s", resp.StatusCode, body)
	}
	// Server streaming: one JSON message per line, or Server-Sent Events.
	resp, body = call("GET", "/v1/orders:search?query=pixel", "")
	if resp.Header.Get("Content-Type") != "application/x-ndjson" || !strings.Contains(body, `"id":"`+added.ID+`"`) {
		t.Fatalf("SearchOrders: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	resp, body = call("GET", "/v1/orders:search?query=pixel", "", "Accept", "text/event-stream")
	if line, _ := bufio.NewReader(strings.NewReader(body)).ReadString('\n'); resp.Header.Get("Content-Type") != "text/event-stream" || !strings.HasPrefix(line, "data: {") {
		t.Fatalf("SearchOrders (SSE): %v %q", resp.Header, body)
	}
	// Errors: the HTTP status of the code, a google.rpc.Status body.
	resp, body = call("POST", "/v1/orders", `{"price":-1}`)
	if resp.StatusCode != 400 || !strings.Contains(body, `"@type":"type.googleapis.com/google.rpc.BadRequest"`) {
		t.Fatalf("invalid order: %d %s", resp.StatusCode, body)
	}
	resp, body = call("GET", "/v1/orders/"+added.ID, "", "Authorization", "Bearer wrong")
	if resp.StatusCode != 401 || !strings.Contains(body, `"code":16`) {
		t.Fatalf("bad token: %d %s", resp.StatusCode, body)
	}
	resp, body = call("GET", "/v1/orders:search?qurey=pixel", "")
	if resp.StatusCode != 400 || !strings.Contains(body, "qurey: unknown query parameter") {
		t.Fatalf("misspelt parameter: %d %s", resp.StatusCode, body)
	}
}
