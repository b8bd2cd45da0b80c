package fanout_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/polyrpc/polyrpc/fanout"
	fanoutv1 "github.com/polyrpc/polyrpc/golden/rpc/fanout"
	kindsv1 "github.com/polyrpc/polyrpc/golden/rpc/kinds"
)

// region is a server of the golden EchoService: it greets from its
// region, and "us" is down.
type region struct {
	fanoutv1.UnimplementedEchoServiceServer
	name string
}

func (r region) Unary(_ context.Context, req *kindsv1.EchoRequest) (*kindsv1.EchoResponse, error) {
	if r.name == "us" {
		return nil, status.Error(codes.Unavailable, "down for maintenance")
	}
	return &kindsv1.EchoResponse{Message: "hello " + req.GetMessage() + " from " + r.name}, nil
}

func (r region) ServerStream(req *kindsv1.EchoRequest, stream grpc.ServerStreamingServer[kindsv1.EchoResponse]) error {
	if r.name == "us" {
		return status.Error(codes.Unavailable, "down for maintenance")
	}
	for i := range req.GetCount() {
		if err := stream.Send(&kindsv1.EchoResponse{Message: r.name, Index: i}); err != nil {
			return err
		}
	}
	return nil
}

// serve starts a grpc.Server for each region on loopback and returns a
// client per region, and a function that stops them.
func serve(names ...string) (map[string]fanoutv1.EchoServiceClient, func()) {
	targets := map[string]fanoutv1.EchoServiceClient{}
	var stops []func()
	for _, name := range names {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		s := grpc.NewServer()
		fanoutv1.RegisterEchoServiceServer(s, region{name: name})
		go s.Serve(lis)
		conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			panic(err)
		}
		targets[name] = fanoutv1.NewEchoServiceClient(conn)
		stops = append(stops, func() { conn.Close(); s.Stop() })
	}
	return targets, func() {
		for _, stop := range stops {
			stop()
		}
	}
}

// A unary method called on three regions: one result per region, in
// region name order, each with its reply or its error.
func Example() {
	targets, stop := serve("eu", "us", "asia")
	defer stop()

	fan, err := fanoutv1.NewEchoServiceFanOutClient(targets,
		fanout.Concurrency(2), fanout.TargetTimeout(5*time.Second))
	if err != nil {
		panic(err)
	}
	for _, r := range fan.Unary(context.Background(), &kindsv1.EchoRequest{Message: "fan-out"}) {
		if r.Err != nil {
			fmt.Printf("%s: %v\n", r.Target, status.Code(r.Err))
			continue
		}
		fmt.Printf("%s: %s\n", r.Target, r.Reply.GetMessage())
	}
	// Output:
	// asia: hello fan-out from asia
	// eu: hello fan-out from eu
	// us: Unavailable
}

// A server-streaming method called on three regions: one stream of every
// region's messages as they arrive, each naming its region, and one entry
// for the region that failed.
func Example_serverStream() {
	targets, stop := serve("eu", "us", "asia")
	defer stop()

	fan, err := fanoutv1.NewEchoServiceFanOutClient(targets)
	if err != nil {
		panic(err)
	}
	stream, err := fan.ServerStream(context.Background(), &kindsv1.EchoRequest{Count: 2})
	if err != nil {
		panic(err)
	}
	defer stream.Close()
	for {
		m, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		if m.Err != nil {
			fmt.Printf("%s failed: %v\n", m.Target, status.Code(m.Err))
			continue
		}
		fmt.Printf("%s: message %d\n", m.Target, m.Reply.GetIndex())
	}
	// Unordered output:
	// asia: message 0
	// asia: message 1
	// eu: message 0
	// eu: message 1
	// us failed: Unavailable
}
