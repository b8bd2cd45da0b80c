package gateway

import (
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// accessLog writes one line per call:
//
//	2026-01-02T15:04:05.000Z method=/pkg.Service/Method protocol=connect backend=orders code=OK duration=1.2ms peer=127.0.0.1:52614
//
// backend is "-" for the gateway's own services, the names of the chosen
// backends joined by "," for fan-out calls.
type accessLog struct {
	mu sync.Mutex
	w  io.Writer
}

// openLog opens the access log's destination.
func openLog(dest string) (io.Writer, func() error, error) {
	switch dest {
	case "", "stderr":
		return os.Stderr, nil, nil
	case "stdout":
		return os.Stdout, nil, nil
	case "off":
		return nil, nil, nil
	}
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}

type recordKey struct{}

// callRecord is what the director of a call tells the access log.
type callRecord struct {
	backend string
}

// recordBackend notes the backend of the call of ctx for the access log.
func recordBackend(ctx context.Context, name string) {
	if r, ok := ctx.Value(recordKey{}).(*callRecord); ok {
		r.backend = name
	}
}

func (l *accessLog) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	l.write(ctx, start, info.FullMethod, "-", err)
	return resp, err
}

func (l *accessLog) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	rec := &callRecord{backend: "-"}
	ctx := ss.Context()
	err := handler(srv, &recordStream{ServerStream: ss, ctx: context.WithValue(ctx, recordKey{}, rec)})
	l.write(ctx, start, info.FullMethod, rec.backend, err)
	return err
}

type recordStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *recordStream) Context() context.Context { return s.ctx }

func (l *accessLog) write(ctx context.Context, start time.Time, method, backend string, err error) {
	d := time.Since(start)
	code := status.Code(err)
	if err != nil {
		if s, ok := status.FromError(err); ok {
			code = s.Code()
		} else if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			code = status.FromContextError(err).Code()
		}
	}
	b := make([]byte, 0, 160)
	b = start.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, " method="...)
	b = appendValue(b, method)
	b = append(b, " protocol="...)
	b = append(b, protocol(ctx)...)
	b = append(b, " backend="...)
	b = appendValue(b, backend)
	b = append(b, " code="...)
	b = append(b, code.String()...)
	b = append(b, " duration="...)
	b = append(b, d.Round(time.Microsecond).String()...)
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		b = append(b, " peer="...)
		b = appendValue(b, p.Addr.String())
	}
	b = append(b, '\n')
	l.mu.Lock()
	_, _ = l.w.Write(b)
	l.mu.Unlock()
}

// appendValue appends v, quoted when it holds blanks, quotes or control
// characters (a method name comes from the caller).
func appendValue(b []byte, v string) []byte {
	if v == "" || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == '"' || r == 0x7f || r > 0x7e }) {
		return strconv.AppendQuote(b, v)
	}
	return append(b, v...)
}

// protocol names the caller's protocol from its content type.
func protocol(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	ct := ""
	if v := md.Get("content-type"); len(v) > 0 {
		ct = strings.ToLower(v[0])
	}
	switch {
	case strings.HasPrefix(ct, "application/grpc-web"):
		return "grpcweb"
	case strings.HasPrefix(ct, "application/grpc"):
		return "grpc"
	}
	return "connect"
}
