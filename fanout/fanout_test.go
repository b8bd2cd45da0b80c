package fanout_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/polyrpc/polyrpc/fanout"
)

// The runtime on its own, with in-memory clients. golden/rpc/fanout_test.go
// runs the generated clients against real servers.

// client is a service client with one unary and one server-streaming
// method, as generated code declares them.
type client interface {
	Say(ctx context.Context, in *string, opts ...grpc.CallOption) (*string, error)
	List(ctx context.Context, in *string, opts ...grpc.CallOption) (grpc.ServerStreamingClient[string], error)
}

// memClient answers with its name; it records the order of calls.
type memClient struct {
	name  string
	mu    *sync.Mutex
	calls *[]string
	n     int // replies of List
}

func (c memClient) Say(ctx context.Context, in *string, opts ...grpc.CallOption) (*string, error) {
	c.mu.Lock()
	*c.calls = append(*c.calls, c.name)
	c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, status.FromContextError(err).Err()
	}
	out := c.name + ":" + *in
	return &out, nil
}

func (c memClient) List(ctx context.Context, in *string, opts ...grpc.CallOption) (grpc.ServerStreamingClient[string], error) {
	return &memStream{ctx: ctx, name: c.name, left: c.n}, nil
}

type memStream struct {
	grpc.ClientStream
	ctx  context.Context
	name string
	left int
}

func (s *memStream) Recv() (*string, error) {
	if err := s.ctx.Err(); err != nil {
		return nil, status.FromContextError(err).Err()
	}
	if s.left == 0 {
		return nil, io.EOF
	}
	s.left--
	return &s.name, nil
}

func memTargets(t *testing.T, n int, opts ...fanout.Option) (*fanout.Targets[client], *[]string) {
	t.Helper()
	var mu sync.Mutex
	calls := new([]string)
	m := map[string]client{}
	for _, name := range []string{"d", "b", "a", "c"} {
		m[name] = memClient{name: name, mu: &mu, calls: calls, n: n}
	}
	targets, err := fanout.NewTargets(m, opts...)
	if err != nil {
		t.Fatal(err)
	}
	// The targets are a copy.
	delete(m, "a")
	return targets, calls
}

func TestNames(t *testing.T) {
	targets, _ := memTargets(t, 0)
	names := targets.Names()
	if want := []string{"a", "b", "c", "d"}; !slices.Equal(names, want) {
		t.Fatalf("Names() = %q, want %q", names, want)
	}
	names[0] = "z"
	if targets.Names()[0] != "a" {
		t.Error("Names returned the internal slice")
	}
}

// With a limit of one, targets are called one after the other, in name
// order.
func TestUnarySequential(t *testing.T) {
	targets, calls := memTargets(t, 0, fanout.Concurrency(1))
	in := "x"
	results := fanout.Unary(t.Context(), targets, &in, client.Say)
	if want := []string{"a", "b", "c", "d"}; !slices.Equal(*calls, want) {
		t.Errorf("calls %q, want %q", *calls, want)
	}
	for _, r := range results {
		if r.Err != nil || *r.Reply != r.Target+":x" {
			t.Errorf("%s: %v, %v", r.Target, r.Reply, r.Err)
		}
	}
}

// The caller's call options are shared by concurrent calls and never
// written to (run with -race: a slice with spare capacity would be
// appended to by every call).
func TestUnaryOptionsNotShared(t *testing.T) {
	targets, _ := memTargets(t, 0)
	opts := make([]grpc.CallOption, 1, 8)
	opts[0] = grpc.WaitForReady(true)
	in := "x"
	for range 20 {
		for _, r := range fanout.Unary(t.Context(), targets, &in, client.Say, opts...) {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
	}
	if opts[:cap(opts)][1] != nil {
		t.Error("the caller's option slice was written to")
	}
}

func TestUnaryCancelledBefore(t *testing.T) {
	targets, calls := memTargets(t, 0)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	in := "x"
	for _, r := range fanout.Unary(ctx, targets, &in, client.Say) {
		if status.Code(r.Err) != codes.Canceled || r.Reply != nil {
			t.Errorf("%s: %v, %v; want Canceled", r.Target, r.Reply, r.Err)
		}
	}
	if len(*calls) != 0 {
		t.Errorf("targets %q were called with a cancelled context", *calls)
	}
}

func TestStreamEnd(t *testing.T) {
	targets, _ := memTargets(t, 3, fanout.Concurrency(2), fanout.TargetTimeout(time.Minute))
	in := "x"
	stream, err := fanout.ServerStream(t.Context(), targets, &in, client.List)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for {
		m, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil || m.Err != nil || *m.Reply != m.Target {
			t.Fatalf("Recv: %+v, %v", m, err)
		}
		count[m.Target]++
	}
	if want := map[string]int{"a": 3, "b": 3, "c": 3, "d": 3}; !maps.Equal(count, want) {
		t.Errorf("messages per target %v, want %v", count, want)
	}
	for range 2 {
		if _, err := stream.Recv(); err != io.EOF {
			t.Errorf("Recv after the end: %v, want io.EOF", err)
		}
	}
	if err := stream.Close(); err != nil {
		t.Error(err)
	}
	if _, err := stream.Recv(); !errors.Is(err, fanout.ErrClosed) {
		t.Errorf("Recv after Close: %v, want ErrClosed", err)
	}
}

func TestStreamDeadline(t *testing.T) {
	targets, _ := memTargets(t, 1000)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	in := "x"
	stream, err := fanout.ServerStream(ctx, targets, &in, client.List)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	<-ctx.Done()
	if _, err := stream.Recv(); status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("Recv after the deadline: %v, want DeadlineExceeded", err)
	}
}

// Many targets under a small limit: every one answers, in name order.
func TestManyTargets(t *testing.T) {
	var mu sync.Mutex
	calls := new([]string)
	m := map[string]client{}
	for i := range 1000 {
		name := fmt.Sprintf("t%04d", i)
		m[name] = memClient{name: name, mu: &mu, calls: calls, n: 2}
	}
	targets, err := fanout.NewTargets(m, fanout.Concurrency(10))
	if err != nil {
		t.Fatal(err)
	}
	in := "x"
	results := fanout.Unary(t.Context(), targets, &in, client.Say)
	for i, r := range results {
		if want := fmt.Sprintf("t%04d", i); r.Target != want || r.Err != nil || *r.Reply != want+":x" {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	stream, err := fanout.ServerStream(t.Context(), targets, &in, client.List)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2000 {
		t.Errorf("%d messages, want 2000", n)
	}
}
