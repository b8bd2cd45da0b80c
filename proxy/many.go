package proxy

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// manyCall is a one-to-many call.
type manyCall struct {
	h        *handler
	ss       grpc.ServerStream
	method   string
	streamed bool
	ctx      context.Context
	cancel   context.CancelFunc
	requests *requestLog

	mu     sync.Mutex // the caller's stream: sends, headers, trailers; and merged
	merged int        // bytes of the merged reply

	errMu sync.Mutex
	err   error // the error that fails the whole call
}

// one2many forwards a call to several backends.
func (h *handler) one2many(ss grpc.ServerStream, method string, streamed bool, backends []Backend) error {
	ctx, cancel := context.WithCancel(ss.Context())
	defer cancel()
	c := &manyCall{
		h: h, ss: ss, method: method, streamed: streamed, ctx: ctx, cancel: cancel,
		requests: newRequestLog(len(backends), h.opts.concurrency, h.opts.maxReplay),
	}
	go c.requests.fill(ctx, ss, func(err error) { c.fail(clientError(err)) })
	entries := make([][]byte, len(backends))
	var wg sync.WaitGroup
	for i, b := range backends {
		wg.Go(func() { entries[i] = c.run(i, b) })
	}
	wg.Wait()
	c.errMu.Lock()
	err := c.err
	c.errMu.Unlock()
	if err != nil {
		return err
	}
	if err := ss.Context().Err(); err != nil {
		return status.FromContextError(err).Err()
	}
	// The caller's deadline may have passed before the timer of its
	// context has fired (timers run late on a loaded machine, and a
	// backend's, set later, may fire first): its answer is then no
	// merge of the backends' deadline errors, but DeadlineExceeded.
	if dl, ok := ss.Context().Deadline(); ok && !time.Now().Before(dl) {
		return status.FromContextError(context.DeadlineExceeded).Err()
	}
	if streamed {
		return nil
	}
	return ss.SendMsg(&Frame{Payload: slices.Concat(entries...)})
}

// fail ends the call with err, unless it has already failed.
func (c *manyCall) fail(err error) {
	c.errMu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.errMu.Unlock()
	c.cancel()
}

// send sends an answer of a streamed call.
func (c *manyCall) send(b []byte) {
	c.mu.Lock()
	err := c.ss.SendMsg(&Frame{Payload: b})
	c.mu.Unlock()
	if err != nil {
		c.fail(err)
	}
}

// add adds an answer to the merged reply, or fails the call if it grows
// past its bound.
func (c *manyCall) add(got, b []byte) []byte {
	c.mu.Lock()
	c.merged += len(b)
	over := c.merged > c.h.opts.maxMerged
	c.mu.Unlock()
	if over {
		c.fail(status.Errorf(codes.ResourceExhausted, "proxy: the merged reply of %s is larger than %d bytes", c.method, c.h.opts.maxMerged))
		return nil
	}
	return append(got, b...)
}

func (c *manyCall) setHeader(cs grpc.ClientStream, md metadata.MD) {
	if md == nil {
		return
	}
	md = c.h.response(cs, md)
	c.mu.Lock()
	_ = c.ss.SetHeader(md) // fails once the headers are sent
	c.mu.Unlock()
}

func (c *manyCall) setTrailer(cs grpc.ClientStream, md metadata.MD) {
	if len(md) == 0 {
		return
	}
	md = c.h.response(cs, md)
	c.mu.Lock()
	c.ss.SetTrailer(md)
	c.mu.Unlock()
}

// run calls backend i and returns its part of a merged reply.
func (c *manyCall) run(i int, b Backend) []byte {
	defer c.requests.done(i)
	if err := c.requests.start(c.ctx, i); err != nil {
		if c.ctx.Err() != nil {
			return nil
		}
		return c.failed(b, err)
	}
	ctx, cancel := c.h.backendContext(c.ctx)
	defer cancel()
	cs, err := c.h.open(ctx, c.method, b)
	if err != nil {
		return c.failed(b, err)
	}
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		c.requests.sendTo(ctx, i, cs)
	}()
	defer func() {
		cancel()
		<-sent
	}()
	var got []byte
	f := &Frame{}
	for first := true; ; first = false {
		err := cs.RecvMsg(f)
		if first && err == nil || errors.Is(err, io.EOF) {
			if md, herr := cs.Header(); herr == nil {
				c.setHeader(cs, md)
			}
		}
		if errors.Is(err, io.EOF) {
			c.setTrailer(cs, cs.Trailer())
			return got
		}
		if err != nil {
			return c.failed(b, err)
		}
		p, err := b.AppendInfo(c.streamed, f.Payload)
		if err != nil {
			c.fail(status.Errorf(codes.Internal, "proxy: attributing an answer of %s: %v", b, err))
			return nil
		}
		if c.streamed {
			c.send(p)
		} else {
			got = c.add(got, p)
		}
		if c.ctx.Err() != nil {
			return nil
		}
	}
}

// failed turns a backend's failure into its answer: an entry, or the
// failure of the call when the Backend builds none.
func (c *manyCall) failed(b Backend, err error) []byte {
	if c.ctx.Err() != nil {
		return nil // the call is over
	}
	if _, ok := status.FromError(err); !ok {
		err = status.Error(status.FromContextError(err).Code(), err.Error())
	}
	p, berr := b.BuildError(c.streamed, err)
	switch {
	case berr != nil:
		c.fail(status.Errorf(codes.Internal, "proxy: building the error entry of %s: %v", b, berr))
		return nil
	case p == nil:
		c.fail(err)
		return nil
	case c.streamed:
		c.send(p)
		return nil
	}
	return c.add(nil, p)
}

// requestLog holds the caller's messages of a one-to-many call until every
// backend has sent them, or, for the backends that wait for their turn
// (WithConcurrency), until they grow past a bound. The caller's messages
// are received no faster than the slowest running backend sends them.
type requestLog struct {
	mu     sync.Mutex
	frames [][]byte // frames[k] is message base+k
	base   int
	size   int   // bytes in frames
	end    error // io.EOF, or why receiving failed; nil while receiving
	wake   chan struct{}
	max    int

	state    []backendState
	pos      []int           // the next message of each running backend
	turns    []chan struct{} // closed when a waiting backend's turn comes
	next     int             // the next backend to run
	overflow bool            // messages were dropped that waiting backends needed
}

type backendState uint8

const (
	waiting backendState = iota
	running
	finished
	missed // its turn came after the messages it needed were dropped
)

func newRequestLog(n, concurrency, max int) *requestLog {
	l := &requestLog{wake: make(chan struct{}), max: max, state: make([]backendState, n), pos: make([]int, n), turns: make([]chan struct{}, n)}
	if concurrency <= 0 || concurrency > n {
		concurrency = n
	}
	for i := range n {
		if i < concurrency {
			l.state[i] = running
		} else {
			l.turns[i] = make(chan struct{})
		}
	}
	l.next = concurrency
	return l
}

// broadcast wakes every waiter; l.mu is held.
func (l *requestLog) broadcast() {
	close(l.wake)
	l.wake = make(chan struct{})
}

// trim drops the messages that no backend needs any more; l.mu is held.
func (l *requestLog) trim() {
	need := l.base + len(l.frames)
	for i, s := range l.state {
		switch s {
		case waiting:
			if !l.overflow {
				if l.size < l.max {
					return // kept for it
				}
				l.overflow = true
			}
		case running:
			need = min(need, l.pos[i])
		}
	}
	if n := need - l.base; n > 0 {
		for k := range n {
			l.size -= len(l.frames[k])
			l.frames[k] = nil
		}
		l.frames = l.frames[n:]
		l.base = need
	}
}

// fill receives the caller's messages.
func (l *requestLog) fill(ctx context.Context, ss grpc.ServerStream, fail func(error)) {
	for {
		l.mu.Lock()
		for l.trim(); l.size >= l.max && len(l.frames) > 0; l.trim() {
			wake := l.wake
			l.mu.Unlock()
			select {
			case <-wake:
			case <-ctx.Done():
				return
			}
			l.mu.Lock()
		}
		l.mu.Unlock()
		f := &Frame{}
		err := ss.RecvMsg(f)
		l.mu.Lock()
		if err != nil {
			l.end = err
		} else {
			l.frames = append(l.frames, f.Payload)
			l.size += len(f.Payload)
		}
		l.broadcast()
		l.mu.Unlock()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				fail(err)
			}
			return
		}
	}
}

// start waits for backend i's turn.
func (l *requestLog) start(ctx context.Context, i int) error {
	if turn := l.turns[i]; turn != nil {
		select {
		case <-turn:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state[i] == missed {
		return status.Errorf(codes.ResourceExhausted, "proxy: the request messages went past %d bytes before the backend's turn came", l.max)
	}
	return nil
}

// done marks backend i as finished, and gives the next one its turn.
func (l *requestLog) done(i int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state[i] != running && l.state[i] != missed {
		return
	}
	l.state[i] = finished
	if l.next < len(l.state) {
		j := l.next
		l.next++
		if l.overflow {
			l.state[j] = missed
		} else {
			l.state[j] = running
			l.pos[j] = l.base
		}
		close(l.turns[j])
	}
	l.trim()
	l.broadcast()
}

// sendTo sends the caller's messages to backend i, and closes its side
// when the caller closed its own.
func (l *requestLog) sendTo(ctx context.Context, i int, cs grpc.ClientStream) {
	f := &Frame{}
	for {
		l.mu.Lock()
		pos := l.pos[i]
		for pos >= l.base+len(l.frames) && l.end == nil {
			wake := l.wake
			l.mu.Unlock()
			select {
			case <-wake:
			case <-ctx.Done():
				return
			}
			l.mu.Lock()
		}
		if pos >= l.base+len(l.frames) {
			end := l.end
			l.mu.Unlock()
			if errors.Is(end, io.EOF) {
				_ = cs.CloseSend()
			}
			return
		}
		f.Payload = l.frames[pos-l.base]
		l.mu.Unlock()
		if err := cs.SendMsg(f); err != nil {
			return
		}
		l.mu.Lock()
		l.pos[i] = pos + 1
		if l.size >= l.max {
			l.trim()
			l.broadcast()
		}
		l.mu.Unlock()
	}
}
