package compat

import (
	"compress/zlib"
	"fmt"
	"io"

	"connectrpc.com/connect"
	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"

	"github.com/polyrpc/polyrpc"
	conformancev1 "github.com/polyrpc/polyrpc/internal/conformance/gen/connectrpc/conformance/v1"
)

// algorithm is a compression connect-go can be taught through
// connect.WithCompression and connect.WithAcceptCompression.
type algorithm struct {
	name            string
	newDecompressor func() connect.Decompressor
	newCompressor   func() connect.Compressor
}

// algorithms are the compressions beyond connect-go's built-in gzip, in the
// names HTTP and gRPC use for them. "deflate" is the zlib format (RFC 1950),
// as in HTTP and gRPC.
var algorithms = map[conformancev1.Compression]algorithm{
	conformancev1.Compression_COMPRESSION_BR: {
		name:            "br",
		newDecompressor: func() connect.Decompressor { return &brotliReader{r: brotli.NewReader(nil)} },
		newCompressor:   func() connect.Compressor { return brotli.NewWriter(nil) },
	},
	conformancev1.Compression_COMPRESSION_ZSTD: {
		name: "zstd",
		newDecompressor: func() connect.Decompressor {
			// Concurrency 1 decodes synchronously, without goroutines
			// that would outlive a pooled decoder.
			d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
			if err != nil {
				panic(err) // only on invalid options
			}
			return &zstdReader{d: d}
		},
		newCompressor: func() connect.Compressor {
			e, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
			if err != nil {
				panic(err) // only on invalid options
			}
			return e
		},
	},
	conformancev1.Compression_COMPRESSION_DEFLATE: {
		name:            "deflate",
		newDecompressor: func() connect.Decompressor { return &zlibReader{} },
		newCompressor:   func() connect.Compressor { return zlib.NewWriter(nil) },
	},
	conformancev1.Compression_COMPRESSION_SNAPPY: {
		name:            "snappy",
		newDecompressor: func() connect.Decompressor { return &snappyReader{r: snappy.NewReader(nil)} },
		newCompressor:   func() connect.Compressor { return snappy.NewBufferedWriter(nil) },
	},
}

// serverOrder is the order in which servers offer the algorithms.
var serverOrder = []conformancev1.Compression{
	conformancev1.Compression_COMPRESSION_ZSTD,
	conformancev1.Compression_COMPRESSION_SNAPPY,
	conformancev1.Compression_COMPRESSION_DEFLATE,
	conformancev1.Compression_COMPRESSION_BR,
}

// HandlerCompressions returns the handler options that let a connect-go
// handler accept and answer in every compression beyond gzip.
func HandlerCompressions() []connect.HandlerOption {
	opts := make([]connect.HandlerOption, 0, len(serverOrder))
	for _, c := range serverOrder {
		a := algorithms[c]
		opts = append(opts, connect.WithCompression(a.name, a.newDecompressor, a.newCompressor))
	}
	return opts
}

// ServerCompressions returns the same algorithms as HandlerCompressions, as
// polyrpc options, which also reach the native gRPC path of Server.Serve.
func ServerCompressions() []polyrpc.Option {
	opts := make([]polyrpc.Option, 0, len(serverOrder))
	for _, c := range serverOrder {
		a := algorithms[c]
		opts = append(opts, polyrpc.Compression(a.name, a.newDecompressor, a.newCompressor))
	}
	return opts
}

// ClientCompression returns the client options that make a connect-go client
// compress its requests with c (and accept responses in it).
func ClientCompression(c conformancev1.Compression) ([]connect.ClientOption, error) {
	switch c {
	case conformancev1.Compression_COMPRESSION_UNSPECIFIED, conformancev1.Compression_COMPRESSION_IDENTITY:
		return nil, nil
	case conformancev1.Compression_COMPRESSION_GZIP:
		return []connect.ClientOption{connect.WithSendGzip()}, nil
	}
	a, ok := algorithms[c]
	if !ok {
		return nil, fmt.Errorf("compression %v is not supported", c)
	}
	return []connect.ClientOption{
		connect.WithAcceptCompression(a.name, a.newDecompressor, a.newCompressor),
		connect.WithSendCompression(a.name),
	}, nil
}

// zlibReader adapts compress/zlib, whose reader needs its source (it reads
// the header) when created, to connect.Decompressor.
type zlibReader struct {
	r io.ReadCloser
}

func (z *zlibReader) Read(p []byte) (int, error) {
	if z.r == nil {
		return 0, io.ErrUnexpectedEOF
	}
	return z.r.Read(p)
}

func (z *zlibReader) Reset(src io.Reader) error {
	if z.r == nil {
		r, err := zlib.NewReader(src)
		if err != nil {
			return err
		}
		z.r = r
		return nil
	}
	return z.r.(zlib.Resetter).Reset(src, nil)
}

func (z *zlibReader) Close() error {
	if z.r == nil {
		return nil
	}
	return z.r.Close()
}

// brotliReader adds the Close that connect.Decompressor requires.
type brotliReader struct {
	r *brotli.Reader
}

func (b *brotliReader) Read(p []byte) (int, error) { return b.r.Read(p) }
func (b *brotliReader) Reset(src io.Reader) error  { return b.r.Reset(src) }
func (b *brotliReader) Close() error               { return nil }

// zstdReader adapts zstd.Decoder, whose Close ends the decoder for good, to a
// pooled connect.Decompressor.
type zstdReader struct {
	d *zstd.Decoder
}

func (z *zstdReader) Read(p []byte) (int, error) { return z.d.Read(p) }
func (z *zstdReader) Reset(src io.Reader) error  { return z.d.Reset(src) }
func (z *zstdReader) Close() error               { return nil }

// snappyReader adapts the snappy framing-format reader to
// connect.Decompressor.
type snappyReader struct {
	r *snappy.Reader
}

func (s *snappyReader) Read(p []byte) (int, error) { return s.r.Read(p) }
func (s *snappyReader) Reset(src io.Reader) error  { s.r.Reset(src); return nil }
func (s *snappyReader) Close() error               { return nil }
