package fanout

import (
	"context"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Result is the answer of one target to a unary call.
type Result[T any] struct {
	// Target is the target's name, a key of the map given to NewTargets.
	Target string
	// Reply is the target's reply, the zero value if Err is not nil.
	Reply T
	// Err is the target's error, a grpc status error for calls made over
	// gRPC, Connect or gRPC-Web.
	Err error
	// Header and Trailer are the response metadata the target sent, as
	// the grpc.Header and grpc.Trailer call options would give them.
	Header  metadata.MD
	Trailer metadata.MD
}

// Unary calls method on every target with the request in and returns one
// [Result] per target, sorted by target name, when every target call has
// returned. The calls run concurrently within the [Concurrency] limit, each
// under its [TargetTimeout]; cancelling ctx cancels them all, and targets
// not called yet then fail with the context's status (codes.Canceled or
// codes.DeadlineExceeded) without being called.
//
// The request is shared by the concurrent calls, so it must not change
// until Unary returns. The opts go to every target call; the grpc.Header,
// grpc.Trailer and grpc.Peer options, which every call would write at the
// same time, make every result fail with an error that says so (the
// header and trailer of each target are in its Result).
//
// A target client that panics (a client made with a nil connection, say)
// fails with codes.Internal and the panic's value, instead of crashing the
// program from a goroutine the caller cannot recover.
//
// Generated code calls it with a method expression of the service's client
// interface, fanout.Unary(ctx, t, in, FooClient.Bar, opts...).
func Unary[C, Req, Res any](ctx context.Context, t *Targets[C], in Req,
	method func(C, context.Context, Req, ...grpc.CallOption) (Res, error), opts ...grpc.CallOption) []Result[Res] {
	results := make([]Result[Res], len(t.names))
	for i, name := range t.names {
		results[i].Target = name
	}
	if err := checkCallOptions(opts); err != nil {
		for i := range results {
			results[i].Err = err
		}
		return results
	}
	call := func(i int) {
		r := &results[i]
		defer recoverTarget(r.Target, &r.Err)
		if err := ctx.Err(); err != nil {
			r.Err = status.FromContextError(err).Err()
			return
		}
		callCtx := ctx
		if t.timeout > 0 {
			var cancel context.CancelFunc
			callCtx, cancel = context.WithTimeout(ctx, t.timeout)
			defer cancel()
		}
		callOpts := append(opts[:len(opts):len(opts)], grpc.Header(&r.Header), grpc.Trailer(&r.Trailer))
		r.Reply, r.Err = method(t.clients[i], callCtx, in, callOpts...)
	}
	workers := len(t.names)
	if t.limit > 0 {
		workers = min(workers, t.limit)
	}
	if workers == 1 {
		for i := range t.names {
			call(i)
		}
		return results
	}
	// Each worker takes the next target until none is left: at most
	// workers calls are in flight.
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(t.names); i = int(next.Add(1) - 1) {
				call(i)
			}
		})
	}
	wg.Wait()
	return results
}
