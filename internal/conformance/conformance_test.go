// The Connect conformance suite (connectrpc.com/conformance, pinned in
// tools/go.mod) against the server and client under test in cmd/server and
// cmd/client.
package conformance_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// summary matches the runner's closing lines, e.g.
// "Total cases: 3640\n3640 passed, 0 failed".
var summary = regexp.MustCompile(`(?m)^Total cases: (\d+)\n(\d+) passed, (\d+) failed`)

// TestConformance runs the suite three times: against the server serving
// through the generated handler, against the same server serving through a
// polyrpc.Server, and against the client. Any failed case fails the test.
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
		{"client", []string{"--mode", "client", "--", client}},
	}
	for _, run := range runs {
		t.Run(run.name, func(t *testing.T) {
			args := append([]string{"tool", "-modfile=tools/go.mod", "connectconformance",
				"--conf", "internal/conformance/config.yaml", "--trace"}, run.args...)
			cmd := exec.Command("go", args...)
			cmd.Dir = root
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			runErr := cmd.Run()
			elapsed := time.Since(start)

			m := summary.FindSubmatch(out.Bytes())
			if m == nil {
				t.Fatalf("go %v: %v; no summary in output:\n%s", args, runErr, out.Bytes())
			}
			total, _ := strconv.Atoi(string(m[1]))
			passed, _ := strconv.Atoi(string(m[2]))
			failed, _ := strconv.Atoi(string(m[3]))
			t.Logf("%s: %d cases, %d passed, %d failed in %s", run.name, total, passed, failed, elapsed.Round(100*time.Millisecond))
			if runErr != nil || failed > 0 || total == 0 {
				t.Errorf("go %s: %v\n%s", args, runErr, out.Bytes())
			}
		})
	}
}
