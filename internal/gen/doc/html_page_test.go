package doc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCustomTemplateBuiltinParts: a custom HTML template that puts the
// built-in parts together ("page-head", .Section or "file", "page-tail",
// or the whole built-in page) writes the built-in page, byte for byte.
func TestCustomTemplateBuiltinParts(t *testing.T) {
	srcs := map[string]string{
		"parts":   `{{template "page-head" .}}{{range .Files}}{{$.Section .}}{{end}}{{template "page-tail" .}}`,
		"methods": `{{.PageHead}}{{range .Files}}{{$.Section .}}{{end}}{{.PageTail}}`,
		"page":    `{{template "page.html.tmpl" .}}`,
	}
	for _, layout := range []string{"single", "package"} {
		param := "title=<T&amp;'+\">,layout=" + layout
		want := generate(t, compileRequest(t, param, goldenFiles...))
		for name, src := range srcs {
			p := filepath.Join(t.TempDir(), "page.tmpl")
			if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			got := generate(t, compileRequest(t, param+",template="+p, goldenFiles...))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s, layout=%s (-built-in +custom):\n%s", name, layout, diff)
			}
		}
	}
}

// TestCustomTemplateRedefinesFile: .Section is the built-in HTML of a
// file even when the custom template redefines "file".
func TestCustomTemplateRedefinesFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "page.tmpl")
	src := `{{define "file"}}<p>mine</p>{{end}}{{range .Files}}{{$.Section .}}{{end}}`
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got := generate(t, compileRequest(t, "template="+p, "legacy/v1/legacy.proto"))["index.html"]
	if !strings.HasPrefix(got, "\n<section class=\"file\" id=\"file:legacy/v1/legacy.proto\" data-kind=\"file\">") || strings.Contains(got, "mine") {
		t.Errorf("unexpected output:\n%.300s", got)
	}
}
