package rpc_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"google.golang.org/grpc"

	"github.com/polyrpc/polyrpc/golden/rpc/legacystreams"
)

// use_generic_streams_experimental=false: the pre-generics stream
// interfaces, served and called like the generic ones.

type relayServer struct {
	legacystreams.UnimplementedRelayServer
}

func (relayServer) Unary(_ context.Context, p *legacystreams.Packet) (*legacystreams.Packet, error) {
	return &legacystreams.Packet{Data: append([]byte("u:"), p.GetData()...)}, nil
}

func (relayServer) Download(p *legacystreams.Packet, stream legacystreams.Relay_DownloadServer) error {
	for _, b := range p.GetData() {
		if err := stream.Send(&legacystreams.Packet{Data: []byte{b}}); err != nil {
			return err
		}
	}
	return nil
}

func (relayServer) Upload(stream legacystreams.Relay_UploadServer) error {
	var all []byte
	for {
		p, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&legacystreams.Packet{Data: all})
		}
		if err != nil {
			return err
		}
		all = append(all, p.GetData()...)
	}
}

func (relayServer) Exchange(stream legacystreams.Relay_ExchangeServer) error {
	for {
		p, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(&legacystreams.Packet{Data: bytes.ToUpper(p.GetData())}); err != nil {
			return err
		}
	}
}

func TestLegacyStreams(t *testing.T) {
	runService(t, service{
		mount:    func(mux *http.ServeMux) { mux.Handle(legacystreams.NewRelayHandler(relayServer{})) },
		register: func(s grpc.ServiceRegistrar) { legacystreams.RegisterRelayServer(s, relayServer{}) },
		exercise: func(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, bidi bool) {
			c := legacystreams.NewRelayClient(cc)
			res, err := c.Unary(ctx, &legacystreams.Packet{Data: []byte("x")})
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, res, &legacystreams.Packet{Data: []byte("u:x")})

			var download legacystreams.Relay_DownloadClient
			download, err = c.Download(ctx, &legacystreams.Packet{Data: []byte("abc")})
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			for {
				p, err := download.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, p.GetData()...)
			}
			if string(got) != "abc" {
				t.Errorf("Download sent %q, want abc", got)
			}

			upload, err := c.Upload(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{"de", "f"} {
				if err := upload.Send(&legacystreams.Packet{Data: []byte(s)}); err != nil {
					t.Fatal(err)
				}
			}
			res, err = upload.CloseAndRecv()
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, res, &legacystreams.Packet{Data: []byte("def")})

			if !bidi {
				return
			}
			exchange, err := c.Exchange(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := exchange.Send(&legacystreams.Packet{Data: []byte("g")}); err != nil {
				t.Fatal(err)
			}
			res, err = exchange.Recv()
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, res, &legacystreams.Packet{Data: []byte("G")})
			if err := exchange.CloseSend(); err != nil {
				t.Fatal(err)
			}
			if _, err := exchange.Recv(); !errors.Is(err, io.EOF) {
				t.Errorf("after CloseSend: %v, want io.EOF", err)
			}
		},
	})
}
