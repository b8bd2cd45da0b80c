package polyrpc

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
)

// Message size limits, with grpc-go's defaults: a server receives messages
// of at most 4 MiB and sends messages of any size up to 2 GiB; a client
// (NewClientConn) receives at most 4 MiB.
const (
	defaultMaxRecvMsgSize = 4 << 20
	defaultMaxSendMsgSize = math.MaxInt32
)

// limits are the message size limits of a handler or Server. Zero means the
// default.
type limits struct {
	maxRecv, maxSend int
}

func (l limits) recv() int {
	if l.maxRecv <= 0 {
		return defaultMaxRecvMsgSize
	}
	return l.maxRecv
}

func (l limits) send() int {
	if l.maxSend <= 0 {
		return defaultMaxSendMsgSize
	}
	return l.maxSend
}

// handlerOptions returns the connect-go options that enforce the limits.
// They go before the user's connect-go options, so that an explicit
// connect.WithReadMaxBytes can lower the limit further.
func (l limits) handlerOptions() []connect.HandlerOption {
	recv := l.recv()
	return []connect.HandlerOption{
		connect.WithReadMaxBytes(recv),
		connect.WithSendMaxBytes(l.send()),
		connect.WithCompression(gzipName, limitedGzip(recv), newGzipWriter),
	}
}

type limitOption struct {
	connect.HandlerOption // a no-op, to make limitOption a connect.HandlerOption
	recv, send            int
}

func (o *limitOption) applyToServer(c *serverConfig) {
	if o.recv != 0 {
		c.limits.maxRecv = o.recv
	}
	if o.send != 0 {
		c.limits.maxSend = o.send
	}
}

// MaxRecvMsgSize returns an [Option] that sets the largest message, in bytes,
// that a handler or Server receives, as grpc.MaxRecvMsgSize does for a
// grpc.Server. The default is grpc-go's, 4 MiB. The limit applies to every
// protocol and to the decompressed size of each message, Connect GET
// requests included: an enveloped message is refused from its declared size,
// before it is read, and a compressed one as soon as it inflates past the
// limit. Such calls fail with ResourceExhausted before any interceptor or
// handler runs.
//
// connect.WithReadMaxBytes, passed after this option, also limits the size
// of messages; with gzip, the smaller of the two applies.
func MaxRecvMsgSize(n int) Option {
	if n <= 0 {
		n = math.MaxInt32
	}
	return &limitOption{HandlerOption: connect.WithHandlerOptions(), recv: n}
}

// MaxSendMsgSize returns an [Option] that sets the largest message, in bytes,
// that a handler or Server sends, as grpc.MaxSendMsgSize does. A larger
// response fails the call with ResourceExhausted. The default is grpc-go's,
// math.MaxInt32.
func MaxSendMsgSize(n int) Option {
	if n <= 0 {
		n = math.MaxInt32
	}
	return &limitOption{HandlerOption: connect.WithHandlerOptions(), send: n}
}

// checkSendSize enforces MaxSendMsgSize on the encoded size of a message
// before it is sent, as grpc-go does; connect-go's own limit only sees the
// compressed size of compressed messages.
func checkSendSize(msg proto.Message, max int) error {
	if max <= 0 {
		return nil
	}
	if n := proto.Size(msg); n > max {
		return connect.NewError(connect.CodeResourceExhausted,
			fmt.Errorf("trying to send message larger than max (%d vs. %d)", n, max))
	}
	return nil
}

const gzipName = "gzip"

// errInflatedTooLarge ends the decompression of a message that has inflated
// past the receive limit. connect-go reads one byte past its limit, then
// reads the rest of the stream to report the size; the decompressor stops
// that second read, so a small compressed bomb costs no more CPU than a
// message of the limit's size.
var errInflatedTooLarge = errors.New("decompressed message exceeds the receive limit")

// limitedGzip returns a gzip decompressor constructor whose decompressors
// stop max+1 bytes into a message.
func limitedGzip(max int) func() connect.Decompressor {
	return func() connect.Decompressor {
		return &limitedDecompressor{d: new(gzip.Reader), max: int64(max)}
	}
}

func newGzipWriter() connect.Compressor { return gzip.NewWriter(nil) }

// limitedDecompressor is a connect.Decompressor that fails once more than
// max+1 bytes have been read from it.
type limitedDecompressor struct {
	d   connect.Decompressor
	max int64
	n   int64
}

func (l *limitedDecompressor) Read(p []byte) (int, error) {
	if l.n > l.max {
		return 0, fmt.Errorf("%w (%d bytes)", errInflatedTooLarge, l.max)
	}
	if rest := l.max + 1 - l.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := l.d.Read(p)
	l.n += int64(n)
	return n, err
}

func (l *limitedDecompressor) Reset(r io.Reader) error {
	l.n = 0
	return l.d.Reset(r)
}

func (l *limitedDecompressor) Close() error { return l.d.Close() }
