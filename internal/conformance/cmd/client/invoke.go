package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/polyrpc/polyrpc/internal/conformance/compat"
	conformancev1 "github.com/polyrpc/polyrpc/internal/conformance/gen/connectrpc/conformance/v1"
)

// invoker runs conformance cases through the generated client, using only
// the grpc-go client API: outgoing metadata, grpc.Header/grpc.Trailer call
// options, the stream interfaces and status errors.
type invoker struct {
	client conformancev1.ConformanceServiceClient
}

func newInvoker(client conformancev1.ConformanceServiceClient) *invoker {
	return &invoker{client: client}
}

// cancelTiming says when a case cancels its call; -1 means never.
type cancelTiming struct {
	beforeCloseSend   bool
	afterCloseSendMs  int
	afterNumResponses int
}

func newCancelTiming(c *conformancev1.ClientCompatRequest_Cancel) cancelTiming {
	t := cancelTiming{afterCloseSendMs: -1, afterNumResponses: -1}
	if c == nil {
		return t
	}
	switch timing := c.GetCancelTiming().(type) {
	case *conformancev1.ClientCompatRequest_Cancel_BeforeCloseSend:
		t.beforeCloseSend = true
	case *conformancev1.ClientCompatRequest_Cancel_AfterCloseSendMs:
		t.afterCloseSendMs = int(timing.AfterCloseSendMs)
	case *conformancev1.ClientCompatRequest_Cancel_AfterNumResponses:
		t.afterNumResponses = int(timing.AfterNumResponses)
	default:
		// A cancel without timing cancels right after the request is sent.
		t.afterCloseSendMs = 0
	}
	return t
}

func (i *invoker) invoke(ctx context.Context, req *conformancev1.ClientCompatRequest) (*conformancev1.ClientResponseResult, error) {
	if req.TimeoutMs != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.GetTimeoutMs())*time.Millisecond)
		defer cancel()
	}
	ctx = metadata.NewOutgoingContext(ctx, compat.ToMetadata(req.GetRequestHeaders()))
	timing := newCancelTiming(req.GetCancel())
	switch method := req.GetMethod(); method {
	case "Unary":
		return unary(ctx, req, timing, &conformancev1.UnaryRequest{}, i.client.Unary,
			(*conformancev1.UnaryResponse).GetPayload)
	case "IdempotentUnary":
		return unary(ctx, req, timing, &conformancev1.IdempotentUnaryRequest{}, i.client.IdempotentUnary,
			(*conformancev1.IdempotentUnaryResponse).GetPayload)
	case "Unimplemented":
		return unary(ctx, req, timing, &conformancev1.UnimplementedRequest{}, i.client.Unimplemented,
			func(*conformancev1.UnimplementedResponse) *conformancev1.ConformancePayload { return nil })
	case "ServerStream":
		return i.serverStream(ctx, req, timing)
	case "ClientStream":
		return i.clientStream(ctx, req, timing)
	case "BidiStream":
		return i.bidiStream(ctx, req, timing)
	default:
		return nil, fmt.Errorf("unknown method %q", method)
	}
}

func unary[Req proto.Message, Resp any](
	ctx context.Context,
	req *conformancev1.ClientCompatRequest,
	timing cancelTiming,
	msg Req,
	call func(context.Context, Req, ...grpc.CallOption) (Resp, error),
	payload func(Resp) *conformancev1.ConformancePayload,
) (*conformancev1.ClientResponseResult, error) {
	if len(req.GetRequestMessages()) != 1 {
		return nil, fmt.Errorf("a unary call takes exactly one request message, got %d", len(req.GetRequestMessages()))
	}
	if err := req.GetRequestMessages()[0].UnmarshalTo(msg); err != nil {
		return nil, err
	}
	if timing.afterCloseSendMs >= 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		time.AfterFunc(time.Duration(timing.afterCloseSendMs)*time.Millisecond, cancel)
	}
	var header, trailer metadata.MD
	resp, err := call(ctx, msg, grpc.Header(&header), grpc.Trailer(&trailer))
	result := &conformancev1.ClientResponseResult{
		ResponseHeaders:  compat.FromMetadata(header),
		ResponseTrailers: compat.FromMetadata(trailer),
	}
	if err != nil {
		result.Error = compat.FromStatusError(err)
	} else {
		result.Payloads = []*conformancev1.ConformancePayload{payload(resp)}
	}
	return result, nil
}

func (i *invoker) serverStream(ctx context.Context, req *conformancev1.ClientCompatRequest, timing cancelTiming) (*conformancev1.ClientResponseResult, error) {
	if len(req.GetRequestMessages()) != 1 {
		return nil, fmt.Errorf("a server-streaming call takes exactly one request message, got %d", len(req.GetRequestMessages()))
	}
	msg := &conformancev1.ServerStreamRequest{}
	if err := req.GetRequestMessages()[0].UnmarshalTo(msg); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	result := &conformancev1.ClientResponseResult{}
	stream, err := i.client.ServerStream(ctx, msg)
	if err != nil {
		result.Error = compat.FromStatusError(err)
		return result, nil
	}
	if timing.afterCloseSendMs >= 0 {
		time.Sleep(time.Duration(timing.afterCloseSendMs) * time.Millisecond)
		cancel()
	}
	for received := 0; ; {
		resp, err := stream.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				result.Error = compat.FromStatusError(err)
			}
			break
		}
		result.Payloads = append(result.Payloads, resp.GetPayload())
		received++
		if received == timing.afterNumResponses {
			cancel()
		}
	}
	setMetadata(result, stream)
	return result, nil
}

func (i *invoker) clientStream(ctx context.Context, req *conformancev1.ClientCompatRequest, timing cancelTiming) (*conformancev1.ClientResponseResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	result := &conformancev1.ClientResponseResult{}
	stream, err := i.client.ClientStream(ctx)
	if err != nil {
		result.Error = compat.FromStatusError(err)
		return result, nil
	}
	for n, anyMsg := range req.GetRequestMessages() {
		msg := &conformancev1.ClientStreamRequest{}
		if err := anyMsg.UnmarshalTo(msg); err != nil {
			return nil, err
		}
		time.Sleep(time.Duration(req.GetRequestDelayMs()) * time.Millisecond)
		if err := stream.Send(msg); err != nil {
			// io.EOF: the server has answered; CloseAndRecv reports how.
			result.NumUnsentRequests = int32(len(req.GetRequestMessages()) - n)
			break
		}
	}
	switch {
	case timing.beforeCloseSend:
		cancel()
	case timing.afterCloseSendMs >= 0:
		time.AfterFunc(time.Duration(timing.afterCloseSendMs)*time.Millisecond, cancel)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		result.Error = compat.FromStatusError(err)
	} else {
		result.Payloads = []*conformancev1.ConformancePayload{resp.GetPayload()}
	}
	setMetadata(result, stream)
	return result, nil
}

func (i *invoker) bidiStream(ctx context.Context, req *conformancev1.ClientCompatRequest, timing cancelTiming) (*conformancev1.ClientResponseResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	result := &conformancev1.ClientResponseResult{}
	stream, err := i.client.BidiStream(ctx)
	if err != nil {
		result.Error = compat.FromStatusError(err)
		return result, nil
	}
	defer setMetadata(result, stream)

	fullDuplex := req.GetStreamType() == conformancev1.StreamType_STREAM_TYPE_FULL_DUPLEX_BIDI_STREAM
	received := 0
	recv := func() (done bool) {
		resp, err := stream.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				result.Error = compat.FromStatusError(err)
			}
			return true
		}
		result.Payloads = append(result.Payloads, resp.GetPayload())
		received++
		if received == timing.afterNumResponses {
			cancel()
		}
		return false
	}
	for n, anyMsg := range req.GetRequestMessages() {
		msg := &conformancev1.BidiStreamRequest{}
		if err := anyMsg.UnmarshalTo(msg); err != nil {
			return nil, err
		}
		time.Sleep(time.Duration(req.GetRequestDelayMs()) * time.Millisecond)
		if err := stream.Send(msg); err != nil {
			// io.EOF: the server has finished the call; Recv tells why.
			result.NumUnsentRequests = int32(len(req.GetRequestMessages()) - n)
			if _, err := stream.Recv(); err != nil && !errors.Is(err, io.EOF) {
				result.Error = compat.FromStatusError(err)
			}
			return result, nil
		}
		if fullDuplex && recv() {
			return result, nil
		}
	}
	if timing.beforeCloseSend {
		cancel()
	}
	if err := stream.CloseSend(); err != nil {
		result.Error = compat.FromStatusError(err)
		return result, nil
	}
	if timing.afterCloseSendMs >= 0 {
		time.Sleep(time.Duration(timing.afterCloseSendMs) * time.Millisecond)
		cancel()
	}
	for !recv() {
	}
	return result, nil
}

// setMetadata records the response headers and trailers of a finished
// stream.
func setMetadata(result *conformancev1.ClientResponseResult, stream grpc.ClientStream) {
	header, _ := stream.Header()
	result.ResponseHeaders = compat.FromMetadata(header)
	result.ResponseTrailers = compat.FromMetadata(stream.Trailer())
}
