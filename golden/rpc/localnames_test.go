package rpc_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"google.golang.org/grpc"

	"github.com/polyrpc/polyrpc/golden/rpc/localnames"
	lcontext "github.com/polyrpc/polyrpc/golden/rpc/localnames/context"
	lgrpc "github.com/polyrpc/polyrpc/golden/rpc/localnames/grpc"
	lin "github.com/polyrpc/polyrpc/golden/rpc/localnames/in"
	lstream "github.com/polyrpc/polyrpc/golden/rpc/localnames/stream"
)

// Message packages named like the local variables and imports of generated
// code: the generated code renames its locals instead of shadowing them.

type shadowServer struct {
	localnames.UnimplementedShadowServer
}

func (shadowServer) Unary(_ context.Context, m *lin.Msg) (*lstream.Msg, error) {
	return &lstream.Msg{Text: "unary:" + m.GetText()}, nil
}

func (shadowServer) ServerStream(m *lgrpc.Msg, s grpc.ServerStreamingServer[lin.Msg]) error {
	return s.Send(&lin.Msg{Text: "server:" + m.GetText()})
}

func (shadowServer) ClientStream(s grpc.ClientStreamingServer[lstream.Msg, lcontext.Msg]) error {
	text := "client:"
	for {
		m, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return s.SendAndClose(&lcontext.Msg{Text: text})
		}
		if err != nil {
			return err
		}
		text += m.GetText()
	}
}

func (shadowServer) BidiStream(s grpc.BidiStreamingServer[lcontext.Msg, lgrpc.Msg]) error {
	for {
		m, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.Send(&lgrpc.Msg{Text: "bidi:" + m.GetText()}); err != nil {
			return err
		}
	}
}

func TestLocalNames(t *testing.T) {
	runService(t, service{
		mount:    func(mux *http.ServeMux) { mux.Handle(localnames.NewShadowHandler(shadowServer{})) },
		register: func(s grpc.ServiceRegistrar) { localnames.RegisterShadowServer(s, shadowServer{}) },
		exercise: func(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, bidi bool) {
			c := localnames.NewShadowClient(cc)
			res, err := c.Unary(ctx, &lin.Msg{Text: "a"})
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, res, &lstream.Msg{Text: "unary:a"})
			ss, err := c.ServerStream(ctx, &lgrpc.Msg{Text: "b"})
			if err != nil {
				t.Fatal(err)
			}
			if got := recvAll(t, ss); len(got) != 1 || got[0].GetText() != "server:b" {
				t.Errorf("ServerStream sent %v", got)
			}
			cs, err := c.ClientStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := cs.Send(&lstream.Msg{Text: "c"}); err != nil {
				t.Fatal(err)
			}
			cres, err := cs.CloseAndRecv()
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, cres, &lcontext.Msg{Text: "client:c"})
			if !bidi {
				return
			}
			bs, err := c.BidiStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := bs.Send(&lcontext.Msg{Text: "d"}); err != nil {
				t.Fatal(err)
			}
			bres, err := bs.Recv()
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, bres, &lgrpc.Msg{Text: "bidi:d"})
			if err := bs.CloseSend(); err != nil {
				t.Fatal(err)
			}
			if _, err := bs.Recv(); !errors.Is(err, io.EOF) {
				t.Errorf("after CloseSend: %v, want io.EOF", err)
			}
		},
	})
}
