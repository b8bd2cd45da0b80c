package doc

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestProtogenParamsIgnored: buf and protoc users often pass the same
// options to every plugin. protogen's own options (paths, module, M
// mappings, annotate_code, default_api_level) concern Go output only, so
// they must not change the documents, in any layout, nor hide an error in
// the documentation options.
func TestProtogenParamsIgnored(t *testing.T) {
	goParams := []string{
		"paths=source_relative",
		"paths=import",
		"module=example.com/acme",
		"Macme/shop/v1/shop.proto=example.com/other;other",
		"Mlegacy/v1/legacy.proto=example.com/legacy",
		"annotate_code=true",
		"default_api_level=API_OPAQUE",
		// Invalid for protoc-gen-go, irrelevant to documents.
		"paths=source_relative,module=example.com/acme",
	}
	for _, docParam := range []string{"format=html,markdown,json", "format=html,layout=package", "format=markdown,json,layout=file,order=alpha"} {
		want := generate(t, compileRequest(t, docParam, goldenFiles...))
		for _, gp := range goParams {
			param := gp + "," + docParam
			got := generate(t, compileRequest(t, param, goldenFiles...))
			if diff := cmp.Diff(fileNames(want), fileNames(got)); diff != "" {
				t.Errorf("%s: files differ (-want +got):\n%s", param, diff)
				continue
			}
			for name := range want {
				if want[name] != got[name] {
					t.Errorf("%s: %s differs from the output without %s", param, name, gp)
				}
			}
		}
	}
	resp := Generate(compileRequest(t, "paths=source_relative,format=pdf,Mx.proto=example.com/x", goldenFiles...))
	if got, want := resp.GetError(), `option format: "pdf" is not a format (use html, markdown, json or openapi)`; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
}
