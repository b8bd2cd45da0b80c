// Command client is the client under test of the Connect conformance suite.
//
// It reads connectrpc.conformance.v1.ClientCompatRequest messages
// (size-delimited protobuf) from stdin until EOF, runs each through the
// generated ConformanceServiceClient on a polyrpc.ClientConn with the
// protocol, codec, compression, HTTP version and TLS settings the case asks
// for, and writes one ClientCompatResponse per case to stdout:
//
//	go tool -modfile=tools/go.mod connectconformance \
//	  --conf internal/conformance/config.yaml --mode client -- ./client
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"

	"connectrpc.com/connect"

	"github.com/polyrpc/polyrpc"
	"github.com/polyrpc/polyrpc/internal/conformance/compat"
	conformancev1 "github.com/polyrpc/polyrpc/internal/conformance/gen/connectrpc/conformance/v1"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	flags := flag.NewFlagSet("client", flag.ContinueOnError)
	parallel := flags.Int("p", 4*runtime.GOMAXPROCS(0), "number of cases run in parallel")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() != 0 {
		return errors.New("no positional arguments expected")
	}
	if *parallel < 1 {
		return errors.New("-p must be at least 1")
	}

	var (
		clients  httpClients
		wg       sync.WaitGroup
		outMu    sync.Mutex
		outErr   error
		sem      = make(chan struct{}, *parallel)
		ctx      = context.Background()
		writeOut = func(resp *conformancev1.ClientCompatResponse) {
			outMu.Lock()
			defer outMu.Unlock()
			if outErr == nil {
				outErr = compat.WriteMessage(stdout, resp)
			}
		}
	)
	for {
		req := &conformancev1.ClientCompatRequest{}
		err := compat.ReadMessage(stdin, req)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			wg.Wait()
			return err
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			resp := &conformancev1.ClientCompatResponse{TestName: req.GetTestName()}
			result, err := invoke(ctx, &clients, req)
			if err != nil {
				resp.Result = &conformancev1.ClientCompatResponse_Error{
					Error: &conformancev1.ClientErrorResult{Message: err.Error()},
				}
			} else {
				resp.Result = &conformancev1.ClientCompatResponse_Response{Response: result}
			}
			writeOut(resp)
		})
	}
	wg.Wait()
	return outErr
}

// invoke runs one case through a polyrpc.ClientConn configured as the case
// asks.
func invoke(ctx context.Context, clients *httpClients, req *conformancev1.ClientCompatRequest) (*conformancev1.ClientResponseResult, error) {
	if svc := req.GetService(); svc != conformancev1.ConformanceService_ServiceDesc.ServiceName {
		return nil, fmt.Errorf("unknown service %q", svc)
	}
	httpClient, scheme, err := clients.get(req)
	if err != nil {
		return nil, err
	}
	opts := []connect.ClientOption{connect.WithHTTPGet()}
	switch req.GetProtocol() {
	case conformancev1.Protocol_PROTOCOL_CONNECT:
	case conformancev1.Protocol_PROTOCOL_GRPC:
		opts = append(opts, connect.WithGRPC())
	case conformancev1.Protocol_PROTOCOL_GRPC_WEB:
		opts = append(opts, connect.WithGRPCWeb())
	default:
		return nil, fmt.Errorf("protocol %v is not supported", req.GetProtocol())
	}
	switch req.GetCodec() {
	case conformancev1.Codec_CODEC_PROTO:
	case conformancev1.Codec_CODEC_JSON:
		opts = append(opts, connect.WithProtoJSON())
	case conformancev1.Codec_CODEC_TEXT: //nolint:staticcheck // deprecated by the runner, still served
		opts = append(opts, polyrpc.WithProtoText())
	default:
		return nil, fmt.Errorf("codec %v is not supported", req.GetCodec())
	}
	compression, err := compat.ClientCompression(req.GetCompression())
	if err != nil {
		return nil, err
	}
	opts = append(opts, compression...)
	if limit := req.GetMessageReceiveLimit(); limit > 0 {
		opts = append(opts, connect.WithReadMaxBytes(int(limit)))
	}
	baseURL := scheme + "://" + net.JoinHostPort(req.GetHost(), strconv.Itoa(int(req.GetPort())))
	conn := polyrpc.NewClientConn(httpClient, baseURL, opts...)
	return newInvoker(conformancev1.NewConformanceServiceClient(conn)).invoke(ctx, req)
}

// transportKey identifies the HTTP clients that can be shared between cases.
type transportKey struct {
	version                           conformancev1.HTTPVersion
	serverCert, clientCert, clientKey string
	// Cases that cancel on HTTP/1.1 get connections of their own: a canceled
	// request closes its connection, and must not take a request of another
	// case down with it.
	noKeepAlive bool
}

// httpClients caches one *http.Client per transportKey.
type httpClients struct {
	cache sync.Map // transportKey → *http.Client
}

// get returns the HTTP client and URL scheme for the case's HTTP version and
// TLS settings.
func (c *httpClients) get(req *conformancev1.ClientCompatRequest) (*http.Client, string, error) {
	key := transportKey{
		version:    req.GetHttpVersion(),
		serverCert: string(req.GetServerTlsCert()),
		clientCert: string(req.GetClientTlsCreds().GetCert()),
		clientKey:  string(req.GetClientTlsCreds().GetKey()),
		noKeepAlive: req.GetHttpVersion() == conformancev1.HTTPVersion_HTTP_VERSION_1 &&
			(req.GetCancel() != nil || req.TimeoutMs != nil),
	}
	scheme := "http"
	if key.serverCert != "" {
		scheme = "https"
	}
	if cached, ok := c.cache.Load(key); ok {
		return cached.(*http.Client), scheme, nil
	}
	if key.version == conformancev1.HTTPVersion_HTTP_VERSION_3 {
		if key.serverCert == "" {
			return nil, "", errors.New("HTTP/3 requested without TLS")
		}
		conf, err := compat.ClientTLSConfig(req.GetServerTlsCert(), req.GetClientTlsCreds())
		if err != nil {
			return nil, "", err
		}
		actual, _ := c.cache.LoadOrStore(key, &http.Client{Transport: newH3Transport(conf)})
		return actual.(*http.Client), scheme, nil
	}
	transport := &http.Transport{
		DisableCompression: true,
		DisableKeepAlives:  key.noKeepAlive,
		Protocols:          new(http.Protocols),
	}
	if key.serverCert != "" {
		conf, err := compat.ClientTLSConfig(req.GetServerTlsCert(), req.GetClientTlsCreds())
		if err != nil {
			return nil, "", err
		}
		transport.TLSClientConfig = conf
	} else if req.GetClientTlsCreds() != nil {
		return nil, "", errors.New("client certificate given without a server certificate")
	}
	switch key.version {
	case conformancev1.HTTPVersion_HTTP_VERSION_1:
		transport.Protocols.SetHTTP1(true)
	case conformancev1.HTTPVersion_HTTP_VERSION_2:
		if scheme == "https" {
			transport.Protocols.SetHTTP2(true)
		} else {
			transport.Protocols.SetUnencryptedHTTP2(true)
		}
	default:
		return nil, "", fmt.Errorf("HTTP version %v is not supported", key.version)
	}
	actual, _ := c.cache.LoadOrStore(key, &http.Client{Transport: transport})
	return actual.(*http.Client), scheme, nil
}
