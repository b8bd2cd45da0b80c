package openapiout

import (
	"strings"

	"github.com/polyrpc/polyrpc/internal/gen/doc/comment"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// Types indexes the messages and enums of every document of a run by full
// name, so that a document can describe the types it refers to even when
// another document of the run (layout=package or file) holds them.
type Types struct {
	messages map[string]*model.Message
	enums    map[string]*model.Enum
}

// NewTypes indexes the messages and enums of docs.
func NewTypes(docs []*model.Document) *Types {
	t := &Types{messages: map[string]*model.Message{}, enums: map[string]*model.Enum{}}
	for _, d := range docs {
		for _, f := range d.Files {
			for _, m := range f.Messages {
				t.messages[m.FullName] = m
			}
			for _, e := range f.Enums {
				t.enums[e.FullName] = e
			}
		}
	}
	return t
}

const schemaPrefix = "#/components/schemas/"

// Names of the schemas that are not proto types of the run.
const (
	statusName       = "google.rpc.Status"
	connectErrorName = "connect.Error"
	httpBodyName     = "google.api.HttpBody"
)

// ref is a reference to the component schema of a type, which is added to
// the document.
func (g *gen) ref(fullName string) obj {
	if !g.used[fullName] {
		g.used[fullName] = true
		g.queue = append(g.queue, fullName)
	}
	return obj{{"$ref", schemaPrefix + fullName}}
}

// typeSchema is the JSON Schema of one value of a type (not repeated).
func (g *gen) typeSchema(t model.TypeRef) obj {
	switch t.Kind {
	case "message", "enum":
		return g.ref(t.FullName)
	case "map":
		m := obj{{"type", "object"}}
		if t.Key != nil {
			if p := mapKeyPattern(t.Key.Name); p != "" {
				m.set("propertyNames", obj{{"pattern", p}})
			}
		}
		if t.Value != nil {
			m.set("additionalProperties", g.typeSchema(*t.Value))
		}
		return m
	}
	return scalarSchema(t.Name)
}

func mapKeyPattern(scalar string) string {
	switch scalar {
	case "bool":
		return "^(true|false)$"
	case "uint32", "uint64", "fixed32", "fixed64":
		return "^[0-9]+$"
	case "int32", "int64", "sint32", "sint64", "sfixed32", "sfixed64":
		return "^-?[0-9]+$"
	}
	return ""
}

// scalarSchema follows the protobuf JSON mapping: 64-bit integers are
// strings (numbers are accepted too), floating point values may be the
// strings NaN, Infinity and -Infinity, bytes are base64.
func scalarSchema(name string) obj {
	switch name {
	case "int32", "sint32", "sfixed32":
		return obj{{"type", "integer"}, {"format", "int32"}}
	case "uint32", "fixed32":
		return obj{{"type", "integer"}, {"minimum", 0}, {"maximum", int64(4294967295)}}
	case "int64", "sint64", "sfixed64":
		return obj{{"type", []string{"string", "integer"}}, {"format", "int64"}, {"pattern", `^-?[0-9]+$`}}
	case "uint64", "fixed64":
		return obj{{"type", []string{"string", "integer"}}, {"format", "uint64"}, {"pattern", `^[0-9]+$`}, {"minimum", 0}}
	case "float", "double":
		format := name
		return obj{{"anyOf", []any{
			obj{{"type", "number"}, {"format", format}},
			obj{{"type", "string"}, {"enum", []string{"NaN", "Infinity", "-Infinity"}}},
		}}}
	case "bool":
		return obj{{"type", "boolean"}}
	case "bytes":
		return obj{{"type", "string"}, {"contentEncoding", "base64"}}
	}
	return obj{{"type", "string"}}
}

// fieldSchema is the schema of a field: its type, as an array when it is
// repeated, with the field's description and behaviour.
func (g *gen) fieldSchema(f *model.Field) obj {
	var s obj
	switch {
	case f.Label == "map" || f.Type.Kind == "map":
		s = g.typeSchema(f.Type)
	case f.Label == "repeated":
		s = obj{{"type", "array"}, {"items", g.typeSchema(f.Type)}}
	default:
		s = g.typeSchema(f.Type)
	}
	if d := fieldDescription(f); d != "" {
		s.set("description", d)
	}
	b := behaviors(f)
	if b["OUTPUT_ONLY"] {
		s.set("readOnly", true)
	}
	if b["INPUT_ONLY"] {
		s.set("writeOnly", true)
	}
	if f.Deprecated {
		s.set("deprecated", true)
	}
	return s
}

func fieldDescription(f *model.Field) string {
	d := md(f.Description)
	if f.Oneof != "" {
		d = joinParagraphs(d, "Member of the oneof `"+f.Oneof+"`: at most one of its fields is set.")
	}
	return d
}

// md is a comment as OpenAPI description (CommonMark): made safe as the
// Markdown format makes it (raw HTML escaped, only http, https and mailto
// links), with Google-style references ([text][pkg.Msg]) as their text,
// since the document has no pages to link to.
func md(src string) string {
	if src == "" {
		return ""
	}
	return comment.MDBlock(src, noLinks)
}

func noLinks(string) string { return "" }

func joinParagraphs(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n\n" + b
}

// behaviors are the google.api.field_behavior values of a field, as the
// model reads them (REQUIRED, OUTPUT_ONLY, ...).
func behaviors(f *model.Field) map[string]bool {
	if len(f.Behaviors) == 0 {
		return nil
	}
	out := make(map[string]bool, len(f.Behaviors))
	for _, b := range f.Behaviors {
		out[b] = true
	}
	return out
}

// messageSchema is the schema of a message, without the fields named in
// skip (those bound to the path of a REST binding).
func (g *gen) messageSchema(m *model.Message, skip map[string]bool) obj {
	s := obj{{"type", "object"}}
	if m.Description != "" {
		s.set("description", md(m.Description))
	}
	props := obj{}
	var required []string
	for _, f := range m.Fields {
		if skip[f.Name] {
			continue
		}
		props.set(f.JSONName, g.fieldSchema(f))
		if behaviors(f)["REQUIRED"] {
			required = append(required, f.JSONName)
		}
	}
	if len(props) > 0 {
		s.set("properties", props)
	}
	if len(required) > 0 {
		s.set("required", required)
	}
	// Each oneof: exactly one of "only member i set" or "no member set".
	var oneofs []any
	for _, o := range m.Oneofs {
		var members []any
		for _, name := range o.Fields {
			if skip[name] {
				continue
			}
			for _, f := range m.Fields {
				if f.Name == name {
					members = append(members, obj{{"required", []string{f.JSONName}}})
				}
			}
		}
		if len(members) < 2 {
			continue
		}
		alts := append(append([]any(nil), members...), obj{{"not", obj{{"anyOf", members}}}})
		oneofs = append(oneofs, obj{{"oneOf", alts}})
	}
	if len(oneofs) > 0 {
		s.set("allOf", oneofs)
	}
	if m.Deprecated {
		s.set("deprecated", true)
	}
	return s
}

// enumSchema lists the value names; the description lists their comments.
func enumSchema(e *model.Enum) obj {
	s := obj{{"type", "string"}}
	var names []string
	var lines []string
	for _, v := range e.Values {
		names = append(names, v.Name)
		line := "- `" + v.Name + "`"
		if v.Description != "" {
			line += ": " + strings.Join(strings.Fields(md(v.Description)), " ")
		}
		if v.Deprecated {
			line += " (deprecated)"
		}
		lines = append(lines, line)
	}
	s.set("enum", names)
	desc := md(e.Description)
	if len(lines) > 0 {
		desc = joinParagraphs(desc, strings.Join(lines, "\n"))
	}
	if desc != "" {
		s.set("description", desc)
	}
	if e.Deprecated {
		s.set("deprecated", true)
	}
	return s
}

// wellKnown is the JSON form of the well-known types (protobuf JSON
// mapping), and of the error schemas.
func (g *gen) wellKnown(name string) (obj, bool) {
	wrapper := func(scalar, what string) obj {
		s := scalarSchema(scalar)
		if alts, ok := s.get("anyOf"); ok {
			return obj{{"anyOf", append(alts.([]any), obj{{"type", "null"}})}, {"description", what}}
		}
		t, _ := s.get("type")
		switch t := t.(type) {
		case string:
			s.set("type", []string{t, "null"})
		case []string:
			s.set("type", append(append([]string(nil), t...), "null"))
		}
		s.set("description", what)
		return s
	}
	switch name {
	case "google.protobuf.Timestamp":
		return obj{{"type", "string"}, {"format", "date-time"}, {"description", "A point in time, RFC 3339 in UTC (\"1972-01-01T10:00:20.021Z\")."}}, true
	case "google.protobuf.Duration":
		return obj{{"type", "string"}, {"pattern", `^-?[0-9]+(\.[0-9]{1,9})?s$`}, {"description", "A signed duration in seconds with up to nine fractional digits, suffixed with s (\"1.5s\")."}}, true
	case "google.protobuf.FieldMask":
		return obj{{"type", "string"}, {"description", "Field paths in lowerCamelCase, separated by commas (\"user.displayName,photo\")."}}, true
	case "google.protobuf.Struct":
		return obj{{"type", "object"}, {"description", "A JSON object."}}, true
	case "google.protobuf.Value":
		return obj{{"description", "Any JSON value."}}, true
	case "google.protobuf.ListValue":
		return obj{{"type", "array"}, {"description", "A JSON array."}}, true
	case "google.protobuf.NullValue":
		return obj{{"type", "null"}}, true
	case "google.protobuf.Empty":
		return obj{{"type", "object"}, {"description", "An empty JSON object."}}, true
	case "google.protobuf.Any":
		return obj{
			{"type", "object"},
			{"description", "A message of any type: its fields, or `value` for types with a special JSON form, and the type URL in `@type`."},
			{"properties", obj{{"@type", obj{{"type", "string"}, {"description", "Type URL, e.g. \"type.googleapis.com/google.rpc.BadRequest\"."}}}}},
			{"required", []string{"@type"}},
		}, true
	case "google.protobuf.DoubleValue":
		return wrapper("double", "A double, or null."), true
	case "google.protobuf.FloatValue":
		return wrapper("float", "A float, or null."), true
	case "google.protobuf.Int64Value":
		return wrapper("int64", "A 64-bit integer as a string (a number is accepted), or null."), true
	case "google.protobuf.UInt64Value":
		return wrapper("uint64", "An unsigned 64-bit integer as a string (a number is accepted), or null."), true
	case "google.protobuf.Int32Value":
		return wrapper("int32", "A 32-bit integer, or null."), true
	case "google.protobuf.UInt32Value":
		return wrapper("uint32", "An unsigned 32-bit integer, or null."), true
	case "google.protobuf.BoolValue":
		return wrapper("bool", "A boolean, or null."), true
	case "google.protobuf.StringValue":
		return wrapper("string", "A string, or null."), true
	case "google.protobuf.BytesValue":
		return wrapper("bytes", "Base64 bytes, or null."), true
	case statusName:
		return obj{
			{"type", "object"},
			{"description", "The error of a REST call: the gRPC status code, a message, and details."},
			{"properties", obj{
				{"code", obj{{"type", "integer"}, {"format", "int32"}, {"description", "The gRPC status code (google.rpc.Code)."}}},
				{"message", obj{{"type", "string"}}},
				{"details", obj{{"type", "array"}, {"items", g.ref("google.protobuf.Any")}}},
			}},
		}, true
	case connectErrorName:
		return obj{
			{"type", "object"},
			{"description", "The error of a Connect call (Connect protocol): a code name, a message, and details as base64 protobuf."},
			{"properties", obj{
				{"code", obj{{"type", "string"}, {"enum", connectCodes}}},
				{"message", obj{{"type", "string"}}},
				{"details", obj{{"type", "array"}, {"items", obj{
					{"type", "object"},
					{"properties", obj{
						{"type", obj{{"type", "string"}, {"description", "Full name of the detail's message type."}}},
						{"value", obj{{"type", "string"}, {"contentEncoding", "base64"}, {"description", "The detail, binary protobuf."}}},
						{"debug", obj{{"description", "The detail as JSON, for people."}}},
					}},
					{"required", []string{"type", "value"}},
				}}}},
			}},
			{"required", []string{"code"}},
		}, true
	}
	return nil, false
}

var connectCodes = []string{"canceled", "unknown", "invalid_argument", "deadline_exceeded", "not_found",
	"already_exists", "permission_denied", "resource_exhausted", "failed_precondition", "aborted",
	"out_of_range", "unimplemented", "internal", "unavailable", "data_loss", "unauthenticated"}

// componentSchema is the schema of a named component: a well-known type
// (its JSON form, even when the run documents it), a message or enum of
// the run, or, for a type that no document of the
// run holds, an object described by name only.
func (g *gen) componentSchema(name string) obj {
	if s, ok := g.wellKnown(name); ok {
		return s
	}
	if m, ok := g.t.messages[name]; ok {
		return g.messageSchema(m, nil)
	}
	if e, ok := g.t.enums[name]; ok {
		return enumSchema(e)
	}
	return obj{{"type", "object"}, {"description", "The message `" + name + "`, which is not documented in this run."}}
}
