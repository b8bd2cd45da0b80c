package polyrpc

import (
	"context"
	"errors"

	"connectrpc.com/connect"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
)

// toConnectError converts an error returned by a grpc-go handler into the
// connect error sent to the caller: a status error keeps its code, message
// and details, a context error becomes Canceled or DeadlineExceeded, and any
// other error becomes Unknown.
func toConnectError(err error) error {
	if err == nil {
		return nil
	}
	var connectErr *connect.Error
	if errors.As(err, &connectErr) {
		return connectErr
	}
	// Like grpc.Server: a status error as it is (a wrapped one with the
	// wrapper's message), a context error as Canceled or DeadlineExceeded,
	// anything else as Unknown.
	st, ok := status.FromError(err)
	if !ok {
		st = status.FromContextError(err)
	}
	code := connect.Code(st.Code())
	if st.Code() == codes.OK {
		code = connect.CodeUnknown
	}
	ce := connect.NewError(code, errors.New(st.Message()))
	for _, d := range st.Proto().GetDetails() {
		if detail, derr := connect.NewErrorDetail(d); derr == nil {
			ce.AddDetail(detail)
		}
	}
	return ce
}

// toStatusError converts an error from a connect client into a grpc-go
// status error with the same code, message and details.
func toStatusError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
		return err
	}
	var connectErr *connect.Error
	if !errors.As(err, &connectErr) {
		switch {
		case errors.Is(err, context.Canceled):
			return status.Error(codes.Canceled, err.Error())
		case errors.Is(err, context.DeadlineExceeded):
			return status.Error(codes.DeadlineExceeded, err.Error())
		}
		return status.Error(codes.Unknown, err.Error())
	}
	sp := &spb.Status{
		Code:    int32(connectErr.Code()),
		Message: connectErr.Message(),
	}
	for _, d := range connectErr.Details() {
		sp.Details = append(sp.Details, &anypb.Any{
			TypeUrl: typeURLPrefix + d.Type(),
			Value:   d.Bytes(),
		})
	}
	return status.ErrorProto(sp)
}

const typeURLPrefix = "type.googleapis.com/"
