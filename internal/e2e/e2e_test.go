// Package e2e drives the built plugins the way users run them: through
// protoc and through buf generate, and builds what they produce.
package e2e

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// root is the module root, two levels up from this package.
var root = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}()

// require returns the path of an external tool. Missing tools skip the test
// on a developer machine; in CI (CI=true) .ci/run installs them, so a
// missing tool is a failure there.
func require(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found on PATH; .ci/run installs it", name)
		}
		t.Skipf("%s not found on PATH (install it, or run .ci/run)", name)
	}
	return path
}

func run(t *testing.T, dir string, env []string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return out
}

// buildPlugins builds protoc-gen-go, protoc-gen-rpc and protoc-gen-rpcdoc
// into one directory and returns it.
func buildPlugins(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds binaries; skipped in -short mode")
	}
	bin := t.TempDir()
	run(t, root, nil, "go", "build", "-o", bin,
		"google.golang.org/protobuf/cmd/protoc-gen-go",
		"./cmd/protoc-gen-rpc",
		"./cmd/protoc-gen-rpcdoc",
	)
	return bin
}

// writeInput writes the shared proto input (proto3 and proto2: protoc from
// Debian predates editions) into dir/proto.
func writeInput(t *testing.T, dir string) {
	t.Helper()
	files := map[string]string{
		"proto/shop/v1/shop.proto": `syntax = "proto3";

// The shop API.
package shop.v1;

import "google/protobuf/empty.proto";
import "shop/v1/types.proto";

option go_package = "example.com/e2e/gen/shop/v1;shopv1";

// Shop sells things.
service Shop {
  // GetItem returns one item.
  rpc GetItem(GetItemRequest) returns (Item) {
    option idempotency_level = NO_SIDE_EFFECTS;
  }
  // ListItems streams the catalogue.
  rpc ListItems(google.protobuf.Empty) returns (stream Item);
  // Upload adds items.
  rpc Upload(stream Item) returns (UploadSummary);
  // Haggle negotiates a price.
  rpc Haggle(stream Offer) returns (stream Offer);
}

message GetItemRequest {
  string id = 1;
  optional bool with_stock = 2;
}

message UploadSummary {
  int32 count = 1;
}
`,
		"proto/shop/v1/types.proto": `syntax = "proto2";

package shop.v1;

option go_package = "example.com/e2e/gen/shop/v1;shopv1";

// An item for sale.
message Item {
  optional string id = 1;
  optional int64 price_cents = 2 [default = 100];
}

message Offer {
  optional int64 cents = 1;
}
`,
	}
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// tree reads every file under dir into a map keyed by slash path.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// compilerVersion matches the lines where generated files name the
// compiler that produced the request; protoc and buf name themselves
// differently there, and nothing else may differ.
var compilerVersion = regexp.MustCompile(`(?m)^//\s+(-\s+)?protoc\s+.*$`)

func normalise(files map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range files {
		out[k] = compilerVersion.ReplaceAllString(v, "// protoc VERSION")
	}
	return out
}

// buildModule makes dir a module that uses this checkout of polyrpc and
// checks that the generated code builds and vets.
func buildModule(t *testing.T, dir string) {
	t.Helper()
	gomod := "module example.com/e2e\n\ngo 1.26\n\nrequire github.com/polyrpc/polyrpc v0.0.0\n\nreplace github.com/polyrpc/polyrpc => " + root + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"GOFLAGS=-mod=mod", "GOWORK=off"}
	run(t, dir, env, "go", "mod", "tidy")
	run(t, dir, env, "go", "build", "./...")
	run(t, dir, env, "go", "vet", "./...")
}

func TestProtoc(t *testing.T) {
	protoc := require(t, "protoc")
	bin := buildPlugins(t)
	dir := t.TempDir()
	writeInput(t, dir)
	gen := filepath.Join(dir, "gen")
	if err := os.MkdirAll(filepath.Join(gen, "doc"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, dir, nil, protoc,
		"--plugin=protoc-gen-go="+filepath.Join(bin, "protoc-gen-go"),
		"--plugin=protoc-gen-rpc="+filepath.Join(bin, "protoc-gen-rpc"),
		"--plugin=protoc-gen-rpcdoc="+filepath.Join(bin, "protoc-gen-rpcdoc"),
		"-Iproto",
		"--go_out=gen", "--go_opt=module=example.com/e2e/gen",
		"--rpc_out=gen", "--rpc_opt=module=example.com/e2e/gen,fanout=true",
		"--rpcdoc_out=gen/doc", "--rpcdoc_opt=format=html,markdown",
		"shop/v1/shop.proto", "shop/v1/types.proto",
	)
	got := tree(t, gen)
	for _, want := range []string{"shop/v1/shop.pb.go", "shop/v1/types.pb.go", "shop/v1/shop_rpc.pb.go", "doc/index.html", "doc/index.md"} {
		if _, ok := got[want]; !ok {
			t.Errorf("protoc did not produce %s; got %v", want, keys(got))
		}
	}
	if _, ok := got["shop/v1/types_rpc.pb.go"]; ok {
		t.Errorf("protoc-gen-rpc wrote a file for types.proto, which has no services")
	}
	rpc := got["shop/v1/shop_rpc.pb.go"]
	for _, want := range []string{"func NewShopClient(", "func RegisterShopServer(", "func NewShopHandler(", "var Shop_ServiceDesc = grpc.ServiceDesc{",
		"func NewShopFanOutClient(targets map[string]ShopClient, opts ...fanout.Option) (ShopFanOutClient, error) {"} {
		if !strings.Contains(rpc, want) {
			t.Errorf("shop_rpc.pb.go lacks %q", want)
		}
	}
	if !strings.Contains(got["doc/index.html"], "/shop.v1.Shop/GetItem") {
		t.Errorf("index.html does not document the procedure /shop.v1.Shop/GetItem")
	}
	buildModule(t, dir)
}

func TestBufGenerate(t *testing.T) {
	protoc := require(t, "protoc")
	bin := buildPlugins(t)

	// The same input through buf and through protoc must give the same files.
	viaBuf := t.TempDir()
	writeInput(t, viaBuf)
	bufYAML := "version: v2\nmodules:\n  - path: proto\n"
	genYAML := `version: v2
plugins:
  - local: ` + filepath.Join(bin, "protoc-gen-go") + `
    out: gen
    opt: module=example.com/e2e/gen
  - local: ` + filepath.Join(bin, "protoc-gen-rpc") + `
    out: gen
    opt: module=example.com/e2e/gen
  - local: ` + filepath.Join(bin, "protoc-gen-rpcdoc") + `
    out: gen/doc
    opt: format=html,markdown
    strategy: all
`
	for name, body := range map[string]string{"buf.yaml": bufYAML, "buf.gen.yaml": genYAML} {
		if err := os.WriteFile(filepath.Join(viaBuf, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// buf is pinned in tools/go.mod; `go tool -n` builds it (or finds it in
	// the build cache) and prints its path.
	buf := strings.TrimSpace(string(run(t, root, nil, "go", "tool", "-modfile=tools/go.mod", "-n", "buf")))
	run(t, viaBuf, nil, buf, "generate")

	viaProtoc := t.TempDir()
	writeInput(t, viaProtoc)
	if err := os.MkdirAll(filepath.Join(viaProtoc, "gen", "doc"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, viaProtoc, nil, protoc,
		"--plugin=protoc-gen-go="+filepath.Join(bin, "protoc-gen-go"),
		"--plugin=protoc-gen-rpc="+filepath.Join(bin, "protoc-gen-rpc"),
		"--plugin=protoc-gen-rpcdoc="+filepath.Join(bin, "protoc-gen-rpcdoc"),
		"-Iproto",
		"--go_out=gen", "--go_opt=module=example.com/e2e/gen",
		"--rpc_out=gen", "--rpc_opt=module=example.com/e2e/gen",
		"--rpcdoc_out=gen/doc", "--rpcdoc_opt=format=html,markdown",
		"shop/v1/shop.proto", "shop/v1/types.proto",
	)
	got, want := normalise(tree(t, filepath.Join(viaBuf, "gen"))), normalise(tree(t, filepath.Join(viaProtoc, "gen")))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("buf generate and protoc disagree (-protoc +buf):\n%s", diff)
	}
	buildModule(t, viaBuf)
}

func keys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// writeLargeInput writes n proto files of 40 commented messages each, every
// file importing the one before, and returns their names.
func writeLargeInput(t *testing.T, dir string, n int) []string {
	t.Helper()
	var names []string
	for i := 0; i < n; i++ {
		var b strings.Builder
		fmt.Fprintf(&b, "syntax = \"proto3\";\n\n// Package big%d is generated.\npackage big.v%d;\n\n", i, i)
		if i > 0 {
			fmt.Fprintf(&b, "import \"big/f%d.proto\";\n\n", i-1)
		}
		fmt.Fprintf(&b, "// Service%d does things.\nservice Service%d {\n", i, i)
		for m := 0; m < 10; m++ {
			fmt.Fprintf(&b, "  // Method%d does thing %d.\n  rpc Method%d(Msg%d) returns (Msg%d);\n", m, m, m, m, m+1)
		}
		b.WriteString("}\n")
		for m := 0; m < 40; m++ {
			fmt.Fprintf(&b, "// Msg%d is message %d with **bold** and `code`.\nmessage Msg%d {\n", m, m, m)
			for f := 0; f < 15; f++ {
				switch {
				case f == 3 && m > 0:
					fmt.Fprintf(&b, "  // Field f%d refers to Msg%d.\n  Msg%d f%d = %d;\n", f, m-1, m-1, f, f+1)
				case f == 5 && i > 0:
					fmt.Fprintf(&b, "  // Field f%d is imported.\n  big.v%d.Msg%d f%d = %d;\n", f, i-1, m, f, f+1)
				default:
					fmt.Fprintf(&b, "  // Field f%d of message %d; it holds a value.\n  optional string f%d = %d;\n", f, m, f, f+1)
				}
			}
			b.WriteString("}\n")
		}
		name := fmt.Sprintf("big/f%d.proto", i)
		path := filepath.Join(dir, "proto", name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return names
}

// TestLargeDocument checks documents large enough to be sent in several
// pieces (CodeGeneratorResponse.File values without a name): protoc and buf
// must both join them into the same, whole files.
func TestLargeDocument(t *testing.T) {
	protoc := require(t, "protoc")
	bin := buildPlugins(t)
	buf := strings.TrimSpace(string(run(t, root, nil, "go", "tool", "-modfile=tools/go.mod", "-n", "buf")))
	const n = 48
	viaProtoc, viaBuf := t.TempDir(), t.TempDir()
	names := writeLargeInput(t, viaProtoc, n)
	writeLargeInput(t, viaBuf, n)
	if err := os.MkdirAll(filepath.Join(viaProtoc, "doc"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, viaProtoc, nil, protoc, append([]string{
		"--plugin=protoc-gen-rpcdoc=" + filepath.Join(bin, "protoc-gen-rpcdoc"),
		"-Iproto", "--rpcdoc_out=doc", "--rpcdoc_opt=format=html,markdown,json",
	}, names...)...)
	for name, body := range map[string]string{
		"buf.yaml": "version: v2\nmodules:\n  - path: proto\n",
		"buf.gen.yaml": "version: v2\nplugins:\n  - local: " + filepath.Join(bin, "protoc-gen-rpcdoc") +
			"\n    out: doc\n    opt: format=html,markdown,json\n    strategy: all\n",
	} {
		if err := os.WriteFile(filepath.Join(viaBuf, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(t, viaBuf, nil, buf, "generate")
	got, want := tree(t, filepath.Join(viaBuf, "doc")), tree(t, filepath.Join(viaProtoc, "doc"))
	if !slices.Equal(keys(want), []string{"index.html", "index.json", "index.md"}) {
		t.Fatalf("protoc wrote %v", keys(want))
	}
	if len(want["index.html"]) < 9<<20 {
		t.Fatalf("index.html is only %d bytes: too small to come in pieces", len(want["index.html"]))
	}
	for name := range want {
		if got[name] != want[name] {
			t.Errorf("%s: buf and protoc disagree (%d and %d bytes)", name, len(got[name]), len(want[name]))
		}
	}
	html := want["index.html"]
	if !strings.HasPrefix(html, "<!DOCTYPE html>") || !strings.HasSuffix(html, "</html>\n") {
		t.Errorf("index.html is not one whole page")
	}
	// Every file's section appears once, in path order.
	at := 0
	for _, name := range slices.Sorted(slices.Values(names)) {
		i := strings.Index(html[at:], `<section class="file" id="file:`+name+`"`)
		if i < 0 {
			t.Fatalf("no section for %s after byte %d", name, at)
		}
		at += i + 1
	}
	if strings.Count(html, `<section class="file" `) != n {
		t.Errorf("%d file sections, want %d", strings.Count(html, `<section class="file" `), n)
	}
}
