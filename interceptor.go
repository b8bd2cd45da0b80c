package polyrpc

import (
	"context"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
)

// Option configures both a handler built by [NewHandler] (or a generated
// NewXxxHandler) and a [Server]. The options defined in this package are
// Options; connect-go's own handler options are passed to a Server with
// [WithHandlerOptions].
type Option interface {
	connect.HandlerOption
	ServerOption
}

// ServerOption configures a [Server].
type ServerOption interface {
	applyToServer(*serverConfig)
}

type serverConfig struct {
	handlerOptions []connect.HandlerOption
	interceptors   interceptors
	limits         limits
	serve          serveConfig // options of Serve (serve.go)
	nativeOff      bool        // NativeGRPC(false) (native.go)
	compressions   []compression
	unknown        unknownConfig // UnknownServiceHandler and the forced codec (unknown.go)
}

// interceptors holds grpc-go interceptors, and stats handlers, in the order
// they were given.
type interceptors struct {
	unary  []grpc.UnaryServerInterceptor
	stream []grpc.StreamServerInterceptor
	stats  []stats.Handler
}

type interceptorOption struct {
	// The embedded no-op option makes interceptorOption a connect.HandlerOption.
	connect.HandlerOption
	unary  []grpc.UnaryServerInterceptor
	stream []grpc.StreamServerInterceptor
	stats  []stats.Handler
}

func (o *interceptorOption) applyToServer(c *serverConfig) {
	c.interceptors.add(o)
}

func (is *interceptors) add(o *interceptorOption) {
	is.unary = append(is.unary, o.unary...)
	is.stream = append(is.stream, o.stream...)
	is.stats = append(is.stats, o.stats...)
}

// ChainUnaryInterceptor returns an [Option] that applies grpc-go unary server
// interceptors to unary methods. As with grpc.ChainUnaryInterceptor, the first
// interceptor is the outermost one, and the option may be given more than
// once: later interceptors run inside earlier ones.
func ChainUnaryInterceptor(interceptors ...grpc.UnaryServerInterceptor) Option {
	return &interceptorOption{
		HandlerOption: connect.WithHandlerOptions(),
		unary:         interceptors,
	}
}

// ChainStreamInterceptor returns an [Option] that applies grpc-go stream
// server interceptors to streaming methods, in the order of
// grpc.ChainStreamInterceptor.
func ChainStreamInterceptor(interceptors ...grpc.StreamServerInterceptor) Option {
	return &interceptorOption{
		HandlerOption: connect.WithHandlerOptions(),
		stream:        interceptors,
	}
}

type handlerOptionsOption struct {
	options []connect.HandlerOption
}

func (o *handlerOptionsOption) applyToServer(c *serverConfig) {
	for _, opt := range o.options {
		if so, ok := opt.(ServerOption); ok {
			so.applyToServer(c)
			continue
		}
		c.handlerOptions = append(c.handlerOptions, opt)
	}
}

// WithHandlerOptions passes connect-go handler options, such as
// connect.WithReadMaxBytes, connect.WithCompressMinBytes or
// connect.WithInterceptors, to every service of a [Server].
func WithHandlerOptions(options ...connect.HandlerOption) ServerOption {
	return &handlerOptionsOption{options: options}
}

// splitOptions separates polyrpc's own options, which configure the
// translation layer, from connect-go's handler options.
func splitOptions(options []connect.HandlerOption) serverConfig {
	var c serverConfig
	c.handlerOptions = make([]connect.HandlerOption, 0, len(options))
	for _, opt := range options {
		if o, ok := opt.(ServerOption); ok {
			o.applyToServer(&c)
			continue
		}
		c.handlerOptions = append(c.handlerOptions, opt)
	}
	return c
}

// unary returns one interceptor running the chain, or nil.
func (is interceptors) chainUnary() grpc.UnaryServerInterceptor {
	switch len(is.unary) {
	case 0:
		return nil
	case 1:
		return is.unary[0]
	}
	chain := is.unary
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return chain[0](ctx, req, info, unaryStep(chain, 0, info, handler))
	}
}

func unaryStep(chain []grpc.UnaryServerInterceptor, cur int, info *grpc.UnaryServerInfo, final grpc.UnaryHandler) grpc.UnaryHandler {
	if cur == len(chain)-1 {
		return final
	}
	return func(ctx context.Context, req any) (any, error) {
		return chain[cur+1](ctx, req, info, unaryStep(chain, cur+1, info, final))
	}
}

func (is interceptors) chainStream() grpc.StreamServerInterceptor {
	switch len(is.stream) {
	case 0:
		return nil
	case 1:
		return is.stream[0]
	}
	chain := is.stream
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return chain[0](srv, ss, info, streamStep(chain, 0, info, handler))
	}
}

func streamStep(chain []grpc.StreamServerInterceptor, cur int, info *grpc.StreamServerInfo, final grpc.StreamHandler) grpc.StreamHandler {
	if cur == len(chain)-1 {
		return final
	}
	return func(srv any, ss grpc.ServerStream) error {
		return chain[cur+1](srv, ss, info, streamStep(chain, cur+1, info, final))
	}
}
