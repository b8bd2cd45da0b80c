package polyrpc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"golang.org/x/net/http2/hpack"
)

// A cleartext connection is sorted by its first request: a connection whose
// first HTTP/2 request is a gRPC call with the binary protobuf codec goes to
// the Server's grpc-go engine, everything else to net/http. grpc-go clients
// open connections of their own and call only gRPC on them, so the first
// request speaks for the connection.
//
// A grpc-go client sends no request before it has the server's SETTINGS, so
// the sorter sends an empty SETTINGS frame as soon as it has seen the client
// preface. The server that then gets the connection sends its own SETTINGS,
// which HTTP/2 allows. The client acknowledges both; grpc-go ignores the
// extra acknowledgement, while net/http's HTTP/2 server counts
// acknowledgements and would fail the connection, so on that path the first
// SETTINGS acknowledgement is taken out of the stream.

const http2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

const (
	frameHeaderLen    = 9
	frameData         = 0x0
	frameHeaders      = 0x1
	frameSettings     = 0x4
	frameContinuation = 0x9
	flagAck           = 0x1
	flagEndHeaders    = 0x4
	flagPadded        = 0x8
	flagPriority      = 0x20
	// maxSniffFrame is HTTP/2's initial SETTINGS_MAX_FRAME_SIZE: a client
	// may not send larger frames before it has the server's settings.
	maxSniffFrame = 1 << 14
	// maxSniffBytes bounds what is read to find the first request.
	maxSniffBytes = 64 << 10
)

// emptySettings is an HTTP/2 SETTINGS frame with no parameters.
var emptySettings = []byte{0, 0, 0, frameSettings, 0, 0, 0, 0, 0}

// sniffResult is what sniffConn learned of a connection.
type sniffResult struct {
	// grpc is set when the connection's first request is a gRPC call with
	// the binary protobuf codec.
	grpc bool
	// h2 is set when the sorter sent its SETTINGS frame: the connection then
	// holds its acknowledgement.
	h2 bool
	// peeked is set when the connection was sorted from bytes it still
	// holds: it is to be served as it is.
	peeked bool
	// buf holds the bytes read, to be read again by the server that gets the
	// connection.
	buf []byte
}

// verdict is what the bytes of a connection seen so far say.
type verdict int

const (
	needMore verdict = iota // not enough bytes yet
	notGRPC                 // HTTP/1.x, or HTTP/2 whose first request is no proto gRPC call
	isGRPC                  // HTTP/2 whose first request is a proto gRPC call
)

// classify reads the start of a connection: the HTTP/2 client preface, then
// frames up to the end of the first HEADERS block. preface reports whether
// the whole preface is there.
func classify(buf []byte) (v verdict, preface bool) {
	n := min(len(buf), len(http2Preface))
	if string(buf[:n]) != http2Preface[:n] {
		return notGRPC, false // HTTP/1.x
	}
	if n < len(http2Preface) {
		return needMore, false
	}
	var block []byte
	inHeaders := false
	off := len(http2Preface)
	for {
		if len(buf) < off+frameHeaderLen {
			return needMore, true
		}
		length := int(buf[off])<<16 | int(buf[off+1])<<8 | int(buf[off+2])
		typ, flags := buf[off+3], buf[off+4]
		stream := binary.BigEndian.Uint32(buf[off+5:]) & 0x7fffffff
		if length > maxSniffFrame || off+frameHeaderLen+length > maxSniffBytes {
			return notGRPC, true // not for sorting: net/http decides
		}
		if len(buf) < off+frameHeaderLen+length {
			return needMore, true
		}
		payload := buf[off+frameHeaderLen : off+frameHeaderLen+length]
		off += frameHeaderLen + length
		switch {
		case inHeaders && typ != frameContinuation:
			return notGRPC, true // not HTTP/2 as it should be: net/http says so
		case typ == frameHeaders && stream != 0:
			frag, ok := headerFragment(payload, flags)
			if !ok {
				return notGRPC, true
			}
			block = append(block[:0], frag...)
			inHeaders = flags&flagEndHeaders == 0
		case typ == frameContinuation && inHeaders:
			block = append(block, payload...)
			inHeaders = flags&flagEndHeaders == 0
		default:
			continue
		}
		if !inHeaders {
			if isProtoGRPC(block) {
				return isGRPC, true
			}
			return notGRPC, true
		}
	}
}

// sniffConn sorts a cleartext connection by its first bytes: it waits
// prefaceWait for them and, on an HTTP/2 connection, firstCallWait for the
// first request; a connection still undecided then goes to net/http. It
// returns an error only when the connection failed.
//
// It first looks at the bytes the connection holds without reading them
// (peekConn). When they decide (an HTTP/1.x request, or HTTP/2 up to its
// first request, as Go's HTTP/2 client sends it), the connection goes on
// untouched. Otherwise (a grpc-go client waits for the server's SETTINGS)
// it reads, sends SETTINGS, and the bytes read are replayed.
func sniffConn(c net.Conn, prefaceWait, firstCallWait time.Duration) (res sniffResult, err error) {
	_ = c.SetReadDeadline(time.Now().Add(prefaceWait))
	defer c.SetReadDeadline(time.Time{})
	buf := make([]byte, 4096)
	if n, ok, err := peekConn(c, buf); ok {
		if err != nil {
			return res, ignoreTimeout(err)
		}
		switch v, _ := classify(buf[:n]); v {
		case isGRPC:
			return sniffResult{grpc: true, peeked: true}, nil
		case notGRPC:
			return sniffResult{peeked: true}, nil
		}
	}

	buf = buf[:0]
	defer func() { res.buf = buf }()
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= maxSniffBytes {
				return res, nil
			}
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		v, preface := classify(buf)
		switch {
		case v == isGRPC:
			res.grpc = true
			return res, nil
		case v == notGRPC:
			return res, nil
		case err != nil:
			return res, ignoreTimeout(err)
		case preface && !res.h2:
			res.h2 = true
			if _, err := c.Write(emptySettings); err != nil {
				return res, err
			}
			_ = c.SetReadDeadline(time.Now().Add(firstCallWait))
		}
	}
}

// ignoreTimeout drops the error of a wait that ran out: the connection goes
// on to net/http as it is.
func ignoreTimeout(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	return err
}

// headerFragment returns the header block fragment of a HEADERS frame.
func headerFragment(payload []byte, flags byte) ([]byte, bool) {
	pad := 0
	if flags&flagPadded != 0 {
		if len(payload) < 1 {
			return nil, false
		}
		pad = int(payload[0])
		payload = payload[1:]
	}
	if flags&flagPriority != 0 {
		if len(payload) < 5 {
			return nil, false
		}
		payload = payload[5:]
	}
	if pad > len(payload) {
		return nil, false
	}
	return payload[:len(payload)-pad], true
}

// isProtoGRPC reports whether a request's header block is that of a gRPC
// call with the protobuf codec.
func isProtoGRPC(block []byte) bool {
	var contentType string
	n := 0
	dec := hpack.NewDecoder(4096, func(f hpack.HeaderField) {
		n++
		if f.Name == "content-type" {
			contentType = f.Value
		}
	})
	dec.SetMaxStringLength(maxSniffBytes)
	if _, err := dec.Write(block); err != nil || dec.Close() != nil {
		return false
	}
	switch strings.ToLower(contentType) {
	case "application/grpc", "application/grpc+proto":
		return true
	}
	return false
}

// replayConn is a connection whose first bytes were read already.
type replayConn struct {
	net.Conn
	r io.Reader
}

func newReplayConn(c net.Conn, buf []byte) *replayConn {
	return &replayConn{Conn: c, r: io.MultiReader(bytes.NewReader(buf), c)}
}

func (c *replayConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// NetConn returns the connection under c.
func (c *replayConn) NetConn() net.Conn { return c.Conn }

// settingsAckFilter reads an HTTP/2 connection's bytes from their start,
// the client preface included, and leaves out the first SETTINGS
// acknowledgement: the one for the sorter's SETTINGS frame.
type settingsAckFilter struct {
	r       io.Reader
	skip    int // preface bytes still to pass
	rest    int // bytes of the current frame still to pass
	hdr     [frameHeaderLen]byte
	hdrLen  int // bytes of the next frame header read so far
	pending []byte
	done    bool
}

func newSettingsAckFilter(r io.Reader) *settingsAckFilter {
	return &settingsAckFilter{r: r, skip: len(http2Preface)}
}

func (f *settingsAckFilter) Read(p []byte) (int, error) {
	for {
		if len(f.pending) > 0 {
			n := copy(p, f.pending)
			f.pending = f.pending[n:]
			return n, nil
		}
		if f.done {
			return f.r.Read(p)
		}
		if f.skip > 0 || f.rest > 0 {
			want := f.skip + f.rest
			if len(p) > want {
				p = p[:want]
			}
			n, err := f.r.Read(p)
			if f.skip > 0 {
				d := min(n, f.skip)
				f.skip -= d
				f.rest -= n - d
			} else {
				f.rest -= n
			}
			return n, err
		}
		// At a frame boundary: read the whole frame header first.
		n, err := f.r.Read(f.hdr[f.hdrLen:])
		f.hdrLen += n
		if f.hdrLen < frameHeaderLen {
			if err != nil {
				f.pending = append([]byte(nil), f.hdr[:f.hdrLen]...)
				f.done = true
				if len(f.pending) > 0 {
					continue
				}
				return 0, err
			}
			continue
		}
		f.hdrLen = 0
		length := int(f.hdr[0])<<16 | int(f.hdr[1])<<8 | int(f.hdr[2])
		if f.hdr[3] == frameSettings && f.hdr[4]&flagAck != 0 && length == 0 {
			f.done = true // dropped
			continue
		}
		f.pending = append(f.pending[:0], f.hdr[:]...)
		f.rest = length
	}
}

// filteredConn is a replayed HTTP/2 connection without the sorter's
// SETTINGS acknowledgement.
type filteredConn struct {
	net.Conn
	f *settingsAckFilter
}

func (c *filteredConn) Read(p []byte) (int, error) { return c.f.Read(p) }

// NetConn returns the connection under c.
func (c *filteredConn) NetConn() net.Conn { return c.Conn }
