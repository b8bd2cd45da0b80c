package polyrpc

import (
	"io"
	"sync"

	"connectrpc.com/connect"
	"google.golang.org/grpc/encoding"
)

// compression is a compression algorithm given with the Compression option.
type compression struct {
	name            string
	newDecompressor func() connect.Decompressor
	newCompressor   func() connect.Compressor
}

type compressionOption struct {
	connect.HandlerOption // a no-op, to make it a connect.HandlerOption
	c                     compression
}

func (o *compressionOption) applyToServer(c *serverConfig) {
	c.compressions = append(c.compressions, o.c)
}

// Compression returns an [Option] that adds a compression algorithm to
// gzip, under its HTTP name (such as "br", "zstd", "deflate" or "snappy"),
// for every protocol: callers may send messages compressed with it, and get
// replies compressed with it when they ask. newDecompressor and
// newCompressor make connect-go's Decompressor and Compressor, as for
// connect.WithCompression; unlike that option, the decompressed size of a
// message is held to [MaxRecvMsgSize] as it inflates, so a small
// compression bomb costs little, and the algorithm also reaches the native
// gRPC path of [Server.Serve], through grpc-go's registry of compressors
// (where a compressor of the same name registered first is kept).
func Compression(name string, newDecompressor func() connect.Decompressor, newCompressor func() connect.Compressor) Option {
	return &compressionOption{
		HandlerOption: connect.WithHandlerOptions(),
		c:             compression{name: name, newDecompressor: newDecompressor, newCompressor: newCompressor},
	}
}

// handlerOptions returns the connect-go options of the algorithms, each
// decompressor stopping one byte past the receive limit.
func compressionOptions(cs []compression, maxRecv int) []connect.HandlerOption {
	opts := make([]connect.HandlerOption, 0, len(cs))
	for _, c := range cs {
		newD := c.newDecompressor
		opts = append(opts, connect.WithCompression(c.name, func() connect.Decompressor {
			return &limitedDecompressor{d: newD(), max: int64(maxRecv)}
		}, c.newCompressor))
	}
	return opts
}

// registerGRPCCompressors gives grpc-go the algorithms that have no
// compressor of that name there yet.
func registerGRPCCompressors(cs []compression) {
	grpcCompressorsMu.Lock()
	defer grpcCompressorsMu.Unlock()
	for _, c := range cs {
		if encoding.GetCompressor(c.name) == nil {
			encoding.RegisterCompressor(&grpcCompressor{c: c})
		}
	}
}

var grpcCompressorsMu sync.Mutex

// grpcCompressor is a connect-go compression algorithm in grpc-go's form.
// grpc-go bounds the decompressed size itself.
type grpcCompressor struct {
	c           compression
	compressors sync.Pool
}

func (g *grpcCompressor) Name() string { return g.c.name }

func (g *grpcCompressor) Compress(w io.Writer) (io.WriteCloser, error) {
	comp, _ := g.compressors.Get().(connect.Compressor)
	if comp == nil {
		comp = g.c.newCompressor()
	}
	comp.Reset(w)
	return &pooledCompressor{Compressor: comp, pool: &g.compressors}, nil
}

func (g *grpcCompressor) Decompress(r io.Reader) (io.Reader, error) {
	d := g.c.newDecompressor()
	if err := d.Reset(r); err != nil {
		return nil, err
	}
	return d, nil
}

// pooledCompressor returns its compressor to the pool when closed.
type pooledCompressor struct {
	connect.Compressor
	pool *sync.Pool
}

func (p *pooledCompressor) Close() error {
	err := p.Compressor.Close()
	p.pool.Put(p.Compressor)
	return err
}
