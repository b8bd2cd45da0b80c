package jsonout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/polyrpc/polyrpc/internal/gen/doc/doctest"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// encodingJSON is what WriteFile must give: encoding/json's output.
func encodingJSON(t testing.TB, x any, prefix string) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(x); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func checkFileJSON(t testing.TB, f *model.File) {
	t.Helper()
	for _, prefix := range []string{"", "    "} {
		var b bytes.Buffer
		WriteFile(&b, f, prefix)
		if diff := cmp.Diff(encodingJSON(t, f, prefix), b.String()); diff != "" {
			t.Fatalf("file %q, prefix %q (-encoding/json +writer):\n%s", f.Name, prefix, diff)
		}
	}
}

// jsonHostileStrings are strings that need escaping, or must not be escaped.
var jsonHostileStrings = []string{
	"", "plain", `"quoted" \back\slash/`, "tab\tnew\nline\rret\bbs\fff", "\x00\x01\x1f\x7f",
	"<script>&amp;</script>", "é ü 世界 🎉", "\u2028\u2029", "bad \xff\xfe utf8 \xe2\x82", "\xed\xa0\x80 surrogate",
}

// hostileFile is a File whose every string and list shape is unusual:
// nil and empty lists, nil pointers in lists, every omitempty field set.
func hostileFile(s string) *model.File {
	q, _ := json.Marshal(s)
	raw := json.RawMessage(`{"a":[1,2.5e+30,true,null,{}],"b":{"c":` + string(q) + `,"d":[]}}`)
	opt := []model.Option{{Name: s, Value: s}, {Name: s, Value: s, JSON: raw}, {JSON: q}}
	res := &model.Resource{Type: s, Anchor: s, Patterns: []string{s, ""}, NameField: s, History: s, Plural: s, Singular: s, Style: []string{s}}
	ref := model.TypeRef{Name: s, Kind: s, FullName: s, URL: s, Key: &model.TypeRef{Name: s}, Value: &model.TypeRef{Name: s, Kind: "message"}}
	field := &model.Field{Name: s, FullName: s, Anchor: s, Number: -7, JSONName: s, Type: ref, Label: s, Presence: s, Oneof: s,
		Default: s, Deprecated: true, Description: s, Extendee: &ref, Rules: []string{s, ""}, Options: opt,
		Behaviors: []string{s, ""}, ResourceReference: &model.ResourceReference{Type: s, ChildType: s, Anchor: s}}
	return &model.File{
		Name: s, Anchor: s, Package: s, Syntax: s, Edition: s, Features: opt, Description: s,
		DetachedComments: []string{s, s}, Deprecated: true, Options: opt, Imports: []string{s},
		Services: []*model.Service{nil, {Name: s, Methods: []*model.Method{nil, {
			Name: s, Streaming: s, Request: ref, Response: model.TypeRef{}, Idempotency: s, Procedure: s,
			Protocols: []model.Protocol{{Name: s}, {Name: s, HTTP: []string{}}, {HTTP: []string{s}}}, ConnectGet: s,
			HTTPRules: []model.HTTPRule{{Method: s, Path: s, Body: s, ResponseBody: s, URL: s, Additional: true, BodyField: s,
				PathParams: []model.PathParam{{Name: s, Field: s, Pattern: s}, {}}}, {}}, SampleRequest: s, Example: s, Options: opt,
			Signatures:     [][]string{{s, s}, {}, nil},
			SampleResponse: s, Examples: []model.CallExample{{Protocol: s, Title: s, Command: s}, {}},
		}, {Name: s, Signatures: [][]string{}}}, DefaultHost: s, OAuthScopes: []string{s}}, {Name: s, OAuthScopes: []string{}}},
		Messages: []*model.Message{nil, {Name: s}, {
			Name: s, FullName: s, Anchor: s, Parent: s, Description: s, Deprecated: true,
			Fields: []*model.Field{field, nil, {}}, Oneofs: []*model.Oneof{nil, {Name: s}, {Name: s, Fields: []string{}, Rules: []string{s}, Options: opt}, {Fields: []string{s}}},
			NestedMessages: []model.TypeRef{ref, {}}, NestedEnums: []model.TypeRef{{Name: s}}, ReservedRanges: []string{s},
			ReservedNames: []string{s}, ExtensionRanges: []string{s}, Extensions: []*model.Field{field}, Rules: []string{s}, Options: opt,
			Resource: res,
		}},
		Enums: []*model.Enum{nil, {Name: s}, {Name: s, Values: []*model.EnumValue{}}, {
			Name: s, FullName: s, Anchor: s, Parent: s, Description: s, Deprecated: true, Closed: true,
			Values:         []*model.EnumValue{nil, {Name: s}, {Name: s, FullName: s, Anchor: s, Number: 1 << 30, AliasOf: s, Deprecated: true, Description: s, Options: opt}},
			ReservedRanges: []string{s}, ReservedNames: []string{s}, Options: opt,
		}},
		Extensions: []*model.Field{field},
		Resources:  []*model.Resource{res, nil, {}},
	}
}

func TestJSONWriter(t *testing.T) {
	// Every file of the golden JSON documents, in every layout.
	n := 0
	for _, d := range goldenDocuments(t) {
		for _, f := range d.Files {
			checkFileJSON(t, f)
			n++
		}
	}
	if n < 10 {
		t.Fatalf("checked %d files", n)
	}
	checkFileJSON(t, nil)
	checkFileJSON(t, &model.File{})
	for _, s := range jsonHostileStrings {
		checkFileJSON(t, hostileFile(s))
	}
}

// goldenDocuments are the JSON documents of golden/doc at the module root,
// which package doc's TestGolden keeps equal to the generator's output.
func goldenDocuments(t *testing.T) []*model.Document {
	t.Helper()
	root := doctest.GoldenDir(t)
	var docs []*model.Document
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		d := new(model.Document)
		if err := json.Unmarshal(b, d); err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
		docs = append(docs, d)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

func FuzzJSONWriter(f *testing.F) {
	for _, s := range jsonHostileStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkFileJSON(t, hostileFile(s))
	})
}
