package polyrpc_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// testService is a grpc-go implementation of grpc.testing.TestService that
// reports what it sees: metadata, deadline, method and peer.
type testService struct {
	testpb.UnimplementedTestServiceServer
}

// Response size values with a special meaning for UnaryCall.
const (
	sizePlainError = -1 // fail with an error that is not a status
	sizeWaitDone   = -2 // wait for the context to end
)

var errorDetail = &errdetails.ErrorInfo{Reason: "TEST_REASON", Domain: "polyrpc.test"}

func statusError(st *testpb.EchoStatus) error {
	s, err := status.New(codes.Code(st.GetCode()), st.GetMessage()).WithDetails(errorDetail)
	if err != nil {
		panic(err)
	}
	return s.Err()
}

func (testService) EmptyCall(ctx context.Context, _ *testpb.Empty) (*testpb.Empty, error) {
	md := metadata.MD{}
	if deadline, ok := ctx.Deadline(); ok {
		md.Set("x-deadline-ms", strconv.FormatInt(time.Until(deadline).Milliseconds(), 10))
	}
	if err := grpc.SendHeader(ctx, md); err != nil {
		return nil, err
	}
	if err := grpc.SetHeader(ctx, metadata.Pairs("x-late", "v")); err == nil {
		return nil, errors.New("SetHeader after SendHeader succeeded")
	}
	return &testpb.Empty{}, nil
}

func (testService) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	header := metadata.Pairs("x-header", "header-value")
	if v := md.Get("x-trace-bin"); len(v) > 0 {
		header.Append("x-echo-bin", v...)
	}
	if err := grpc.SetHeader(ctx, header); err != nil {
		return nil, err
	}
	if err := grpc.SetTrailer(ctx, metadata.Pairs("x-trailer", "trailer-value", "x-trailer-bin", "\x00\xfftrailer")); err != nil {
		return nil, err
	}
	switch req.GetResponseSize() {
	case sizePlainError:
		return nil, errors.New("plain failure")
	case sizeWaitDone:
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if st := req.GetResponseStatus(); st != nil {
		return nil, statusError(st)
	}
	method, _ := grpc.Method(ctx)
	res := &testpb.SimpleResponse{
		Payload:    req.GetPayload(),
		Username:   strings.Join(md.Get("x-user"), ","),
		OauthScope: method,
		Hostname:   strings.Join(md.Get(":authority"), ","),
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		res.ServerId = p.Addr.Network() + " " + p.Addr.String()
		if p.AuthInfo != nil {
			res.ServerId += " " + p.AuthInfo.AuthType()
		}
	}
	return res, nil
}

func (testService) StreamingOutputCall(req *testpb.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	md, _ := metadata.FromIncomingContext(stream.Context())
	header := metadata.Pairs("x-header", "stream-header")
	if v := md.Get("x-user"); len(v) > 0 {
		header.Append("x-user", v...)
	}
	if err := stream.SendHeader(header); err != nil {
		return err
	}
	for _, p := range req.GetResponseParameters() {
		res := &testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: bytes.Repeat([]byte{'x'}, int(p.GetSize()))}}
		if err := stream.Send(res); err != nil {
			return err
		}
	}
	stream.SetTrailer(metadata.Pairs("x-trailer", "stream-trailer"))
	if st := req.GetResponseStatus(); st != nil {
		return statusError(st)
	}
	return nil
}

func (testService) StreamingInputCall(stream grpc.ClientStreamingServer[testpb.StreamingInputCallRequest, testpb.StreamingInputCallResponse]) error {
	if err := stream.SendHeader(metadata.Pairs("x-header", "client-stream-header")); err != nil {
		return err
	}
	total := 0
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		total += len(req.GetPayload().GetBody())
	}
	stream.SetTrailer(metadata.Pairs("x-trailer", "client-stream-trailer"))
	return stream.SendAndClose(&testpb.StreamingInputCallResponse{AggregatedPayloadSize: int32(total)})
}

func (testService) FullDuplexCall(stream grpc.BidiStreamingServer[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]) error {
	ctx := stream.Context()
	method, _ := grpc.Method(ctx)
	if err := grpc.SetHeader(ctx, metadata.Pairs("x-header", "bidi-header", "x-method", method)); err != nil {
		return err
	}
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if st := req.GetResponseStatus(); st != nil {
			return statusError(st)
		}
		for _, p := range req.GetResponseParameters() {
			res := &testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: bytes.Repeat([]byte{'y'}, int(p.GetSize()))}}
			if err := stream.Send(res); err != nil {
				return err
			}
		}
	}
	return grpc.SetTrailer(ctx, metadata.Pairs("x-trailer", "bidi-trailer"))
}

// The Lookup service exists only as a descriptor built here, so that a
// method marked NO_SIDE_EFFECTS can be called with GET.
const lookupFile = "polyrpc/test/lookup.proto"

func init() {
	fdp := &descriptorpb.FileDescriptorProto{
		Name:       proto.String(lookupFile),
		Package:    proto.String("polyrpc.test"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{testpb.File_grpc_testing_messages_proto.Path()},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name: proto.String("Lookup"),
			Method: []*descriptorpb.MethodDescriptorProto{{
				Name:       proto.String("Get"),
				InputType:  proto.String(".grpc.testing.SimpleRequest"),
				OutputType: proto.String(".grpc.testing.SimpleResponse"),
				Options: &descriptorpb.MethodOptions{
					IdempotencyLevel: descriptorpb.MethodOptions_NO_SIDE_EFFECTS.Enum(),
				},
			}},
		}},
	}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		panic(err)
	}
	if err := protoregistry.GlobalFiles.RegisterFile(fd); err != nil {
		panic(err)
	}
}

type lookupServer interface {
	Get(context.Context, *testpb.SimpleRequest) (*testpb.SimpleResponse, error)
}

type lookupService struct{}

// Get answers with the HTTP method of the call in Hostname.
func (lookupService) Get(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	res := &testpb.SimpleResponse{Payload: req.GetPayload()}
	if info, ok := connect.CallInfoForHandlerContext(ctx); ok {
		res.Hostname = info.HTTPMethod()
	}
	return res, nil
}

var lookupDesc = grpc.ServiceDesc{
	ServiceName: "polyrpc.test.Lookup",
	HandlerType: (*lookupServer)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Get",
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(testpb.SimpleRequest)
			if err := dec(in); err != nil {
				return nil, err
			}
			if interceptor == nil {
				return srv.(lookupServer).Get(ctx, in)
			}
			info := &grpc.UnaryServerInfo{Server: srv, FullMethod: "/polyrpc.test.Lookup/Get"}
			handler := func(ctx context.Context, req any) (any, error) {
				return srv.(lookupServer).Get(ctx, req.(*testpb.SimpleRequest))
			}
			return interceptor(ctx, in, info, handler)
		},
	}},
	Metadata: lookupFile,
}
