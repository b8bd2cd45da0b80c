// Package rpc_test runs every golden service on loopback: each protocol ×
// codec × HTTP version through NewXxxHandler and polyrpc.NewClientConn, a
// grpc-go client against the handler, and polyrpc.NewClientConn against a
// native grpc.Server.
package rpc_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/internal/rpctest"
)

// exercise calls the methods of one service through cc and checks the
// results. bidi is false on HTTP/1.1, where bidirectional streams are not
// possible.
type exercise func(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, bidi bool)

// service is one golden service under test.
type service struct {
	// mount registers the handlers of generated NewXxxHandler functions.
	mount func(*http.ServeMux)
	// register calls the generated RegisterXxxServer functions with the same
	// implementations.
	register func(grpc.ServiceRegistrar)
	exercise exercise
}

type clientOptions struct {
	name string
	opts []connect.ClientOption
}

var (
	protocols = []clientOptions{
		{"connect", nil},
		{"grpc", []connect.ClientOption{connect.WithGRPC()}},
		{"grpcweb", []connect.ClientOption{connect.WithGRPCWeb()}},
	}
	codecs = []clientOptions{
		{"proto", nil},
		{"json", []connect.ClientOption{connect.WithProtoJSON()}},
	}
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// runService runs s through every client and server combination.
func runService(t *testing.T, s service) {
	t.Helper()
	for _, tr := range rpctest.Transports {
		for _, p := range protocols {
			for _, c := range codecs {
				t.Run(fmt.Sprintf("%s/%s/%s", p.name, c.name, tr), func(t *testing.T) {
					mux := http.NewServeMux()
					s.mount(mux)
					url, client := rpctest.Start(t, mux, tr)
					opts := append(append([]connect.ClientOption{}, p.opts...), c.opts...)
					s.exercise(t, testContext(t), polyrpc.NewClientConn(client, url, opts...), tr.HTTP2())
				})
			}
		}
	}
	t.Run("grpc-go client/h2c", func(t *testing.T) {
		mux := http.NewServeMux()
		s.mount(mux)
		url, _ := rpctest.Start(t, mux, rpctest.H2C)
		conn, err := grpc.NewClient("passthrough:///"+strings.TrimPrefix(url, "http://"),
			grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		s.exercise(t, testContext(t), conn, true)
	})
	t.Run("NewClientConn/grpc.Server", func(t *testing.T) {
		srv := grpc.NewServer()
		s.register(srv)
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(lis)
		t.Cleanup(srv.Stop)
		protocols := new(http.Protocols)
		protocols.SetUnencryptedHTTP2(true)
		client := &http.Client{Transport: &http.Transport{Protocols: protocols}}
		t.Cleanup(client.CloseIdleConnections)
		cc := polyrpc.NewClientConn(client, "http://"+lis.Addr().String(), connect.WithGRPC())
		s.exercise(t, testContext(t), cc, true)
	})
}
