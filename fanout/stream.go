package fanout

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// ErrClosed is returned by [Stream.Recv] after [Stream.Close].
var ErrClosed = errors.New("fanout: stream closed")

// Message is one entry of a merged [Stream]: a reply of one target, or the
// error that ended that target's stream.
type Message[T any] struct {
	// Target is the target's name, a key of the map given to NewTargets.
	Target string
	// Reply is the message the target sent, the zero value if Err is not
	// nil.
	Reply T
	// Err, if not nil, is the error that ended the target's stream, or
	// that kept it from opening: the target's last entry. A target that
	// ends without an error has no entry of its own.
	Err error
}

// Receiver is a stream of replies of type T, as the generated client of a
// server-streaming method returns it (grpc.ServerStreamingClient[T], or the
// stream interface without generic streams).
type Receiver[T any] interface {
	Recv() (T, error)
}

// Stream merges the server streams of every target. Recv must not be called
// from more than one goroutine at a time; Close may be called from any.
//
// As with a grpc-go stream, the caller ends it one of three ways: Recv
// until it returns an error, Close, or cancel the context given to
// [ServerStream]. Until then each target holds its stream and one
// goroutine.
type Stream[T any] struct {
	ctx    context.Context
	cancel context.CancelFunc
	ch     chan Message[T]
	left   atomic.Int64 // targets whose goroutine has not returned
	wg     sync.WaitGroup
	closed atomic.Bool
	eof    bool
}

// ServerStream opens method on every target with the request in, and merges
// the target streams into one [Stream]. Each target stream is opened and
// read by a goroutine of its own within the [Concurrency] limit, and runs
// under its [TargetTimeout]; cancelling ctx, or [Stream.Close], ends them
// all.
//
// A target client that panics yields an entry with codes.Internal and the
// panic's value, as in [Unary].
//
// The opts go to every target call. It fails only on call options that
// every target would write at once (grpc.Header, grpc.Trailer, grpc.Peer):
// a target that cannot open its stream yields an entry with its error.
//
// Generated code calls it with a method expression of the service's client
// interface, fanout.ServerStream(ctx, t, in, FooClient.Bar, opts...).
func ServerStream[C, Req, Res any, S Receiver[Res]](ctx context.Context, t *Targets[C], in Req,
	method func(C, context.Context, Req, ...grpc.CallOption) (S, error), opts ...grpc.CallOption) (*Stream[Res], error) {
	if err := checkCallOptions(opts); err != nil {
		return nil, err
	}
	s := &Stream[Res]{ch: make(chan Message[Res])}
	s.ctx, s.cancel = context.WithCancel(ctx)
	var slots chan struct{}
	if t.limit > 0 && t.limit < len(t.names) {
		slots = make(chan struct{}, t.limit)
	}
	s.left.Store(int64(len(t.names)))
	for i, name := range t.names {
		s.wg.Go(func() {
			defer s.targetDone()
			if slots != nil {
				select {
				case slots <- struct{}{}:
					defer func() { <-slots }()
				case <-s.ctx.Done():
					return
				}
			}
			c := t.clients[i]
			s.read(name, t.timeout, func(ctx context.Context) (Receiver[Res], error) {
				return method(c, ctx, in, opts...)
			})
		})
	}
	return s, nil
}

// read opens the stream of one target and forwards its messages until it
// ends or the merged stream is cancelled.
func (s *Stream[T]) read(name string, timeout time.Duration, open func(context.Context) (Receiver[T], error)) {
	// The target stream is cancelled when it is left, whatever the reason,
	// so that its transport resources are released.
	var ctx context.Context
	var cancel context.CancelFunc
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(s.ctx, timeout)
	} else {
		ctx, cancel = context.WithCancel(s.ctx)
	}
	defer cancel()
	if s.ctx.Err() != nil {
		return
	}
	var failed error
	defer func() {
		if failed != nil {
			s.send(Message[T]{Target: name, Err: failed})
		}
	}()
	defer recoverTarget(name, &failed)
	st, err := open(ctx)
	if err != nil {
		s.send(Message[T]{Target: name, Err: err})
		return
	}
	for {
		m, err := st.Recv()
		if err == io.EOF {
			return
		}
		if err != nil {
			s.send(Message[T]{Target: name, Err: err})
			return
		}
		if !s.send(Message[T]{Target: name, Reply: m}) {
			return
		}
	}
}

// send hands m to Recv, and reports false if the stream was cancelled
// first.
func (s *Stream[T]) send(m Message[T]) bool {
	select {
	case s.ch <- m:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// targetDone ends the merged stream after the last target.
func (s *Stream[T]) targetDone() {
	if s.left.Add(-1) == 0 {
		close(s.ch)
	}
}

// Recv returns the next entry: a reply or a failure of one target, in the
// order they arrive. It returns io.EOF once every target has ended, the
// status of the context (codes.Canceled or codes.DeadlineExceeded) once the
// context given to ServerStream is done, and ErrClosed after Close.
func (s *Stream[T]) Recv() (Message[T], error) {
	var zero Message[T]
	switch {
	case s.closed.Load():
		return zero, ErrClosed
	case s.eof:
		return zero, io.EOF
	case s.ctx.Err() != nil:
		return zero, status.FromContextError(s.ctx.Err()).Err()
	}
	select {
	case m, ok := <-s.ch:
		if !ok {
			s.eof = true
			s.cancel()
			return zero, io.EOF
		}
		return m, nil
	case <-s.ctx.Done():
		if s.closed.Load() {
			return zero, ErrClosed
		}
		return zero, status.FromContextError(s.ctx.Err()).Err()
	}
}

// Close cancels every target stream and returns once their goroutines
// have returned. It may be called more than once, and at any time.
func (s *Stream[T]) Close() error {
	s.closed.Store(true)
	s.cancel()
	s.wg.Wait()
	return nil
}
