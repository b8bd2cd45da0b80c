package doc

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// The descriptions of docs/rpcdoc.schema.json are the comments of the
// model's Go types and fields (package model's source), or, for the
// members every element has (name, anchor, ...), commonDescriptions. The
// enums are listed here, by type and JSON member.

var rawMessageType = reflect.TypeOf(json.RawMessage(nil))

// commonDescriptions describe members whose Go field has no comment.
var commonDescriptions = map[string]string{
	"schema_version":    "Version of the JSON model: it changes when a member is removed or changes meaning.",
	"name":              "The element's name as declared in proto.",
	"full_name":         "The fully qualified proto name of the element, e.g. acme.v1.Order.id.",
	"anchor":            "The element's id in HTML and link target in Markdown: its full name (\"file:\" plus the path for files).",
	"description":       "The element's leading and trailing comments, as Markdown source.",
	"deprecated":        "Whether the element is marked deprecated.",
	"options":           "Set options that rpcdoc shows as such: every option other than those shown by their meaning.",
	"package":           "The proto package of the file.",
	"imports":           "Paths of the files the file imports.",
	"services":          "Services declared in the file.",
	"methods":           "Methods of the service, in the order option's order.",
	"request":           "The request message type.",
	"response":          "The response message type.",
	"number":            "The field or enum value number.",
	"json_name":         "The field's name in the JSON mapping of protobuf (\"[full.name]\" for extensions).",
	"type":              "The element's type.",
	"oneof":             "Name of the real oneof the field belongs to.",
	"default":           "Declared default value, in proto syntax.",
	"rules":             "buf.validate (protovalidate) rules, as readable sentences.",
	"values":            "Values of the enum, in declaration order.",
	"reserved_ranges":   "Reserved numbers and ranges, e.g. \"5\", \"10 to 20\", \"100 to max\".",
	"reserved_names":    "Reserved names.",
	"nested_messages":   "Messages declared inside this one.",
	"nested_enums":      "Enums declared inside this one.",
	"extension_ranges":  "Extension ranges of the message.",
	"extensions":        "Extensions declared here.",
	"parent":            "Full name of the enclosing message.",
	"method":            "HTTP method of the binding: GET, PUT, POST, DELETE, PATCH or a custom verb.",
	"path":              "Path template of the binding, e.g. /v1/{name=projects/*/topics/*}.",
	"body":              "Request field sent as the HTTP body, or * for the whole request.",
	"response_body":     "Response field sent as the HTTP body.",
	"sample_request":    "A JSON request body built from the request schema.",
	"title":             "Title of the document.",
	"text":              "The option's value in proto text syntax.",
	"value":             "The option's value as JSON.",
	"http":              "HTTP versions the protocol is served on.",
	"fields":            "Names of the member fields of the oneof.",
	"oneofs":            "Real (non-synthetic) oneofs of the message.",
	"messages":          "Every message of the file, nested ones right after their parent.",
	"enums":             "Every enum of the file, nested ones included.",
	"files":             "The documented files of the document, in path order.",
	"key":               "Key type of a map.",
	"layout":            "The layout option: single, package or file.",
	"syntax":            "proto2, proto3 or editions.",
	"edition":           "The edition of an editions file, e.g. 2023.",
	"features":          "Resolved file-level features of an editions file.",
	"closed":            "Whether the enum is closed: unknown values are not accepted.",
	"alias_of":          "First value with the same number, for an alias.",
	"extendee":          "The message an extension extends.",
	"example":           "A shell command that calls the method.",
	"detached_comments": "Comments separated by a blank line from the syntax and package statements, as Markdown.",
}

// schemaEnums are the closed sets of values of members, by Go type name
// and JSON member (the items of lists).
var schemaEnums = map[string][]any{
	"Document.schema_version": {float64(model.SchemaVersion)},
	"Document.layout":         {model.LayoutSingle, model.LayoutPackage, model.LayoutFile},
	"File.syntax":             {"proto2", "proto3", "editions"},
	"Method.streaming":        {"unary", "client_streaming", "server_streaming", "bidi_streaming"},
	"Method.idempotency":      {"NO_SIDE_EFFECTS", "IDEMPOTENT"},
	"Protocol.name":           {"Connect", "gRPC", "gRPC-Web"},
	"Protocol.http":           {"HTTP/1.1", "HTTP/2"},
	"Field.label":             {"repeated", "map", "required", "optional"},
	"Field.presence":          {"explicit", "implicit", "required", "repeated"},
	"Field.behaviors":         {"REQUIRED", "OUTPUT_ONLY", "INPUT_ONLY", "IMMUTABLE", "IDENTIFIER", "OPTIONAL", "UNORDERED_LIST", "NON_EMPTY_DEFAULT"},
	"TypeRef.kind":            {"scalar", "message", "enum", "map"},
	"Resource.history":        {"ORIGINALLY_SINGLE_PATTERN", "FUTURE_MULTI_PATTERN"},
	"Resource.style":          {"DECLARATIVE_FRIENDLY"},
}

// annotateProperty adds the description and enum of member key (Go field
// goField) of type typ to its schema s.
func annotateProperty(s map[string]any, typ, goField, key string) map[string]any {
	out := map[string]any{}
	for k, v := range s {
		out[k] = v
	}
	d := modelDocs().fields[typ+"."+goField]
	if d == "" {
		d = commonDescriptions[key]
	}
	if d != "" {
		out["description"] = d
	}
	if e, ok := schemaEnums[typ+"."+key]; ok {
		if items, ok := out["items"].(map[string]any); ok && out["type"] == "array" {
			items = map[string]any{"type": items["type"], "enum": e}
			out["items"] = items
		} else {
			out["enum"] = e
		}
	}
	return out
}

// typeDescription is the doc comment of a type of package model.
func typeDescription(name string) string { return modelDocs().types[name] }

type goDocs struct {
	types  map[string]string // type name -> doc
	fields map[string]string // Type.Field -> doc and line comment
}

// modelDocs reads the comments of package model's types and fields.
var modelDocs = sync.OnceValue(func() goDocs {
	docs := goDocs{types: map[string]string{}, fields: map[string]string{}}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "model")
	pkgs, err := parser.ParseDir(token.NewFileSet(), dir, nil, parser.ParseComments)
	if err != nil {
		panic(err)
	}
	for _, pkg := range pkgs {
		for name, f := range pkg.Files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.TYPE {
					continue
				}
				for _, spec := range gd.Specs {
					ts := spec.(*ast.TypeSpec)
					doc := ts.Doc
					if doc == nil && len(gd.Specs) == 1 {
						doc = gd.Doc
					}
					docs.types[ts.Name.Name] = oneLine(doc.Text())
					st, ok := ts.Type.(*ast.StructType)
					if !ok {
						continue
					}
					for _, fl := range st.Fields.List {
						text := oneLine(fl.Doc.Text() + " " + fl.Comment.Text())
						for _, n := range fl.Names {
							docs.fields[ts.Name.Name+"."+n.Name] = text
						}
					}
				}
			}
		}
	}
	return docs
})

// oneLine joins the lines of a comment.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestJSONSchemaDescribed checks that every member of every type of the
// schema has a description, and every type one.
func TestJSONSchemaDescribed(t *testing.T) {
	defs := map[string]any{}
	schemaFor(reflect.TypeOf(model.Document{}), defs)
	for name, d := range defs {
		def := d.(map[string]any)
		if def["description"] == nil {
			t.Errorf("type %s has no description (a doc comment in package model)", name)
		}
		for key, p := range def["properties"].(map[string]any) {
			if p.(map[string]any)["description"] == nil {
				t.Errorf("%s.%s has no description (a comment on the field, or commonDescriptions)", name, key)
			}
		}
	}
	for k := range schemaEnums {
		typ, key, _ := strings.Cut(k, ".")
		def, ok := defs[typ].(map[string]any)
		if !ok || def["properties"].(map[string]any)[key] == nil {
			t.Errorf("schemaEnums names %s, which is not in the schema", k)
		}
	}
}
