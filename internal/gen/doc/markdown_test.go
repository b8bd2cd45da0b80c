package doc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// cellProtos put pipes, backticks, backslashes, angle brackets and
// newlines everywhere a Markdown table cell takes text from the input:
// comments of fields, oneofs, enum values and extensions, default values,
// option values and the names of imported files.
var cellProtos = map[string]string{
	"odd/a|b`c d.proto": `syntax = "proto2";
package odd;
// Other | thing.
message Other { optional int32 n = 1; }
`,
	"cells/v1/cells.proto": `syntax = "proto2";
package cells.v1;

import "google/protobuf/descriptor.proto";
import "odd/a|b` + "`" + `c d.proto";

extend google.protobuf.FieldOptions {
  // Note | with ` + "`a|b`" + ` and <b>.
  optional string note = 50001;
}
extend google.protobuf.EnumValueOptions {
  optional string vnote = 50002;
}

// Cells | message.
message Cells {
  // Pipe | and ` + "`code | span`" + ` and ` + "``a ` b``" + ` and <x> & y,
  // on two lines, ending in a backslash \
  optional string s = 1 [default = "a` + "`" + `b|c\\", (note) = "x|y` + "`" + `z <b>&amp;\n"];
  // A oneof | with ` + "`|`" + `.
  oneof choice {
    // Member | one.
    string one = 2;
    odd.Other two = 3;
  }
  optional odd.Other other = 4;
  extensions 100 to 200;
}

extend Cells {
  // Extension | comment ` + "`x|y`" + `
  //
  // second paragraph.
  optional string ext = 100 [(note) = "|"];
}

enum Level {
  // Zero | value ` + "`|`" + `
  // continued.
  LEVEL_ZERO = 0 [(vnote) = "` + "``" + `|"];
}
`,
}

// TestMarkdownHostileCells checks that every table keeps its columns on
// GitHub: rows have as many cells as their header, and the code spans hold
// the input's text, pipes and backticks included, with no HTML entity.
func TestMarkdownHostileCells(t *testing.T) {
	for _, layout := range []string{"single", "package", "file"} {
		files := generate(t, compileSources(t, cellProtos, "format=markdown,layout="+layout, "cells/v1/cells.proto", "odd/a|b`c d.proto"))
		spans := map[string]bool{}
		for name, src := range files {
			checkMarkdownTables(t, name, src)
			for _, s := range tableCodeSpans(t, name, src) {
				spans[s] = true
				for _, ent := range []string{"&lt;", "&gt;", "&amp;amp;", "&#"} {
					if strings.Contains(s, ent) {
						t.Errorf("%s (%s): code span %q holds an HTML entity", name, layout, s)
					}
				}
			}
		}
		for _, want := range []string{
			"s", "one", "two", "choice", "cells.v1.ext", "LEVEL_ZERO", // names
			`"a` + "`" + `b|c\\"`,                            // default value
			`(cells.v1.note) = "x|y` + "`" + `z <b>&amp;\n"`, // option value
			`(cells.v1.note) = "|"`, `(cells.v1.vnote) = "` + "``" + `|"`,
			"code | span", "a ` b", "a|b", "x|y", "|", // code spans of comments
			"odd/a|b`c d.proto", // imported file
		} {
			if !spans[want] {
				t.Errorf("%s: no table cell holds the code span %q", layout, want)
			}
		}
		if t.Failed() {
			for name, src := range files {
				t.Logf("%s:\n%s", name, src)
			}
			return
		}
	}
}

var gfm = goldmark.New(goldmark.WithExtensions(extension.GFM))

// tableCodeSpans parses Markdown as GitHub does and returns the text of
// every code span inside a table cell.
func tableCodeSpans(t *testing.T, name, src string) []string {
	t.Helper()
	source := []byte(src)
	doc := gfm.Parser().Parse(text.NewReader(source))
	var out []string
	err := ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering || n.Kind() != ast.KindCodeSpan {
			return ast.WalkContinue, nil
		}
		for p := n.Parent(); p != nil; p = p.Parent() {
			if p.Kind() == extast.KindTableCell {
				var b strings.Builder
				for c := n.FirstChild(); c != nil; c = c.NextSibling() {
					if tx, ok := c.(*ast.Text); ok {
						b.Write(tx.Segment.Value(source))
					} else if s, ok := c.(*ast.String); ok {
						b.Write(s.Value)
					}
				}
				out = append(out, b.String())
				break
			}
		}
		return ast.WalkSkipChildren, nil
	})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

// TestMarkdownCustomTemplateParts checks that a custom template built from
// the named parts of the built-in page gives the built-in page.
func TestMarkdownCustomTemplateParts(t *testing.T) {
	param := "format=markdown,layout=package"
	want := generate(t, compileRequest(t, param, goldenFiles...))
	for _, src := range []string{
		`{{template "page.md.tmpl" .}}`,
		`{{template "md-head" .}}{{range .Files}}{{$.MDSection .}}{{end}}{{template "md-tail" .}}`,
		`{{.MDHead}}{{range .Files}}{{$.MDSection .}}{{end}}{{.MDTail}}`,
	} {
		p := filepath.Join(t.TempDir(), "page.md.tmpl")
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		got := generate(t, compileRequest(t, param+",template=markdown:"+p, goldenFiles...))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("template %s: output differs from the built-in page (-want +got):\n%s", src, diff)
		}
	}
}
