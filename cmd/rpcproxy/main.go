// Command rpcproxy is a gateway in front of gRPC services: it takes
// Connect, gRPC-Web and gRPC calls on one port (so browsers, curl and gRPC
// clients reach the same backends with no Envoy in between) and forwards
// them, without decoding the messages, to gRPC backends (any grpc-go
// target and balancer) or to Connect and gRPC-Web backends, one backend
// per call or a fan-out set. It serves grpc-go's health and reflection
// services itself, writes an access log and drains on SIGTERM.
//
// Usage:
//
//	rpcproxy -config rpcproxy.yaml         # serve
//	rpcproxy -config rpcproxy.yaml -check  # validate the config and exit
//	rpcproxy -h                            # the config reference
//
// The configuration is described by rpcproxy -h (the text of [usage]); the
// work is done by package internal/gateway.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/polyrpc/polyrpc/internal/gateway"
)

const usage = `rpcproxy: a Connect, gRPC-Web and gRPC gateway in front of gRPC services.

Usage:
  rpcproxy [-config file] [-check]

Flags:
  -config file   the YAML config (default rpcproxy.yaml)
  -check         validate the config, print a summary and exit (status 1 on error)
  -h             this text

Callers speak Connect, gRPC-Web or gRPC (HTTP/1.1 and HTTP/2, or TLS) on one
port; messages are forwarded as they are on the wire, so the proxy needs no
.proto files. Callers using JSON are transcoded where the method's
descriptor is known (from a backend with reflection: true); otherwise they
get Unimplemented.

Config (unknown keys are errors; errors name the file and line):

  listen: ":8080"              # required, host:port
  tls:                         # optional; without it, HTTP/1.1 and h2c
    cert: server.crt
    key: server.key
    client_ca: clients.pem     # optional: require client certificates
  http3: false                 # also HTTP/3 on the same port number (UDP); needs tls
  limits:                      # grpc-go's defaults when left out
    max_recv_msg_size: 4MiB    # largest request message (bytes, KiB, MiB, GiB)
    max_send_msg_size: 16MiB   # largest response message
  health: true                 # grpc.health.v1.Health (NOT_SERVING while draining)
  reflection: true             # grpc.reflection.v1 of the proxy's own services
  access_log: stderr           # stderr (default), stdout, off, or a file
  drain:                       # on SIGTERM or SIGINT (a second one stops at once)
    delay: 0s                  # keep serving while health says NOT_SERVING
    timeout: 30s               # then wait this long for calls under way
  cors:                        # let pages on these origins call from a browser
    allowed_origins: [https://app.example.com]
    allowed_headers: [authorization]        # request metadata pages may send
    exposed_headers: [x-request-id]         # response metadata pages may read
  headers:                     # metadata crossing the proxy ("x-*" = prefix)
    request:  {forward: [...], drop: [...]}   # forward: allow list (default all)
    response: {forward: [...], drop: [...]}
  backends:                    # required, by name
    orders:
      target: dns:///orders.internal:50051    # any grpc-go target
      balancer: round_robin    # pick_first (default) or round_robin
      tls: {ca: ca.pem, server_name: orders.internal}   # optional; {} = system roots
    legacy:
      protocol: connect        # or grpcweb: polyrpc.NewClientConn
      url: http://legacy:8080  # base URL; https:// for TLS
      h2c: false               # cleartext HTTP/2 instead of HTTP/1.1
      reflection: true         # load descriptors from its server reflection,
                               # so that JSON callers are transcoded
  routes:                      # required; the first that matches serves the call
    - service: acme.orders.v1.OrderService
      backend: orders
      timeout: 30s             # optional deadline of each call to the backend
    - prefix: /acme.legacy.     # prefix of "/package.Service/Method"
      backend: legacy
    - prefix: /talos.machine.
      fanout:                  # one-to-many (Talos contract)
        backends: [node1, node2]
        select_header: nodes   # optional: the request names members; default all
        concurrency: 8         # backends called at once (default no bound)
        timeout: 10s           # deadline of each backend
        responses: auto        # auto, merged or streamed

A fan-out call's unary reply is the merge of every backend's reply (so its
repeated field 1 holds all entries), each entry carrying at field 99 a
ResponseMetadata {hostname = backend name, error text on failure}; streamed
replies are interleaved, each message carrying field 99. A failed backend
becomes an entry; the others still answer.

The access log has one line per call: time, method, protocol, backend,
status code, duration and peer.
`

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	hard, hardCancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-sigs
		cancel()
		<-sigs
		hardCancel()
	}()
	err := run(ctx, hard, os.Args[1:], os.Stdout, os.Stderr, nil)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "rpcproxy:", err)
		os.Exit(1)
	}
}

// run runs rpcproxy with args until ctx is done, then drains; hard, when
// done, cuts the drain short. ready, when not nil, is told the address
// served.
func run(ctx, hard context.Context, args []string, stdout, stderr io.Writer, ready func(net.Addr)) error {
	flags := flag.NewFlagSet("rpcproxy", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() { fmt.Fprint(stderr, usage) }
	configFile := flags.String("config", "rpcproxy.yaml", "the YAML config")
	check := flags.Bool("check", false, "validate the config and exit")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() != 0 {
		return fmt.Errorf("unexpected argument %q (see rpcproxy -h)", flags.Arg(0))
	}
	cfg, err := gateway.Load(*configFile)
	if err != nil {
		return err
	}
	if *check {
		// Building the gateway checks the files it names (certificates)
		// too; grpc-go connects lazily, so no backend is contacted.
		g, err := gateway.New(cfg, gateway.WithAccessLog(nil), gateway.WithErrorLog(nil))
		if err != nil {
			return err
		}
		_ = g.Close()
		fmt.Fprintf(stdout, "%s: ok: listen %s, %d backend(s), %d route(s)\n", cfg.File, cfg.Listen, len(cfg.Backends), len(cfg.Routes))
		return nil
	}
	g, err := gateway.New(cfg, gateway.WithErrorLog(stderr))
	if err != nil {
		return err
	}
	defer g.Close()
	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "rpcproxy: serving on %s\n", lis.Addr())
	if ready != nil {
		ready(lis.Addr())
	}
	servers := 1
	served := make(chan error, 2)
	if cfg.HTTP3 {
		pc, err := (&net.ListenConfig{}).ListenPacket(ctx, "udp", lis.Addr().String())
		if err != nil {
			_ = lis.Close()
			return fmt.Errorf("http3: %w", err)
		}
		fmt.Fprintf(stderr, "rpcproxy: serving HTTP/3 on udp %s\n", pc.LocalAddr())
		servers++
		go func() { served <- g.Server.ServeQUIC(pc) }()
	}
	go func() { served <- g.Serve(lis) }()
	select {
	case err := <-served:
		g.Drain(hard)
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stderr, "rpcproxy: draining")
	g.Drain(hard)
	var errs []error
	for range servers {
		errs = append(errs, <-served)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "rpcproxy: stopped")
	return nil
}
