package rpc_test

import (
	"context"
	"net/http"
	"testing"

	"google.golang.org/grpc"

	"github.com/polyrpc/polyrpc/golden/rpc/keywords"
)

// Go keywords and predeclared identifiers as proto names.

type funcServer struct {
	keywords.UnimplementedFuncServer
}

func (funcServer) Return(_ context.Context, s *keywords.String) (*keywords.Error, error) {
	return &keywords.Error{Int: int32(len(s.GetError()))}, nil
}

func (funcServer) Go(s *keywords.String, stream grpc.ServerStreamingServer[keywords.Error]) error {
	return stream.Send(&keywords.Error{Int: int32(len(s.GetError()))})
}

type anyServer struct {
	keywords.UnimplementedAnyServer
}

func (anyServer) Nil(_ context.Context, e *keywords.Error) (*keywords.String, error) {
	return &keywords.String{Error: "nil"}, nil
}

func TestKeywords(t *testing.T) {
	runService(t, service{
		mount: func(mux *http.ServeMux) {
			mux.Handle(keywords.NewFuncHandler(funcServer{}))
			mux.Handle(keywords.NewAnyHandler(anyServer{}))
		},
		register: func(s grpc.ServiceRegistrar) {
			keywords.RegisterFuncServer(s, funcServer{})
			keywords.RegisterAnyServer(s, anyServer{})
		},
		exercise: func(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, _ bool) {
			c := keywords.NewFuncClient(cc)
			res, err := c.Return(ctx, &keywords.String{Error: "four"})
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, res, &keywords.Error{Int: 4})
			stream, err := c.Go(ctx, &keywords.String{Error: "go"})
			if err != nil {
				t.Fatal(err)
			}
			if got := recvAll(t, stream); len(got) != 1 || got[0].GetInt() != 2 {
				t.Errorf("Go sent %v", got)
			}
			s, err := keywords.NewAnyClient(cc).Nil(ctx, &keywords.Error{})
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, s, &keywords.String{Error: "nil"})
		},
	})
}
