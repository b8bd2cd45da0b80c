package doc

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	goldmarkhtml "github.com/yuin/goldmark/renderer/html"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/polyrpc/polyrpc/internal/gen/doc/doctest"
)

// blockProtos have comments with lists and code blocks in every place a
// Markdown table cell shows a comment.
var blockProtos = map[string]string{
	"blocks/v1/blocks.proto": `syntax = "proto3";
package blocks.v1;

// Blocks in cells.
message Blocks {
  // The filter. Supported forms:
  //
  // * ` + "`name = value`" + `, matched exactly
  // * ` + "`name:prefix*`" + ` | with a pipe,
  //   continued on a second line
  //   - nested <b>one</b>
  //   - nested two
  //
  // Steps:
  // 1. first step
  // 2. second step
  //
  // Example:
  //
  //     filter = "a | b" && <c>
  //       indented line
  //
  // ` + "```" + `
  // fenced {
  //   x: 1 | 2
  // }
  // ` + "```" + `
  // Done.
  string filter = 1;
  // A plain comment
  // on two lines.
  string plain = 2;
}

// Levels.
enum Level {
  // Zero:
  // - a
  // - b
  LEVEL_ZERO = 0;
}
`,
}

// gfmUnsafe renders Markdown as GitHub does, raw HTML kept (GitHub's
// sanitizer keeps the tags rpcdoc writes in cells).
var gfmUnsafe = goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(goldmarkhtml.WithUnsafe()))

// renderedTables renders Markdown with a GFM renderer and returns its
// tables.
func renderedTables(t *testing.T, name, src string) []*html.Node {
	t.Helper()
	var b bytes.Buffer
	if err := gfmUnsafe.Convert([]byte(src), &b); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	doc, err := html.Parse(&b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var tables []*html.Node
	doctest.Walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.DataAtom == atom.Table {
			tables = append(tables, n)
		}
	})
	return tables
}

// elements lists the elements of a kind under n.
func elements(n *html.Node, a atom.Atom) []*html.Node {
	var out []*html.Node
	doctest.Walk(n, func(c *html.Node) {
		if c.Type == html.ElementNode && c.DataAtom == a && c != n {
			out = append(out, c)
		}
	})
	return out
}

func textOf(n *html.Node) string {
	var b strings.Builder
	doctest.Walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return b.String()
}

// checkRenderedTables checks that every Markdown table of src renders as
// a table with as many rows as the source has, each with as many cells as
// its header: no row broken or merged, no cell split.
func checkRenderedTables(t *testing.T, name, src string) {
	t.Helper()
	var rows []int // source rows of each table
	lines := strings.Split(src, "\n")
	for i := 0; i+1 < len(lines); i++ {
		// A header and a delimiter row of as many cells (GFM's rule).
		if strings.HasPrefix(lines[i], "|") && strings.HasPrefix(lines[i+1], "|-") && doctest.Cells(lines[i]) == doctest.Cells(lines[i+1]) {
			n := 0
			for j := i + 2; j < len(lines) && strings.HasPrefix(lines[j], "|"); j++ {
				n++
			}
			rows = append(rows, n)
			i += n + 1
		}
	}
	tables := renderedTables(t, name, src)
	if len(tables) != len(rows) {
		t.Fatalf("%s: %d tables in the source, %d rendered", name, len(rows), len(tables))
	}
	for i, tb := range tables {
		trs := elements(tb, atom.Tr)
		if len(trs) != rows[i]+1 {
			t.Errorf("%s: table %d: %d rows rendered, %d in the source", name, i, len(trs)-1, rows[i])
			continue
		}
		header := len(elements(trs[0], atom.Th))
		for j, tr := range trs[1:] {
			cells := 0
			for c := tr.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && c.DataAtom == atom.Td {
					cells++
				}
			}
			if cells != header {
				t.Errorf("%s: table %d row %d: %d cells, header has %d", name, i, j, cells, header)
			}
		}
	}
}

// rowCell is the last cell (the description) of the table row that holds
// the anchor id.
func rowCell(t *testing.T, tables []*html.Node, id string) *html.Node {
	t.Helper()
	for _, tb := range tables {
		for _, tr := range elements(tb, atom.Tr) {
			for _, a := range elements(tr, atom.A) {
				for _, at := range a.Attr {
					if at.Key == "id" && at.Val == id {
						tds := elements(tr, atom.Td)
						return tds[len(tds)-1]
					}
				}
			}
		}
	}
	t.Fatalf("no table row for %s", id)
	return nil
}

// TestMarkdownCellBlocks renders the Markdown of comments with lists and
// code blocks as GitHub does: the tables keep their rows, and the lists
// and code blocks are whole inside the cells.
func TestMarkdownCellBlocks(t *testing.T) {
	files := generate(t, compileSources(t, blockProtos, "format=markdown", "blocks/v1/blocks.proto"))
	src := files["index.md"]
	checkMarkdownTables(t, "index.md", src)
	checkRenderedTables(t, "index.md", src)
	tables := renderedTables(t, "index.md", src)

	cell := rowCell(t, tables, "blocks.v1.Blocks.filter")
	uls := elements(cell, atom.Ul)
	if len(uls) != 2 {
		t.Fatalf("filter: %d lists, want the list and its nested one", len(uls))
	}
	var items []string
	for _, li := range elements(uls[0], atom.Li) {
		items = append(items, strings.Join(strings.Fields(textOf(li)), " "))
	}
	want := []string{
		"name = value, matched exactly",
		"name:prefix* | with a pipe, continued on a second linenested <b>one</b>nested two",
		"nested <b>one</b>", "nested two",
	}
	if strings.Join(items, "\n") != strings.Join(want, "\n") {
		t.Errorf("filter list items:\n%q\nwant\n%q", items, want)
	}
	if ols := elements(cell, atom.Ol); len(ols) != 1 || len(elements(ols[0], atom.Li)) != 2 {
		t.Errorf("filter: want one ordered list of two steps")
	}
	pres := elements(cell, atom.Pre)
	if len(pres) != 2 {
		t.Fatalf("filter: %d code blocks, want 2", len(pres))
	}
	for i, want := range [][]string{
		{`filter = "a | b" && <c>`, "  indented line"},
		{"fenced {", "  x: 1 | 2", "}"},
	} {
		var got []string
		for _, c := range elements(pres[i], atom.Code) {
			got = append(got, textOf(c))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("code block %d: lines %q, want %q", i, got, want)
		}
		if n := len(elements(pres[i], atom.Br)); n != len(want)-1 {
			t.Errorf("code block %d: %d line breaks, want %d", i, n, len(want)-1)
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(textOf(cell)), "Done.") {
		t.Errorf("filter: the paragraph after the code block is lost: %q", textOf(cell))
	}
	if len(elements(cell, atom.B)) != 0 {
		t.Error("filter: HTML from the comment is markup, not text")
	}
	plain := rowCell(t, tables, "blocks.v1.Blocks.plain")
	if got := textOf(plain); got != "A plain comment on two lines." {
		t.Errorf("plain comment: %q", got)
	}
	zero := rowCell(t, tables, "blocks.v1.Level.LEVEL_ZERO")
	if lis := elements(zero, atom.Li); len(lis) != 2 {
		t.Errorf("enum value: %d list items, want 2", len(lis))
	}
}

// TestMarkdownRenderedTables renders every golden Markdown document and
// the hostile cells of cellProtos with a GFM renderer.
func TestMarkdownRenderedTables(t *testing.T) {
	for name, src := range generate(t, compileSources(t, cellProtos, "format=markdown", "cells/v1/cells.proto", "odd/a|b`c d.proto")) {
		checkRenderedTables(t, name, src)
	}
	err := filepath.WalkDir(goldenDir(t), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".md") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		checkRenderedTables(t, p, string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
