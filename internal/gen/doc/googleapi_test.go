package doc

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/polyrpc/polyrpc/internal/gen/doc/doctest"
	"github.com/polyrpc/polyrpc/internal/gen/doc/jsonout"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// googleAPIFiles document the google.api annotations; their output is
// committed under golden/doc/googleapi/.
var googleAPIFiles = []string{"acme/library/v1/library.proto"}

func TestGoogleAPIGolden(t *testing.T) {
	got := generate(t, compileRequest(t, "format=html,markdown,json,title=Library", googleAPIFiles...))
	dir := filepath.Join(goldenDir(t), "googleapi")
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
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if len(entries) != len(got) {
		t.Errorf("golden/doc/googleapi has %d files, the run writes %d", len(entries), len(got))
	}
	for name, content := range got {
		want, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("%v (run go test -update)", err)
			continue
		}
		if diff := cmp.Diff(string(want), content); diff != "" {
			t.Errorf("golden/doc/googleapi/%s mismatch (-want +got):\n%s", name, diff)
		}
	}
}

// libraryModel is the JSON model of library.proto.
func libraryModel(t *testing.T) *model.File {
	t.Helper()
	out := generate(t, compileRequest(t, "format=json", googleAPIFiles...))
	var d model.Document
	if err := json.Unmarshal([]byte(out["index.json"]), &d); err != nil {
		t.Fatal(err)
	}
	for _, f := range d.Files {
		if f.Name == googleAPIFiles[0] {
			return f
		}
	}
	t.Fatal("library.proto not documented")
	return nil
}

func TestGoogleAPIModel(t *testing.T) {
	f := libraryModel(t)
	msgs := map[string]*model.Message{}
	fields := map[string]*model.Field{}
	for _, m := range f.Messages {
		msgs[m.Name] = m
		for _, fl := range m.Fields {
			fields[m.Name+"."+fl.Name] = fl
		}
	}
	t.Run("behaviors", func(t *testing.T) {
		for name, want := range map[string][]string{
			"Book.name":        {"IDENTIFIER"},
			"Book.title":       {"REQUIRED"},
			"Book.create_time": {"OUTPUT_ONLY"},
			"Book.author":      {"OPTIONAL", "IMMUTABLE"},
			"Book.tags":        {"UNORDERED_LIST"},
			"Book.secret":      {"INPUT_ONLY"},
			"Book.edition":     nil,
		} {
			if diff := cmp.Diff(want, fields[name].Behaviors); diff != "" {
				t.Errorf("%s behaviors (-want +got):\n%s", name, diff)
			}
		}
		if got := fields["Book.author"].ShownLabel(); got != "" {
			t.Errorf("proto3 optional with behaviours: label %q, want none", got)
		}
		if got := fields["Book.edition"].ShownLabel(); got != "optional" {
			t.Errorf("proto3 optional without behaviours: label %q, want optional", got)
		}
	})
	t.Run("resources", func(t *testing.T) {
		want := &model.Resource{
			Type: "library.acme.test/Book", Anchor: "acme.library.v1.Book",
			Patterns: []string{"shelves/{shelf}/books/{book}", "books/{book}"},
			Plural:   "books", Singular: "book", Style: []string{"DECLARATIVE_FRIENDLY"},
		}
		if diff := cmp.Diff(want, msgs["Book"].Resource); diff != "" {
			t.Errorf("Book resource (-want +got):\n%s", diff)
		}
		wantDefs := []*model.Resource{
			{Type: "library.acme.test/Shelf", Anchor: "resource:library.acme.test/Shelf", Patterns: []string{"shelves/{shelf}"}},
			{Type: "iam.acme.test/Account", Anchor: "resource:iam.acme.test/Account", Patterns: []string{"accounts/{account}"}},
		}
		if diff := cmp.Diff(wantDefs, f.Resources); diff != "" {
			t.Errorf("file resources (-want +got):\n%s", diff)
		}
		for name, want := range map[string]*model.ResourceReference{
			"GetBookRequest.name":      {Type: "library.acme.test/Book", Anchor: "acme.library.v1.Book"},
			"GetBookRequest.shelf":     {Type: "library.acme.test/Shelf", Anchor: "resource:library.acme.test/Shelf"},
			"CreateBookRequest.parent": {ChildType: "library.acme.test/Book", Anchor: "acme.library.v1.Book"},
			"Book.author":              {Type: "iam.acme.test/Account", Anchor: "resource:iam.acme.test/Account"},
			"Book.related":             {Type: "docs.acme.test/Document"},
			"Book.anything":            {Type: "*"},
		} {
			if diff := cmp.Diff(want, fields[name].ResourceReference); diff != "" {
				t.Errorf("%s reference (-want +got):\n%s", name, diff)
			}
		}
	})
	t.Run("service", func(t *testing.T) {
		s := f.Services[0]
		if s.DefaultHost != "library.acme.test" {
			t.Errorf("default host %q", s.DefaultHost)
		}
		if diff := cmp.Diff([]string{"https://www.acme.test/auth/library", "https://www.acme.test/auth/library.read"}, s.OAuthScopes); diff != "" {
			t.Errorf("scopes (-want +got):\n%s", diff)
		}
		create := s.Methods[0]
		if diff := cmp.Diff([][]string{{"parent", "book"}, {}}, create.Signatures); diff != "" {
			t.Errorf("CreateBook signatures (-want +got):\n%s", diff)
		}
		wantHTTP := []model.HTTPRule{
			{Method: "POST", Path: "/v1/{parent=shelves/*}/books", Body: "book", URL: "http://localhost:8080/v1/{parent=shelves/*}/books",
				BodyField:  "acme.library.v1.CreateBookRequest.book",
				PathParams: []model.PathParam{{Name: "parent", Field: "acme.library.v1.CreateBookRequest.parent", Pattern: "shelves/*"}}},
			{Method: "POST", Path: "/v1/books", Body: "*", URL: "http://localhost:8080/v1/books", Additional: true},
		}
		if diff := cmp.Diff(wantHTTP, create.HTTPRules); diff != "" {
			t.Errorf("CreateBook HTTP (-want +got):\n%s", diff)
		}
		update := s.Methods[2]
		want := []model.PathParam{{Name: "book.name", Field: "acme.library.v1.Book.name", Pattern: "shelves/*/books/*"}}
		if diff := cmp.Diff(want, update.HTTPRules[0].PathParams); diff != "" {
			t.Errorf("UpdateBook path params (-want +got):\n%s", diff)
		}
	})
	t.Run("no option dumps", func(t *testing.T) {
		check := func(where string, opts []model.Option) {
			for _, o := range opts {
				if strings.HasPrefix(o.Name, "(google.api.") {
					t.Errorf("%s lists %s, which is shown by its meaning", where, o.Name)
				}
			}
		}
		check(f.Name, f.Options)
		for _, s := range f.Services {
			check(s.Name, s.Options)
			for _, m := range s.Methods {
				check(m.Name, m.Options)
			}
		}
		for _, m := range f.Messages {
			check(m.Name, m.Options)
			for _, fl := range m.Fields {
				check(fl.FullName, fl.Options)
			}
		}
	})
}

// TestGoogleAPIsFull documents pubsub, storage and tasks from
// googleapis-full: their annotations are shown by meaning, and their
// Markdown tables render whole with a GFM renderer.
func TestGoogleAPIsFull(t *testing.T) {
	if testing.Short() {
		t.Skip("large input")
	}
	files := generate(t, doctest.GoogleAPIs(t, "format=markdown,json,layout=package"))
	for name, src := range files {
		if strings.HasSuffix(name, ".md") {
			checkMarkdownTables(t, name, src)
			checkRenderedTables(t, name, src)
			for _, o := range []string{"field_behavior", "resource", "resource_reference", "resource_definition", "method_signature", "default_host", "oauth_scopes", "http"} {
				if strings.Contains(src, "(google.api."+o+")") {
					t.Errorf("%s: google.api.%s is listed raw", name, o)
				}
			}
		}
	}
	var d model.Document
	if err := json.Unmarshal([]byte(files["google/pubsub/v1/index.json"]), &d); err != nil {
		t.Fatal(err)
	}
	// The JSON writer gives encoding/json's bytes on these files too.
	for _, f := range d.Files {
		var got, want bytes.Buffer
		jsonout.WriteFile(&got, f, "")
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: the JSON writer differs from encoding/json:\n%s", f.Name, cmp.Diff(want.String(), got.String()))
		}
	}
	var topic *model.Message
	var create *model.Method
	for _, f := range d.Files {
		for _, m := range f.Messages {
			if m.FullName == "google.pubsub.v1.Topic" {
				topic = m
			}
		}
		for _, s := range f.Services {
			if s.FullName == "google.pubsub.v1.Publisher" {
				if s.DefaultHost != "pubsub.googleapis.com" || len(s.OAuthScopes) != 2 {
					t.Errorf("Publisher: host %q, scopes %q", s.DefaultHost, s.OAuthScopes)
				}
				create = s.Methods[0]
			}
		}
	}
	if topic == nil || create == nil {
		t.Fatal("no Topic or Publisher.CreateTopic")
	}
	if topic.Resource == nil || topic.Resource.Type != "pubsub.googleapis.com/Topic" || topic.Resource.Patterns[0] != "projects/{project}/topics/{topic}" {
		t.Errorf("Topic resource: %+v", topic.Resource)
	}
	behaviors := map[string][]string{}
	for _, f := range topic.Fields {
		behaviors[f.Name] = f.Behaviors
	}
	if strings.Join(behaviors["name"], ",") != "REQUIRED,IDENTIFIER" || strings.Join(behaviors["state"], ",") != "OUTPUT_ONLY" {
		t.Errorf("Topic behaviours: %v", behaviors)
	}
	if create.Name != "CreateTopic" || len(create.HTTPRules) != 1 || create.HTTPRules[0].Method != "PUT" ||
		len(create.HTTPRules[0].PathParams) != 1 || create.HTTPRules[0].PathParams[0].Field != "google.pubsub.v1.Topic.name" {
		t.Errorf("CreateTopic HTTP: %+v", create.HTTPRules)
	}
}

// TestGoogleAPIOddShapes: google.api extensions declared with other types
// than google/api's, and hostile annotation values, give no error and no
// markup: an annotation rpcdoc cannot read stays in the option list.
func TestGoogleAPIOddShapes(t *testing.T) {
	srcs := map[string]string{
		"google/api/odd.proto": `syntax = "proto3";
package google.api;
import "google/protobuf/descriptor.proto";
extend google.protobuf.FieldOptions {
  repeated string field_behavior = 1052;
  string resource_reference = 1055;
}
extend google.protobuf.MessageOptions { int32 resource = 1053; }
extend google.protobuf.ServiceOptions { int32 default_host = 1049; repeated string oauth_scopes = 1050; }
message ResourceDescriptor { string type = 1; repeated string pattern = 2; }
extend google.protobuf.FileOptions { repeated ResourceDescriptor resource_definition = 1053; }
`,
		"odd/v1/odd.proto": `syntax = "proto3";
package odd.v1;
import "google/api/odd.proto";
option (google.api.resource_definition) = {type: "x/<script>alert(1)</script>" pattern: "a/{b}|<i>` + "`" + `"};
option (google.api.resource_definition) = {pattern: "no/type"};
// S.
service S {
  option (google.api.default_host) = 7;
  option (google.api.oauth_scopes) = "a";
  // M.
  rpc M(Odd) returns (Odd);
}
// Odd.
message Odd {
  option (google.api.resource) = 3;
  // F.
  string f = 1 [(google.api.field_behavior) = "REQUIRED", (google.api.resource_reference) = "x/<b>"];
}
`,
	}
	out := generate(t, compileSources(t, srcs, "format=html,markdown,json", "odd/v1/odd.proto"))
	var d model.Document
	if err := json.Unmarshal([]byte(out["index.json"]), &d); err != nil {
		t.Fatal(err)
	}
	f := d.Files[0]
	names := func(opts []model.Option) []string {
		var out []string
		for _, o := range opts {
			out = append(out, o.Name)
		}
		return out
	}
	if diff := cmp.Diff([]string{"(google.api.default_host)", "(google.api.oauth_scopes)"}, names(f.Services[0].Options)); diff != "" {
		t.Errorf("service options (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"(google.api.resource)"}, names(f.Messages[0].Options)); diff != "" {
		t.Errorf("message options (-want +got):\n%s", diff)
	}
	fl := f.Messages[0].Fields[0]
	if diff := cmp.Diff([]string{"(google.api.field_behavior)", "(google.api.resource_reference)"}, names(fl.Options)); diff != "" {
		t.Errorf("field options (-want +got):\n%s", diff)
	}
	if fl.Behaviors != nil || fl.ResourceReference != nil || f.Messages[0].Resource != nil || f.Services[0].DefaultHost != "" || f.Services[0].OAuthScopes != nil {
		t.Errorf("annotations of other shapes read: %+v %+v", fl, f.Services[0])
	}
	if len(f.Resources) != 1 || f.Resources[0].Type != "x/<script>alert(1)</script>" {
		t.Errorf("file resources: %+v", f.Resources)
	}
	for _, bad := range []string{"<script>alert", "<i>", "<b>"} {
		if strings.Contains(out["index.html"], bad) {
			t.Errorf("index.html holds %q", bad)
		}
	}
	// In Markdown the values are in code spans: rendered, they are text.
	checkRenderedTables(t, "index.md", out["index.md"])
	var html bytes.Buffer
	if err := gfmUnsafe.Convert([]byte(out["index.md"]), &html); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script>", "<i>", "<b>"} {
		if strings.Contains(html.String(), bad) {
			t.Errorf("index.md renders %q", bad)
		}
	}
}
