package polyrpc

import (
	"log"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
)

// Server serves grpc-go services over the Connect, gRPC and gRPC-Web
// protocols through net/http. It is a grpc.ServiceRegistrar, so generated
// RegisterXxxServer functions, grpc-go's health service and server reflection
// register on it as they do on a grpc.Server.
//
//	s := polyrpc.NewServer()
//	pb.RegisterGreeterServer(s, &greeter{})
//	lis, err := net.Listen("tcp", addr)
//	...
//	err = s.Serve(lis) // or serve s, an http.Handler, with an http.Server
//
// Services may be registered at any time, also while the Server is serving.
type Server struct {
	config        serverConfig
	unimplemented *connect.ErrorWriter

	mu       sync.Mutex // serializes registrations
	services atomic.Pointer[map[string]*registered]

	serving serving // Serve, ServeQUIC, GracefulStop and Stop (serve.go)

	// The interceptor chains, for the native gRPC path (native.go).
	unaryChain  grpc.UnaryServerInterceptor
	streamChain grpc.StreamServerInterceptor

	unknown *unknownService // nil without an UnknownServiceHandler (unknown.go)

	rest atomic.Pointer[restRouter] // the REST bindings of every service (rest.go)
}

type registered struct {
	svc  *service
	info grpc.ServiceInfo
	impl any
	// The methods by name, for the native gRPC path (native.go).
	unary   map[string]*grpc.MethodDesc
	streams map[string]*grpc.StreamDesc
}

var _ grpc.ServiceRegistrar = (*Server)(nil)

// NewServer returns a Server with no services.
func NewServer(opts ...ServerOption) *Server {
	s := &Server{}
	for _, opt := range opts {
		opt.applyToServer(&s.config)
	}
	s.unimplemented = connect.NewErrorWriter(handlerBaseOptions(&s.config)...)
	s.unaryChain = s.config.interceptors.chainUnary()
	s.streamChain = s.config.interceptors.chainStream()
	if s.config.unknown.handler != nil {
		s.unknown = newUnknownService(&s.config, s.streamChain)
	}
	empty := map[string]*registered{}
	s.services.Store(&empty)
	return s
}

// RegisterService registers a service and its implementation. It is called
// by generated RegisterXxxServer functions. Like grpc.Server, it exits the
// program through log.Fatalf if impl does not implement the service's
// handler type or if the service name is already registered.
func (s *Server) RegisterService(desc *grpc.ServiceDesc, impl any) {
	if impl != nil && desc.HandlerType != nil {
		ht := reflect.TypeOf(desc.HandlerType).Elem()
		st := reflect.TypeOf(impl)
		if !st.Implements(ht) {
			log.Fatalf("polyrpc: Server.RegisterService found the handler of type %v that does not satisfy %v", st, ht)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.services.Load()
	if _, ok := old[desc.ServiceName]; ok {
		log.Fatalf("polyrpc: Server.RegisterService found duplicate service registration for %q", desc.ServiceName)
	}
	next := make(map[string]*registered, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	reg := &registered{
		svc:     newService(desc, impl, &s.config),
		info:    serviceInfo(desc),
		impl:    impl,
		unary:   make(map[string]*grpc.MethodDesc, len(desc.Methods)),
		streams: make(map[string]*grpc.StreamDesc, len(desc.Streams)),
	}
	for i := range desc.Methods {
		reg.unary[desc.Methods[i].MethodName] = &desc.Methods[i]
	}
	for i := range desc.Streams {
		reg.streams[desc.Streams[i].StreamName] = &desc.Streams[i]
	}
	if s.unknown != nil {
		reg.svc.unknown = s.unknown
	}
	next[desc.ServiceName] = reg
	if len(reg.svc.rest) != 0 {
		var methods []*restMethod
		if old := s.rest.Load(); old != nil {
			methods = append(methods, old.methods...)
		}
		s.rest.Store(newRESTRouter(append(methods, reg.svc.rest...)))
	}
	s.services.Store(&next)
}

func serviceInfo(desc *grpc.ServiceDesc) grpc.ServiceInfo {
	methods := make([]grpc.MethodInfo, 0, len(desc.Methods)+len(desc.Streams))
	for _, m := range desc.Methods {
		methods = append(methods, grpc.MethodInfo{Name: m.MethodName})
	}
	for _, sd := range desc.Streams {
		methods = append(methods, grpc.MethodInfo{
			Name:           sd.StreamName,
			IsClientStream: sd.ClientStreams,
			IsServerStream: sd.ServerStreams,
		})
	}
	return grpc.ServiceInfo{Methods: methods, Metadata: desc.Metadata}
}

// GetServiceInfo returns the registered services, keyed by full service
// name, as grpc.Server.GetServiceInfo does. Server reflection uses it.
func (s *Server) GetServiceInfo() map[string]grpc.ServiceInfo {
	services := *s.services.Load()
	infos := make(map[string]grpc.ServiceInfo, len(services))
	for name, r := range services {
		infos[name] = r.info
	}
	return infos
}

// ServeHTTP serves a call to a registered service. Calls to unknown
// services or methods fail with Unimplemented in the caller's protocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rr := s.rest.Load(); rr != nil && s.restFirst(r) && rr.serve(w, r) {
		return
	}
	if !canonicalPath(r) {
		// Such a path never names a method (see canonicalPath).
		path := r.URL.Path
		if r.URL.RawPath != "" {
			path = r.URL.RawPath
		}
		writeUnimplemented(s.unimplemented, w, r, "unknown service "+serviceName(path))
		return
	}
	name := serviceName(r.URL.Path)
	if reg, ok := (*s.services.Load())[name]; ok {
		reg.svc.ServeHTTP(w, r)
		return
	}
	if s.unknown != nil {
		s.unknown.ServeHTTP(w, r)
		return
	}
	writeUnimplemented(s.unimplemented, w, r, "unknown service "+name)
}

// serviceName returns "pkg.Service" for the path "/pkg.Service/Method".
func serviceName(path string) string {
	path = strings.TrimPrefix(path, "/")
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i]
	}
	return path
}

// restFirst reports whether a request may be a REST call: its path does not
// name a registered service (rest.go).
func (s *Server) restFirst(r *http.Request) bool {
	_, ok := (*s.services.Load())[serviceName(r.URL.Path)]
	return !ok
}
