package mdout

import (
	"bytes"
	"testing"

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
	v := &model.Page{Document: &model.Document{Path: "a/b/index"}, Ext: ".md", Index: map[string]string{}}
	strs := hostileStrings()
	for i, s := range strs {
		// Every other one is documented: half in this document, half in
		// another.
		switch i % 4 {
		case 1:
			v.Index[s] = v.Path
		case 3:
			v.Index[s] = "c d/(x)/index"
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
				if g, want := got(func() { writeMDType(&w, v, ref, cell) }), Type(v, ref, cell); g != want {
					t.Errorf("writeMDType(%+v, %v) = %q, Type gives %q", ref, cell, g, want)
				}
			}
			if g, want := got(func() { writeMDLink(&w, v, s, s, cell) }), Link(v, s, s, cell); g != want {
				t.Errorf("writeMDLink(%q, %v) = %q, Link gives %q", s, cell, g, want)
			}
		}
		for _, c := range []struct {
			rules []string
			opts  []model.Option
		}{{}, {rules: []string{s}}, {opts: []model.Option{{Name: s, Value: s}}}} {
			if g, want := got(func() { writeMDCell(&w, v, s, c.rules, c.opts) }), CellAll(v, s, c.rules, c.opts); g != want {
				t.Errorf("writeMDCell(%q, %q, %v) = %q, CellAll gives %q", s, c.rules, c.opts, g, want)
			}
		}
		if g, want := got(func() { writeMDEscape(&w, s) }), Escape(s); g != want {
			t.Errorf("writeMDEscape(%q) = %q, Escape gives %q", s, g, want)
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
			v := &model.Page{Document: &model.Document{Path: from}, Ext: ext}
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
