package proxy_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/proxy"
)

// A gateway: a polyrpc.Server that forwards every call to a gRPC backend,
// so that Connect, gRPC-Web and gRPC callers reach it. The backend here is
// a grpc.Server with grpc-go's health service; the caller speaks Connect.
func Example() {
	// The backend: a plain grpc.Server.
	backendLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	backend := grpc.NewServer()
	healthpb.RegisterHealthServer(backend, health.NewServer())
	go backend.Serve(backendLis)
	defer backend.Stop()

	// The gateway: every call goes to the backend's connection, a
	// grpc.ClientConn (any grpc-go target, resolver and balancer).
	conn, err := grpc.NewClient(backendLis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	target := &proxy.ConnBackend{Name: "backend", Conn: conn}
	director := func(ctx context.Context, method string) (proxy.Mode, []proxy.Backend, error) {
		return proxy.One2One, []proxy.Backend{target}, nil
	}
	gateway := polyrpc.NewServer(
		polyrpc.ForceServerCodecV2(proxy.Codec()),
		polyrpc.UnknownServiceHandler(proxy.TransparentHandler(director)),
	)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go gateway.Serve(lis)
	defer gateway.Stop()

	// A Connect caller over HTTP/1.1.
	cc := polyrpc.NewClientConn(http.DefaultClient, "http://"+lis.Addr().String())
	resp, err := healthpb.NewHealthClient(cc).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.GetStatus())
	// Output: SERVING
}

// A director that sends a call to one backend or, when the caller lists
// several in its "x-nodes" metadata, to all of them (at most 8 at once,
// each within 5 seconds), the answers attributed to their backend in
// field 99. The x-nodes key itself is not forwarded.
func ExampleStreamDirector() {
	nodes := map[string]proxy.Backend{} // name -> &proxy.ConnBackend{..., MetadataField: 99}
	director := func(ctx context.Context, method string) (proxy.Mode, []proxy.Backend, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		var picked []proxy.Backend
		for _, name := range md.Get("x-nodes") {
			if b, ok := nodes[name]; ok {
				picked = append(picked, b)
			}
		}
		if len(picked) == 0 {
			return proxy.One2One, []proxy.Backend{nodes["local"]}, nil
		}
		return proxy.One2Many, picked, nil
	}
	handler := proxy.TransparentHandler(director,
		proxy.WithRequestHeaders(proxy.DenyHeaders("x-nodes")),
		proxy.WithConcurrency(8),
		proxy.WithBackendTimeout(5*time.Second),
	)
	_ = polyrpc.NewServer(polyrpc.ForceServerCodecV2(proxy.Codec()), polyrpc.UnknownServiceHandler(handler))
	// Output:
}

// ErrorEntry and AppendMetadata build the answers of one-to-many calls.
func ExampleErrorEntry() {
	entry := proxy.ErrorEntry(true, 99, "node-1", fmt.Errorf("unreachable"))
	num, typ, _ := protowire.ConsumeTag(entry)
	fmt.Println(num, typ == protowire.BytesType)
	// Output: 99 true
}
