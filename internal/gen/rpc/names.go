package rpc

import (
	"strings"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// serviceNames holds every Go identifier generated for one service, so that
// the emitter and the collision check agree on them.
type serviceNames struct {
	Client            string // XxxClient interface
	ClientImpl        string // xxxClient struct
	NewClient         string // NewXxxClient
	Server            string // XxxServer interface
	Unimplemented     string // UnimplementedXxxServer
	Unsafe            string // UnsafeXxxServer
	Register          string // RegisterXxxServer
	ServiceDesc       string // Xxx_ServiceDesc
	Handler           string // NewXxxHandler
	MustEmbed         string // mustEmbedUnimplementedXxxServer method
	TestEmbeddedValue string // testEmbeddedByValue method
	// With the fanout option.
	FanOutClient     string // XxxFanOutClient interface
	FanOutClientImpl string // xxxFanOutClient struct
	NewFanOutClient  string // NewXxxFanOutClient
}

func newServiceNames(s *protogen.Service) serviceNames {
	name := s.GoName
	return serviceNames{
		Client:            name + "Client",
		ClientImpl:        unexport(name + "Client"),
		NewClient:         "New" + name + "Client",
		Server:            name + "Server",
		Unimplemented:     "Unimplemented" + name + "Server",
		Unsafe:            "Unsafe" + name + "Server",
		Register:          "Register" + name + "Server",
		ServiceDesc:       name + "_ServiceDesc",
		Handler:           "New" + name + "Handler",
		MustEmbed:         "mustEmbedUnimplemented" + name + "Server",
		TestEmbeddedValue: "testEmbeddedByValue",
		FanOutClient:      name + "FanOutClient",
		FanOutClientImpl:  unexport(name + "FanOutClient"),
		NewFanOutClient:   "New" + name + "FanOutClient",
	}
}

// methodNames holds the package-level Go identifiers generated for one method.
type methodNames struct {
	FullMethodName string // Xxx_Method_FullMethodName
	Handler        string // _Xxx_Method_Handler
	ClientStream   string // Xxx_MethodClient alias or interface (streaming methods only)
	ServerStream   string // Xxx_MethodServer alias or interface (streaming methods only)
	// Implementations of the stream interfaces without generic streams.
	ClientStreamImpl string // xxxMethodClient
	ServerStreamImpl string // xxxMethodServer
}

func newMethodNames(m *protogen.Method) methodNames {
	s := m.Parent.GoName
	return methodNames{
		FullMethodName: s + "_" + m.GoName + "_FullMethodName",
		Handler:        "_" + s + "_" + m.GoName + "_Handler",
		ClientStream:   s + "_" + m.GoName + "Client",
		ServerStream:   s + "_" + m.GoName + "Server",

		ClientStreamImpl: unexport(s) + m.GoName + "Client",
		ServerStreamImpl: unexport(s) + m.GoName + "Server",
	}
}

// packageLevel returns the package-level identifiers of a service, in the
// order they are emitted, each with the proto element it comes from.
func packageLevel(s *protogen.Service, opts Options) []emitted {
	n := newServiceNames(s)
	var out []emitted
	for _, m := range s.Methods {
		out = append(out, emitted{newMethodNames(m).FullMethodName, m.Desc})
	}
	for _, id := range []string{n.Client, n.ClientImpl, n.NewClient} {
		out = append(out, emitted{id, s.Desc})
	}
	for _, m := range s.Methods {
		if isStreaming(m) {
			mn := newMethodNames(m)
			out = append(out, emitted{mn.ClientStream, m.Desc})
			if !opts.GenericStreams {
				out = append(out, emitted{mn.ClientStreamImpl, m.Desc})
			}
		}
	}
	for _, id := range []string{n.Server, n.Unimplemented, n.Unsafe, n.Register} {
		out = append(out, emitted{id, s.Desc})
	}
	for _, m := range s.Methods {
		mn := newMethodNames(m)
		out = append(out, emitted{mn.Handler, m.Desc})
		if isStreaming(m) {
			out = append(out, emitted{mn.ServerStream, m.Desc})
			if !opts.GenericStreams {
				out = append(out, emitted{mn.ServerStreamImpl, m.Desc})
			}
		}
	}
	out = append(out, emitted{n.ServiceDesc, s.Desc}, emitted{n.Handler, s.Desc})
	if opts.FanOut {
		for _, id := range []string{n.FanOutClient, n.FanOutClientImpl, n.NewFanOutClient} {
			out = append(out, emitted{id, s.Desc})
		}
	}
	return out
}

// emitted is a Go identifier and the proto element it was derived from.
type emitted struct {
	name string
	from protoreflect.Descriptor
}

func isStreaming(m *protogen.Method) bool {
	return m.Desc.IsStreamingClient() || m.Desc.IsStreamingServer()
}

func unexport(s string) string { return strings.ToLower(s[:1]) + s[1:] }
