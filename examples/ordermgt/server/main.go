// Command server runs the order management example service.
//
//	go run ./examples/ordermgt/server                # polyrpc.Server: gRPC, gRPC-Web and Connect
//	go run ./examples/ordermgt/server -engine=grpc   # grpc-go's grpc.Server: gRPC only
//
// Both engines serve the same implementation, interceptors, health checks
// and reflection on one port.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/polyrpc/polyrpc/examples/ordermgt"
)

func main() {
	addr := flag.String("addr", "localhost:50051", "listen address")
	engine := flag.String("engine", ordermgt.EngineHTTP, `"http" (polyrpc.Server on net/http) or "grpc" (grpc.Server)`)
	token := flag.String("token", "demo-token", "bearer token the clients must send")
	batch := flag.Int("batch", ordermgt.DefaultBatchSize, "orders per shipment")
	delay := flag.Duration("stream-delay", 0, "pause before each SearchOrders result, to watch deadlines")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%v (pick another address with -addr)\n", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Printf("order management (%s engine) listening on %s\n", *engine, lis.Addr())
	err = ordermgt.Serve(ctx, lis, ordermgt.Config{
		Engine:          *engine,
		Token:           *token,
		Log:             log,
		BatchSize:       *batch,
		StreamDelay:     *delay,
		ShutdownTimeout: 5 * time.Second,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
