// The Connect conformance suite (connectrpc.com/conformance, pinned in
// tools/go.mod) against the server and client under test in cmd/server and
// cmd/client.
package conformance_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// summary matches the runner's closing lines, e.g.
// "Total cases: 3640\n3640 passed, 0 failed".
var summary = regexp.MustCompile(`(?m)^Total cases: (\d+)\n(\d+) passed, (\d+) failed`)

// maxRetried bounds the failed cases that are run a second time. Some cases
// assert timing (deadlines of a second or two); on a loaded machine one of
// them can miss its mark. A second run of those few cases tells such a miss
// from a bug; more failures than this are never retried.
const maxRetried = 5

// TestConformance runs the suite five times: against the server serving
// through the generated handler, through a polyrpc.Server on net/http,
// through a polyrpc.Server's own Serve (whose cleartext gRPC connections
// take grpc-go's transport), through rpcproxy's gateway in front of a
// grpc.Server, and against the client. Any failed case fails the test.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the conformance suite; skipped in -short mode")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	server, client := filepath.Join(bin, "server"), filepath.Join(bin, "client")
	build := exec.Command("go", "build", "-o", bin, "./internal/conformance/cmd/server", "./internal/conformance/cmd/client")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	runs := []struct {
		name string
		args []string
	}{
		{"server/handler", []string{"--mode", "server", "--", server}},
		{"server/registrar", []string{"--mode", "server", "--", server, "-registrar"}},
		{"server/serve", []string{"--mode", "server", "--", server, "-serve"}},
		{"server/proxy", []string{"--mode", "server", "--", server, "-proxy"}},
		{"client", []string{"--mode", "client", "--", client}},
	}
	for _, run := range runs {
		t.Run(run.name, func(t *testing.T) {
			res := runSuite(t, root, nil, run.args)
			t.Logf("%d cases, %d passed, %d failed in %s", res.total, res.passed, res.failed, res.elapsed)
			if res.err == nil && res.failed == 0 {
				return
			}
			if len(res.failedCases) != res.failed || res.failed == 0 || res.failed > maxRetried {
				t.Fatalf("go %s: %v\n%s", strings.Join(res.args, " "), res.err, res.output)
			}
			// Run only the failed cases once more.
			t.Logf("retrying %d failed case(s):\n%s\n%s", len(res.failedCases), strings.Join(res.failedCases, "\n"), res.output)
			var only []string
			for _, name := range res.failedCases {
				only = append(only, "--run", name)
			}
			retry := runSuite(t, root, only, run.args)
			t.Logf("retry: %d cases, %d passed, %d failed in %s", retry.total, retry.passed, retry.failed, retry.elapsed)
			if retry.err != nil || retry.failed > 0 || retry.total != len(res.failedCases) {
				t.Fatalf("go %s: %v\n%s", strings.Join(retry.args, " "), retry.err, retry.output)
			}
		})
	}
}

type suiteResult struct {
	args                  []string
	total, passed, failed int
	failedCases           []string
	elapsed               time.Duration
	output                []byte
	err                   error
}

// runSuite runs the conformance runner from the module root with the
// repository's config, extra flags and the mode arguments.
func runSuite(t *testing.T, root string, extra, modeArgs []string) suiteResult {
	t.Helper()
	args := []string{"tool", "-modfile=tools/go.mod", "connectconformance",
		"--conf", "internal/conformance/config.yaml", "--trace"}
	args = append(append(args, extra...), modeArgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	res := suiteResult{
		args:    args,
		elapsed: time.Since(start).Round(100 * time.Millisecond),
		output:  out.Bytes(),
		err:     err,
	}
	m := summary.FindSubmatch(res.output)
	if m == nil {
		t.Fatalf("go %s: %v; no summary in output:\n%s", strings.Join(args, " "), err, res.output)
	}
	res.total, _ = strconv.Atoi(string(m[1]))
	res.passed, _ = strconv.Atoi(string(m[2]))
	res.failed, _ = strconv.Atoi(string(m[3]))
	if res.total == 0 {
		t.Fatalf("go %s: no cases ran\n%s", strings.Join(args, " "), res.output)
	}
	// Failed cases are reported as "FAILED: <name>:" lines.
	sc := bufio.NewScanner(bytes.NewReader(res.output))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "FAILED: "); ok {
			res.failedCases = append(res.failedCases, strings.TrimSuffix(name, ":"))
		}
	}
	return res
}
