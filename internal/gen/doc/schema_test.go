package doc

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// schemaFor describes a Go type of the model as JSON Schema, with the
// descriptions and enums of schemaNotes.
func schemaFor(t reflect.Type, defs map[string]any) map[string]any {
	if t == rawMessageType {
		return map[string]any{} // any JSON value
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaFor(t.Elem(), defs)
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": schemaFor(t.Elem(), defs)}
	case reflect.Struct:
		name := t.Name()
		if _, ok := defs[name]; !ok {
			defs[name] = nil // reserve: types may refer to themselves
			props := map[string]any{}
			var required []string
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				tag := f.Tag.Get("json")
				if tag == "" || tag == "-" || !f.IsExported() {
					continue
				}
				key, opts, _ := strings.Cut(tag, ",")
				props[key] = annotateProperty(schemaFor(f.Type, defs), name, f.Name, key)
				if !strings.Contains(opts, "omitempty") {
					required = append(required, key)
				}
			}
			def := map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false}
			if d := typeDescription(name); d != "" {
				def["description"] = d
			}
			defs[name] = def
		}
		return map[string]any{"$ref": "#/$defs/" + name}
	}
	panic("unsupported type " + t.String())
}

// TestJSONSchema keeps docs/rpcdoc.schema.json in step with the model, and
// checks generated JSON against it.
func TestJSONSchema(t *testing.T) {
	defs := map[string]any{}
	root := schemaFor(reflect.TypeOf(model.Document{}), defs)
	schema := map[string]any{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"$id":         "https://github.com/polyrpc/polyrpc/docs/rpcdoc.schema.json",
		"title":       "protoc-gen-rpcdoc documentation model, schema_version " + strconv.Itoa(model.SchemaVersion),
		"description": "One document written by protoc-gen-rpcdoc with format=json. Field meanings are documented on the Go types of internal/gen/doc/model.",
		"$ref":        root["$ref"],
		"$defs":       defs,
	}
	got, err := json.MarshalIndent(schema, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join(goldenDir(t), "..", "..", "docs", "rpcdoc.schema.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("docs/rpcdoc.schema.json is stale (-want +got):\n%s", diff)
	}

	// Every generated document matches the schema (a small validator for
	// the subset of JSON Schema used above).
	docs := generate(t, compileRequest(t, "format=json,layout=package", goldenFiles...))
	for name, src := range generate(t, compileRequest(t, "format=json,layout=package", googleAPIFiles...)) {
		docs["googleapi/"+name] = src
	}
	for name, src := range docs {
		var v any
		if err := json.Unmarshal([]byte(src), &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		validate(t, name, "$", v, root, defs)
	}
}

func validate(t *testing.T, doc, at string, v any, s map[string]any, defs map[string]any) {
	t.Helper()
	if ref, ok := s["$ref"].(string); ok {
		validate(t, doc, at, v, defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any), defs)
		return
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		t.Errorf("%s %s: %v is not one of %v", doc, at, v, enum)
	}
	switch s["type"] {
	case "string":
		if _, ok := v.(string); !ok {
			t.Errorf("%s %s: want a string, got %T", doc, at, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			t.Errorf("%s %s: want a boolean, got %T", doc, at, v)
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			t.Errorf("%s %s: want an integer, got %v", doc, at, v)
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			t.Errorf("%s %s: want an array, got %T", doc, at, v)
			return
		}
		for i, item := range a {
			validate(t, doc, at+"["+strconv.Itoa(i)+"]", item, s["items"].(map[string]any), defs)
		}
	case "object":
		o, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s %s: want an object, got %T", doc, at, v)
			return
		}
		props := s["properties"].(map[string]any)
		for k, val := range o {
			ps, ok := props[k]
			if !ok {
				t.Errorf("%s %s: property %q not in the schema", doc, at, k)
				continue
			}
			validate(t, doc, at+"."+k, val, ps.(map[string]any), defs)
		}
		for _, k := range s["required"].([]string) {
			if _, ok := o[k]; !ok {
				t.Errorf("%s %s: required property %q missing", doc, at, k)
			}
		}
	}
}
