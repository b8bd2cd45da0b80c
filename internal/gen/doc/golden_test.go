package doc

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "update golden files")

// goldenCases are the option sets whose output is committed under
// golden/doc/<name>/.
var goldenCases = []struct {
	name  string
	param string
}{
	{"single", "format=html,markdown,json"},
	{"package", "format=html,markdown,json,layout=package,title=Acme APIs"},
	{"file", "format=html,markdown,json,layout=file"},
	{"alpha", "format=markdown,order=alpha,name=reference,exclude=hostile/**"},
	{"openapi", "format=openapi,layout=package,api_version=1.2.0,title=Acme APIs"},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			got := generate(t, compileRequest(t, tc.param, goldenFiles...))
			dir := filepath.Join(goldenDir(t), tc.name)
			if *update {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				for name, content := range got {
					p := filepath.Join(dir, filepath.FromSlash(name))
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			want := map[string]string{}
			err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				rel, _ := filepath.Rel(dir, p)
				want[filepath.ToSlash(rel)] = string(b)
				return err
			})
			if err != nil {
				t.Fatalf("reading golden files (run go test -update): %v", err)
			}
			var names []string
			for n := range got {
				names = append(names, n)
			}
			sort.Strings(names)
			if diff := cmp.Diff(sortedKeys(want), names); diff != "" {
				t.Errorf("generated file names differ from golden/doc/%s (-want +got):\n%s", tc.name, diff)
			}
			for _, n := range names {
				if diff := cmp.Diff(want[n], got[n]); diff != "" {
					t.Errorf("golden/doc/%s/%s mismatch (-want +got):\n%s", tc.name, n, diff)
				}
			}
		})
	}
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var _ = strings.TrimSpace
