package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const validConfig = `# a full config
listen: "127.0.0.1:8080"
tls:
  cert: server.crt
  key: server.key
http3: true
limits:
  max_recv_msg_size: 1MiB
  max_send_msg_size: 8388608
health: false
access_log: "off"
drain:
  delay: 2s
  timeout: 10s
headers:
  request:
    forward: [authorization, "x-*"]
    drop: [x-internal]
  response:
    drop: [server-timing]
cors:
  allowed_origins: ["https://app.example.com"]
  allowed_headers: [authorization]
backends:
  orders:
    target: dns:///orders.internal:50051
    balancer: round_robin
    tls: {ca: ca.pem, server_name: orders.internal}
    reflection: true
  legacy:
    protocol: grpcweb
    url: https://legacy.internal
  node1:
    target: passthrough:///10.0.0.1:50000
  node2:
    target: 10.0.0.2:50000
routes:
  - service: acme.orders.v1.OrderService
    backend: orders
    timeout: 3s
  - prefix: /acme.legacy.
    backend: legacy
  - prefix: /talos.
    fanout:
      backends: [node1, node2]
      select_header: Nodes
      concurrency: 2
      timeout: 5s
      responses: streamed
`

func TestParseValid(t *testing.T) {
	cfg, err := Parse("gw.yaml", []byte(validConfig))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		File:       "gw.yaml",
		Listen:     "127.0.0.1:8080",
		TLS:        &ServerTLS{Cert: "server.crt", Key: "server.key"},
		HTTP3:      true,
		Limits:     Limits{MaxRecvMsgSize: 1 << 20, MaxSendMsgSize: 8 << 20},
		Health:     false,
		Reflection: true,
		AccessLog:  "off",
		Drain:      Drain{Delay: 2 * time.Second, Timeout: 10 * time.Second},
		Headers: HeaderRules{
			Request:  HeaderRule{Forward: []string{"authorization", "x-*"}, Drop: []string{"x-internal"}},
			Response: HeaderRule{Drop: []string{"server-timing"}},
		},
		CORS: CORS{AllowedOrigins: []string{"https://app.example.com"}, AllowedHeaders: []string{"authorization"}},
		Backends: []*Backend{
			{Name: "orders", Target: "dns:///orders.internal:50051", Balancer: RoundRobin, Protocol: ProtocolGRPC,
				TLS: &BackendTLS{CA: "ca.pem", ServerName: "orders.internal"}, Reflection: true},
			{Name: "legacy", Protocol: ProtocolGRPCWeb, URL: "https://legacy.internal", TLS: &BackendTLS{}},
			{Name: "node1", Target: "passthrough:///10.0.0.1:50000", Balancer: PickFirst, Protocol: ProtocolGRPC},
			{Name: "node2", Target: "10.0.0.2:50000", Balancer: PickFirst, Protocol: ProtocolGRPC},
		},
		Routes: []*Route{
			{Service: "acme.orders.v1.OrderService", Backend: "orders", Timeout: 3 * time.Second},
			{Prefix: "/acme.legacy.", Backend: "legacy"},
			{Prefix: "/talos.", FanOut: &FanOut{
				Backends: []string{"node1", "node2"}, SelectHeader: "nodes", Concurrency: 2,
				Timeout: 5 * time.Second, Responses: ResponsesStreamed,
			}},
		},
	}
	if diff := cmp.Diff(want, cfg, cmpopts.IgnoreUnexported(Backend{}, Route{})); diff != "" {
		t.Errorf("config mismatch (-want +got):\n%s", diff)
	}
}

func TestParseDefaults(t *testing.T) {
	cfg, err := Parse("gw.yaml", []byte("listen: :0\nbackends: {b: {target: dns:///b:1}}\nroutes: [{prefix: /, backend: b}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Health || !cfg.Reflection || cfg.AccessLog != "stderr" || cfg.Drain.Timeout != DefaultDrainTimeout || cfg.Limits != (Limits{}) {
		t.Errorf("defaults: %+v", cfg)
	}
	if b := cfg.Backends[0]; b.Protocol != ProtocolGRPC || b.Balancer != PickFirst {
		t.Errorf("backend defaults: %+v", b)
	}
}

// TestParseErrors checks that every error names the file, the line and
// the column of the offending node, and says what is wrong.
func TestParseErrors(t *testing.T) {
	const backends = "backends:\n  b:\n    target: dns:///b:1\n"
	const routes = "routes:\n  - prefix: /\n    backend: b\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"empty", "", "gw.yaml: empty config"},
		{"syntax", "listen: :0\n  bad: [\n", "gw.yaml:2: "},
		{"not a mapping", "- a\n", "gw.yaml:1:1: config: want a mapping, got a list"},
		{"unknown key", "listen: :0\nlisten_addr: :1\n", `gw.yaml:2:1: config: unknown key "listen_addr" (known: access_log, backends, cors, drain, headers, health, http3, limits, listen, reflection, routes, tls)`},
		{"duplicate key", "listen: :0\nlisten: :1\n", `gw.yaml:2:1: config: key "listen" given twice`},
		{"no listen", backends + routes, "gw.yaml:1:1: config: listen is required"},
		{"bad listen", "listen: localhost\n" + backends + routes, `gw.yaml:1:9: listen: want host:port, got "localhost"`},
		{"no backends", "listen: :0\n" + routes, "gw.yaml:1:1: config: backends is required"},
		{"no routes", "listen: :0\n" + backends, "gw.yaml:1:1: config: routes is required"},
		{"tls half", "listen: :0\ntls: {cert: a.pem}\n" + backends + routes, "gw.yaml:2:6: tls: cert and key are both required"},
		{"http3 without tls", "listen: :0\nhttp3: true\n" + backends + routes, "gw.yaml:2:8: http3: HTTP/3 needs tls"},
		{"unknown tls key", "listen: :0\ntls:\n  cert: a\n  keyfile: b\n", `gw.yaml:4:3: tls: unknown key "keyfile"`},
		{"bad size", "listen: :0\nlimits:\n  max_recv_msg_size: 4MB\n", "gw.yaml:3:22: limits.max_recv_msg_size: want a size in bytes"},
		{"size too big", "listen: :0\nlimits:\n  max_send_msg_size: 2GiB\n", "gw.yaml:3:22: limits.max_send_msg_size: want a size in bytes"},
		{"bad bool", "listen: :0\nhealth: yes please\n", `gw.yaml:2:9: health: want true or false, got "yes please"`},
		{"bad duration", "listen: :0\ndrain:\n  timeout: 10\n", `gw.yaml:3:12: drain.timeout: want a duration such as 10s, got "10"`},
		{"empty access log", "listen: :0\naccess_log: \"\"\n", "gw.yaml:2:13: access_log: want"},
		{"headers list", "listen: :0\nheaders:\n  request:\n    forward: x-a\n", "gw.yaml:4:14: headers.request.forward: want a list of strings"},
		{"backend name", "listen: :0\nbackends:\n  \"a b\": {target: x:1}\n", "gw.yaml:3:3: backends: a backend name is"},
		{"backend no target", "listen: :0\nbackends:\n  b: {balancer: round_robin}\n" + routes, "gw.yaml:3:6: backends.b: target is required"},
		{"backend bad balancer", "listen: :0\nbackends:\n  b:\n    target: dns:///b:1\n    balancer: least_request\n" + routes,
			`gw.yaml:5:15: backends.b.balancer: want pick_first or round_robin, got "least_request"`},
		{"backend url as target", "listen: :0\nbackends:\n  b:\n    target: http://b:1\n" + routes,
			`gw.yaml:4:13: backends.b.target: "http://b:1" is a URL`},
		{"backend bad target", "listen: :0\nbackends:\n  b:\n    target: just-a-host\n" + routes,
			"gw.yaml:4:13: backends.b.target: want a grpc-go target"},
		{"backend unknown key", "listen: :0\nbackends:\n  b:\n    target: dns:///b:1\n    timeout: 1s\n", `gw.yaml:5:5: backends.b: unknown key "timeout"`},
		{"backend bad protocol", "listen: :0\nbackends:\n  b:\n    protocol: http\n", `gw.yaml:4:15: backends.b.protocol: want grpc, connect or grpcweb, got "http"`},
		{"connect without url", "listen: :0\nbackends:\n  b:\n    protocol: connect\n" + routes, "gw.yaml:4:5: backends.b: url is required for the connect protocol"},
		{"connect bad url", "listen: :0\nbackends:\n  b:\n    protocol: connect\n    url: ftp://b\n" + routes, `gw.yaml:5:10: backends.b.url: want an http:// or https:// URL, got "ftp://b"`},
		{"connect with target", "listen: :0\nbackends:\n  b:\n    protocol: connect\n    url: http://b\n    target: dns:///b:1\n" + routes, "gw.yaml:6:13: backends.b.target: only for the grpc protocol"},
		{"grpc with url", "listen: :0\nbackends:\n  b:\n    target: dns:///b:1\n    url: http://b\n" + routes, "gw.yaml:5:10: backends.b.url: only for the connect and grpcweb protocols"},
		{"duplicate backend", "listen: :0\nbackends:\n  b: {target: dns:///b:1}\n  b: {target: dns:///b:2}\n", `gw.yaml:4:3: backends: backend "b" given twice`},
		{"routes not a list", "listen: :0\n" + backends + "routes:\n  prefix: /\n", "gw.yaml:6:3: routes: want a list of routes, got a mapping"},
		{"route unknown backend", "listen: :0\n" + backends + "routes:\n  - service: a.B\n    backend: c\n", `gw.yaml:7:14: routes[0].backend: no backend named "c" (backends: b)`},
		{"route no matcher", "listen: :0\n" + backends + "routes:\n  - backend: b\n", "gw.yaml:6:5: routes[0]: service or prefix is required"},
		{"route both matchers", "listen: :0\n" + backends + "routes:\n  - service: a.B\n    prefix: /a.B/\n    backend: b\n", "gw.yaml:7:13: routes[0]: service and prefix exclude each other"},
		{"route bad prefix", "listen: :0\n" + backends + "routes:\n  - prefix: a.B\n    backend: b\n", `gw.yaml:6:13: routes[0].prefix: want a method prefix starting with "/"`},
		{"route bad service", "listen: :0\n" + backends + "routes:\n  - service: /a.B/\n    backend: b\n", "gw.yaml:6:14: routes[0].service: want a fully-qualified service name"},
		{"route no target", "listen: :0\n" + backends + "routes:\n  - prefix: /\n", "gw.yaml:6:5: routes[0]: backend or fanout is required"},
		{"fanout unknown member", "listen: :0\n" + backends + "routes:\n  - prefix: /\n    fanout:\n      backends: [b, c]\n", `gw.yaml:8:21: routes[0].fanout.backends: no backend named "c"`},
		{"fanout duplicate member", "listen: :0\n" + backends + "routes:\n  - prefix: /\n    fanout:\n      backends: [b, b]\n", `gw.yaml:8:21: routes[0].fanout.backends: "b" given twice`},
		{"timeout on fanout", "listen: :0\n" + backends + "routes:\n  - prefix: /\n    timeout: 1s\n    fanout: {backends: [b]}\n", "gw.yaml:7:14: routes[0].timeout: for a fan-out, set fanout.timeout"},
		{"fanout empty", "listen: :0\n" + backends + "routes:\n  - prefix: /\n    fanout: {backends: []}\n", "gw.yaml:7:13: routes[0].fanout.backends: at least one backend is required"},
		{"fanout bad responses", "listen: :0\n" + backends + "routes:\n  - prefix: /\n    fanout: {backends: [b], responses: all}\n", `routes[0].fanout.responses: want auto, merged or streamed, got "all"`},
		{"fanout bad header", "listen: :0\n" + backends + "routes:\n  - prefix: /\n    fanout: {backends: [b], select_header: grpc-timeout}\n", `routes[0].fanout.select_header: want a header name`},
		{"fanout negative concurrency", "listen: :0\n" + backends + "routes:\n  - prefix: /\n    fanout: {backends: [b], concurrency: -1}\n", `routes[0].fanout.concurrency: want a number >= 0`},
		{"two documents", "listen: :0\n---\nlisten: :1\n", "gw.yaml:2:1: more than one YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("gw.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("no error; want %q", tt.want)
			}
			if _, ok := err.(*Error); !ok {
				t.Errorf("error %T, want *Error", err)
			}
			if !strings.HasPrefix(err.Error(), "gw.yaml") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n  %s\nwant it to contain:\n  %s", err, tt.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load(t.TempDir() + "/none.yaml"); err == nil || !strings.Contains(err.Error(), "none.yaml") {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(validConfig)
	f.Add("listen: :0\nbackends: {b: {target: dns:///b:1}}\nroutes: [{prefix: /, backend: b}]\n")
	f.Add("a: &x [*x]\n")
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := Parse("f.yaml", []byte(s))
		if err == nil && (cfg.Listen == "" || len(cfg.Backends) == 0 || len(cfg.Routes) == 0) {
			t.Errorf("accepted an incomplete config: %+v", cfg)
		}
	})
}
