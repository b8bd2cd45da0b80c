package examples_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCommands builds the example commands and runs them the way the
// README tells a newcomer to: each server on both engines, the client with
// each protocol, and the chat server with its page and docs.
func TestCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	bin := t.TempDir()
	build := exec.Command(goTool, "build", "-o", bin, "./ordermgt/server", "./ordermgt/client", "./chat")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	for _, engine := range []string{"http", "grpc"} {
		t.Run("ordermgt/engine="+engine, func(t *testing.T) {
			addr := start(t, regexp.MustCompile(`listening on (\S+)`),
				filepath.Join(bin, "server"), "-addr", "127.0.0.1:0", "-engine", engine)
			clients := [][]string{
				{"-protocol", "grpc", "-engine", "grpc"},
				{"-protocol", "grpc"},
			}
			if engine == "http" {
				clients = append(clients,
					[]string{"-protocol", "connect"},
					[]string{"-protocol", "grpcweb"},
					[]string{"-protocol", "connect", "-http1"},
				)
			}
			for _, args := range clients {
				cmd := exec.Command(filepath.Join(bin, "client"), append([]string{"-addr", addr}, args...)...)
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Errorf("client %s: %v\n%s", strings.Join(args, " "), err, out)
					continue
				}
				want := "ProcessOrders: shipped 6 orders in 3 shipments"
				if slices.Contains(args, "-http1") {
					want = "ProcessOrders: skipped"
				}
				if !strings.Contains(string(out), want) {
					t.Errorf("client %s: output lacks %q:\n%s", strings.Join(args, " "), want, out)
				}
			}
			// A client that asks the native engine for another protocol is
			// told so, instead of failing obscurely.
			out, err := exec.Command(filepath.Join(bin, "client"), "-addr", addr, "-protocol", "connect", "-engine", "grpc").CombinedOutput()
			if err == nil || !strings.Contains(string(out), `engine "grpc" speaks only protocol "grpc"`) {
				t.Errorf("client -protocol connect -engine grpc: err %v, output:\n%s", err, out)
			}
		})
	}

	t.Run("chat", func(t *testing.T) {
		url := start(t, regexp.MustCompile(`open (http://\S+)/ in two browser tabs`),
			filepath.Join(bin, "chat"), "-addr", "127.0.0.1:0")
		for path, want := range map[string]string{
			"/":      "polyrpc chat",
			"/docs/": "chat.v1.ChatService",
		} {
			resp, err := http.Get(url + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
				t.Errorf("GET %s: %s, body lacks %q", path, resp.Status, want)
			}
		}
	})
}

// start runs a server command, waits for the first output line that matches
// re and returns its first group. The server is interrupted when the test
// ends, and must then exit cleanly.
func start(t *testing.T, re *regexp.Regexp, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer // the request log; shown when the test fails
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("%s after SIGINT: %v", filepath.Base(name), err)
			}
			if t.Failed() {
				t.Logf("%s stderr:\n%s", filepath.Base(name), stderr.String())
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Errorf("%s did not stop within 10s of SIGINT", filepath.Base(name))
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	select {
	case s := <-found:
		return s
	case <-ctx.Done():
		t.Fatalf("%s printed no line matching %q", filepath.Base(name), re)
		return ""
	}
}
