package doc

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/gen/rpc/rpctest"
	"github.com/polyrpc/polyrpc/internal/plugin"
)

// fuzzParams are the option sets the source fuzzer picks from; every one
// writes all three formats.
var fuzzParams = []string{
	"format=html,markdown,json",
	"format=html,markdown,json,layout=package,order=alpha",
	"format=html,markdown,json,layout=file",
	"format=html,markdown,json,layout=package,title=<script>alert(1)</script>",
}

// docFuzzSeeds returns the golden protos that import nothing but
// well-known types, and the edge-case protos of edge_test.go that stand
// alone.
func docFuzzSeeds(t testing.TB) []string {
	t.Helper()
	var seeds []string
	root := filepath.Join(goldenDir(t), "protos")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".proto") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if standalone(string(b)) {
			seeds = append(seeds, string(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(edgeProtos))
	for n := range edgeProtos {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if standalone(edgeProtos[n]) {
			seeds = append(seeds, edgeProtos[n])
		}
	}
	return seeds
}

// standalone reports whether a proto imports only well-known types.
func standalone(src string) bool {
	for _, line := range strings.Split(src, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "import "); ok && !strings.Contains(rest, "google/protobuf/") {
			return false
		}
	}
	return true
}

// FuzzDocSource compiles mutated proto sources; whatever compiles is
// documented in every format. The generator must not panic; errors must say
// something; HTML must keep the structure checks (unique ids, links that
// resolve, nothing executable from the input); JSON must be valid.
func FuzzDocSource(f *testing.F) {
	for _, s := range docFuzzSeeds(f) {
		for i := range fuzzParams {
			f.Add(s, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, src string, sel uint8) {
		param := fuzzParams[int(sel)%len(fuzzParams)]
		req, err := rpctest.Request(rpctest.Sources{"fuzz.proto": src}, []string{"fuzz.proto"}, param)
		if err != nil {
			return
		}
		checkFuzzResponse(t, Generate(req))
	})
}

// addRequestSeeds adds the seed protos, compiled, as encoded requests.
func addRequestSeeds(f *testing.F) {
	for i, s := range docFuzzSeeds(f) {
		req, err := rpctest.Request(rpctest.Sources{"seed.proto": s}, []string{"seed.proto"}, fuzzParams[i%len(fuzzParams)])
		if err != nil {
			continue
		}
		b, err := proto.Marshal(req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDocRequest runs the generator on arbitrary request bytes: a request
// that does not describe valid protos gets an error, never a panic.
func FuzzDocRequest(f *testing.F) {
	addRequestSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		req := &pluginpb.CodeGeneratorRequest{}
		if err := proto.Unmarshal(b, req); err != nil {
			return
		}
		if strings.Contains(req.GetParameter(), "template") {
			// Templates are read from disk: not for a fuzzer.
			req.Parameter = nil
		}
		checkFuzzResponse(t, Generate(req))
	})
}

func checkFuzzResponse(t *testing.T, resp *pluginpb.CodeGeneratorResponse) {
	t.Helper()
	if resp.GetSupportedFeatures() == 0 {
		t.Fatalf("response without features: %v", resp)
	}
	if resp.Error != nil {
		if strings.TrimSpace(resp.GetError()) == "" || strings.Contains(resp.GetError(), "panic") {
			t.Fatalf("unclear error %q", resp.GetError())
		}
		return
	}
	files := map[string]string{}
	for _, file := range resp.File {
		if _, dup := files[file.GetName()]; dup {
			t.Fatalf("file %s generated twice", file.GetName())
		}
		files[file.GetName()] = file.GetContent()
		if strings.HasSuffix(file.GetName(), ".json") && !json.Valid([]byte(file.GetContent())) {
			t.Fatalf("%s is not valid JSON", file.GetName())
		}
	}
	for name := range files {
		if strings.HasSuffix(name, ".html") {
			checkHTMLSet(t, files)
			break
		}
	}
}

// FuzzRun feeds raw bytes to the plugin's own request reader: no panic,
// clear errors, and every request that protobuf itself can decode (without
// unknown groups, which the reader refuses) is read.
func FuzzRun(f *testing.F) {
	addRequestSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		req := &pluginpb.CodeGeneratorRequest{}
		decodes := proto.Unmarshal(b, req) == nil
		if strings.Contains(req.GetParameter(), "template") {
			return // templates are read from disk: not for a fuzzer
		}
		files := map[string]string{}
		var last string
		err := Run(bytes.NewReader(b), func(name string, c []byte) error {
			if name != "" {
				last = name
			}
			files[last] += string(c)
			return nil
		})
		if err == nil {
			return
		}
		if strings.TrimSpace(err.Error()) == "" || strings.Contains(err.Error(), "internal error") {
			t.Fatalf("unclear error %q", err)
		}
		if decodes && errors.Is(err, plugin.ErrNotRequest) && !strings.Contains(err.Error(), "wire type 3") {
			t.Fatalf("protobuf decodes the request, the reader does not: %v", err)
		}
	})
}
