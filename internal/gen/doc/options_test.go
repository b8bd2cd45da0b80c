package doc

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
	"github.com/polyrpc/polyrpc/internal/plugin"
)

func TestOptionErrors(t *testing.T) {
	dir := t.TempDir()
	badTmpl := filepath.Join(dir, "bad.tmpl")
	if err := os.WriteFile(badTmpl, []byte("{{.Title"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.tmpl")
	tests := []struct {
		param string
		want  string
	}{
		{"format=pdf", `option format: "pdf" is not a format (use html, markdown, json or openapi)`},
		{"layout=tree", `option layout: "tree" is not a layout (use single, package or file)`},
		{"order=random", `option order: "random" is not an order (use declaration or alpha)`},
		{"name=a/b", `option name: "a/b" is not a file base name (no directories, not empty)`},
		{"name=", `option name: "" is not a file base name (no directories, not empty)`},
		{"title=", `option title: the title must not be empty`},
		{"require_comments=maybe", `option require_comments: "maybe" is not true, false or warn`},
		{"require_comments=true,lint_format=xml", `option lint_format: "xml" is not a lint format (use text, github, json or sarif)`},
		{"require_comments=true,lint_ignore=a.[b", `option lint_ignore: bad pattern "a.[b": unclosed [`},
		{"require_comments=true,lint_ignore=", `option lint_ignore: empty pattern`},
		{"require_comments=warn,lint_out=../lint.json", `option lint_out: "../lint.json" is not a relative file path inside the output directory`},
		{"require_comments=warn,lint_out=/tmp/lint.json", `option lint_out: "/tmp/lint.json" is not a relative file path inside the output directory`},
		{"require_comments=warn,lint_out=a/./b.json", `option lint_out: "a/./b.json" is not a relative file path inside the output directory`},
		{`require_comments=warn,lint_out=a\b.json`, `option lint_out: "a\\b.json" is not a relative file path inside the output directory`},
		{"require_comments=warn,lint_out=", `option lint_out: "" is not a relative file path inside the output directory`},
		{"require_comments=true,lint_out=lint.sarif", `option lint_out=lint.sarif: needs require_comments=warn (protoc and buf write no files when require_comments fails the run)`},
		{"lint_out=lint.sarif", `option lint_out=lint.sarif: needs require_comments=warn (protoc and buf write no files when require_comments fails the run)`},
		{"require_comments=warn,lint_out=index.html", `option lint_out=index.html: a document of this run has that name`},
		{"exclude=[abc", `option exclude: bad pattern "[abc": unclosed [`},
		{"base_url=ftp://x", `option base_url: "ftp://x" is not an http:// or https:// URL`},
		{"colour=blue", `unknown option "colour" (known options: api_version, base_url, example_host, exclude, extern_url, format, layout, lint_format, lint_ignore, lint_out, lint_path_prefix, name, openapi_paths, order, referenced_types, require_comments, template, title, warn_unresolved)`},
		{"template=", `option template: a file path is required (template=PATH or template=FORMAT:PATH)`},
		{"template=" + missing, `option template: cannot read template "` + missing + `": no such file or directory`},
		{"format=html,format=json,template=" + missing, `option template=` + missing + `: with more than one format, say which format the template is for (template=html:PATH, template=markdown:PATH or template=json:PATH)`},
		{"template=markdown:" + missing, `option template=markdown:` + missing + `: format markdown is not being generated (add format=markdown)`},
		{"template=" + badTmpl, `option template: html template: template: custom:1: unclosed action`},
	}
	for _, tc := range tests {
		t.Run(tc.param, func(t *testing.T) {
			resp := Generate(compileRequest(t, tc.param, "legacy/v1/legacy.proto"))
			if diff := cmp.Diff(tc.want, resp.GetError()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if len(resp.File) != 0 {
				t.Errorf("files generated despite the error")
			}
			if resp.GetSupportedFeatures() != plugin.Features {
				t.Errorf("supported features = %d, want %d", resp.GetSupportedFeatures(), plugin.Features)
			}
		})
	}
}

func fileNames(files map[string]string) []string {
	return sortedKeys(files)
}

func TestOptions(t *testing.T) {
	t.Run("default is one index.html", func(t *testing.T) {
		got := fileNames(generate(t, compileRequest(t, "", goldenFiles...)))
		if diff := cmp.Diff([]string{"index.html"}, got); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("formats and name", func(t *testing.T) {
		got := fileNames(generate(t, compileRequest(t, "format=json,format=markdown,html,name=api", goldenFiles...)))
		if diff := cmp.Diff([]string{"api.html", "api.json", "api.md"}, got); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("file layout follows proto paths", func(t *testing.T) {
		got := fileNames(generate(t, compileRequest(t, "layout=file,format=md", "acme/shop/v1/shop.proto", "legacy/v1/legacy.proto")))
		if diff := cmp.Diff([]string{"acme/shop/v1/shop.md", "legacy/v1/legacy.md"}, got); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("package layout", func(t *testing.T) {
		got := fileNames(generate(t, compileRequest(t, "layout=package,name=ref", "acme/shop/v1/shop.proto", "acme/common/v1/common.proto")))
		if diff := cmp.Diff([]string{"acme/common/v1/ref.html", "acme/shop/v1/ref.html", "ref.search.js"}, got); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("title", func(t *testing.T) {
		got := generate(t, compileRequest(t, "title=Acme <APIs>", "legacy/v1/legacy.proto"))["index.html"]
		if !strings.Contains(got, "<title>Acme &lt;APIs&gt;</title>") {
			t.Errorf("title not set (and escaped):\n%.400s", got)
		}
	})
	t.Run("exclude", func(t *testing.T) {
		doc := jsonDoc(t, "format=json,exclude=legacy/**,exclude=*/v1/hostile.proto", goldenFiles...)
		var names []string
		for _, f := range doc.Files {
			names = append(names, f.Name)
		}
		want := []string{"acme/common/v1/common.proto", "acme/shop/v1/shop.proto", "editions/v1/editions.proto"}
		if diff := cmp.Diff(want, names); diff != "" {
			t.Error(diff)
		}
		// Types of excluded files are not linked.
		if got := generate(t, compileRequest(t, "format=markdown,exclude=acme/common/**", "acme/shop/v1/shop.proto", "acme/common/v1/common.proto"))["index.md"]; strings.Contains(got, "(#acme.common.v1.Money)") {
			t.Error("link to a type of an excluded file")
		}
	})
	t.Run("order", func(t *testing.T) {
		decl := jsonDoc(t, "format=json", "acme/shop/v1/shop.proto")
		alpha := jsonDoc(t, "format=json,order=alpha", "acme/shop/v1/shop.proto")
		if got := messageNames(decl.Files[0]); got[0] != "GetProductRequest" || got[1] != "UpdateProductRequest" {
			t.Errorf("declaration order: %v", got)
		}
		got := messageNames(alpha.Files[0])
		want := append([]string(nil), got...)
		sortStrings(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("alpha order (-want +got):\n%s", diff)
		}
		if s := alpha.Files[0].Services; s[0].Name != "LegacyShop" || s[1].Methods[0].Name != "Chat" {
			t.Errorf("alpha services/methods not sorted: %s, %s", s[0].Name, s[1].Methods[0].Name)
		}
	})
	t.Run("custom html template is escaped", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "page.tmpl")
		src := `<h1>{{.Title}}</h1>{{range .Files}}<p>{{.Name}}</p>{{range .Messages}}<div>{{$.Comment .Description}}</div>{{end}}{{end}}<p>{{"<script>x</script>"}}</p>`
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		got := generate(t, compileRequest(t, "title=T,template="+p, "hostile/v1/hostile.proto"))["index.html"]
		if !strings.HasPrefix(got, "<h1>T</h1><p>hostile/v1/hostile.proto</p><div><p>Payload &lt;script&gt;") {
			t.Errorf("unexpected output:\n%s", got)
		}
		if strings.Contains(got, "<script>") {
			t.Errorf("custom template output contains a script element:\n%s", got)
		}
	})
	t.Run("custom markdown template", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "page.md.tmpl")
		if err := os.WriteFile(p, []byte("# {{.Title}}\n{{range .Files}}- {{.Name}}\n{{end}}"), 0o644); err != nil {
			t.Fatal(err)
		}
		got := generate(t, compileRequest(t, "format=html,format=markdown,template=markdown:"+p, "legacy/v1/legacy.proto"))
		if diff := cmp.Diff("# API Reference\n- legacy/v1/legacy.proto\n", got["index.md"]); diff != "" {
			t.Error(diff)
		}
		if !strings.Contains(got["index.html"], "<!DOCTYPE html>") {
			t.Error("built-in HTML template not used for html")
		}
	})
	t.Run("base_url", func(t *testing.T) {
		doc := jsonDoc(t, "format=json,base_url=https://api.acme.test/", "acme/shop/v1/shop.proto")
		m := doc.Files[0].Services[0].Methods[0]
		if !strings.HasSuffix(m.Example, "\n  https://api.acme.test/acme.shop.v1.Shop/GetProduct") {
			t.Errorf("example: %s", m.Example)
		}
		if !strings.HasPrefix(m.ConnectGet, "https://api.acme.test/acme.shop.v1.Shop/GetProduct?encoding=json&message=") {
			t.Errorf("connect get: %s", m.ConnectGet)
		}
	})
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func messageNames(f *model.File) []string {
	var out []string
	for _, m := range f.Messages {
		out = append(out, m.Name)
	}
	return out
}

func jsonDoc(t *testing.T, param string, files ...string) *model.Document {
	t.Helper()
	out := generate(t, compileRequest(t, param, files...))
	var name string
	for n := range out {
		if strings.HasSuffix(n, ".json") {
			name = n
		}
	}
	doc := new(model.Document)
	if err := json.Unmarshal([]byte(out[name]), doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestRequireComments(t *testing.T) {
	srcs := map[string]string{"a/v1/a.proto": `syntax = "proto3";
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
	resp := Generate(compileSources(t, srcs, "require_comments=true", "a/v1/a.proto"))
	want := `require_comments: 4 elements have no comment:
  a/v1/a.proto:6:3: method a.v1.S.Undocumented
  a/v1/a.proto:11:3: field a.v1.Req.bare
  a/v1/a.proto:19:1: enum a.v1.E
  a/v1/a.proto:22:3: enum value a.v1.E_BARE`
	if diff := cmp.Diff(want, resp.GetError()); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	// Without the option the same request succeeds.
	if resp := Generate(compileSources(t, srcs, "", "a/v1/a.proto")); resp.Error != nil {
		t.Errorf("without require_comments: %s", resp.GetError())
	}
	// The golden inputs are fully documented apart from the hostile file's
	// package-less elements; check they pass.
	if resp := Generate(compileRequest(t, "require_comments=true", "acme/shop/v1/shop.proto", "acme/common/v1/common.proto", "editions/v1/editions.proto")); resp.Error != nil {
		t.Errorf("documented protos fail require_comments: %s", resp.GetError())
	}
}

func TestDeterministic(t *testing.T) {
	req := compileRequest(t, "format=html,markdown,json,layout=package", goldenFiles...)
	first := Generate(req)
	for i := 0; i < 5; i++ {
		again := Generate(req)
		if diff := cmp.Diff(responseFiles(first), responseFiles(again)); diff != "" {
			t.Fatalf("run %d differs:\n%s", i, diff)
		}
	}
}

// TestFileOrderIndependent: protoc passes files in command-line order and
// buf in its own; the documents must not depend on it.
func TestFileOrderIndependent(t *testing.T) {
	reversed := make([]string, len(goldenFiles))
	for i, f := range goldenFiles {
		reversed[len(goldenFiles)-1-i] = f
	}
	param := "format=html,markdown,json,layout=package"
	a := Generate(compileRequest(t, param, goldenFiles...))
	b := Generate(compileRequest(t, param, reversed...))
	if diff := cmp.Diff(responseFiles(a), responseFiles(b)); diff != "" {
		t.Errorf("output depends on the order of files in the request:\n%s", diff)
	}
}

func responseFiles(r *pluginpb.CodeGeneratorResponse) []string {
	var out []string
	for _, f := range r.File {
		out = append(out, f.GetName(), f.GetContent())
	}
	return out
}
