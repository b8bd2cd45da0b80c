package corpus

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/gen/doc"
	"github.com/polyrpc/polyrpc/internal/gen/rpc"
)

// digestEnv makes the test binary print the digest of all generated
// output instead of running tests: the child processes of
// TestDeterministicAcrossProcesses.
const digestEnv = "POLYRPC_CORPUS_DIGEST"

func TestMain(m *testing.M) {
	if os.Getenv(digestEnv) != "" {
		d, err := digest()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Print(d)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// docParams are the documentation runs whose output is compared.
var docParams = []string{
	"format=html,markdown,json",
	"format=html,markdown,json,layout=package,order=alpha",
	"format=html,markdown,json,layout=file",
}

// digest generates the containerd set and the mixed editions with both
// plugins (the rpc plugin with and without package_suffix, the doc plugin
// in every layout) and returns one line per output file: plugin run, file
// name and SHA-256 of the content.
func digest() (string, error) {
	large, err := Request("containerd")
	if err != nil {
		return "", err
	}
	src, err := editionsSources()
	if err != nil {
		return "", err
	}
	var lines []string
	for _, base := range []*pluginpb.CodeGeneratorRequest{large, src} {
		runs := map[string]*pluginpb.CodeGeneratorResponse{}
		for _, p := range []string{"", "package_suffix=rpc,paths=source_relative"} {
			runs["rpc "+p] = rpc.Generate(withParam(base, p))
		}
		for _, p := range docParams {
			runs["doc "+p] = doc.Generate(withParam(base, p))
		}
		for run, resp := range runs {
			if resp.Error != nil {
				return "", fmt.Errorf("%s: %s", run, resp.GetError())
			}
			if len(resp.File) == 0 {
				return "", fmt.Errorf("%s: no files", run)
			}
			for _, f := range resp.File {
				lines = append(lines, fmt.Sprintf("%s\t%s\t%x\n", run, f.GetName(), sha256.Sum256([]byte(f.GetContent()))))
			}
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, ""), nil
}

func withParam(req *pluginpb.CodeGeneratorRequest, param string) *pluginpb.CodeGeneratorRequest {
	r := proto.Clone(req).(*pluginpb.CodeGeneratorRequest)
	r.Parameter = proto.String(param)
	return r
}

// TestDeterministic generates the same requests twice in one process.
func TestDeterministic(t *testing.T) {
	first, err := digest()
	if err != nil {
		t.Fatal(err)
	}
	second, err := digest()
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Errorf("two runs differ:\n%s", lineDiff(first, second))
	}
}

// TestDeterministicAcrossProcesses generates the same requests in child
// processes with different GOMAXPROCS and expects the same bytes.
func TestDeterministicAcrossProcesses(t *testing.T) {
	var outs []string
	for _, procs := range []string{"1", "2", "8"} {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), digestEnv+"=1", "GOMAXPROCS="+procs)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("GOMAXPROCS=%s: %v\n%s", procs, err, stderr.String())
		}
		if len(out) == 0 {
			t.Fatalf("GOMAXPROCS=%s: no output", procs)
		}
		outs = append(outs, string(out))
	}
	for i := 1; i < len(outs); i++ {
		if outs[i] != outs[0] {
			t.Errorf("process %d differs from process 0:\n%s", i, lineDiff(outs[0], outs[i]))
		}
	}
}

func lineDiff(a, b string) string {
	in := map[string]bool{}
	for _, l := range strings.Split(a, "\n") {
		in[l] = true
	}
	var out []string
	for _, l := range strings.Split(b, "\n") {
		if !in[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
