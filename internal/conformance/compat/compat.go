// Package compat holds what the conformance server and client under test
// share: the size-delimited message framing the conformance runner speaks on
// stdin/stdout, TLS configuration from the runner's credentials, and the
// conversions between the runner's messages and grpc-go's metadata and
// status errors.
package compat

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"connectrpc.com/connect"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	conformancev1 "github.com/polyrpc/polyrpc/internal/conformance/gen/connectrpc/conformance/v1"
)

// maxMessageSize bounds one message read from the runner.
const maxMessageSize = 64 << 20

// ReadMessage reads one message framed by a 4-byte big-endian length prefix.
// It returns io.EOF only when the input ends cleanly between two messages.
func ReadMessage(r io.Reader, msg proto.Message) error {
	var prefix [4]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return fmt.Errorf("read length prefix: %w", err)
	}
	size := binary.BigEndian.Uint32(prefix[:])
	if size > maxMessageSize {
		return fmt.Errorf("message of %d bytes exceeds the limit of %d bytes", size, maxMessageSize)
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(r, data); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("read message: %w", err)
	}
	if err := proto.Unmarshal(data, msg); err != nil {
		return fmt.Errorf("unmarshal %s: %w", msg.ProtoReflect().Descriptor().FullName(), err)
	}
	return nil
}

// WriteMessage writes msg framed by a 4-byte big-endian length prefix, in a
// single Write call.
func WriteMessage(w io.Writer, msg proto.Message) error {
	data, err := proto.Marshal(msg)
	if err != nil {
		return fmt.Errorf("marshal %s: %w", msg.ProtoReflect().Descriptor().FullName(), err)
	}
	buf := make([]byte, 4, 4+len(data))
	binary.BigEndian.PutUint32(buf, uint32(len(data)))
	buf = append(buf, data...)
	_, err = w.Write(buf)
	return err
}

// ServerTLSConfig returns the TLS configuration for a server that presents
// the PEM certificate and key, and requires and verifies client certificates
// signed by clientCA when clientCA is not empty.
func ServerTLSConfig(certPEM, keyPEM, clientCA []byte) (*tls.Config, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("server certificate: %w", err)
	}
	conf := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	}
	if len(clientCA) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(clientCA) {
			return nil, errors.New("client CA certificate: no PEM certificate found")
		}
		conf.ClientCAs = pool
		conf.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return conf, nil
}

// ClientTLSConfig returns the TLS configuration for a client that trusts the
// server's PEM certificate and, when creds is not nil, presents the client
// certificate it holds.
func ClientTLSConfig(serverCert []byte, creds *conformancev1.TLSCreds) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(serverCert) {
		return nil, errors.New("server certificate: no PEM certificate found")
	}
	conf := &tls.Config{
		RootCAs:    pool,
		MinVersion: tls.VersionTLS12,
	}
	if creds != nil {
		cert, err := tls.X509KeyPair(creds.GetCert(), creds.GetKey())
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}

// ToMetadata converts the runner's headers to grpc-go metadata. Values of
// binary ("-bin") keys arrive base64-encoded and are decoded, as grpc-go
// metadata holds them raw.
func ToMetadata(headers []*conformancev1.Header) metadata.MD {
	md := make(metadata.MD, len(headers))
	for _, h := range headers {
		key := strings.ToLower(h.GetName())
		for _, v := range h.GetValue() {
			if strings.HasSuffix(key, "-bin") {
				if raw, err := connect.DecodeBinaryHeader(v); err == nil {
					v = string(raw)
				}
			}
			md[key] = append(md[key], v)
		}
	}
	return md
}

// FromMetadata converts grpc-go metadata to the runner's headers, sorted by
// name. Values of binary ("-bin") keys are base64-encoded.
func FromMetadata(md metadata.MD) []*conformancev1.Header {
	headers := make([]*conformancev1.Header, 0, len(md))
	for key, values := range md {
		h := &conformancev1.Header{Name: key, Value: slices.Clone(values)}
		if strings.HasSuffix(key, "-bin") {
			for i, v := range h.Value {
				h.Value[i] = connect.EncodeBinaryHeader([]byte(v))
			}
		}
		headers = append(headers, h)
	}
	slices.SortFunc(headers, func(a, b *conformancev1.Header) int { return strings.Compare(a.Name, b.Name) })
	return headers
}

// ToStatusError converts the runner's error definition to a grpc-go status
// error carrying the same code, message and details.
func ToStatusError(e *conformancev1.Error) error {
	return status.ErrorProto(&statuspb.Status{
		Code:    int32(e.GetCode()),
		Message: e.GetMessage(),
		Details: e.GetDetails(),
	})
}

// FromStatusError converts an error returned by a grpc-go style client to the
// runner's error message. The details are passed on as received, so detail
// types unknown to this program survive.
func FromStatusError(err error) *conformancev1.Error {
	st, _ := status.FromError(err)
	pb := st.Proto()
	return &conformancev1.Error{
		Code:    conformancev1.Code(pb.GetCode()),
		Message: proto.String(pb.GetMessage()),
		Details: pb.GetDetails(),
	}
}
