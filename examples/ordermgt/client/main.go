// Command client runs the whole order management scenario against a running
// server and prints what happened.
//
//	go run ./examples/ordermgt/client                                # Connect over h2c
//	go run ./examples/ordermgt/client -protocol grpcweb -http1       # gRPC-Web over HTTP/1.1
//	go run ./examples/ordermgt/client -protocol grpc -engine grpc    # grpc-go's own client
//
// The generated client is the same in every case; only the connection
// differs: polyrpc.NewClientConn (-engine http) or grpc.NewClient (-engine grpc).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/polyrpc/polyrpc/examples/ordermgt"
	ecommercev1 "github.com/polyrpc/polyrpc/examples/ordermgt/gen/ecommerce/v1"
)

func main() {
	addr := flag.String("addr", "localhost:50051", "server address")
	protocol := flag.String("protocol", ordermgt.ProtocolConnect, "connect, grpc or grpcweb")
	engine := flag.String("engine", ordermgt.EngineHTTP, `"http" (polyrpc.NewClientConn) or "grpc" (grpc.NewClient)`)
	http1 := flag.Bool("http1", false, "use HTTP/1.1 instead of h2c (engine http; skips the bidirectional stream)")
	token := flag.String("token", "demo-token", "bearer token")
	timeout := flag.Duration("timeout", 10*time.Second, "deadline for the whole scenario")
	flag.Parse()

	if err := run(*addr, *protocol, *engine, *http1, *token, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(addr, protocol, engine string, http1 bool, token string, timeout time.Duration) error {
	conn, closeConn, err := ordermgt.Dial(ordermgt.ClientConfig{Addr: addr, Protocol: protocol, Engine: engine, HTTP1: http1})
	if err != nil {
		return err
	}
	defer closeConn()
	client := ecommercev1.NewOrderManagementClient(conn)

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	fmt.Printf("protocol %s, client engine %s, server %s\n", protocol, engine, addr)
	return ordermgt.Scenario(ctx, client, os.Stdout, !http1)
}
