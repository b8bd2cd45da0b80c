package rpc_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/polyrpc/polyrpc/golden/rpc/comments"
	"github.com/polyrpc/polyrpc/golden/rpc/edition2023"
	"github.com/polyrpc/polyrpc/golden/rpc/edition2024"
	"github.com/polyrpc/polyrpc/golden/rpc/imports"
	"github.com/polyrpc/polyrpc/golden/rpc/imports/types"
	"github.com/polyrpc/polyrpc/golden/rpc/multi"
	"github.com/polyrpc/polyrpc/golden/rpc/names"
	"github.com/polyrpc/polyrpc/golden/rpc/nomethods"
	"github.com/polyrpc/polyrpc/golden/rpc/nounimpl"
	"github.com/polyrpc/polyrpc/golden/rpc/optional"
	"github.com/polyrpc/polyrpc/golden/rpc/proto2"
	"github.com/polyrpc/polyrpc/golden/rpc/sourcerel"
	suffixv1 "github.com/polyrpc/polyrpc/golden/rpc/suffix"
	"github.com/polyrpc/polyrpc/golden/rpc/suffix/suffixv1rpc"
)

// recvAll reads a server stream to its end.
func recvAll[T any](t *testing.T, stream grpc.ServerStreamingClient[T]) []*T {
	t.Helper()
	var out []*T
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
}

func wantProto(t *testing.T, got, want proto.Message) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// Several services of one file, served on one mux, and a service without
// methods.

type alphaServer struct{ multi.UnimplementedAlphaServer }

func (alphaServer) Ping(_ context.Context, req *multi.PingRequest) (*multi.PingResponse, error) {
	return &multi.PingResponse{Text: "alpha:" + req.GetText()}, nil
}

func (alphaServer) Watch(req *multi.PingRequest, stream grpc.ServerStreamingServer[multi.PingResponse]) error {
	for _, s := range strings.Split(req.GetText(), " ") {
		if err := stream.Send(&multi.PingResponse{Text: s}); err != nil {
			return err
		}
	}
	return nil
}

type betaServer struct{ multi.UnimplementedBetaServer }

func (betaServer) Ping(_ context.Context, req *multi.PingRequest) (*multi.PingResponse, error) {
	return &multi.PingResponse{Text: "beta:" + req.GetText()}, nil
}

func (betaServer) Upload(stream grpc.ClientStreamingServer[multi.PingRequest, multi.PingResponse]) error {
	var b strings.Builder
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&multi.PingResponse{Text: b.String()})
		}
		if err != nil {
			return err
		}
		b.WriteString(m.GetText())
	}
}

type emptyServer struct{ multi.UnimplementedEmptyServer }

func TestMulti(t *testing.T) {
	runService(t, service{
		mount: func(mux *http.ServeMux) {
			mux.Handle(multi.NewAlphaHandler(alphaServer{}))
			mux.Handle(multi.NewBetaHandler(betaServer{}))
			mux.Handle(multi.NewEmptyHandler(emptyServer{}))
		},
		register: func(s grpc.ServiceRegistrar) {
			multi.RegisterAlphaServer(s, alphaServer{})
			multi.RegisterBetaServer(s, betaServer{})
			multi.RegisterEmptyServer(s, emptyServer{})
		},
		exercise: func(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, _ bool) {
			alpha, beta := multi.NewAlphaClient(cc), multi.NewBetaClient(cc)
			res, err := alpha.Ping(ctx, &multi.PingRequest{Text: "a"})
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, res, &multi.PingResponse{Text: "alpha:a"})
			res, err = beta.Ping(ctx, &multi.PingRequest{Text: "b"})
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, res, &multi.PingResponse{Text: "beta:b"})

			stream, err := alpha.Watch(ctx, &multi.PingRequest{Text: "one two"})
			if err != nil {
				t.Fatal(err)
			}
			got := recvAll(t, stream)
			if len(got) != 2 || got[0].GetText() != "one" || got[1].GetText() != "two" {
				t.Errorf("Watch sent %v", got)
			}

			upload, err := beta.Upload(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{"x", "y"} {
				if err := upload.Send(&multi.PingRequest{Text: s}); err != nil {
					t.Fatal(err)
				}
			}
			res, err = upload.CloseAndRecv()
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, res, &multi.PingResponse{Text: "xy"})

			// The service without methods answers every method with
			// Unimplemented.
			err = cc.Invoke(ctx, "/polyrpc.golden.multi.Empty/Missing", &multi.PingRequest{}, &multi.PingResponse{})
			if status.Code(err) != codes.Unimplemented {
				t.Errorf("Empty/Missing: %v, want Unimplemented", err)
			}
		},
	})
}

// Comments and deprecation: the deprecated methods and services work, and
// a method left to UnimplementedLibraryServer is Unimplemented.

type libraryServer struct {
	comments.UnimplementedLibraryServer
}

func (libraryServer) GetBook(_ context.Context, req *comments.GetBookRequest) (*comments.Book, error) {
	return &comments.Book{Name: req.GetName(), Title: "Title of " + req.GetName()}, nil
}

func (libraryServer) ListBooks(req *comments.GetBookRequest, stream grpc.ServerStreamingServer[comments.Book]) error {
	return stream.Send(&comments.Book{Name: req.GetName()})
}

type oldLibraryServer struct {
	comments.UnimplementedOldLibraryServer
}

func (oldLibraryServer) GetBook(_ context.Context, req *comments.GetBookRequest) (*comments.Book, error) {
	return &comments.Book{Name: req.GetName(), Title: "old"}, nil
}

type archiveServer struct {
	comments.UnimplementedArchiveServer
}

func (archiveServer) Fetch(_ context.Context, req *comments.GetBookRequest) (*comments.Book, error) {
	return &comments.Book{Name: req.GetName(), Title: "archived"}, nil
}

func TestComments(t *testing.T) {
	runService(t, service{
		mount: func(mux *http.ServeMux) {
			mux.Handle(comments.NewLibraryHandler(libraryServer{}))
			mux.Handle(comments.NewOldLibraryHandler(oldLibraryServer{}))
			mux.Handle(comments.NewArchiveHandler(archiveServer{}))
		},
		register: func(s grpc.ServiceRegistrar) {
			comments.RegisterLibraryServer(s, libraryServer{})
			comments.RegisterOldLibraryServer(s, oldLibraryServer{})
			comments.RegisterArchiveServer(s, archiveServer{})
		},
		exercise: func(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, _ bool) {
			lib := comments.NewLibraryClient(cc)
			book, err := lib.GetBook(ctx, &comments.GetBookRequest{Name: "b1"})
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, book, &comments.Book{Name: "b1", Title: "Title of b1"})
			_, err = lib.DeleteBook(ctx, &comments.GetBookRequest{Name: "b1"})
			checkStatus(t, err, codes.Unimplemented, "method DeleteBook not implemented")
			stream, err := lib.ListBooks(ctx, &comments.GetBookRequest{Name: "b2"})
			if err != nil {
				t.Fatal(err)
			}
			if got := recvAll(t, stream); len(got) != 1 || got[0].GetName() != "b2" {
				t.Errorf("ListBooks sent %v", got)
			}
			book, err = comments.NewOldLibraryClient(cc).GetBook(ctx, &comments.GetBookRequest{Name: "o"})
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, book, &comments.Book{Name: "o", Title: "old"})
			book, err = comments.NewArchiveClient(cc).Fetch(ctx, &comments.GetBookRequest{Name: "a"})
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, book, &comments.Book{Name: "a", Title: "archived"})
		},
	})
}

// Request and response types from another Go package and from the
// well-known types.

type storeServer struct {
	imports.UnimplementedStoreServer
}

func (storeServer) Put(_ context.Context, item *types.Item) (*emptypb.Empty, error) {
	if item.GetId() == "" {
		return nil, status.Error(codes.InvalidArgument, "id is required")
	}
	return &emptypb.Empty{}, nil
}

func (storeServer) Get(_ context.Context, id *wrapperspb.StringValue) (*types.Item, error) {
	return &types.Item{Id: id.GetValue()}, nil
}

func (storeServer) Now(context.Context, *emptypb.Empty) (*timestamppb.Timestamp, error) {
	return timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)), nil
}

func (storeServer) Tail(_ *emptypb.Empty, stream grpc.ServerStreamingServer[types.Item_Nested]) error {
	for _, v := range []string{"n1", "n2"} {
		if err := stream.Send(&types.Item_Nested{Value: v}); err != nil {
			return err
		}
	}
	return nil
}

func (storeServer) Collect(stream grpc.ClientStreamingServer[types.Item_Nested, emptypb.Empty]) error {
	n := 0
	for {
		_, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		n++
	}
	if n != 2 {
		return status.Errorf(codes.InvalidArgument, "got %d messages, want 2", n)
	}
	return stream.SendAndClose(&emptypb.Empty{})
}

func TestImports(t *testing.T) {
	runService(t, service{
		mount:    func(mux *http.ServeMux) { mux.Handle(imports.NewStoreHandler(storeServer{})) },
		register: func(s grpc.ServiceRegistrar) { imports.RegisterStoreServer(s, storeServer{}) },
		exercise: func(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, _ bool) {
			c := imports.NewStoreClient(cc)
			if _, err := c.Put(ctx, &types.Item{Id: "i"}); err != nil {
				t.Fatal(err)
			}
			_, err := c.Put(ctx, &types.Item{})
			checkStatus(t, err, codes.InvalidArgument, "id is required")
			item, err := c.Get(ctx, wrapperspb.String("i2"))
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, item, &types.Item{Id: "i2"})
			now, err := c.Now(ctx, &emptypb.Empty{})
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, now, timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)))
			tail, err := c.Tail(ctx, &emptypb.Empty{})
			if err != nil {
				t.Fatal(err)
			}
			if got := recvAll(t, tail); len(got) != 2 || got[1].GetValue() != "n2" {
				t.Errorf("Tail sent %v", got)
			}
			collect, err := c.Collect(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := collect.Send(&types.Item_Nested{Value: "v"}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := collect.CloseAndRecv(); err != nil {
				t.Fatal(err)
			}
		},
	})
}

// proto2, with required fields, defaults and extensions.

type counterServer struct {
	proto2.UnimplementedCounterServer
}

func (counterServer) Add(_ context.Context, req *proto2.AddRequest) (*proto2.AddResponse, error) {
	total := req.GetDelta()
	if proto.GetExtension(req, proto2.E_DryRun).(bool) {
		total = 0
	}
	if req.GetLabel() != "none" {
		total *= 10
	}
	return &proto2.AddResponse{Total: proto.Int64(total)}, nil
}

func (counterServer) Stream(stream grpc.BidiStreamingServer[proto2.AddRequest, proto2.AddResponse]) error {
	var total int64
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		total += req.GetDelta()
		if err := stream.Send(&proto2.AddResponse{Total: proto.Int64(total)}); err != nil {
			return err
		}
	}
}

func TestProto2(t *testing.T) {
	runService(t, service{
		mount:    func(mux *http.ServeMux) { mux.Handle(proto2.NewCounterHandler(counterServer{})) },
		register: func(s grpc.ServiceRegistrar) { proto2.RegisterCounterServer(s, counterServer{}) },
		exercise: func(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, bidi bool) {
			c := proto2.NewCounterClient(cc)
			res, err := c.Add(ctx, &proto2.AddRequest{Delta: proto.Int64(4)})
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, res, &proto2.AddResponse{Total: proto.Int64(4)})
			res, err = c.Add(ctx, &proto2.AddRequest{Delta: proto.Int64(4), Label: proto.String("x")})
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, res, &proto2.AddResponse{Total: proto.Int64(40)})
			req := &proto2.AddRequest{Delta: proto.Int64(4)}
			proto.SetExtension(req, proto2.E_DryRun, true)
			res, err = c.Add(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, res, &proto2.AddResponse{Total: proto.Int64(0)})
			// A missing required field fails to marshal on the client.
			if _, err := c.Add(ctx, &proto2.AddRequest{}); err == nil {
				t.Error("Add without the required delta succeeded")
			}
			if !bidi {
				return
			}
			stream, err := c.Stream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range []int64{1, 3, 6} {
				if err := stream.Send(&proto2.AddRequest{Delta: proto.Int64(int64(i + 1))}); err != nil {
					t.Fatal(err)
				}
				res, err := stream.Recv()
				if err != nil {
					t.Fatal(err)
				}
				if res.GetTotal() != want {
					t.Errorf("running total %d, want %d", res.GetTotal(), want)
				}
			}
			if err := stream.CloseSend(); err != nil {
				t.Fatal(err)
			}
			if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
				t.Errorf("after CloseSend: %v, want io.EOF", err)
			}
		},
	})
}

// proto3 optional fields and oneofs.

type profileServer struct {
	optional.UnimplementedProfileServer
}

func (profileServer) Update(_ context.Context, req *optional.UpdateRequest) (*optional.UpdateResponse, error) {
	changed := req.Nickname != nil || req.Age != nil || req.Contact != nil
	return &optional.UpdateResponse{Changed: proto.Bool(changed)}, nil
}

func TestOptional(t *testing.T) {
	runService(t, service{
		mount:    func(mux *http.ServeMux) { mux.Handle(optional.NewProfileHandler(profileServer{})) },
		register: func(s grpc.ServiceRegistrar) { optional.RegisterProfileServer(s, profileServer{}) },
		exercise: func(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, _ bool) {
			c := optional.NewProfileClient(cc)
			for _, tt := range []struct {
				req  *optional.UpdateRequest
				want bool
			}{
				{&optional.UpdateRequest{}, false},
				{&optional.UpdateRequest{Age: proto.Int32(0)}, true},
				{&optional.UpdateRequest{Nickname: proto.String("")}, true},
				{&optional.UpdateRequest{Contact: &optional.UpdateRequest_Email{Email: ""}}, true},
			} {
				res, err := c.Update(ctx, tt.req)
				if err != nil {
					t.Fatal(err)
				}
				if res.Changed == nil || res.GetChanged() != tt.want {
					t.Errorf("Update(%v) = %v, want changed=%t", tt.req, res, tt.want)
				}
			}
		},
	})
}

// Edition 2023 and 2024 (opaque API) files.

type weatherServer struct {
	edition2023.UnimplementedWeatherServer
}

func (weatherServer) Forecast(_ context.Context, req *edition2023.ForecastRequest) (*edition2023.ForecastResponse, error) {
	days := int32(1)
	if req.Days != nil {
		days = req.GetDays()
	}
	res := &edition2023.ForecastResponse{}
	for i := range days {
		res.Days = append(res.Days, &edition2023.ForecastResponse_Day{High: float32(20 + i), Low: float32(10 - i)})
	}
	return res, nil
}

func (s weatherServer) Updates(req *edition2023.ForecastRequest, stream grpc.ServerStreamingServer[edition2023.ForecastResponse]) error {
	res, err := s.Forecast(stream.Context(), req)
	if err != nil {
		return err
	}
	for range 2 {
		if err := stream.Send(res); err != nil {
			return err
		}
	}
	return nil
}

func TestEdition2023(t *testing.T) {
	runService(t, service{
		mount:    func(mux *http.ServeMux) { mux.Handle(edition2023.NewWeatherHandler(weatherServer{})) },
		register: func(s grpc.ServiceRegistrar) { edition2023.RegisterWeatherServer(s, weatherServer{}) },
		exercise: func(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, _ bool) {
			c := edition2023.NewWeatherClient(cc)
			res, err := c.Forecast(ctx, &edition2023.ForecastRequest{City: "Oslo", Days: proto.Int32(0)})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.GetDays()) != 0 {
				t.Errorf("explicit days=0 gave %v", res)
			}
			res, err = c.Forecast(ctx, &edition2023.ForecastRequest{City: "Oslo"})
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, res, &edition2023.ForecastResponse{Days: []*edition2023.ForecastResponse_Day{{High: 20, Low: 10}}})
			stream, err := c.Updates(ctx, &edition2023.ForecastRequest{Days: proto.Int32(2)})
			if err != nil {
				t.Fatal(err)
			}
			if got := recvAll(t, stream); len(got) != 2 || len(got[1].GetDays()) != 2 {
				t.Errorf("Updates sent %v", got)
			}
		},
	})
}

type inventoryServer struct {
	edition2024.UnimplementedInventoryServer
}

func (inventoryServer) Reserve(_ context.Context, req *edition2024.ReserveRequest) (*edition2024.ReserveResponse, error) {
	ok := req.GetQuantity() > 0 && req.HasWarehouse()
	return edition2024.ReserveResponse_builder{Ok: proto.Bool(ok)}.Build(), nil
}

func (inventoryServer) Watch(req *edition2024.ReserveRequest, stream grpc.ServerStreamingServer[edition2024.ReserveResponse]) error {
	for i := range req.GetQuantity() {
		if err := stream.Send(edition2024.ReserveResponse_builder{Ok: proto.Bool(i%2 == 0)}.Build()); err != nil {
			return err
		}
	}
	return nil
}

func TestEdition2024(t *testing.T) {
	runService(t, service{
		mount:    func(mux *http.ServeMux) { mux.Handle(edition2024.NewInventoryHandler(inventoryServer{})) },
		register: func(s grpc.ServiceRegistrar) { edition2024.RegisterInventoryServer(s, inventoryServer{}) },
		exercise: func(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, _ bool) {
			c := edition2024.NewInventoryClient(cc)
			res, err := c.Reserve(ctx, edition2024.ReserveRequest_builder{Sku: proto.String("s"), Quantity: proto.Int32(2), Warehouse: proto.String("w")}.Build())
			if err != nil {
				t.Fatal(err)
			}
			if !res.GetOk() {
				t.Errorf("Reserve with a warehouse = %v, want ok", res)
			}
			res, err = c.Reserve(ctx, edition2024.ReserveRequest_builder{Sku: proto.String("s"), Quantity: proto.Int32(2), Store: proto.String("st")}.Build())
			if err != nil {
				t.Fatal(err)
			}
			if res.GetOk() {
				t.Errorf("Reserve with a store = %v, want not ok", res)
			}
			stream, err := c.Watch(ctx, edition2024.ReserveRequest_builder{Quantity: proto.Int32(3)}.Build())
			if err != nil {
				t.Fatal(err)
			}
			if got := recvAll(t, stream); len(got) != 3 || !got[0].GetOk() || got[1].GetOk() {
				t.Errorf("Watch sent %v", got)
			}
		},
	})
}

// Proto names that are not Go style: the wire names stay the proto names.

type snakeServer struct {
	names.UnimplementedSnakeServiceServer
}

func (snakeServer) GetThing(ctx context.Context, req *names.ThingRequest) (*names.ThingResponse, error) {
	method, _ := grpc.Method(ctx)
	return &names.ThingResponse{DisplayName: req.GetThingId() + "@" + method}, nil
}

func (snakeServer) ListThings(req *names.ThingRequest, stream grpc.ServerStreamingServer[names.ThingResponse]) error {
	return stream.Send(&names.ThingResponse{DisplayName: req.GetThingId()})
}

func (snakeServer) HTTPCall(_ context.Context, req *names.ThingRequest) (*names.ThingResponse, error) {
	return &names.ThingResponse{DisplayName: "http:" + req.GetThingId()}, nil
}

type lowercaseServer struct {
	names.UnimplementedLowercaseServer
}

func (lowercaseServer) Do(_ context.Context, req *names.ThingRequest) (*names.ThingResponse, error) {
	return &names.ThingResponse{DisplayName: "done:" + req.GetThingId()}, nil
}

func TestNames(t *testing.T) {
	if names.SnakeService_GetThing_FullMethodName != "/polyrpc.golden.names_test.snake_service/get_thing" {
		t.Errorf("full method name %q", names.SnakeService_GetThing_FullMethodName)
	}
	runService(t, service{
		mount: func(mux *http.ServeMux) {
			mux.Handle(names.NewSnakeServiceHandler(snakeServer{}))
			mux.Handle(names.NewLowercaseHandler(lowercaseServer{}))
		},
		register: func(s grpc.ServiceRegistrar) {
			names.RegisterSnakeServiceServer(s, snakeServer{})
			names.RegisterLowercaseServer(s, lowercaseServer{})
		},
		exercise: func(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, _ bool) {
			c := names.NewSnakeServiceClient(cc)
			res, err := c.GetThing(ctx, &names.ThingRequest{ThingId: "t"})
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, res, &names.ThingResponse{DisplayName: "t@" + names.SnakeService_GetThing_FullMethodName})
			stream, err := c.ListThings(ctx, &names.ThingRequest{ThingId: "l"})
			if err != nil {
				t.Fatal(err)
			}
			if got := recvAll(t, stream); len(got) != 1 || got[0].GetDisplayName() != "l" {
				t.Errorf("ListThings sent %v", got)
			}
			res, err = c.HTTPCall(ctx, &names.ThingRequest{ThingId: "h"})
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, res, &names.ThingResponse{DisplayName: "http:h"})
			res, err = names.NewLowercaseClient(cc).Do(ctx, &names.ThingRequest{ThingId: "d"})
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, res, &names.ThingResponse{DisplayName: "done:d"})
		},
	})
}

// require_unimplemented_servers=false: an implementation need not embed
// UnimplementedLegacyServer.

type legacyServer struct{}

func (legacyServer) Call(_ context.Context, m *nounimpl.Message) (*nounimpl.Message, error) {
	return &nounimpl.Message{Text: strings.ToUpper(m.GetText())}, nil
}

func (legacyServer) Chat(stream grpc.BidiStreamingServer[nounimpl.Message, nounimpl.Message]) error {
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(&nounimpl.Message{Text: strings.ToUpper(m.GetText())}); err != nil {
			return err
		}
	}
}

func TestNoUnimplemented(t *testing.T) {
	runService(t, service{
		mount:    func(mux *http.ServeMux) { mux.Handle(nounimpl.NewLegacyHandler(legacyServer{})) },
		register: func(s grpc.ServiceRegistrar) { nounimpl.RegisterLegacyServer(s, legacyServer{}) },
		exercise: func(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, bidi bool) {
			c := nounimpl.NewLegacyClient(cc)
			res, err := c.Call(ctx, &nounimpl.Message{Text: "hi"})
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, res, &nounimpl.Message{Text: "HI"})
			if !bidi {
				return
			}
			stream, err := c.Chat(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := stream.Send(&nounimpl.Message{Text: "a"}); err != nil {
				t.Fatal(err)
			}
			res, err = stream.Recv()
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, res, &nounimpl.Message{Text: "A"})
			if err := stream.CloseSend(); err != nil {
				t.Fatal(err)
			}
			if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
				t.Errorf("after CloseSend: %v, want io.EOF", err)
			}
		},
	})
}

// package_suffix: the service lives in a sub-package of the messages.

type greeterServer struct {
	suffixv1rpc.UnimplementedGreeterServer
}

func (greeterServer) Greet(_ context.Context, req *suffixv1.GreetRequest) (*suffixv1.GreetResponse, error) {
	return &suffixv1.GreetResponse{Greeting: "Hello, " + req.GetName()}, nil
}

func TestPackageSuffix(t *testing.T) {
	runService(t, service{
		mount:    func(mux *http.ServeMux) { mux.Handle(suffixv1rpc.NewGreeterHandler(greeterServer{})) },
		register: func(s grpc.ServiceRegistrar) { suffixv1rpc.RegisterGreeterServer(s, greeterServer{}) },
		exercise: func(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, _ bool) {
			c := suffixv1rpc.NewGreeterClient(cc)
			res, err := c.Greet(ctx, &suffixv1.GreetRequest{Name: "Ada"})
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, res, &suffixv1.GreetResponse{Greeting: "Hello, Ada"})
			// GreetMany is left to UnimplementedGreeterServer.
			stream, err := c.GreetMany(ctx, &suffixv1.GreetRequest{Name: "Ada"})
			if err == nil {
				_, err = stream.Recv()
			}
			checkStatus(t, err, codes.Unimplemented, "method GreetMany not implemented")
		},
	})
}

// paths=source_relative.

type filesServer struct {
	sourcerel.UnimplementedFilesServer
}

func (filesServer) Stat(_ context.Context, req *sourcerel.StatRequest) (*sourcerel.StatResponse, error) {
	return &sourcerel.StatResponse{Size: int64(len(req.GetPath()))}, nil
}

func TestSourceRelative(t *testing.T) {
	runService(t, service{
		mount:    func(mux *http.ServeMux) { mux.Handle(sourcerel.NewFilesHandler(filesServer{})) },
		register: func(s grpc.ServiceRegistrar) { sourcerel.RegisterFilesServer(s, filesServer{}) },
		exercise: func(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, _ bool) {
			res, err := sourcerel.NewFilesClient(cc).Stat(ctx, &sourcerel.StatRequest{Path: "/etc/hosts"})
			if err != nil {
				t.Fatal(err)
			}
			wantProto(t, res, &sourcerel.StatResponse{Size: 10})
		},
	})
}

// A file whose only service has no methods.

type idleServer struct {
	nomethods.UnimplementedIdleServer
}

func TestNoMethods(t *testing.T) {
	runService(t, service{
		mount:    func(mux *http.ServeMux) { mux.Handle(nomethods.NewIdleHandler(idleServer{})) },
		register: func(s grpc.ServiceRegistrar) { nomethods.RegisterIdleServer(s, idleServer{}) },
		exercise: func(t *testing.T, ctx context.Context, cc grpc.ClientConnInterface, _ bool) {
			var _ nomethods.IdleClient = nomethods.NewIdleClient(cc)
			err := cc.Invoke(ctx, "/polyrpc.golden.nomethods.Idle/Missing", &emptypb.Empty{}, &emptypb.Empty{})
			if status.Code(err) != codes.Unimplemented {
				t.Errorf("Idle/Missing: %v, want Unimplemented", err)
			}
		},
	})
}
