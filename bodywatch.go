package polyrpc

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"
)

// On HTTP/1.1, net/http notices that a client went away only once the
// request body has been read to its end: until then nothing reads from the
// connection. A client-streaming call whose client vanishes mid-body, while
// the handler waits for something other than the next message, would
// therefore never end, and its goroutines would stay for good. HTTP/2 has no
// such gap.
//
// serveWatchingBody closes it: a goroutine reads the body ahead of the
// handler, up to readAheadLimit bytes, and cancels the call's context when
// the body ends with an error (the connection closed or reset before the
// body was complete). When the handler returns first, the connection's read
// deadline ends the goroutine's pending read.

// readAheadLimit bounds what is read ahead of the handler for one call.
const readAheadLimit = 64 << 10

// readAheadChunk is the size of one read from the connection.
const readAheadChunk = 16 << 10

// errClientGone is the cause of a call's cancellation when its body ended
// early.
var errClientGone = errors.New("polyrpc: client closed the request body before its end")

func serveWatchingBody(h http.Handler, w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// The goroutine's read must be stoppable from here when the handler
	// returns; without a connection deadline, serve as is.
	if err := rc.SetReadDeadline(time.Time{}); err != nil {
		h.ServeHTTP(w, r)
		return
	}
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	body := newReadAhead(r.Body, cancel)
	r2 := r.WithContext(ctx)
	r2.Body = body
	stop := context.AfterFunc(ctx, func() { body.wake(ctx.Err()) })
	defer stop()

	h.ServeHTTP(w, r2)

	body.closeConsumer()
	if !body.finished() {
		// Unblock the pending read; the connection is then not reused.
		_ = rc.SetReadDeadline(time.Unix(1, 0))
		body.wait()
	}
}

// readAhead is a request body read by its own goroutine into a bounded
// buffer.
type readAhead struct {
	src    io.ReadCloser
	cancel context.CancelCauseFunc
	done   chan struct{} // closed when the goroutine has returned

	mu     sync.Mutex
	cond   sync.Cond
	buf    []byte
	err    error // the body's end: io.EOF or the read error
	ctxErr error // the call's context ended
	closed bool  // the consumer is gone
}

func newReadAhead(src io.ReadCloser, cancel context.CancelCauseFunc) *readAhead {
	b := &readAhead{src: src, cancel: cancel, done: make(chan struct{})}
	b.cond.L = &b.mu
	go b.fill()
	return b
}

func (b *readAhead) fill() {
	defer close(b.done)
	chunk := make([]byte, readAheadChunk)
	for {
		b.mu.Lock()
		for len(b.buf) >= readAheadLimit && !b.closed {
			b.cond.Wait()
		}
		closed := b.closed
		b.mu.Unlock()
		if closed {
			return
		}
		n, err := b.src.Read(chunk)
		b.mu.Lock()
		b.buf = append(b.buf, chunk[:n]...)
		if err != nil {
			b.err = err
		}
		b.cond.Broadcast()
		b.mu.Unlock()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				b.cancel(errClientGone)
			}
			return
		}
	}
}

// Read returns buffered bytes, waiting for some while the body goes on.
func (b *readAhead) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.buf) == 0 && b.err == nil && b.ctxErr == nil && !b.closed {
		b.cond.Wait()
	}
	if len(b.buf) > 0 {
		n := copy(p, b.buf)
		b.buf = b.buf[n:]
		if len(b.buf) == 0 {
			b.buf = nil
		}
		b.cond.Broadcast()
		return n, nil
	}
	switch {
	case b.err != nil:
		return 0, b.err
	case b.ctxErr != nil:
		return 0, b.ctxErr
	}
	return 0, http.ErrBodyReadAfterClose
}

// Close ends reading for the consumer.
func (b *readAhead) Close() error {
	b.closeConsumer()
	return nil
}

func (b *readAhead) closeConsumer() {
	b.mu.Lock()
	b.closed = true
	b.buf = nil
	b.cond.Broadcast()
	b.mu.Unlock()
}

// wake lets a waiting Read see that the call's context ended.
func (b *readAhead) wake(err error) {
	b.mu.Lock()
	b.ctxErr = err
	b.cond.Broadcast()
	b.mu.Unlock()
}

func (b *readAhead) finished() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

func (b *readAhead) wait() { <-b.done }
