package ordermgt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectiongrpc "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/polyrpc/polyrpc/examples/ordermgt"
	ecommercev1 "github.com/polyrpc/polyrpc/examples/ordermgt/gen/ecommerce/v1"
)

const token = "test-token"

// logSink collects the server's request log.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimSpace(string(p)))
	return len(p), nil
}

func (l *logSink) find(substrs ...string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		ok := true
		for _, s := range substrs {
			ok = ok && strings.Contains(line, s)
		}
		if ok {
			return line
		}
	}
	return ""
}

// serve starts a server with the given engine on loopback and returns its
// address and request log. It stops when the test ends.
func serve(t *testing.T, cfg ordermgt.Config) (string, *logSink) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink := &logSink{}
	cfg.Token = token
	cfg.Log = slog.New(slog.NewTextHandler(sink, nil))
	cfg.ShutdownTimeout = time.Second
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ordermgt.Serve(ctx, lis, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return lis.Addr().String(), sink
}

func dial(t *testing.T, cfg ordermgt.ClientConfig) ecommercev1.OrderManagementClient {
	t.Helper()
	conn, closeConn, err := ordermgt.Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeConn() })
	return ecommercev1.NewOrderManagementClient(conn)
}

func withToken(ctx context.Context, tok string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
}

// client is one way to call the server.
type client struct {
	name string
	cfg  ordermgt.ClientConfig
}

// clientsFor lists every client that can talk to a server engine: the
// polyrpc.Server speaks all three protocols (and all but bidi on HTTP/1.1);
// grpc-go's grpc.Server speaks gRPC only.
func clientsFor(engine string) []client {
	cs := []client{
		{"grpc/http", ordermgt.ClientConfig{Protocol: ordermgt.ProtocolGRPC, Engine: ordermgt.EngineHTTP}},
		{"grpc/grpc", ordermgt.ClientConfig{Protocol: ordermgt.ProtocolGRPC, Engine: ordermgt.EngineGRPC}},
	}
	if engine == ordermgt.EngineHTTP {
		cs = append(cs,
			client{"connect/http", ordermgt.ClientConfig{Protocol: ordermgt.ProtocolConnect, Engine: ordermgt.EngineHTTP}},
			client{"grpcweb/http", ordermgt.ClientConfig{Protocol: ordermgt.ProtocolGRPCWeb, Engine: ordermgt.EngineHTTP}},
			client{"connect/http1.1", ordermgt.ClientConfig{Protocol: ordermgt.ProtocolConnect, Engine: ordermgt.EngineHTTP, HTTP1: true}},
			client{"grpcweb/http1.1", ordermgt.ClientConfig{Protocol: ordermgt.ProtocolGRPCWeb, Engine: ordermgt.EngineHTTP, HTTP1: true}},
		)
	}
	return cs
}

var engines = []string{ordermgt.EngineHTTP, ordermgt.EngineGRPC}

func TestScenario(t *testing.T) {
	for _, engine := range engines {
		t.Run("server="+engine, func(t *testing.T) {
			addr, sink := serve(t, ordermgt.Config{Engine: engine})
			for _, c := range clientsFor(engine) {
				t.Run(c.name, func(t *testing.T) {
					c.cfg.Addr = addr
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					var out bytes.Buffer
					err := ordermgt.Scenario(withToken(ctx, token), dial(t, c.cfg), &out, !c.cfg.HTTP1)
					if err != nil {
						t.Fatalf("Scenario: %v\noutput so far:\n%s", err, out.String())
					}
					wants := []string{
						"GetOrder without a token: Unauthenticated",
						"AddOrder of an invalid order: InvalidArgument: invalid order",
						"  - order.items: an order needs at least one item",
						"GetOrder no-such-order: NotFound",
						"SearchOrders google: ",
						"UpdateOrders: updated ",
					}
					if c.cfg.HTTP1 {
						wants = append(wants, "ProcessOrders: skipped")
					} else {
						wants = append(wants, "ProcessOrders: shipped 6 orders in 3 shipments")
					}
					for _, want := range wants {
						if !strings.Contains(out.String(), want) {
							t.Errorf("output lacks %q:\n%s", want, out.String())
						}
					}
				})
			}
			// The interceptors logged every call, whatever the protocol.
			for _, m := range []string{"AddOrder", "GetOrder", "SearchOrders", "UpdateOrders", "ProcessOrders"} {
				if sink.find("method=/ecommerce.v1.OrderManagement/"+m, "code=OK") == "" {
					t.Errorf("request log has no successful %s call", m)
				}
			}
			if sink.find("method=/ecommerce.v1.OrderManagement/GetOrder", "code=Unauthenticated") == "" {
				t.Errorf("request log has no Unauthenticated GetOrder call")
			}
		})
	}
}

func TestUnauthenticated(t *testing.T) {
	for _, engine := range engines {
		t.Run("server="+engine, func(t *testing.T) {
			addr, _ := serve(t, ordermgt.Config{Engine: engine})
			for _, c := range clientsFor(engine) {
				t.Run(c.name, func(t *testing.T) {
					c.cfg.Addr = addr
					cl := dial(t, c.cfg)
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					for name, ctx := range map[string]context.Context{"no token": ctx, "wrong token": withToken(ctx, "guess")} {
						_, err := cl.AddOrder(ctx, &ecommercev1.AddOrderRequest{Order: &ecommercev1.Order{Items: []string{"x"}, Destination: "y"}})
						if got := status.Code(err); got != codes.Unauthenticated {
							t.Errorf("AddOrder with %s: got %v, want Unauthenticated", name, err)
						}
						// Streams are checked by the stream interceptor.
						stream, err := cl.SearchOrders(ctx, &ecommercev1.SearchOrdersRequest{})
						if err == nil {
							_, err = stream.Recv()
						}
						if got := status.Code(err); got != codes.Unauthenticated {
							t.Errorf("SearchOrders with %s: got %v, want Unauthenticated", name, err)
						}
					}
				})
			}
		})
	}
}

func TestHealth(t *testing.T) {
	for _, engine := range engines {
		t.Run("server="+engine, func(t *testing.T) {
			addr, _ := serve(t, ordermgt.Config{Engine: engine})
			for _, c := range clientsFor(engine) {
				t.Run(c.name, func(t *testing.T) {
					c.cfg.Addr = addr
					conn, closeConn, err := ordermgt.Dial(c.cfg)
					if err != nil {
						t.Fatal(err)
					}
					defer closeConn()
					health := healthgrpc.NewHealthClient(conn)
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					// No token: health checks are open.
					for _, svc := range []string{"", "ecommerce.v1.OrderManagement"} {
						resp, err := health.Check(ctx, &healthgrpc.HealthCheckRequest{Service: svc})
						if err != nil {
							t.Fatalf("Check(%q): %v", svc, err)
						}
						if resp.GetStatus() != healthgrpc.HealthCheckResponse_SERVING {
							t.Errorf("Check(%q) = %v, want SERVING", svc, resp.GetStatus())
						}
					}
					_, err = health.Check(ctx, &healthgrpc.HealthCheckRequest{Service: "no.such.Service"})
					if status.Code(err) != codes.NotFound {
						t.Errorf("Check(no.such.Service): got %v, want NotFound", err)
					}
				})
			}
		})
	}
}

func TestReflection(t *testing.T) {
	for _, engine := range engines {
		t.Run("server="+engine, func(t *testing.T) {
			addr, _ := serve(t, ordermgt.Config{Engine: engine})
			for _, c := range clientsFor(engine) {
				if c.cfg.HTTP1 {
					continue // reflection is a bidirectional stream
				}
				t.Run(c.name, func(t *testing.T) {
					c.cfg.Addr = addr
					conn, closeConn, err := ordermgt.Dial(c.cfg)
					if err != nil {
						t.Fatal(err)
					}
					defer closeConn()
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					stream, err := reflectiongrpc.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if err := stream.Send(&reflectiongrpc.ServerReflectionRequest{
						MessageRequest: &reflectiongrpc.ServerReflectionRequest_ListServices{},
					}); err != nil {
						t.Fatal(err)
					}
					resp, err := stream.Recv()
					if err != nil {
						t.Fatal(err)
					}
					var names []string
					for _, s := range resp.GetListServicesResponse().GetService() {
						names = append(names, s.GetName())
					}
					slices.Sort(names)
					want := []string{"ecommerce.v1.OrderManagement", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"}
					if !slices.Equal(names, want) {
						t.Errorf("ListServices = %q, want %q", names, want)
					}
					if err := stream.Send(&reflectiongrpc.ServerReflectionRequest{
						MessageRequest: &reflectiongrpc.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "ecommerce.v1.OrderManagement"},
					}); err != nil {
						t.Fatal(err)
					}
					resp, err = stream.Recv()
					if err != nil {
						t.Fatal(err)
					}
					if n := len(resp.GetFileDescriptorResponse().GetFileDescriptorProto()); n == 0 {
						t.Errorf("FileContainingSymbol returned no descriptors: %v", resp)
					}
					if err := stream.CloseSend(); err != nil {
						t.Fatal(err)
					}
					if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
						t.Errorf("after CloseSend: got %v, want io.EOF", err)
					}
				})
			}
		})
	}
}

// TestDeadline checks that the streaming loop stops as soon as the caller's
// deadline passes, rather than at its next send.
func TestDeadline(t *testing.T) {
	for _, engine := range engines {
		t.Run("server="+engine, func(t *testing.T) {
			// Each result takes 2s; the caller gives up after 0.5s.
			addr, sink := serve(t, ordermgt.Config{Engine: engine, StreamDelay: 2 * time.Second})
			cl := dial(t, ordermgt.ClientConfig{Addr: addr, Protocol: ordermgt.ProtocolGRPC, Engine: ordermgt.EngineHTTP})
			ctx := withToken(context.Background(), token)
			if _, err := cl.AddOrder(ctx, &ecommercev1.AddOrderRequest{Order: &ecommercev1.Order{Items: []string{"Lamp"}, Destination: "Oslo"}}); err != nil {
				t.Fatal(err)
			}
			dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			defer cancel()
			start := time.Now()
			stream, err := cl.SearchOrders(dctx, &ecommercev1.SearchOrdersRequest{Query: "lamp"})
			if err == nil {
				_, err = stream.Recv()
			}
			if status.Code(err) != codes.DeadlineExceeded {
				t.Fatalf("SearchOrders: got %v, want DeadlineExceeded", err)
			}
			// The handler itself returned right after the deadline, not after
			// its 2s pause.
			var line string
			for time.Since(start) < 1500*time.Millisecond && line == "" {
				time.Sleep(20 * time.Millisecond)
				line = sink.find("method=/ecommerce.v1.OrderManagement/SearchOrders")
			}
			if line == "" {
				t.Fatalf("SearchOrders handler still running %v after the call began, with a 0.5s deadline", time.Since(start))
			}
			if !strings.Contains(line, "code=DeadlineExceeded") && !strings.Contains(line, "code=Canceled") {
				t.Errorf("SearchOrders handler ended with %q, want DeadlineExceeded or Canceled", line)
			}
		})
	}
}

// TestGet calls GetOrder with a plain HTTP GET, as a browser or curl would:
// it is marked NO_SIDE_EFFECTS, so the Connect protocol allows it.
func TestGet(t *testing.T) {
	addr, _ := serve(t, ordermgt.Config{Engine: ordermgt.EngineHTTP})
	cl := dial(t, ordermgt.ClientConfig{Addr: addr})
	ctx := withToken(context.Background(), token)
	added, err := cl.AddOrder(ctx, &ecommercev1.AddOrderRequest{Order: &ecommercev1.Order{Items: []string{"Desk"}, Price: 120, Destination: "Lyon"}})
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{
		"connect":  {"v1"},
		"encoding": {"json"},
		"message":  {fmt.Sprintf(`{"id":%q}`, added.GetId())},
	}
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/ecommerce.v1.OrderManagement/GetOrder?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET: %s: %s", resp.Status, body)
	}
	var got struct {
		Order struct {
			ID          string   `json:"id"`
			Items       []string `json:"items"`
			Destination string   `json:"destination"`
			Status      string   `json:"status"`
		} `json:"order"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("GET: %v in %s", err, body)
	}
	if got.Order.ID != added.GetId() || !slices.Equal(got.Order.Items, []string{"Desk"}) || got.Order.Destination != "Lyon" || got.Order.Status != "ORDER_STATUS_PENDING" {
		t.Errorf("GET returned %s", body)
	}
}
