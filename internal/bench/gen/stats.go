package gen

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"
)

// Stats describes a request: files sent, files to generate, services,
// methods by kind, and the encoded size.
type Stats struct {
	Files, Generate, Services, Methods int
	Unary, ServerStream, ClientStream  int
	Bidi                               int
	Bytes                              int
}

// RequestStats counts what req holds. Services and methods are counted in
// the files to generate.
func RequestStats(req *pluginpb.CodeGeneratorRequest) Stats {
	gen := map[string]bool{}
	for _, f := range req.GetFileToGenerate() {
		gen[f] = true
	}
	s := Stats{Files: len(req.GetProtoFile()), Generate: len(gen), Bytes: proto.Size(req)}
	for _, f := range req.GetProtoFile() {
		if !gen[f.GetName()] {
			continue
		}
		for _, svc := range f.GetService() {
			s.Services++
			for _, m := range svc.GetMethod() {
				s.Methods++
				switch c, sv := m.GetClientStreaming(), m.GetServerStreaming(); {
				case c && sv:
					s.Bidi++
				case c:
					s.ClientStream++
				case sv:
					s.ServerStream++
				default:
					s.Unary++
				}
			}
		}
	}
	return s
}

func (s Stats) String() string {
	return fmt.Sprintf("%d files (%d to generate), %d services, %d methods (%d unary, %d server-streaming, %d client-streaming, %d bidi), %.1f MB",
		s.Files, s.Generate, s.Services, s.Methods, s.Unary, s.ServerStream, s.ClientStream, s.Bidi, float64(s.Bytes)/1e6)
}
