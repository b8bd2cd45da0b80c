package polyrpc_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/stats"
	"google.golang.org/protobuf/proto"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/internal/rpctest"
)

// otelSide is OpenTelemetry's gRPC instrumentation for one side of the
// calls, with an in-memory span recorder and a manual metric reader.
type otelSide struct {
	spans   *tracetest.SpanRecorder
	metrics *sdkmetric.ManualReader
	handler stats.Handler
}

func newOtelSide(server bool) *otelSide {
	o := &otelSide{spans: tracetest.NewSpanRecorder(), metrics: sdkmetric.NewManualReader()}
	opts := []otelgrpc.Option{
		otelgrpc.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(o.spans))),
		otelgrpc.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(o.metrics))),
		otelgrpc.WithPropagators(propagation.TraceContext{}), // W3C traceparent
	}
	if server {
		o.handler = otelgrpc.NewServerHandler(opts...)
	} else {
		o.handler = otelgrpc.NewClientHandler(opts...)
	}
	return o
}

// span is what the test compares of a span: the values of addresses and
// ports, ids and times are left out.
type span struct {
	Name        string
	Kind        trace.SpanKind
	Code        otelcodes.Code
	Description string
	Attributes  []string
}

// ended waits for n spans to end (a server ends its span after the client
// has its response) and summarises them in a stable order.
func (o *otelSide) ended(t *testing.T, n int) ([]span, []sdktrace.ReadOnlySpan) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(o.spans.Ended()) < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	raw := o.spans.Ended()
	if len(raw) != n {
		t.Fatalf("%d spans ended, want %d", len(raw), n)
	}
	var out []span
	for _, s := range raw {
		out = append(out, span{
			Name:        s.Name(),
			Kind:        s.SpanKind(),
			Code:        s.Status().Code,
			Description: s.Status().Description,
			Attributes:  attributeList(s.Attributes()),
		})
	}
	slices.SortFunc(out, func(a, b span) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return out, raw
}

// attributeList lists attributes as key=value; addresses and ports, which
// differ from one server to another, as key=*.
func attributeList(kvs []attribute.KeyValue) []string {
	var out []string
	for _, kv := range kvs {
		k := string(kv.Key)
		if strings.HasPrefix(k, "server.") || strings.HasPrefix(k, "client.") || strings.HasPrefix(k, "network.") || strings.HasPrefix(k, "net.") {
			out = append(out, k+"=*")
			continue
		}
		out = append(out, k+"="+kv.Value.Emit())
	}
	slices.Sort(out)
	return out
}

// instruments returns, for every metric instrument, the number of
// measurements per attribute set, once the duration of each of the n calls
// is recorded: a server records it when it has sent the call's end, which
// may be after the client has it.
func (o *otelSide) instruments(t *testing.T, n int) map[string]map[string]uint64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out := o.collect(t)
		calls := uint64(0)
		for name, counts := range out {
			if strings.Contains(name, "duration") {
				for _, c := range counts {
					calls += c
				}
			}
		}
		if calls >= uint64(n) || time.Now().After(deadline) {
			return out
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (o *otelSide) collect(t *testing.T) map[string]map[string]uint64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := o.metrics.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]uint64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			counts := map[string]uint64{}
			switch data := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, dp := range data.DataPoints {
					counts[strings.Join(attributeList(dp.Attributes.ToSlice()), " ")] += dp.Count
				}
			case metricdata.Histogram[int64]:
				for _, dp := range data.DataPoints {
					counts[strings.Join(attributeList(dp.Attributes.ToSlice()), " ")] += dp.Count
				}
			case metricdata.Sum[int64]:
				for _, dp := range data.DataPoints {
					counts[strings.Join(attributeList(dp.Attributes.ToSlice()), " ")] += uint64(dp.Value)
				}
			default:
				t.Fatalf("metric %s of unexpected type %T", m.Name, m.Data)
			}
			out[m.Name] = counts
		}
	}
	return out
}

// TestStatsOpenTelemetry serves and calls the same calls with OpenTelemetry's
// otelgrpc handlers on grpc.Server and grpc.ClientConn, and on polyrpc's
// Server and ClientConn over every protocol: spans and metrics must be the
// same, and each server span the child of its client span.
func TestStatsOpenTelemetry(t *testing.T) {
	n := len(statsCalls)
	type result struct {
		serverSpans, clientSpans []span
		serverMetrics            map[string]map[string]uint64
		clientMetrics            map[string]map[string]uint64
	}
	run := func(t *testing.T, polyServer bool, dial func(base string, hc *http.Client, h stats.Handler) testpb.TestServiceClient) result {
		server, client := newOtelSide(true), newOtelSide(false)
		var base string
		var hc *http.Client
		if polyServer {
			s := polyrpc.NewServer(polyrpc.StatsHandler(server.handler))
			testpb.RegisterTestServiceServer(s, testService{})
			base, hc = rpctest.Start(t, s, rpctest.H2C)
		} else {
			base, hc = startNative(t, grpc.StatsHandler(server.handler)), h2cClient(t)
		}
		runStatsCalls(t, dial(base, hc, client.handler))
		var r result
		var serverRaw, clientRaw []sdktrace.ReadOnlySpan
		r.serverSpans, serverRaw = server.ended(t, n)
		r.clientSpans, clientRaw = client.ended(t, n)
		r.serverMetrics, r.clientMetrics = server.instruments(t, n), client.instruments(t, n)
		// Trace context went from each client span to its server span.
		for _, s := range serverRaw {
			parent := s.Parent()
			if !parent.IsValid() || !parent.IsRemote() {
				t.Errorf("server span %s has no remote parent", s.Name())
				continue
			}
			found := false
			for _, c := range clientRaw {
				found = found || (c.SpanContext().SpanID() == parent.SpanID() && c.SpanContext().TraceID() == s.SpanContext().TraceID() && c.Name() == s.Name())
			}
			if !found {
				t.Errorf("the parent of server span %s is no client span", s.Name())
			}
		}
		return r
	}
	grpcGo := func(base string, _ *http.Client, h stats.Handler) testpb.TestServiceClient {
		return testpb.NewTestServiceClient(dialGRPCWith(t, base, grpc.WithStatsHandler(h)))
	}
	clientConn := func(opts ...connect.ClientOption) func(string, *http.Client, stats.Handler) testpb.TestServiceClient {
		return func(base string, hc *http.Client, h stats.Handler) testpb.TestServiceClient {
			return testpb.NewTestServiceClient(polyrpc.NewClientConn(hc, base, append(opts, polyrpc.WithStatsHandler(h))...))
		}
	}

	want := run(t, false, grpcGo)
	if len(want.serverMetrics) == 0 || len(want.clientMetrics) == 0 {
		t.Fatalf("otelgrpc recorded no metrics: %v %v", want.serverMetrics, want.clientMetrics)
	}
	tests := []struct {
		name       string
		polyServer bool
		dial       func(string, *http.Client, stats.Handler) testpb.TestServiceClient
	}{
		{"Server/grpc-go", true, grpcGo},
		{"Server/grpc", true, clientConn(connect.WithGRPC())},
		{"Server/grpcweb", true, clientConn(connect.WithGRPCWeb())},
		{"Server/connect", true, clientConn()},
		{"Server/connect-json", true, clientConn(connect.WithProtoJSON())},
		{"grpc.Server/ClientConn", false, clientConn(connect.WithGRPC())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, tt.polyServer, tt.dial)
			if diff := cmp.Diff(want.serverSpans, got.serverSpans); diff != "" {
				t.Errorf("server spans differ (-grpc-go +polyrpc):\n%s", diff)
			}
			if diff := cmp.Diff(want.clientSpans, got.clientSpans); diff != "" {
				t.Errorf("client spans differ (-grpc-go +polyrpc):\n%s", diff)
			}
			if diff := cmp.Diff(want.serverMetrics, got.serverMetrics); diff != "" {
				t.Errorf("server metrics differ (-grpc-go +polyrpc):\n%s", diff)
			}
			if diff := cmp.Diff(want.clientMetrics, got.clientMetrics); diff != "" {
				t.Errorf("client metrics differ (-grpc-go +polyrpc):\n%s", diff)
			}
		})
	}
}

// noopStats is a stats.Handler that does nothing.
type noopStats struct{}

func (noopStats) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context   { return ctx }
func (noopStats) HandleRPC(context.Context, stats.RPCStats)                         {}
func (noopStats) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (noopStats) HandleConn(context.Context, stats.ConnStats)                       {}

// BenchmarkStatsInProcess measures the server side of a Connect unary call
// without stats handlers, with one that does nothing, and with otelgrpc's.
func BenchmarkStatsInProcess(b *testing.B) {
	body, err := proto.Marshal(&testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("hello, world")}})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		opts []polyrpc.ServerOption
	}{
		{"none", nil},
		{"noop", []polyrpc.ServerOption{polyrpc.StatsHandler(noopStats{})}},
		{"otelgrpc", []polyrpc.ServerOption{polyrpc.StatsHandler(newOtelSide(true).handler)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := polyrpc.NewServer(bc.opts...)
			testpb.RegisterTestServiceServer(s, testService{})
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/grpc.testing.TestService/UnaryCall", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/proto")
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// ExampleStatsHandler is the README's snippet on stats handlers, served
// and called.
func ExampleStatsHandler() {
	s := polyrpc.NewServer(polyrpc.StatsHandler(otelgrpc.NewServerHandler())) // or grpc-go's own stats handlers
	healthgrpc.RegisterHealthServer(s, health.NewServer())
	srv := httptest.NewServer(s)
	defer srv.Close()

	cc := polyrpc.NewClientConn(http.DefaultClient, srv.URL,
		polyrpc.WithStatsHandler(otelgrpc.NewClientHandler()))
	res, err := healthgrpc.NewHealthClient(cc).Check(context.Background(), &healthgrpc.HealthCheckRequest{})
	fmt.Println(res.GetStatus(), err)
	// Output: SERVING <nil>
}
