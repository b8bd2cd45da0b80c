package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLintProtoc runs protoc-gen-rpcdoc's doc lint through protoc: a
// failing lint in the github format gives workflow commands that start a
// line of protoc's output, and the warn mode writes the documents and the
// SARIF file and shows the summary.
func TestLintProtoc(t *testing.T) {
	protoc := require(t, "protoc")
	bin := buildPlugins(t)
	dir := t.TempDir()
	src := "syntax = \"proto3\";\npackage lint.v1;\n\n// Documented.\nmessage M {\n  string bare = 1;\n}\n"
	if err := os.MkdirAll(filepath.Join(dir, "proto/lint/v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "proto/lint/v1/lint.proto"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "doc"), 0o755); err != nil {
		t.Fatal(err)
	}
	protocRun := func(opt string) (stderr string, err error) {
		cmd := exec.Command(protoc, "--plugin=protoc-gen-rpcdoc="+filepath.Join(bin, "protoc-gen-rpcdoc"),
			"-Iproto", "--rpcdoc_out=doc", "--rpcdoc_opt="+opt, "lint/v1/lint.proto")
		cmd.Dir = dir
		var b bytes.Buffer
		cmd.Stderr = &b
		err = cmd.Run()
		return b.String(), err
	}

	stderr, err := protocRun("require_comments=true,lint_format=github,lint_path_prefix=proto")
	if err == nil {
		t.Fatalf("protoc succeeded despite an undocumented field")
	}
	want := "\n::error file=proto/lint/v1/lint.proto,line=6,col=3,title=require_comments::field lint.v1.M.bare has no comment\n"
	if !strings.Contains(stderr, want) {
		t.Errorf("protoc's output lacks the workflow command on its own line:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "doc/index.html")); err == nil {
		t.Errorf("a failing lint wrote index.html")
	}

	stderr, err = protocRun("require_comments=warn,lint_format=sarif,lint_out=lint/rpcdoc.sarif")
	if err != nil {
		t.Fatalf("warn mode: %v\n%s", err, stderr)
	}
	if want := "require_comments: 1 element has no comment (listed in lint/rpcdoc.sarif)\n"; stderr != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "doc/index.html")); err != nil {
		t.Errorf("warn mode wrote no index.html: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "doc/lint/rpcdoc.sarif"))
	if err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
				Level  string `json:"level"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b, &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) != 1 ||
		log.Runs[0].Results[0].RuleID != "require_comments" || log.Runs[0].Results[0].Level != "warning" {
		t.Errorf("SARIF log = %+v", log)
	}
}
