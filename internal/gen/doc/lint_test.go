package doc

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// lintSrcs has four undocumented elements (a method, a field, an enum
// and an enum value) next to documented and hidden ones.
var lintSrcs = map[string]string{"a/v1/a.proto": `syntax = "proto3";
package a.v1;

// Documented service.
service S {
  rpc Undocumented(Req) returns (Req);
}

// Req is documented.
message Req {
  string bare = 1;
  // Documented field.
  E e = 2;
  map<string, string> tags = 3; // Trailing comments count.
  // Hidden, so not required. @hide
  string secret = 4;
}

enum E {
  // Documented value.
  E_UNSPECIFIED = 0;
  E_BARE = 1;
}
`}

// lintFinding is an entry of lint_format=json.
type lintFinding struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Element string `json:"element"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Rule    string `json:"rule"`
	Level   string `json:"level"`
}

// lintRun runs the plugin on srcs and returns the response's error, the
// generated files and what it wrote to stderr.
func lintRun(t *testing.T, srcs map[string]string, param string) (errText string, files map[string]string, stderr string) {
	t.Helper()
	var buf bytes.Buffer
	resp := generateTo(compileSources(t, srcs, param, "a/v1/a.proto"), &buf)
	files = map[string]string{}
	for _, f := range resp.File {
		files[f.GetName()] = f.GetContent()
	}
	return resp.GetError(), files, buf.String()
}

// failBody splits the error of a failing lint into its summary line and
// the findings in the requested format.
func failBody(t *testing.T, errText string) string {
	t.Helper()
	head, body, ok := strings.Cut(errText, "\n")
	if !ok || head != "require_comments: 4 elements have no comment:" {
		t.Fatalf("error does not start with the summary line:\n%s", errText)
	}
	return body
}

var wantFindings = []lintFinding{
	{"a/v1/a.proto", 6, 3, "a.v1.S.Undocumented", "method", "method a.v1.S.Undocumented has no comment", "require_comments", "error"},
	{"a/v1/a.proto", 11, 3, "a.v1.Req.bare", "field", "field a.v1.Req.bare has no comment", "require_comments", "error"},
	{"a/v1/a.proto", 19, 1, "a.v1.E", "enum", "enum a.v1.E has no comment", "require_comments", "error"},
	{"a/v1/a.proto", 22, 3, "a.v1.E_BARE", "enum value", "enum value a.v1.E_BARE has no comment", "require_comments", "error"},
}

func TestLintText(t *testing.T) {
	// lint_format=text is the default, and require_comments' output
	// before lint_format existed.
	want := `require_comments: 4 elements have no comment:
  a/v1/a.proto:6:3: method a.v1.S.Undocumented
  a/v1/a.proto:11:3: field a.v1.Req.bare
  a/v1/a.proto:19:1: enum a.v1.E
  a/v1/a.proto:22:3: enum value a.v1.E_BARE`
	for _, param := range []string{"require_comments=true", "require_comments=true,lint_format=text"} {
		errText, files, _ := lintRun(t, lintSrcs, param)
		if diff := cmp.Diff(want, errText); diff != "" {
			t.Errorf("%s: error (-want +got):\n%s", param, diff)
		}
		if len(files) != 0 {
			t.Errorf("%s: files written despite the failure: %v", param, fileNames(files))
		}
	}
}

// githubLine is one GitHub Actions workflow command as the runner parses
// it: ::level properties::message, all on one line.
var githubLine = regexp.MustCompile(`^::(error|warning) file=([^,:%]+),line=([0-9]+),col=([0-9]+),title=require_comments::([^\r\n]+)$`)

func TestLintGitHub(t *testing.T) {
	errText, _, _ := lintRun(t, lintSrcs, "require_comments=true,lint_format=github")
	lines := strings.Split(failBody(t, errText), "\n")
	if len(lines) != len(wantFindings) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(wantFindings), errText)
	}
	for i, line := range lines {
		m := githubLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("line %d is not a workflow command: %q", i, line)
			continue
		}
		w := wantFindings[i]
		if m[1] != "error" || m[2] != w.File || m[3] != strconv.Itoa(w.Line) || m[4] != strconv.Itoa(w.Column) || m[5] != w.Message {
			t.Errorf("line %d = %q, want error at %s:%d:%d: %s", i, line, w.File, w.Line, w.Column, w.Message)
		}
	}
	// In warn mode the same commands are warnings, on stderr.
	errText, files, stderr := lintRun(t, lintSrcs, "require_comments=warn,lint_format=github")
	if errText != "" {
		t.Fatalf("warn mode failed: %s", errText)
	}
	if _, ok := files["index.html"]; !ok {
		t.Errorf("warn mode wrote %v, want index.html", fileNames(files))
	}
	lines = strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if len(lines) != len(wantFindings) {
		t.Fatalf("stderr has %d lines, want %d:\n%s", len(lines), len(wantFindings), stderr)
	}
	for i, line := range lines {
		if m := githubLine.FindStringSubmatch(line); m == nil || m[1] != "warning" {
			t.Errorf("stderr line %d is not a ::warning command: %q", i, line)
		}
	}
}

func TestLintJSON(t *testing.T) {
	errText, _, _ := lintRun(t, lintSrcs, "require_comments=true,lint_format=json")
	var got []lintFinding
	dec := json.NewDecoder(strings.NewReader(failBody(t, errText)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("findings are not the JSON list: %v\n%s", err, errText)
	}
	if diff := cmp.Diff(wantFindings, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}

	// Warn mode with lint_out: the documents, the findings as a file,
	// and a summary on stderr.
	errText, files, stderr := lintRun(t, lintSrcs, "require_comments=warn,lint_format=json,lint_out=lint/findings.json,format=markdown")
	if errText != "" {
		t.Fatalf("warn mode failed: %s", errText)
	}
	if diff := cmp.Diff([]string{"index.md", "lint/findings.json"}, fileNames(files)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	got = nil
	if err := json.Unmarshal([]byte(files["lint/findings.json"]), &got); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i].Level != "warning" {
			t.Errorf("finding %d has level %q in warn mode", i, got[i].Level)
		}
		got[i].Level = "error"
	}
	if diff := cmp.Diff(wantFindings, got); diff != "" {
		t.Errorf("lint_out findings (-want +got):\n%s", diff)
	}
	if want := "require_comments: 4 elements have no comment (listed in lint/findings.json)\n"; stderr != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}

	// lint_path_prefix puts the proto root's place in the repository
	// before the paths.
	errText, _, _ = lintRun(t, lintSrcs, "require_comments=true,lint_format=json,lint_path_prefix=proto")
	got = nil
	if err := json.Unmarshal([]byte(failBody(t, errText)), &got); err != nil {
		t.Fatal(err)
	}
	for _, f := range got {
		if f.File != "proto/a/v1/a.proto" {
			t.Errorf("file = %q, want proto/a/v1/a.proto", f.File)
		}
	}
}

func TestLintSARIF(t *testing.T) {
	errText, files, _ := lintRun(t, lintSrcs, "require_comments=warn,lint_format=sarif,lint_out=rpcdoc.sarif")
	if errText != "" {
		t.Fatalf("warn mode failed: %s", errText)
	}
	var log map[string]any
	if err := json.Unmarshal([]byte(files["rpcdoc.sarif"]), &log); err != nil {
		t.Fatalf("lint_out is not JSON: %v", err)
	}
	results := checkSARIF(t, log)
	if len(results) != len(wantFindings) {
		t.Fatalf("%d results, want %d", len(results), len(wantFindings))
	}
	for i, r := range results {
		w := wantFindings[i]
		loc := r["locations"].([]any)[0].(map[string]any)["physicalLocation"].(map[string]any)
		region := loc["region"].(map[string]any)
		got := []any{r["level"], r["message"].(map[string]any)["text"], loc["artifactLocation"].(map[string]any)["uri"], region["startLine"], region["startColumn"]}
		want := []any{"warning", w.Message, w.File, float64(w.Line), float64(w.Column)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("result %d (-want +got):\n%s", i, diff)
		}
	}

	// Failing, the error carries the log after the summary line.
	errText, _, _ = lintRun(t, lintSrcs, "require_comments=true,lint_format=sarif")
	log = nil
	if err := json.Unmarshal([]byte(failBody(t, errText)), &log); err != nil {
		t.Fatal(err)
	}
	for _, r := range checkSARIF(t, log) {
		if r["level"] != "error" {
			t.Errorf("level = %v, want error", r["level"])
		}
	}
}

// checkSARIF checks the properties SARIF 2.1.0 requires of a log, a run,
// its tool, rules and results (and the types of those rpcdoc fills), and
// returns the results.
func checkSARIF(t *testing.T, log map[string]any) []map[string]any {
	t.Helper()
	obj := func(v any, what string) map[string]any {
		t.Helper()
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s is %T, want an object", what, v)
		}
		return m
	}
	arr := func(v any, what string) []any {
		t.Helper()
		a, ok := v.([]any)
		if !ok {
			t.Fatalf("%s is %T, want an array", what, v)
		}
		return a
	}
	str := func(v any, what string) string {
		t.Helper()
		s, ok := v.(string)
		if !ok || s == "" {
			t.Fatalf("%s is %#v, want a non-empty string", what, v)
		}
		return s
	}
	positive := func(v any, what string) {
		t.Helper()
		n, ok := v.(float64)
		if !ok || n < 1 || n != float64(int(n)) {
			t.Fatalf("%s is %#v, want an integer >= 1", what, v)
		}
	}
	if log["version"] != "2.1.0" {
		t.Fatalf("version = %v, want 2.1.0", log["version"])
	}
	str(log["$schema"], "$schema")
	runs := arr(log["runs"], "runs")
	if len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
	run := obj(runs[0], "run")
	driver := obj(obj(run["tool"], "tool")["driver"], "tool.driver")
	if str(driver["name"], "driver.name") != "protoc-gen-rpcdoc" {
		t.Errorf("driver.name = %v", driver["name"])
	}
	str(driver["version"], "driver.version")
	var ruleIDs []string
	for i, r := range arr(driver["rules"], "driver.rules") {
		rule := obj(r, "rule")
		ruleIDs = append(ruleIDs, str(rule["id"], "rule.id"))
		str(obj(rule["shortDescription"], "rule.shortDescription")["text"], "rule.shortDescription.text")
		_ = i
	}
	levels := map[any]bool{"none": true, "note": true, "warning": true, "error": true}
	var out []map[string]any
	for i, r := range arr(run["results"], "results") {
		res := obj(r, "result")
		str(obj(res["message"], "result.message")["text"], "result.message.text")
		id := str(res["ruleId"], "result.ruleId")
		idx, ok := res["ruleIndex"].(float64)
		if !ok || int(idx) >= len(ruleIDs) || ruleIDs[int(idx)] != id {
			t.Errorf("result %d: ruleIndex %v does not name rule %s among %v", i, res["ruleIndex"], id, ruleIDs)
		}
		if !levels[res["level"]] {
			t.Errorf("result %d: level %v", i, res["level"])
		}
		for _, l := range arr(res["locations"], "result.locations") {
			pl := obj(obj(l, "location")["physicalLocation"], "physicalLocation")
			str(obj(pl["artifactLocation"], "artifactLocation")["uri"], "artifactLocation.uri")
			region := obj(pl["region"], "region")
			positive(region["startLine"], "region.startLine")
			positive(region["startColumn"], "region.startColumn")
		}
		out = append(out, res)
	}
	return out
}

func TestLintIgnore(t *testing.T) {
	srcs := map[string]string{"a/v1/a.proto": `syntax = "proto3";
package a.v1;

// Documented.
message Order {
  string id = 1;
  message Item {
    string sku = 1;
  }
  Item item = 2;
}

message InternalState {
  int32 n = 1;
}

// Documented.
message Outer {
  // Documented.
  message InternalCache {}
}

// Documented.
enum Status {
  STATUS_UNSPECIFIED = 0;
}
`}
	all := []string{"a.v1.Order.id", "a.v1.Order.Item", "a.v1.Order.Item.sku", "a.v1.Order.item", "a.v1.InternalState", "a.v1.InternalState.n", "a.v1.STATUS_UNSPECIFIED"}
	tests := []struct {
		ignore []string
		want   []string
	}{
		{nil, all},
		// * stays within one name: Order's own fields and nested types.
		{[]string{"a.v1.Order.*"}, []string{"a.v1.Order.Item.sku", "a.v1.InternalState", "a.v1.InternalState.n", "a.v1.STATUS_UNSPECIFIED"}},
		// ** crosses names.
		{[]string{"a.v1.Order.**"}, []string{"a.v1.InternalState", "a.v1.InternalState.n", "a.v1.STATUS_UNSPECIFIED"}},
		// **. matches any prefix, or none: the element, not its contents.
		{[]string{"**.Internal*"}, []string{"a.v1.Order.id", "a.v1.Order.Item", "a.v1.Order.Item.sku", "a.v1.Order.item", "a.v1.InternalState.n", "a.v1.STATUS_UNSPECIFIED"}},
		// Repeated, and an enum value by its enum's name.
		{[]string{"**.Internal*", "**.Internal*.*", "a.v1.Status.*", "a.v1.Order.i?em"}, []string{"a.v1.Order.id", "a.v1.Order.Item", "a.v1.Order.Item.sku"}},
		// An enum value by its own full name; a class.
		{[]string{"a.v1.STATUS_*", "a.v1.Order.[!i]*"}, []string{"a.v1.Order.id", "a.v1.Order.Item.sku", "a.v1.Order.item", "a.v1.InternalState", "a.v1.InternalState.n"}},
		// A pattern matches whole names only.
		{[]string{"a.v1.Order", "v1.*", "Order.id"}, all},
	}
	for _, tc := range tests {
		param := "require_comments=warn,lint_format=json,lint_out=lint.json"
		for _, g := range tc.ignore {
			param += ",lint_ignore=" + g
		}
		errText, files, _ := lintRun(t, srcs, param)
		if errText != "" {
			t.Fatalf("%s: %s", param, errText)
		}
		var got []lintFinding
		if err := json.Unmarshal([]byte(files["lint.json"]), &got); err != nil {
			t.Fatal(err)
		}
		names := []string{}
		for _, f := range got {
			names = append(names, f.Element)
		}
		want := tc.want
		if want == nil {
			want = []string{}
		}
		if diff := cmp.Diff(want, names); diff != "" {
			t.Errorf("%v: findings (-want +got):\n%s", tc.ignore, diff)
		}
	}
	// Ignoring every finding passes require_comments=true.
	if errText, files, _ := lintRun(t, srcs, "require_comments=true,lint_ignore=a.v1.**"); errText != "" || files["index.html"] == "" {
		t.Errorf("everything ignored: error %q, files %v", errText, fileNames(files))
	}
}

func TestLintWarnWritesDocs(t *testing.T) {
	errText, files, stderr := lintRun(t, lintSrcs, "require_comments=warn,format=html,json")
	if errText != "" {
		t.Fatalf("warn mode failed: %s", errText)
	}
	if diff := cmp.Diff([]string{"index.html", "index.json"}, fileNames(files)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	// The same documents as without the lint.
	_, plain, _ := lintRun(t, lintSrcs, "format=html,json")
	for name, content := range plain {
		if files[name] != content {
			t.Errorf("%s differs from the run without require_comments", name)
		}
	}
	if !strings.HasPrefix(stderr, "require_comments: 4 elements have no comment:\n  a/v1/a.proto:6:3: method a.v1.S.Undocumented\n") {
		t.Errorf("stderr = %q, want the text findings", stderr)
	}
	// require_comments=false after warn turns the lint off again.
	if _, _, stderr := lintRun(t, lintSrcs, "require_comments=warn,require_comments=false"); stderr != "" {
		t.Errorf("lint off, stderr = %q", stderr)
	}
	// Nothing to report: nothing on stderr, and lint_out is still written.
	srcs := map[string]string{"a/v1/a.proto": "syntax = \"proto3\";\npackage a.v1;\n\n// Documented.\nmessage M {}\n"}
	for format, want := range map[string]string{"json": "[]\n", "text": "require_comments: every element has a comment\n"} {
		errText, files, stderr := lintRun(t, srcs, "require_comments=warn,lint_out=lint.out,lint_format="+format)
		if errText != "" || stderr != "" {
			t.Errorf("%s: error %q, stderr %q", format, errText, stderr)
		}
		if files["lint.out"] != want {
			t.Errorf("%s: lint_out = %q, want %q", format, files["lint.out"], want)
		}
	}
	errText, files, _ = lintRun(t, srcs, "require_comments=warn,lint_out=lint.sarif,lint_format=sarif")
	var log map[string]any
	if err := json.Unmarshal([]byte(files["lint.sarif"]), &log); errText != "" || err != nil {
		t.Fatalf("error %q, %v", errText, err)
	}
	if r := checkSARIF(t, log); len(r) != 0 {
		t.Errorf("%d results, want none", len(r))
	}
}
