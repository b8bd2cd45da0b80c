package gen

import (
	"os"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/gen/doc"
	"github.com/polyrpc/polyrpc/internal/gen/rpc"
)

var synthetic1 struct {
	once sync.Once
	b    []byte
	err  error
}

// syntheticRequest returns the encoded synthetic request at scale 1, read
// from $GENBENCH_REQUEST when set (run.sh leaves it in its cache), or built.
func syntheticRequest(b *testing.B) []byte {
	b.Helper()
	synthetic1.once.Do(func() {
		if f := os.Getenv("GENBENCH_REQUEST"); f != "" {
			synthetic1.b, synthetic1.err = os.ReadFile(f)
			return
		}
		req, err := Synthetic(1)
		if err != nil {
			synthetic1.err = err
			return
		}
		synthetic1.b, synthetic1.err = proto.MarshalOptions{Deterministic: true}.Marshal(req)
	})
	if synthetic1.err != nil {
		b.Fatal(synthetic1.err)
	}
	return synthetic1.b
}

// benchPlugin measures what a plugin process does after reading stdin:
// decoding the request, generating, encoding the response.
func benchPlugin(b *testing.B, param string, generate func(*pluginpb.CodeGeneratorRequest) *pluginpb.CodeGeneratorResponse) {
	in := syntheticRequest(b)
	if param != "" {
		req := &pluginpb.CodeGeneratorRequest{}
		if err := proto.Unmarshal(in, req); err != nil {
			b.Fatal(err)
		}
		req.Parameter = proto.String(param)
		var err error
		if in, err = proto.Marshal(req); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := &pluginpb.CodeGeneratorRequest{}
		if err := proto.Unmarshal(in, req); err != nil {
			b.Fatal(err)
		}
		resp := generate(req)
		if resp.Error != nil {
			b.Fatal(resp.GetError())
		}
		if _, err := proto.Marshal(resp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRPC is protoc-gen-rpc on the synthetic request at scale 1.
func BenchmarkRPC(b *testing.B) { benchPlugin(b, "", rpc.Generate) }

// BenchmarkRPCDoc is protoc-gen-rpcdoc (HTML, one page per package) on the
// synthetic request at scale 1.
func BenchmarkRPCDoc(b *testing.B) { benchPlugin(b, "format=html,layout=package", doc.Generate) }
