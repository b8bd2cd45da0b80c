package main

import (
	"context"
	"fmt"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	chatv1 "github.com/polyrpc/polyrpc/examples/chat/gen/chat/v1"
)

// chatService implements chatv1.ChatServiceServer on a Hub. It is plain
// grpc-go code; the generated NewChatServiceHandler serves it to browsers.
type chatService struct {
	chatv1.UnimplementedChatServiceServer
	hub *Hub
}

func (s *chatService) SendNote(_ context.Context, req *chatv1.SendNoteRequest) (*chatv1.SendNoteResponse, error) {
	if err := validate(
		field{"room", req.GetRoom(), 64},
		field{"author", req.GetAuthor(), 64},
		field{"text", req.GetText(), 1000},
	); err != nil {
		return nil, err
	}
	return &chatv1.SendNoteResponse{Note: s.hub.Publish(req.GetRoom(), req.GetAuthor(), req.GetText())}, nil
}

func (s *chatService) History(_ context.Context, req *chatv1.HistoryRequest) (*chatv1.HistoryResponse, error) {
	if err := validate(field{"room", req.GetRoom(), 64}); err != nil {
		return nil, err
	}
	return &chatv1.HistoryResponse{Notes: s.hub.History(req.GetRoom())}, nil
}

func (s *chatService) ChatStream(req *chatv1.ChatStreamRequest, stream chatv1.ChatService_ChatStreamServer) error {
	if err := validate(field{"room", req.GetRoom(), 64}); err != nil {
		return err
	}
	ctx := stream.Context()
	backlog, sub, leave := s.hub.Subscribe(req.GetRoom(), req.GetAfterSeq())
	defer leave()

	// Send the response headers right away, so the caller knows it is
	// following the room before the first note arrives.
	if err := stream.SendHeader(metadata.MD{}); err != nil {
		return err
	}
	for _, n := range backlog {
		if err := stream.Send(&chatv1.ChatStreamResponse{Note: n}); err != nil {
			return err
		}
	}
	for {
		select {
		case n := <-sub.Notes:
			if err := stream.Send(&chatv1.ChatStreamResponse{Note: n}); err != nil {
				return err
			}
		case <-sub.Dropped:
			return status.Error(codes.ResourceExhausted, "fell too far behind the room; follow it again")
		case <-ctx.Done():
			// The caller went away (a closed tab) or the server is stopping.
			return status.FromContextError(ctx.Err()).Err()
		}
	}
}

type field struct {
	name, value string
	max         int
}

// validate returns INVALID_ARGUMENT with a google.rpc.BadRequest detail if a
// field is empty or longer than its maximum number of characters.
func validate(fields ...field) error {
	var violations []*errdetails.BadRequest_FieldViolation
	for _, f := range fields {
		if n := utf8.RuneCountInString(f.value); n == 0 || n > f.max {
			violations = append(violations, &errdetails.BadRequest_FieldViolation{
				Field:       f.name,
				Description: fmt.Sprintf("must be 1 to %d characters", f.max),
			})
		}
	}
	if len(violations) == 0 {
		return nil
	}
	st, err := status.New(codes.InvalidArgument, violations[0].Field+" "+violations[0].Description).
		WithDetails(&errdetails.BadRequest{FieldViolations: violations})
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	return st.Err()
}
