package gateway

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Descriptors from the backends. The gateway forwards protobuf bytes
// without knowing their types; a caller using JSON needs the method's
// descriptor to be transcoded, which polyrpc finds in
// protoregistry.GlobalFiles. For a backend with reflection on, the gateway
// asks the backend's server reflection for the files of the services
// routed to it and adds those that the program does not have.

// fetchDescriptors loads the descriptors of the services of b that the
// routes send to it, retrying with backoff until it succeeds or ctx ends.
// ready is closed when it is done either way.
func (g *Gateway) fetchDescriptors(ctx context.Context, name string, cc grpc.ClientConnInterface, ready chan<- struct{}) {
	defer close(ready)
	wait := 500 * time.Millisecond
	for {
		n, err := loadDescriptors(ctx, cc, func(svc string) bool { return g.routesTo(svc, name) })
		if err == nil {
			g.logf("rpcproxy: backend %s: %d file(s) of descriptors through reflection", name, n)
			return
		}
		if ctx.Err() != nil {
			return
		}
		g.logf("rpcproxy: backend %s: reflection: %v (retrying in %s)", name, err, wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// routesTo reports whether some route sends calls of service svc to the
// backend.
func (g *Gateway) routesTo(svc, backend string) bool {
	path := "/" + svc + "/"
	for _, r := range g.cfg.Routes {
		if r.Backend != backend && (r.FanOut == nil || !containsString(r.FanOut.Backends, backend)) {
			continue
		}
		if r.Service == svc || r.Prefix != "" && (strings.HasPrefix(path, r.Prefix) || strings.HasPrefix(r.Prefix, path)) {
			return true
		}
	}
	return false
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// loadDescriptors asks the server reflection of cc for the services that
// want accepts and registers the files it does not know. It returns the
// number of files registered.
func loadDescriptors(ctx context.Context, cc grpc.ClientConnInterface, want func(svc string) bool) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stream, err := reflectionpb.NewServerReflectionClient(cc).ServerReflectionInfo(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = stream.CloseSend() }()
	ask := func(req *reflectionpb.ServerReflectionRequest) (*reflectionpb.ServerReflectionResponse, error) {
		if err := stream.Send(req); err != nil {
			return nil, err
		}
		resp, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		if e := resp.GetErrorResponse(); e != nil {
			return nil, fmt.Errorf("%s (code %d)", e.GetErrorMessage(), e.GetErrorCode())
		}
		return resp, nil
	}
	resp, err := ask(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
	if err != nil {
		return 0, err
	}
	files := map[string]*descriptorpb.FileDescriptorProto{}
	for _, s := range resp.GetListServicesResponse().GetService() {
		if !want(s.GetName()) {
			continue
		}
		resp, err := ask(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: s.GetName()}})
		if err != nil {
			return 0, fmt.Errorf("service %s: %w", s.GetName(), err)
		}
		for _, raw := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
			fd := &descriptorpb.FileDescriptorProto{}
			if err := proto.Unmarshal(raw, fd); err != nil {
				return 0, fmt.Errorf("service %s: %w", s.GetName(), err)
			}
			files[fd.GetName()] = fd
		}
	}
	return registerFiles(files)
}

// registerFiles adds to protoregistry.GlobalFiles the files it does not
// have yet, each after its imports; files of a path already known (linked
// into the program) are left out.
func registerFiles(files map[string]*descriptorpb.FileDescriptorProto) (int, error) {
	n := 0
	for len(files) > 0 {
		progress := false
		for path, fdp := range files {
			if _, err := protoregistry.GlobalFiles.FindFileByPath(path); err == nil {
				delete(files, path)
				progress = true
				continue
			}
			ready := true
			for _, dep := range fdp.GetDependency() {
				if _, err := protoregistry.GlobalFiles.FindFileByPath(dep); err != nil {
					ready = false
					break
				}
			}
			if !ready {
				continue
			}
			delete(files, path)
			progress = true
			fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
			if err != nil {
				return n, fmt.Errorf("%s: %w", path, err)
			}
			if err := protoregistry.GlobalFiles.RegisterFile(fd); err != nil {
				return n, fmt.Errorf("%s: %w", path, err)
			}
			n++
		}
		if !progress {
			var missing []string
			for path := range files {
				missing = append(missing, path)
			}
			return n, fmt.Errorf("files whose imports the backend did not send: %s", strings.Join(missing, ", "))
		}
	}
	return n, nil
}

func (g *Gateway) logf(format string, args ...any) {
	if g.errorLog != nil {
		fmt.Fprintf(g.errorLog, format+"\n", args...)
	}
}
