package polyrpc_test

import (
	"os/exec"
	"strings"
	"testing"

	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/polyrpc/polyrpc/internal/rpctest"
)

// TestBufCurl drives a polyrpc.Server with buf curl (pinned in
// tools/go.mod), which finds services and schemas through server
// reflection.
func TestBufCurl(t *testing.T) {
	if testing.Short() {
		t.Skip("builds buf")
	}
	s, hs := newFullServer()
	hs.SetServingStatus("curl", healthgrpc.HealthCheckResponse_SERVING)
	base, _ := rpctest.Start(t, s, rpctest.H2C)
	bufCurl := func(args ...string) string {
		t.Helper()
		args = append([]string{"tool", "-modfile=tools/go.mod", "buf", "curl", "--http2-prior-knowledge"}, args...)
		out, err := exec.CommandContext(t.Context(), "go", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("buf %s: %v\n%s", strings.Join(args[3:], " "), err, out)
		}
		return string(out)
	}
	for _, protocol := range []string{"grpc", "connect", "grpcweb"} {
		t.Run(protocol, func(t *testing.T) {
			out := bufCurl("--protocol", protocol, "--list-methods", base)
			for _, want := range []string{
				"grpc.health.v1.Health/Check",
				"grpc.health.v1.Health/Watch",
				"grpc.testing.TestService/FullDuplexCall",
				"grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("--list-methods output lacks %s:\n%s", want, out)
				}
			}
			out = bufCurl("--protocol", protocol, "--data", `{"service":"curl"}`, base+"/grpc.health.v1.Health/Check")
			if !strings.Contains(out, `"status": "SERVING"`) {
				t.Errorf("Check output:\n%s", out)
			}
		})
	}
}
