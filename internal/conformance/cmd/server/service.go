package main

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/polyrpc/polyrpc/internal/conformance/compat"
	conformancev1 "github.com/polyrpc/polyrpc/internal/conformance/gen/connectrpc/conformance/v1"
)

// conformanceServer implements the conformance service the way a grpc-go
// service is written: metadata through grpc.SetHeader/SetTrailer and the
// stream methods, errors as status errors with details. Unimplemented is left
// to the embedded UnimplementedConformanceServiceServer.
type conformanceServer struct {
	conformancev1.UnimplementedConformanceServiceServer
}

func (s *conformanceServer) Unary(ctx context.Context, req *conformancev1.UnaryRequest) (*conformancev1.UnaryResponse, error) {
	payload, err := unary(ctx, req, req.GetResponseDefinition())
	if err != nil {
		return nil, err
	}
	return &conformancev1.UnaryResponse{Payload: payload}, nil
}

func (s *conformanceServer) IdempotentUnary(ctx context.Context, req *conformancev1.IdempotentUnaryRequest) (*conformancev1.IdempotentUnaryResponse, error) {
	payload, err := unary(ctx, req, req.GetResponseDefinition())
	if err != nil {
		return nil, err
	}
	return &conformancev1.IdempotentUnaryResponse{Payload: payload}, nil
}

// unary serves both unary methods: it sets the requested headers and
// trailers, then answers with the payload or the requested error.
func unary(ctx context.Context, req proto.Message, def *conformancev1.UnaryResponseDefinition) (*conformancev1.ConformancePayload, error) {
	reqAny, err := asAny(req)
	if err != nil {
		return nil, err
	}
	if def != nil {
		if err := grpc.SetHeader(ctx, compat.ToMetadata(def.GetResponseHeaders())); err != nil {
			return nil, err
		}
		if err := grpc.SetTrailer(ctx, compat.ToMetadata(def.GetResponseTrailers())); err != nil {
			return nil, err
		}
	}
	payload, err := unaryPayload(ctx, def, []*anypb.Any{reqAny})
	if err != nil {
		return nil, err
	}
	sleep(def.GetResponseDelayMs())
	return payload, nil
}

func (s *conformanceServer) ClientStream(stream conformancev1.ConformanceService_ClientStreamServer) error {
	ctx := stream.Context()
	var def *conformancev1.UnaryResponseDefinition
	var reqs []*anypb.Any
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return status.FromContextError(err).Err()
		}
		if len(reqs) == 0 {
			def = msg.GetResponseDefinition()
		}
		reqAny, err := asAny(msg)
		if err != nil {
			return err
		}
		reqs = append(reqs, reqAny)
	}
	if def != nil {
		if err := stream.SetHeader(compat.ToMetadata(def.GetResponseHeaders())); err != nil {
			return err
		}
		stream.SetTrailer(compat.ToMetadata(def.GetResponseTrailers()))
	}
	payload, err := unaryPayload(ctx, def, reqs)
	if err != nil {
		return err
	}
	sleep(def.GetResponseDelayMs())
	return stream.SendAndClose(&conformancev1.ClientStreamResponse{Payload: payload})
}

func (s *conformanceServer) ServerStream(req *conformancev1.ServerStreamRequest, stream conformancev1.ConformanceService_ServerStreamServer) error {
	ctx := stream.Context()
	reqAny, err := asAny(req)
	if err != nil {
		return err
	}
	def := req.GetResponseDefinition()
	if def == nil {
		return nil
	}
	if err := stream.SetHeader(compat.ToMetadata(def.GetResponseHeaders())); err != nil {
		return err
	}
	stream.SetTrailer(compat.ToMetadata(def.GetResponseTrailers()))
	if len(def.GetResponseData()) > 0 {
		// Headers go out at once, so that the client sees them before the
		// first (possibly delayed) message.
		if err := stream.SendHeader(nil); err != nil {
			return status.Errorf(codes.Internal, "send header: %v", err)
		}
	}
	sent := 0
	for _, data := range def.GetResponseData() {
		resp := &conformancev1.ServerStreamResponse{Payload: &conformancev1.ConformancePayload{Data: data}}
		if sent == 0 {
			resp.Payload.RequestInfo = requestInfo(ctx, []*anypb.Any{reqAny})
		}
		sleep(def.GetResponseDelayMs())
		if err := stream.Send(resp); err != nil {
			return status.Errorf(codes.Internal, "send: %v", err)
		}
		sent++
	}
	if def.GetError() == nil {
		return nil
	}
	if sent == 0 {
		info, err := anypb.New(requestInfo(ctx, []*anypb.Any{reqAny}))
		if err != nil {
			return status.Error(codes.Internal, err.Error())
		}
		def.Error.Details = append(def.Error.Details, info)
	}
	return compat.ToStatusError(def.GetError())
}

func (s *conformanceServer) BidiStream(stream conformancev1.ConformanceService_BidiStreamServer) error {
	ctx := stream.Context()
	var def *conformancev1.StreamResponseDefinition
	fullDuplex, first := false, true
	sent := 0
	var reqs []*anypb.Any
	for {
		if err := ctx.Err(); err != nil {
			return status.FromContextError(err).Err()
		}
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		reqAny, err := asAny(req)
		if err != nil {
			return err
		}
		reqs = append(reqs, reqAny)
		if first {
			first = false
			def, fullDuplex = req.GetResponseDefinition(), req.GetFullDuplex()
			if def != nil {
				if err := stream.SetHeader(compat.ToMetadata(def.GetResponseHeaders())); err != nil {
					return err
				}
				stream.SetTrailer(compat.ToMetadata(def.GetResponseTrailers()))
				// A half-duplex call must not answer before the upload is
				// complete: an HTTP/1.1 peer may stop sending once the
				// response starts.
				if fullDuplex && len(def.GetResponseData()) > 0 {
					if err := stream.SendHeader(nil); err != nil {
						return status.Errorf(codes.Internal, "send header: %v", err)
					}
				}
			}
		}
		if !fullDuplex {
			continue
		}
		if sent >= len(def.GetResponseData()) {
			break
		}
		info := &conformancev1.ConformancePayload_RequestInfo{Requests: reqs}
		if sent == 0 {
			info = requestInfo(ctx, reqs)
		}
		sleep(def.GetResponseDelayMs())
		resp := &conformancev1.BidiStreamResponse{Payload: &conformancev1.ConformancePayload{
			Data:        def.GetResponseData()[sent],
			RequestInfo: info,
		}}
		if err := stream.Send(resp); err != nil {
			return status.Errorf(codes.Internal, "send: %v", err)
		}
		sent++
		reqs = nil
	}
	if def == nil {
		return nil
	}
	if !fullDuplex && len(def.GetResponseData()) > 0 {
		if err := stream.SendHeader(nil); err != nil {
			return status.Errorf(codes.Internal, "send header: %v", err)
		}
	}
	for ; sent < len(def.GetResponseData()); sent++ {
		if err := ctx.Err(); err != nil {
			return status.FromContextError(err).Err()
		}
		resp := &conformancev1.BidiStreamResponse{Payload: &conformancev1.ConformancePayload{Data: def.GetResponseData()[sent]}}
		if sent == 0 {
			resp.Payload.RequestInfo = requestInfo(ctx, reqs)
		}
		sleep(def.GetResponseDelayMs())
		if err := stream.Send(resp); err != nil {
			return status.Errorf(codes.Internal, "send: %v", err)
		}
	}
	if def.GetError() == nil {
		return nil
	}
	if sent == 0 {
		info, err := anypb.New(requestInfo(ctx, reqs))
		if err != nil {
			return status.Error(codes.Internal, err.Error())
		}
		def.Error.Details = append(def.Error.Details, info)
	}
	return compat.ToStatusError(def.GetError())
}

// unaryPayload builds the answer of a unary or client-streaming call: the
// payload with the request info, or the requested error with the request
// info appended to its details.
func unaryPayload(ctx context.Context, def *conformancev1.UnaryResponseDefinition, reqs []*anypb.Any) (*conformancev1.ConformancePayload, error) {
	info := requestInfo(ctx, reqs)
	switch resp := def.GetResponse().(type) {
	case *conformancev1.UnaryResponseDefinition_Error:
		infoAny, err := anypb.New(info)
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		resp.Error.Details = append(resp.Error.Details, infoAny)
		return nil, compat.ToStatusError(resp.Error)
	case *conformancev1.UnaryResponseDefinition_ResponseData:
		return &conformancev1.ConformancePayload{RequestInfo: info, Data: resp.ResponseData}, nil
	case nil:
		return &conformancev1.ConformancePayload{RequestInfo: info}, nil
	default:
		return nil, status.Errorf(codes.InvalidArgument, "unexpected response definition %T", resp)
	}
}

// requestInfo reports what the service saw of the call: the incoming
// metadata, the remaining time before the deadline and the requests.
func requestInfo(ctx context.Context, reqs []*anypb.Any) *conformancev1.ConformancePayload_RequestInfo {
	md, _ := metadata.FromIncomingContext(ctx)
	info := &conformancev1.ConformancePayload_RequestInfo{
		RequestHeaders: compat.FromMetadata(md),
		Requests:       reqs,
	}
	if deadline, ok := ctx.Deadline(); ok {
		info.TimeoutMs = proto.Int64(max(time.Until(deadline), 0).Milliseconds())
	}
	return info
}

func asAny(msg proto.Message) (*anypb.Any, error) {
	a, err := anypb.New(msg)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "convert request: %v", err)
	}
	return a, nil
}

func sleep(ms uint32) {
	time.Sleep(time.Duration(ms) * time.Millisecond)
}
