package doc

import (
	"strings"
	"testing"
)

// TestSearchIndexFile: only HTML runs of several documents write the
// search index, named after name=, and its pages point at it.
func TestSearchIndexFile(t *testing.T) {
	files := []string{"acme/shop/v1/shop.proto", "acme/common/v1/common.proto"}
	for _, tc := range []struct {
		param string
		index string
	}{
		{"format=html", ""},
		{"format=html,layout=package,name=ref", "ref.search.js"},
		{"format=markdown,json,layout=file", ""},
		{"format=markdown,html,layout=file", "index.search.js"},
	} {
		out := generate(t, compileRequest(t, tc.param, files...))
		var got []string
		for name := range out {
			if strings.HasSuffix(name, ".js") {
				got = append(got, name)
			}
		}
		if strings.Join(got, " ") != tc.index {
			t.Errorf("%s: scripts %q, want %q", tc.param, got, tc.index)
		}
		for name, content := range out {
			if !strings.HasSuffix(name, ".html") {
				continue
			}
			has := strings.Contains(content, ` data-index="`)
			if has != (tc.index != "") {
				t.Errorf("%s: %s has data-index: %v", tc.param, name, has)
			}
		}
	}
	resp := Generate(compileRequest(t, "layout=package,require_comments=warn,lint_out=index.search.js", files...))
	if want := "option lint_out=index.search.js: the search index of this run has that name"; resp.GetError() != want {
		t.Errorf("lint_out on the index: error %q, want %q", resp.GetError(), want)
	}
}
