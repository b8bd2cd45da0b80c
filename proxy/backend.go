package proxy

import (
	"context"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

// Mode is how a call is forwarded.
type Mode int

const (
	// One2One forwards the call to one backend as it is.
	One2One Mode = iota
	// One2Many forwards the call to every backend given: the answers are
	// interleaved if the method streams its responses (as said by
	// [WithStreamedDetector], [WithStreamedMethodNames], or else by the
	// method's descriptor when it is linked into the program), merged
	// otherwise.
	One2Many
	// One2ManyMerged is [One2Many] with the answers merged into one reply,
	// whatever the method.
	One2ManyMerged
	// One2ManyStreamed is [One2Many] with the answers interleaved, whatever
	// the method.
	One2ManyStreamed
)

func (m Mode) String() string {
	switch m {
	case One2One:
		return "One2One"
	case One2Many:
		return "One2Many"
	case One2ManyMerged:
		return "One2ManyMerged"
	case One2ManyStreamed:
		return "One2ManyStreamed"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// StreamDirector picks the backends of a call and how it is forwarded, from
// the call's context (incoming metadata, peer) and its method
// ("/package.Service/Method"). An error fails the call as it is: return a
// status error. It runs after the server's interceptors.
type StreamDirector func(ctx context.Context, fullMethodName string) (Mode, []Backend, error)

// Backend is a backend of a call. Its method set is that of
// github.com/siderolabs/grpc-proxy's Backend.
type Backend interface {
	// String names the backend, in errors and entries.
	String() string

	// GetConnection returns the backend's connection and the context of
	// the call to it, which must derive from ctx (so that the caller's
	// cancellation and deadline reach the backend). Metadata crosses only
	// as outgoing metadata of the context returned: copy the incoming
	// metadata of ctx there to forward it; the proxy then removes what its
	// header rules do not allow.
	GetConnection(ctx context.Context, fullMethodName string) (context.Context, *grpc.ClientConn, error)

	// AppendInfo is given each answer of the backend in one-to-many calls
	// (a whole reply for merged calls, a message for streamed ones) and
	// returns it, attributed to the backend (see [AppendMetadata]).
	AppendInfo(streaming bool, resp []byte) ([]byte, error)

	// BuildError returns the answer that stands for the backend's failure
	// in one-to-many calls (see [ErrorEntry]). With nil bytes and a nil
	// error, err fails the whole call instead.
	BuildError(streaming bool, err error) ([]byte, error)
}

// ClientConnBackend is implemented by Backends whose connection is not a
// *grpc.ClientConn, such as a polyrpc.NewClientConn. When a Backend
// implements it, the proxy calls GetClientConn instead of GetConnection,
// with the same contract. A connection that is not a *grpc.ClientConn
// gets each message as an emptypb.Empty whose unknown fields are the
// message's bytes, which any protobuf codec sends as they are (its binary
// proto codec must be in use); where the method's descriptor is known (see
// [WithStreamDescs]) unary and server-streaming calls are made as such,
// since Connect's unary protocol differs from its streaming one.
type ClientConnBackend interface {
	Backend
	GetClientConn(ctx context.Context, fullMethodName string) (context.Context, grpc.ClientConnInterface, error)
}

// SingleBackend is a Backend for one-to-one calls made from a function
// that gives the connection, as siderolabs' SingleBackend.
type SingleBackend struct {
	// GetConn returns the connection and the outgoing context, as
	// Backend.GetConnection.
	GetConn func(ctx context.Context) (context.Context, *grpc.ClientConn, error)
}

func (b *SingleBackend) String() string { return "backend" }

// GetConnection returns GetConn(ctx).
func (b *SingleBackend) GetConnection(ctx context.Context, _ string) (context.Context, *grpc.ClientConn, error) {
	return b.GetConn(ctx)
}

// AppendInfo returns resp.
func (b *SingleBackend) AppendInfo(_ bool, resp []byte) ([]byte, error) { return resp, nil }

// BuildError returns nil: the backend's error fails the call.
func (b *SingleBackend) BuildError(bool, error) ([]byte, error) { return nil, nil }

// ConnBackend is a ready Backend: a named connection, to which the
// incoming metadata of the call is forwarded (as the header rules allow).
// Conn may be a *grpc.ClientConn or any grpc.ClientConnInterface, such as
// a polyrpc.NewClientConn.
type ConnBackend struct {
	Name string
	Conn grpc.ClientConnInterface

	// MetadataField, when not zero, attributes the backend's answers in
	// one-to-many calls with [AppendMetadata] at this field (99 by
	// convention), and turns its failures into entries with [ErrorEntry].
	// When zero, answers pass as they are and a failure fails the call.
	MetadataField protowire.Number
}

func (b *ConnBackend) String() string { return b.Name }

// GetConnection returns Conn when it is a *grpc.ClientConn.
func (b *ConnBackend) GetConnection(ctx context.Context, method string) (context.Context, *grpc.ClientConn, error) {
	ctx, cc, err := b.GetClientConn(ctx, method)
	if err != nil {
		return ctx, nil, err
	}
	conn, ok := cc.(*grpc.ClientConn)
	if !ok {
		return ctx, nil, status.Errorf(codes.Unavailable, "proxy: backend %s is not a *grpc.ClientConn", b.Name)
	}
	return ctx, conn, nil
}

// GetClientConn returns Conn and ctx with its incoming metadata as
// outgoing metadata.
func (b *ConnBackend) GetClientConn(ctx context.Context, _ string) (context.Context, grpc.ClientConnInterface, error) {
	if b.Conn == nil {
		return ctx, nil, status.Errorf(codes.Unavailable, "proxy: backend %s has no connection", b.Name)
	}
	return ForwardMetadata(ctx), b.Conn, nil
}

// AppendInfo attributes resp to the backend when MetadataField is set.
func (b *ConnBackend) AppendInfo(streaming bool, resp []byte) ([]byte, error) {
	if b.MetadataField == 0 {
		return resp, nil
	}
	return AppendMetadata(resp, streaming, b.MetadataField, ResponseMetadata{Hostname: b.Name})
}

// BuildError returns the backend's error entry when MetadataField is set.
func (b *ConnBackend) BuildError(streaming bool, err error) ([]byte, error) {
	if b.MetadataField == 0 {
		return nil, nil
	}
	return ErrorEntry(streaming, b.MetadataField, b.Name, err), nil
}

// ForwardMetadata returns ctx with its incoming metadata as its outgoing
// metadata, for a Backend's GetConnection: the proxy then removes what its
// header rules do not allow.
func ForwardMetadata(ctx context.Context) context.Context {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return ctx
	}
	return metadata.NewOutgoingContext(ctx, md)
}
