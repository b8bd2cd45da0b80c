// Pinned versions of the published proto sets used by the corpus test.
// Not a module of its own: read with -modfile by corpus.go.
module github.com/polyrpc/polyrpc/internal/corpus/pins

go 1.26

require (
	connectrpc.com/conformance v1.0.7
	github.com/containerd/containerd/api v1.9.0
	github.com/grpc-ecosystem/grpc-gateway v1.16.0
	github.com/grpc-ecosystem/grpc-gateway/v2 v2.32.0
	google.golang.org/genproto v0.0.0-20210917145530-b395a37504d4
	google.golang.org/grpc v1.85.0
	k8s.io/cri-api v0.34.1
)
