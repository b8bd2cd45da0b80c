package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the gateway's configuration, as read from YAML by [Load] or
// [Parse], or built in Go.
type Config struct {
	// File is the path the config was read from, for error messages.
	File string

	// Listen is the address to listen on ("host:port").
	Listen string
	// TLS, when set, serves HTTP/1.1 and HTTP/2 over TLS; otherwise
	// HTTP/1.1 and cleartext HTTP/2 (h2c).
	TLS *ServerTLS
	// HTTP3 serves HTTP/3 (QUIC) too, on the UDP port of the same number;
	// it needs TLS.
	HTTP3 bool

	Limits Limits

	// Health registers grpc-go's health service (grpc.health.v1.Health);
	// Reflection registers grpc-go's server reflection (v1 and v1alpha),
	// which lists the gateway's own services.
	Health, Reflection bool

	// AccessLog is where the access log goes: "stderr", "stdout", "off",
	// or a file path (appended to).
	AccessLog string

	// Drain is how the gateway stops on SIGTERM.
	Drain Drain

	Headers HeaderRules

	// CORS, when it has origins, lets pages on those origins call the
	// gateway from a browser.
	CORS CORS

	// Backends in the order of the file.
	Backends []*Backend
	// Routes in the order of the file: the first that matches a call
	// serves it.
	Routes []*Route
}

// ServerTLS names the PEM files of the gateway's certificate.
type ServerTLS struct {
	Cert, Key string
	// ClientCA, when set, requires clients to present a certificate
	// signed by one of its CAs.
	ClientCA string
}

// Limits of the messages the gateway receives from callers and sends
// them. Zero means grpc-go's default (receive 4 MiB, send 2 GiB - 1).
type Limits struct {
	MaxRecvMsgSize, MaxSendMsgSize int
}

// Drain is the graceful stop: on SIGTERM the health service reports
// NOT_SERVING, the gateway keeps serving for Delay (so load balancers see
// it go), then stops taking calls and waits up to Timeout for the calls
// under way before ending them.
type Drain struct {
	Delay, Timeout time.Duration
}

// DefaultDrainTimeout is the default of Drain.Timeout.
const DefaultDrainTimeout = 30 * time.Second

// CORS is the cross-origin policy of browser callers (polyrpc.CORS).
type CORS struct {
	AllowedOrigins, AllowedHeaders, ExposedHeaders []string
	AllowCredentials                               bool
}

// HeaderRules say which metadata crosses the gateway in each direction.
type HeaderRules struct {
	Request, Response HeaderRule
}

// HeaderRule: a key crosses when Forward is empty or matches it, and Drop
// does not match it. A key that ends with "*" matches every key with that
// prefix. Hop-by-hop and transport headers never cross.
type HeaderRule struct {
	Forward, Drop []string
}

// Backend protocols.
const (
	ProtocolGRPC    = "grpc"
	ProtocolConnect = "connect"
	ProtocolGRPCWeb = "grpcweb"
)

// Balancer policies, grpc-go's.
const (
	PickFirst  = "pick_first"
	RoundRobin = "round_robin"
)

// Backend is a named upstream.
type Backend struct {
	Name string
	// Target is a grpc-go target ("dns:///host:port",
	// "passthrough:///host:port", "unix:///path", ...), for the grpc
	// protocol.
	Target string
	// Balancer is grpc-go's load-balancing policy: pick_first (the
	// default) or round_robin.
	Balancer string
	// Protocol is grpc (the default: a grpc-go client connection), or
	// connect or grpcweb (polyrpc.NewClientConn to URL).
	Protocol string
	// URL is the base URL of a connect or grpcweb backend.
	URL string
	// H2C makes a connect or grpcweb backend with an http:// URL speak
	// cleartext HTTP/2 instead of HTTP/1.1.
	H2C bool
	// TLS, when set, makes the connection use TLS.
	TLS *BackendTLS
	// Reflection makes the gateway load the descriptors of the services
	// routed to the backend from its server reflection, so that callers
	// using JSON are transcoded (descriptors linked into the program need
	// no such thing).
	Reflection bool

	line int
}

// BackendTLS configures TLS to a backend. With no CA, the system's roots
// are trusted.
type BackendTLS struct {
	CA         string // PEM file of the CAs to trust
	ServerName string // name to verify instead of the target's host
	Cert, Key  string // client certificate, optional
}

// Route sends the calls that match it to a backend or a fan-out set.
type Route struct {
	// Service matches the calls to a service ("pkg.Service"); Prefix
	// matches the calls whose method ("/pkg.Service/Method") starts with
	// it. One of the two is set.
	Service, Prefix string
	// Backend is the backend of one-to-one calls; FanOut is set instead
	// for one-to-many calls.
	Backend string
	FanOut  *FanOut
	// Timeout is the deadline of a one-to-one call to the backend (0: the
	// caller's); fan-out sets have their own.
	Timeout time.Duration

	line int
}

// Fan-out response modes.
const (
	ResponsesAuto     = "auto"
	ResponsesMerged   = "merged"
	ResponsesStreamed = "streamed"
)

// FanOut sends each call to a set of backends, with the Talos contract:
// merged unary replies (field 1 repeated), each entry attributed to its
// backend by a ResponseMetadata message at field 99, a failed backend
// becoming an error entry.
type FanOut struct {
	// Backends is the set.
	Backends []string
	// SelectHeader, when set, names a request header whose values (comma
	// separated or repeated) choose members of the set; without the
	// header, the call goes to every member. The header does not reach the
	// backends.
	SelectHeader string
	// Concurrency bounds the backends called at once (0: no bound).
	Concurrency int
	// Timeout is each backend's deadline (0: the caller's).
	Timeout time.Duration
	// Responses: auto (streamed if the method's descriptor, when linked in,
	// says it streams responses, else merged), merged or streamed.
	Responses string
}

// Error is a configuration error, located in its file.
type Error struct {
	File         string
	Line, Column int // zero when unknown
	Msg          string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Load reads and validates the config file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse reads and validates a config; file names it in errors.
func Parse(file string, data []byte) (*Config, error) {
	d := &decoder{file: file}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "empty config"}
		}
		return nil, d.yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, d.errorf(&extra, "more than one YAML document")
	} else if !errors.Is(err, io.EOF) {
		return nil, d.yamlError(err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	cfg := &Config{File: file, Health: true, Reflection: true, AccessLog: "stderr"}
	cfg.Drain.Timeout = DefaultDrainTimeout
	if err := d.config(root, cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// yamlError locates an error of the YAML parser ("yaml: line 3: ...").
func (d *decoder) yamlError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(n); err == nil {
				return &Error{File: d.file, Line: line, Msg: after}
			}
		}
	}
	return &Error{File: d.file, Msg: msg}
}

type decoder struct {
	file string
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) error {
	return &Error{File: d.file, Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...)}
}

// fields walks a mapping: each key must be one of fields, at most once.
func (d *decoder) fields(n *yaml.Node, what string, fields map[string]func(v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return d.errorf(n, "%s: want a mapping, got %s", what, kind(n))
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return d.errorf(k, "%s: keys must be strings", what)
		}
		fn, ok := fields[k.Value]
		if !ok {
			return d.errorf(k, "%s: unknown key %q (known: %s)", what, k.Value, strings.Join(sortedKeys(fields), ", "))
		}
		if seen[k.Value] {
			return d.errorf(k, "%s: key %q given twice", what, k.Value)
		}
		seen[k.Value] = true
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return strconv.Quote(n.Value)
}

func (d *decoder) str(what string, dst *string) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			return d.errorf(n, "%s: want a string, got %s", what, kind(n))
		}
		*dst = n.Value
		return nil
	}
}

func (d *decoder) boolean(what string, dst *bool) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			return d.errorf(n, "%s: want true or false, got %s", what, kind(n))
		}
		*dst = n.Value == "true"
		return nil
	}
}

func (d *decoder) duration(what string, dst *time.Duration) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		if n.Kind != yaml.ScalarNode {
			return d.errorf(n, "%s: want a duration such as 10s, got %s", what, kind(n))
		}
		v, err := time.ParseDuration(n.Value)
		if err != nil || v < 0 {
			return d.errorf(n, "%s: want a duration such as 10s, got %q", what, n.Value)
		}
		*dst = v
		return nil
	}
}

func (d *decoder) count(what string, dst *int) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		v, err := strconv.Atoi(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil || v < 0 {
			return d.errorf(n, "%s: want a number >= 0, got %s", what, kind(n))
		}
		*dst = v
		return nil
	}
}

// size reads a byte count: a number, or a number with a KiB, MiB or GiB
// suffix.
func (d *decoder) size(what string, dst *int) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		bad := d.errorf(n, "%s: want a size in bytes such as 4194304 or 4MiB (at most 2GiB-1), got %s", what, kind(n))
		if n.Kind != yaml.ScalarNode {
			return bad
		}
		s, mul := n.Value, int64(1)
		for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
			if rest, ok := strings.CutSuffix(s, suffix); ok {
				s, mul = strings.TrimSpace(rest), m
			}
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v <= 0 || v > math.MaxInt32/mul || v*mul > math.MaxInt32 {
			return bad
		}
		*dst = int(v * mul)
		return nil
	}
}

func (d *decoder) strs(what string, dst *[]string) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		if n.Kind != yaml.SequenceNode {
			return d.errorf(n, "%s: want a list of strings, got %s", what, kind(n))
		}
		for _, e := range n.Content {
			if e.Kind != yaml.ScalarNode || e.Tag == "!!null" || e.Value == "" {
				return d.errorf(e, "%s: want a non-empty string, got %s", what, kind(e))
			}
			*dst = append(*dst, e.Value)
		}
		return nil
	}
}

func (d *decoder) config(n *yaml.Node, cfg *Config) error {
	var (
		listen, tlsNode         *yaml.Node
		http3Node               *yaml.Node
		backendsNode, routeNode *yaml.Node
	)
	err := d.fields(n, "config", map[string]func(*yaml.Node) error{
		"listen": func(v *yaml.Node) error {
			listen = v
			return d.str("listen", &cfg.Listen)(v)
		},
		"tls": func(v *yaml.Node) error {
			tlsNode = v
			cfg.TLS = &ServerTLS{}
			return d.fields(v, "tls", map[string]func(*yaml.Node) error{
				"cert":      d.str("tls.cert", &cfg.TLS.Cert),
				"key":       d.str("tls.key", &cfg.TLS.Key),
				"client_ca": d.str("tls.client_ca", &cfg.TLS.ClientCA),
			})
		},
		"http3": func(v *yaml.Node) error {
			http3Node = v
			return d.boolean("http3", &cfg.HTTP3)(v)
		},
		"limits": func(v *yaml.Node) error {
			return d.fields(v, "limits", map[string]func(*yaml.Node) error{
				"max_recv_msg_size": d.size("limits.max_recv_msg_size", &cfg.Limits.MaxRecvMsgSize),
				"max_send_msg_size": d.size("limits.max_send_msg_size", &cfg.Limits.MaxSendMsgSize),
			})
		},
		"health":     d.boolean("health", &cfg.Health),
		"reflection": d.boolean("reflection", &cfg.Reflection),
		"access_log": func(v *yaml.Node) error {
			if err := d.str("access_log", &cfg.AccessLog)(v); err != nil {
				return err
			}
			if cfg.AccessLog == "" {
				return d.errorf(v, `access_log: want "stderr", "stdout", "off" or a file path`)
			}
			return nil
		},
		"drain": func(v *yaml.Node) error {
			return d.fields(v, "drain", map[string]func(*yaml.Node) error{
				"delay":   d.duration("drain.delay", &cfg.Drain.Delay),
				"timeout": d.duration("drain.timeout", &cfg.Drain.Timeout),
			})
		},
		"headers": func(v *yaml.Node) error {
			rule := func(what string, r *HeaderRule) func(*yaml.Node) error {
				return func(v *yaml.Node) error {
					return d.fields(v, what, map[string]func(*yaml.Node) error{
						"forward": d.strs(what+".forward", &r.Forward),
						"drop":    d.strs(what+".drop", &r.Drop),
					})
				}
			}
			return d.fields(v, "headers", map[string]func(*yaml.Node) error{
				"request":  rule("headers.request", &cfg.Headers.Request),
				"response": rule("headers.response", &cfg.Headers.Response),
			})
		},
		"cors": func(v *yaml.Node) error {
			return d.fields(v, "cors", map[string]func(*yaml.Node) error{
				"allowed_origins":   d.strs("cors.allowed_origins", &cfg.CORS.AllowedOrigins),
				"allowed_headers":   d.strs("cors.allowed_headers", &cfg.CORS.AllowedHeaders),
				"exposed_headers":   d.strs("cors.exposed_headers", &cfg.CORS.ExposedHeaders),
				"allow_credentials": d.boolean("cors.allow_credentials", &cfg.CORS.AllowCredentials),
			})
		},
		"backends": func(v *yaml.Node) error { backendsNode = v; return nil },
		"routes":   func(v *yaml.Node) error { routeNode = v; return nil },
	})
	if err != nil {
		return err
	}
	if listen == nil {
		return d.errorf(n, "config: listen is required (for instance listen: \":8080\")")
	}
	if _, _, err := net.SplitHostPort(cfg.Listen); err != nil {
		return d.errorf(listen, "listen: want host:port, got %q", cfg.Listen)
	}
	if cfg.TLS != nil && (cfg.TLS.Cert == "" || cfg.TLS.Key == "") {
		return d.errorf(tlsNode, "tls: cert and key are both required")
	}
	if cfg.HTTP3 && cfg.TLS == nil {
		return d.errorf(http3Node, "http3: HTTP/3 needs tls")
	}
	if backendsNode == nil {
		return d.errorf(n, "config: backends is required")
	}
	if err := d.backends(backendsNode, cfg); err != nil {
		return err
	}
	if routeNode == nil {
		return d.errorf(n, "config: routes is required")
	}
	return d.routes(routeNode, cfg)
}

func (d *decoder) backends(n *yaml.Node, cfg *Config) error {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		return d.errorf(n, "backends: want a mapping of backend names to backends, got %s", kind(n))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || !validName(k.Value) {
			return d.errorf(k, "backends: a backend name is letters, digits, '-', '_' and '.', got %s", kind(k))
		}
		if seen[k.Value] {
			return d.errorf(k, "backends: backend %q given twice", k.Value)
		}
		seen[k.Value] = true
		b := &Backend{Name: k.Value, line: k.Line}
		what := "backends." + b.Name
		var target, balancer, protocol, urlNode *yaml.Node
		err := d.fields(v, what, map[string]func(*yaml.Node) error{
			"target":     func(v *yaml.Node) error { target = v; return d.str(what+".target", &b.Target)(v) },
			"balancer":   func(v *yaml.Node) error { balancer = v; return d.str(what+".balancer", &b.Balancer)(v) },
			"protocol":   func(v *yaml.Node) error { protocol = v; return d.str(what+".protocol", &b.Protocol)(v) },
			"url":        func(v *yaml.Node) error { urlNode = v; return d.str(what+".url", &b.URL)(v) },
			"h2c":        d.boolean(what+".h2c", &b.H2C),
			"reflection": d.boolean(what+".reflection", &b.Reflection),
			"tls": func(v *yaml.Node) error {
				b.TLS = &BackendTLS{}
				if v.Tag == "!!null" || v.Kind == yaml.MappingNode && len(v.Content) == 0 {
					return nil // "tls: {}": the system's roots
				}
				return d.fields(v, what+".tls", map[string]func(*yaml.Node) error{
					"ca":          d.str(what+".tls.ca", &b.TLS.CA),
					"server_name": d.str(what+".tls.server_name", &b.TLS.ServerName),
					"cert":        d.str(what+".tls.cert", &b.TLS.Cert),
					"key":         d.str(what+".tls.key", &b.TLS.Key),
				})
			},
		})
		if err != nil {
			return err
		}
		switch b.Protocol {
		case "":
			b.Protocol = ProtocolGRPC
		case ProtocolGRPC, ProtocolConnect, ProtocolGRPCWeb:
		default:
			return d.errorf(protocol, "%s.protocol: want grpc, connect or grpcweb, got %q", what, b.Protocol)
		}
		if b.TLS != nil && (b.TLS.Cert == "") != (b.TLS.Key == "") {
			return d.errorf(v, "%s.tls: cert and key go together", what)
		}
		if b.Protocol == ProtocolGRPC {
			switch {
			case target == nil:
				return d.errorf(v, "%s: target is required (a grpc-go target such as dns:///host:port)", what)
			case urlNode != nil:
				return d.errorf(urlNode, "%s.url: only for the connect and grpcweb protocols (grpc backends have a target)", what)
			case b.H2C:
				return d.errorf(v, "%s.h2c: only for the connect and grpcweb protocols", what)
			}
			if err := checkTarget(b.Target); err != nil {
				return d.errorf(target, "%s.target: %v", what, err)
			}
			switch b.Balancer {
			case "":
				b.Balancer = PickFirst
			case PickFirst, RoundRobin:
			default:
				return d.errorf(balancer, "%s.balancer: want pick_first or round_robin, got %q", what, b.Balancer)
			}
		} else {
			switch {
			case urlNode == nil:
				return d.errorf(v, "%s: url is required for the %s protocol (such as http://host:port)", what, b.Protocol)
			case target != nil:
				return d.errorf(target, "%s.target: only for the grpc protocol (%s backends have a url)", what, b.Protocol)
			case balancer != nil:
				return d.errorf(balancer, "%s.balancer: only for the grpc protocol", what)
			}
			u, err := url.Parse(b.URL)
			if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
				return d.errorf(urlNode, "%s.url: want an http:// or https:// URL, got %q", what, b.URL)
			}
			if u.Scheme == "https" && b.TLS == nil {
				b.TLS = &BackendTLS{}
			}
			if u.Scheme == "http" && b.TLS != nil {
				return d.errorf(urlNode, "%s.url: an http:// URL with tls: use https://", what)
			}
		}
		cfg.Backends = append(cfg.Backends, b)
	}
	return nil
}

// checkTarget checks a grpc-go target string: "scheme:///endpoint" or
// "host:port" (grpc-go's default dns scheme).
func checkTarget(target string) error {
	if target == "" {
		return errors.New("empty target")
	}
	if strings.ContainsAny(target, " \t\r\n") {
		return fmt.Errorf("%q has blanks", target)
	}
	if u, err := url.Parse(target); err == nil && u.Scheme != "" && (u.Opaque == "" || strings.HasPrefix(target, u.Scheme+"://")) {
		if u.Scheme == "http" || u.Scheme == "https" {
			return fmt.Errorf("%q is a URL: a grpc backend takes a grpc-go target (dns:///host:port); for a Connect or gRPC-Web backend set protocol and url", target)
		}
		if strings.TrimPrefix(u.Path, "/") == "" && u.Host == "" {
			return fmt.Errorf("%q has no endpoint", target)
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(target); err != nil {
		return fmt.Errorf("want a grpc-go target such as dns:///host:port or passthrough:///host:port, got %q", target)
	}
	return nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func (d *decoder) routes(n *yaml.Node, cfg *Config) error {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return d.errorf(n, "routes: want a list of routes, got %s", kind(n))
	}
	backends := map[string]bool{}
	for _, b := range cfg.Backends {
		backends[b.Name] = true
	}
	knownBackend := func(v *yaml.Node, what, name string) error {
		if !backends[name] {
			return d.errorf(v, "%s: no backend named %q (backends: %s)", what, name, strings.Join(sortedKeys(backends), ", "))
		}
		return nil
	}
	for i, v := range n.Content {
		what := fmt.Sprintf("routes[%d]", i)
		r := &Route{line: v.Line}
		var svc, prefix, backend, fanout, timeout *yaml.Node
		err := d.fields(v, what, map[string]func(*yaml.Node) error{
			"service": func(v *yaml.Node) error { svc = v; return d.str(what+".service", &r.Service)(v) },
			"prefix":  func(v *yaml.Node) error { prefix = v; return d.str(what+".prefix", &r.Prefix)(v) },
			"backend": func(v *yaml.Node) error { backend = v; return d.str(what+".backend", &r.Backend)(v) },
			"timeout": func(v *yaml.Node) error { timeout = v; return d.duration(what+".timeout", &r.Timeout)(v) },
			"fanout": func(v *yaml.Node) error {
				fanout = v
				r.FanOut = &FanOut{}
				return d.fanOut(v, what+".fanout", r.FanOut)
			},
		})
		if err != nil {
			return err
		}
		switch {
		case svc == nil && prefix == nil:
			return d.errorf(v, "%s: service or prefix is required", what)
		case svc != nil && prefix != nil:
			return d.errorf(prefix, "%s: service and prefix exclude each other", what)
		case svc != nil && (r.Service == "" || strings.ContainsAny(r.Service, "/ ")):
			return d.errorf(svc, "%s.service: want a fully-qualified service name such as pkg.v1.Service, got %q", what, r.Service)
		case prefix != nil && !strings.HasPrefix(r.Prefix, "/"):
			return d.errorf(prefix, "%s.prefix: want a method prefix starting with \"/\" such as /pkg.v1.Service/Get, got %q", what, r.Prefix)
		case backend == nil && fanout == nil:
			return d.errorf(v, "%s: backend or fanout is required", what)
		case backend != nil && fanout != nil:
			return d.errorf(fanout, "%s: backend and fanout exclude each other", what)
		case timeout != nil && fanout != nil:
			return d.errorf(timeout, "%s.timeout: for a fan-out, set fanout.timeout", what)
		}
		if backend != nil {
			if err := knownBackend(backend, what+".backend", r.Backend); err != nil {
				return err
			}
		} else {
			names := fanoutNodes(fanout)
			if len(r.FanOut.Backends) == 0 {
				return d.errorf(fanout, "%s.fanout.backends: at least one backend is required", what)
			}
			seen := map[string]bool{}
			for j, name := range r.FanOut.Backends {
				if err := knownBackend(names[j], what+".fanout.backends", name); err != nil {
					return err
				}
				if seen[name] {
					return d.errorf(names[j], "%s.fanout.backends: %q given twice", what, name)
				}
				seen[name] = true
			}
		}
		cfg.Routes = append(cfg.Routes, r)
	}
	return nil
}

// fanoutNodes returns the nodes of the fanout's backend names.
func fanoutNodes(fanout *yaml.Node) []*yaml.Node {
	for i := 0; i+1 < len(fanout.Content); i += 2 {
		if fanout.Content[i].Value == "backends" {
			return fanout.Content[i+1].Content
		}
	}
	return nil
}

func (d *decoder) fanOut(n *yaml.Node, what string, f *FanOut) error {
	var header, responses *yaml.Node
	err := d.fields(n, what, map[string]func(*yaml.Node) error{
		"backends":      d.strs(what+".backends", &f.Backends),
		"select_header": func(v *yaml.Node) error { header = v; return d.str(what+".select_header", &f.SelectHeader)(v) },
		"concurrency":   d.count(what+".concurrency", &f.Concurrency),
		"timeout":       d.duration(what+".timeout", &f.Timeout),
		"responses":     func(v *yaml.Node) error { responses = v; return d.str(what+".responses", &f.Responses)(v) },
	})
	if err != nil {
		return err
	}
	if header != nil {
		f.SelectHeader = strings.ToLower(f.SelectHeader)
		if !validHeader(f.SelectHeader) {
			return d.errorf(header, "%s.select_header: want a header name (letters, digits, '-', '_', '.'), got %q", what, f.SelectHeader)
		}
	}
	switch f.Responses {
	case "":
		f.Responses = ResponsesAuto
	case ResponsesAuto, ResponsesMerged, ResponsesStreamed:
	default:
		return d.errorf(responses, "%s.responses: want auto, merged or streamed, got %q", what, f.Responses)
	}
	return nil
}

func validHeader(s string) bool {
	if s == "" || strings.HasSuffix(s, "-bin") || strings.HasPrefix(s, "grpc-") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}
