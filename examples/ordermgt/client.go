package ordermgt

import (
	"fmt"
	"net/http"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/polyrpc/polyrpc"
)

// The three wire protocols a client can speak.
const (
	ProtocolConnect = "connect"
	ProtocolGRPC    = "grpc"
	ProtocolGRPCWeb = "grpcweb"
)

// ClientConfig says how to reach the server.
type ClientConfig struct {
	Addr     string // host:port
	Protocol string // ProtocolConnect (default), ProtocolGRPC or ProtocolGRPCWeb
	// Engine is EngineHTTP (default): polyrpc.NewClientConn on net/http, any
	// protocol; or EngineGRPC: grpc-go's grpc.NewClient, gRPC only.
	Engine string
	// HTTP1 makes the net/http engine use HTTP/1.1 instead of h2c. Every
	// method kind but bidirectional streaming works on it.
	HTTP1 bool
}

// Dial returns a connection for the generated clients, such as
// ecommercev1.NewOrderManagementClient, and a function that releases it.
// Whichever engine and protocol is chosen, the code that uses the
// connection stays the same.
func Dial(cfg ClientConfig) (grpc.ClientConnInterface, func() error, error) {
	protocol := cfg.Protocol
	if protocol == "" {
		protocol = ProtocolConnect
	}
	switch cfg.Engine {
	case EngineHTTP, "":
		var opts []connect.ClientOption
		switch protocol {
		case ProtocolConnect:
		case ProtocolGRPC:
			opts = append(opts, connect.WithGRPC())
		case ProtocolGRPCWeb:
			opts = append(opts, connect.WithGRPCWeb())
		default:
			return nil, nil, fmt.Errorf("unknown protocol %q: want %s, %s or %s", protocol, ProtocolConnect, ProtocolGRPC, ProtocolGRPCWeb)
		}
		var protocols http.Protocols
		if cfg.HTTP1 {
			protocols.SetHTTP1(true)
		} else {
			protocols.SetUnencryptedHTTP2(true) // h2c with prior knowledge
		}
		transport := &http.Transport{Protocols: &protocols}
		hc := &http.Client{Transport: transport}
		conn := polyrpc.NewClientConn(hc, "http://"+cfg.Addr, opts...)
		return conn, func() error { transport.CloseIdleConnections(); return nil }, nil

	case EngineGRPC:
		if protocol != ProtocolGRPC {
			return nil, nil, fmt.Errorf("engine %q speaks only protocol %q, not %q", EngineGRPC, ProtocolGRPC, protocol)
		}
		if cfg.HTTP1 {
			return nil, nil, fmt.Errorf("engine %q needs HTTP/2", EngineGRPC)
		}
		cc, err := grpc.NewClient(cfg.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, nil, err
		}
		return cc, cc.Close, nil

	default:
		return nil, nil, fmt.Errorf("unknown engine %q: want %q or %q", cfg.Engine, EngineHTTP, EngineGRPC)
	}
}
