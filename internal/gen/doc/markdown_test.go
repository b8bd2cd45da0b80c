package doc

import (
	"bytes"
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

	"github.com/polyrpc/polyrpc/internal/gen/doc/comment"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// hostileStrings are inputs for the Markdown writers: pipes, backslashes,
// backticks at either end, newlines, Markdown and URL punctuation,
// non-ASCII and invalid UTF-8.
func hostileStrings() []string {
	strs := []string{
		"", "plain", "a|b", `a\|b`, `a\\|b`, "`", "`x", "x`", "a``b", "` `", "line\nbreak", "\n",
		"a_b-c.d", "(x) [y] <z> #!+*{}", "é ü ✓", "é_ü-✓|\xff_", "\xff\xfe bad", "sp ace", "tab\t", `a\`, "||",
		"~.-_", "%41", "a#b?c", "&amp; &lt;", "<script>", "`|`\n`",
	}
	for b := 0; b < 256; b++ {
		strs = append(strs, string([]byte{byte(b)}), "a"+string([]byte{byte(b)})+"b")
	}
	return strs
}

// TestMarkdownWritersMatchHelpers checks that each writer of a Markdown
// piece writes what the helper it stands for returns.
func TestMarkdownWritersMatchHelpers(t *testing.T) {
	var w bytes.Buffer
	got := func(write func()) string {
		w.Reset()
		write()
		return w.String()
	}
	d := &model.Document{Path: "a/b/index"}
	v := &view{Document: d, page: &model.Page{Document: d, Ext: ".md", Index: map[string]string{}}}
	strs := hostileStrings()
	for i, s := range strs {
		// Every other one is documented: half in this document, half in
		// another.
		switch i % 4 {
		case 1:
			v.page.Index[s] = v.Path
		case 3:
			v.page.Index[s] = "c d/(x)/index"
		}
	}
	for _, s := range strs {
		for _, cell := range []bool{false, true} {
			if g, want := got(func() { writeMDCode(&w, s, cell) }), comment.MDCode(s, cell); g != want {
				t.Errorf("writeMDCode(%q, %v) = %q, comment.MDCode gives %q", s, cell, g, want)
			}
			if g, want := got(func() { writeMDCode3(&w, s, " = ", s, cell) }), comment.MDCode(s+" = "+s, cell); g != want {
				t.Errorf("writeMDCode3(%q, %v) = %q, comment.MDCode gives %q", s, cell, g, want)
			}
			for _, ref := range []model.TypeRef{{Name: s}, {Name: s, FullName: s}, {Name: "T", FullName: s, URL: "https://x.test/" + s}, {Name: s, FullName: "none", URL: s}} {
				if g, want := got(func() { writeMDType(&w, v, ref, cell) }), v.MDType(ref, cell); g != want {
					t.Errorf("writeMDType(%+v, %v) = %q, MDType gives %q", ref, cell, g, want)
				}
			}
			if g, want := got(func() { writeMDLink(&w, v, s, s, cell) }), v.MDLink(s, s, cell); g != want {
				t.Errorf("writeMDLink(%q, %v) = %q, MDLink gives %q", s, cell, g, want)
			}
		}
		for _, c := range []struct {
			rules []string
			opts  []model.Option
		}{{}, {rules: []string{s}}, {opts: []model.Option{{Name: s, Value: s}}}} {
			if g, want := got(func() { writeMDCell(&w, v, s, c.rules, c.opts) }), v.MDCellAll(s, c.rules, c.opts); g != want {
				t.Errorf("writeMDCell(%q, %q, %v) = %q, MDCellAll gives %q", s, c.rules, c.opts, g, want)
			}
		}
		if g, want := got(func() { writeMDEscape(&w, s) }), mdEscape(s); g != want {
			t.Errorf("writeMDEscape(%q) = %q, mdEscape gives %q", s, g, want)
		}
		if g, want := got(func() { writeMDFragment(&w, s, ".extensions") }), comment.MDURL("#"+s+".extensions"); g != want {
			t.Errorf("writeMDFragment(%q) = %q, comment.MDURL gives %q", s, g, want)
		}
	}
}

// TestMarkdownDocHrefs checks the links between documents against
// DocHref, for plain paths and for paths that need cleaning or escaping.
func TestMarkdownDocHrefs(t *testing.T) {
	paths := []string{
		"index", "api", "a/index", "a/b/index", "a/c/index", "a/b/c/index", "b/index", "a/b", "ab/index",
		"a/bc/index", "x/y/z/w/index", "a b/index", "a(1)/index", "a#b/index", "é/index", "./x", "../x",
		"a//b", "/abs", "a/./b", "a/../b", "a/", "", "a%2F/index", "a:b/index", "a~b/i-x_y.z",
	}
	var w bytes.Buffer
	for _, ext := range []string{".md", "", ".x y"} {
		for _, from := range paths {
			d := &model.Document{Path: from}
			v := &view{Document: d, page: &model.Page{Document: d, Ext: ext}}
			h := newDocHrefs(v)
			for _, to := range paths {
				w.Reset()
				h.write(&w, to)
				if want := comment.MDURL(v.DocHref(to)); w.String() != want {
					t.Errorf("from %q to %q (ext %q): %q, DocHref gives %q", from, to, ext, w.String(), want)
				}
			}
		}
	}
}

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
