package corpus

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/gen/doc"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
	"github.com/polyrpc/polyrpc/internal/gen/rpc"
	"github.com/polyrpc/polyrpc/internal/gen/rpc/rpctest"
)

// editionsFiles are proto2, proto3, edition 2023 and edition 2024 files of
// one proto package and Go package, importing each other.
var editionsFiles = []string{"p2.proto", "p3.proto", "e23.proto", "e24.proto"}

func editionsRequest(t testing.TB, param string) *pluginpb.CodeGeneratorRequest {
	t.Helper()
	req, err := editionsSources()
	if err != nil {
		t.Fatal(err)
	}
	if param != "" {
		req.Parameter = &param
	}
	return req
}

func editionsSources() (*pluginpb.CodeGeneratorRequest, error) {
	src, err := rpctest.DirSources("testdata/editions")
	if err != nil {
		return nil, err
	}
	return rpctest.Request(src, editionsFiles, "")
}

// TestMixedEditionsDocs documents the mixed request and checks presence,
// labels and enum closedness in the JSON model, the HTML and the Markdown.
func TestMixedEditionsDocs(t *testing.T) {
	resp := doc.Generate(editionsRequest(t, "format=html,markdown,json"))
	if resp.Error != nil {
		t.Fatal(resp.GetError())
	}
	files := map[string]string{}
	for _, f := range resp.File {
		files[f.GetName()] = f.GetContent()
	}
	var d model.Document
	if err := json.Unmarshal([]byte(files["index.json"]), &d); err != nil {
		t.Fatal(err)
	}
	type fieldWant struct{ Label, Presence, Oneof, Default string }
	gotFields := map[string]fieldWant{}
	gotClosed := map[string]bool{}
	gotSyntax := map[string]string{}
	for _, f := range d.Files {
		gotSyntax[f.Name] = f.Syntax + " " + f.Edition
		for _, m := range f.Messages {
			for _, fl := range m.Fields {
				gotFields[fl.FullName] = fieldWant{fl.Label, fl.Presence, fl.Oneof, fl.Default}
			}
		}
		for _, e := range f.Enums {
			gotClosed[e.FullName] = e.Closed
		}
	}
	wantSyntax := map[string]string{
		"p2.proto": "proto2 ", "p3.proto": "proto3 ", "e23.proto": "editions 2023", "e24.proto": "editions 2024",
	}
	if diff := cmp.Diff(wantSyntax, gotSyntax); diff != "" {
		t.Errorf("syntax (-want +got):\n%s", diff)
	}
	wantFields := map[string]fieldWant{
		"mixed.P2.count":     {"optional", "explicit", "", "7"},
		"mixed.P2.id":        {"required", "required", "", ""},
		"mixed.P2.tags":      {"repeated", "repeated", "", ""},
		"mixed.P2.level":     {"optional", "explicit", "", ""},
		"mixed.P2.a":         {"", "explicit", "choice", ""},
		"mixed.P2.b":         {"", "explicit", "choice", ""},
		"mixed.P3.count":     {"", "implicit", "", ""},
		"mixed.P3.maybe":     {"optional", "explicit", "", ""},
		"mixed.P3.nums":      {"repeated", "repeated", "", ""},
		"mixed.P3.by_name":   {"map", "repeated", "", ""},
		"mixed.P3.color":     {"", "implicit", "", ""},
		"mixed.P3.child":     {"optional", "explicit", "", ""},
		"mixed.E23.explicit": {"optional", "explicit", "", ""},
		"mixed.E23.implicit": {"", "implicit", "", ""},
		"mixed.E23.req":      {"required", "required", "", ""},
		"mixed.E23.mode":     {"optional", "explicit", "", ""},
		"mixed.E23.open":     {"optional", "explicit", "", ""},
		"mixed.E23.level":    {"optional", "explicit", "", ""},
		"mixed.E23.packed":   {"repeated", "repeated", "", ""},
		"mixed.E23.p2":       {"optional", "explicit", "", ""},
		"mixed.E24.implicit": {"", "implicit", "", ""},
		"mixed.E24.explicit": {"optional", "explicit", "", ""},
		"mixed.E24.closed":   {"optional", "explicit", "", ""},
		"mixed.E24.other":    {"optional", "explicit", "", ""},
		"mixed.E24.p3":       {"optional", "explicit", "", ""},
		"mixed.E24.x":        {"", "explicit", "pick", ""},
		"mixed.E24.y":        {"", "explicit", "pick", ""},
	}
	if diff := cmp.Diff(wantFields, gotFields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	wantClosed := map[string]bool{
		"mixed.Level": true, "mixed.Color": false, "mixed.Mode": true, "mixed.Open23": false, "mixed.Closed24": true,
	}
	if diff := cmp.Diff(wantClosed, gotClosed); diff != "" {
		t.Errorf("closed enums (-want +got):\n%s", diff)
	}

	// The HTML and Markdown show the same: a closed badge on exactly the
	// closed enums, and the label in each field row.
	page := files["index.html"]
	for name, closed := range wantClosed {
		heading := enumHeading(t, page, name)
		if got := strings.Contains(heading, "closed"); got != closed {
			t.Errorf("HTML heading of enum %s: closed badge %v, want %v: %s", name, got, closed, heading)
		}
	}
	for name, w := range wantFields {
		row := elementByID(t, page, "tr", name)
		label := w.Label
		if label == "" && w.Oneof != "" {
			label = "oneof"
		}
		if label != "" && !strings.Contains(row, ">"+label+"<") {
			t.Errorf("HTML row of %s does not show %q: %s", name, label, row)
		}
	}
	md := files["index.md"]
	for name, closed := range wantClosed {
		short := name[strings.LastIndex(name, ".")+1:]
		line := ""
		for _, l := range strings.Split(md, "\n") {
			if strings.HasPrefix(l, "### enum `"+short+"`") {
				line = l
			}
		}
		if line == "" {
			t.Errorf("Markdown has no heading for enum %s", name)
		} else if got := strings.Contains(line, "_closed_"); got != closed {
			t.Errorf("Markdown heading %q: closed %v, want %v", line, got, closed)
		}
	}
}

// elementByID returns the source of the first <tag id="id"> element up to
// its closing tag.
func elementByID(t *testing.T, page, tag, id string) string {
	t.Helper()
	start := strings.Index(page, "<"+tag+` id="`+id+`"`)
	if start < 0 {
		t.Errorf("no <%s id=%q>", tag, id)
		return ""
	}
	end := strings.Index(page[start:], "</"+tag+">")
	if end < 0 {
		return page[start:]
	}
	return page[start : start+end]
}

// enumHeading returns the heading of the section of an enum: the <h3> that
// links to its anchor.
func enumHeading(t *testing.T, page, name string) string {
	t.Helper()
	i := strings.Index(page, `href="#`+name+`" aria-label`)
	if i < 0 {
		t.Errorf("no heading anchor for %s", name)
		return ""
	}
	start := strings.LastIndex(page[:i], "<h3")
	return page[start:i]
}

// TestMixedEditionsRPC generates the mixed request: one file per service
// file, in the same Go package. TestCorpus builds and vets the code.
func TestMixedEditionsRPC(t *testing.T) {
	req := editionsRequest(t, "")
	resp := rpc.Generate(req)
	if resp.Error != nil {
		t.Fatal(resp.GetError())
	}
	var names []string
	for _, f := range resp.File {
		names = append(names, f.GetName())
	}
	want := []string{
		"corpus.test/editions/mixed/p2_rpc.pb.go", "corpus.test/editions/mixed/p3_rpc.pb.go",
		"corpus.test/editions/mixed/e23_rpc.pb.go", "corpus.test/editions/mixed/e24_rpc.pb.go",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if resp.GetMaximumEdition() < 1001 { // EDITION_2024
		t.Errorf("maximum edition %d, want 2024 (1001)", resp.GetMaximumEdition())
	}
}
