package ordermgt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/polyrpc/polyrpc"
	ecommercev1 "github.com/polyrpc/polyrpc/examples/ordermgt/gen/ecommerce/v1"
)

// The two server engines.
const (
	// EngineHTTP is a polyrpc.Server served by net/http: gRPC, gRPC-Web and
	// Connect on one port, over HTTP/1.1 and cleartext HTTP/2 (h2c).
	EngineHTTP = "http"
	// EngineGRPC is grpc-go's own grpc.Server: gRPC over HTTP/2 only.
	EngineGRPC = "grpc"
)

// Config configures Serve.
type Config struct {
	Engine string       // EngineHTTP (default) or EngineGRPC
	Token  string       // the bearer token every call must carry
	Log    *slog.Logger // request log; nil discards it
	// BatchSize is how many orders for one destination make a shipment;
	// 0 means DefaultBatchSize.
	BatchSize int
	// StreamDelay pauses before each SearchOrders result.
	StreamDelay time.Duration
	// ShutdownTimeout bounds the graceful shutdown; 0 means 5s.
	ShutdownTimeout time.Duration
}

// Register puts the order service, grpc-go's health server and grpc-go's
// server reflection on s. These are the same lines for a *grpc.Server and a
// *polyrpc.Server: both are a grpc.ServiceRegistrar with GetServiceInfo.
func Register(s reflection.GRPCServer, svc ecommercev1.OrderManagementServer) *health.Server {
	ecommercev1.RegisterOrderManagementServer(s, svc)
	hs := health.NewServer()
	healthgrpc.RegisterHealthServer(s, hs)
	reflection.Register(s)
	hs.SetServingStatus(ecommercev1.OrderManagement_ServiceDesc.ServiceName, healthgrpc.HealthCheckResponse_SERVING)
	return hs
}

// Serve serves the order service on lis with the engine cfg names, until ctx
// is done; then it reports NOT_SERVING and shuts down gracefully.
func Serve(ctx context.Context, lis net.Listener, cfg Config) error {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wait := cfg.ShutdownTimeout
	if wait <= 0 {
		wait = 5 * time.Second
	}
	// One interceptor chain, written against grpc-go, for both engines.
	unary := []grpc.UnaryServerInterceptor{LogUnary(log), AuthUnary(cfg.Token)}
	stream := []grpc.StreamServerInterceptor{LogStream(log), AuthStream(cfg.Token)}
	svc := NewService(NewStore(), cfg.BatchSize, cfg.StreamDelay)

	// Both engines serve and stop with the same calls.
	var s interface {
		reflection.GRPCServer
		Serve(net.Listener) error
		GracefulStop()
		Stop()
	}
	switch cfg.Engine {
	case EngineHTTP, "":
		// HTTP/1.1 and cleartext HTTP/2 (h2c) on one port.
		s = polyrpc.NewServer(
			polyrpc.ChainUnaryInterceptor(unary...),
			polyrpc.ChainStreamInterceptor(stream...),
		)
	case EngineGRPC:
		s = grpc.NewServer(
			grpc.ChainUnaryInterceptor(unary...),
			grpc.ChainStreamInterceptor(stream...),
		)
	default:
		return fmt.Errorf("unknown engine %q: want %q or %q", cfg.Engine, EngineHTTP, EngineGRPC)
	}
	hs := Register(s, svc)

	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		// grpc.Server.GracefulStop leaves the health status as it is;
		// polyrpc.Server's reports NOT_SERVING itself, and once more is harmless.
		hs.Shutdown()
		t := time.AfterFunc(wait, s.Stop)
		s.GracefulStop()
		t.Stop()
	}()
	err := s.Serve(lis)
	if err == nil || errors.Is(err, grpc.ErrServerStopped) {
		<-done
		return nil
	}
	return err
}
