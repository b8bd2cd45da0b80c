// Package fanout is the runtime of the fan-out clients that protoc-gen-rpc
// generates with the option fanout=true: it owns calling one method on a set
// of named targets at once and gathering the answers, each attributed to its
// target. The generated NewXxxFanOutClient wraps [NewTargets], and each of its
// methods is one call to [Unary] or [ServerStream].
//
// A target is any client of the service (the generated XxxClient on a
// grpc.ClientConn, a polyrpc.NewClientConn, or a fake in a test), named by
// the caller:
//
//	fan, err := pb.NewGreeterFanOutClient(map[string]pb.GreeterClient{
//		"eu": pb.NewGreeterClient(euConn),
//		"us": pb.NewGreeterClient(usConn),
//	}, fanout.Concurrency(8), fanout.TargetTimeout(2*time.Second))
//	if err != nil {
//		return err
//	}
//	for _, r := range fan.SayHello(ctx, &pb.HelloRequest{Name: "x"}) {
//		fmt.Println(r.Target, r.Reply, r.Err) // in target name order
//	}
//
// Unary methods return one [Result] per target, sorted by target name, once
// every target has answered or failed. Server-streaming methods return one
// [Stream] merging the targets' streams: [Stream.Recv] returns the messages
// in the order they arrive, each naming its target; a target that fails
// yields one entry carrying its error while the others go on, and the stream
// ends with io.EOF when every target has ended. A target waits for the
// caller's Recv before it reads its next message (backpressure), so a slow
// reader slows the targets instead of growing memory.
//
// Client-streaming and bidirectional methods have no fan-out form: their
// requests are a stream of the caller's, so there is no single request to
// send to every target. Call them on each target's client.
package fanout

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// An Option configures a fan-out client.
type Option func(*config)

type config struct {
	limit   int
	timeout time.Duration
}

// Concurrency limits the calls in flight at once, across the targets of one
// method call: at most n target calls (or open target streams) run at the
// same time, and the other targets wait for a free slot. A stream holds its
// slot until it ends, so with n smaller than the number of targets the last
// targets are read only after the first ones end. n = 0, the default, calls
// every target at once.
func Concurrency(n int) Option {
	return func(c *config) { c.limit = n }
}

// TargetTimeout gives every target call its own deadline, d after the call
// to that target starts (a wait for a Concurrency slot does not count). A
// target that misses it fails with codes.DeadlineExceeded, and the others
// are not affected. For a stream, d bounds the whole target stream. d = 0,
// the default, sets no deadline beyond the caller's context.
func TargetTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// Targets is a fixed set of named clients of one service, and the options of
// the calls made to them. It is safe for concurrent use.
type Targets[C any] struct {
	names   []string // sorted
	clients []C      // clients[i] is the client of names[i]
	config
}

// NewTargets copies targets and checks it: it fails if the map is nil or
// empty, if a name is empty, if a client is nil (a nil interface, or an
// interface holding a nil pointer, map, func, channel or slice), or if an
// option is out of range.
func NewTargets[C any](targets map[string]C, opts ...Option) (*Targets[C], error) {
	if len(targets) == 0 {
		return nil, errors.New("fanout: no targets: the map of targets is nil or empty")
	}
	t := &Targets[C]{}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("fanout: nil Option")
		}
		o(&t.config)
	}
	if t.limit < 0 {
		return nil, fmt.Errorf("fanout: Concurrency(%d): the limit must be 0 (none) or more", t.limit)
	}
	if t.timeout < 0 {
		return nil, fmt.Errorf("fanout: TargetTimeout(%v): the timeout must be 0 (none) or more", t.timeout)
	}
	for name := range targets {
		t.names = append(t.names, name)
	}
	slices.Sort(t.names)
	t.clients = make([]C, len(t.names))
	for i, name := range t.names {
		if name == "" {
			return nil, errors.New("fanout: a target has an empty name")
		}
		c := targets[name]
		if isNil(c) {
			return nil, fmt.Errorf("fanout: target %q has a nil client", name)
		}
		t.clients[i] = c
	}
	return t, nil
}

// Names returns the names of the targets, sorted: the order of the results
// of [Unary].
func (t *Targets[C]) Names() []string {
	return slices.Clone(t.names)
}

// isNil reports whether c is a nil interface or holds a nil value of a kind
// that can be nil.
func isNil(c any) bool {
	if c == nil {
		return true
	}
	switch v := reflect.ValueOf(c); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Chan, reflect.Slice, reflect.Interface, reflect.UnsafePointer:
		return v.IsNil()
	}
	return false
}

// checkCallOptions refuses the call options that store a result through a
// pointer: every target call would write it, at the same time.
func checkCallOptions(opts []grpc.CallOption) error {
	for _, o := range opts {
		switch o.(type) {
		case nil:
			return errors.New("fanout: nil grpc.CallOption")
		case grpc.HeaderCallOption, *grpc.HeaderCallOption:
			return errors.New("fanout: the grpc.Header call option would be written by every target at once; use Result.Header")
		case grpc.TrailerCallOption, *grpc.TrailerCallOption:
			return errors.New("fanout: the grpc.Trailer call option would be written by every target at once; use Result.Trailer")
		case grpc.PeerCallOption, *grpc.PeerCallOption:
			return errors.New("fanout: the grpc.Peer call option would be written by every target at once")
		}
	}
	return nil
}

// recoverTarget, deferred in a target call, turns a panic of the target's
// client into an Internal error naming the target.
func recoverTarget(target string, err *error) {
	if v := recover(); v != nil {
		*err = status.Errorf(codes.Internal, "fanout: the client of target %q panicked: %v", target, v)
	}
}
