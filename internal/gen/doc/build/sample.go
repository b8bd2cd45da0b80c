package build

import (
	"encoding/json"
	"net/url"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Sample messages nest at most maxSampleDepth levels and hold at most
// maxSampleFields fields in all, so wide schemas stay readable.
const (
	maxSampleDepth  = 4
	maxSampleFields = 60
)

// jsonValue is a tiny ordered JSON tree for sample request bodies.
type jsonValue struct {
	raw  string       // a scalar in JSON syntax
	obj  bool         // an object (keys/vals)
	arr  bool         // an array (vals)
	keys []string     // object keys
	vals []*jsonValue // object values or array items
}

func (v *jsonValue) pretty(indent string) string {
	var b strings.Builder
	v.write(&b, indent, true)
	return b.String()
}

func (v *jsonValue) compact() string {
	var b strings.Builder
	v.write(&b, "", false)
	return b.String()
}

func (v *jsonValue) write(b *strings.Builder, indent string, pretty bool) {
	switch {
	case v.obj || v.arr:
		open, close := "{", "}"
		if v.arr {
			open, close = "[", "]"
		}
		if len(v.vals) == 0 {
			b.WriteString(open)
			b.WriteString(close)
			return
		}
		b.WriteString(open)
		inner := indent + "  "
		for i, item := range v.vals {
			if i > 0 {
				b.WriteString(",")
			}
			if pretty {
				b.WriteString("\n")
				b.WriteString(inner)
			}
			if v.obj {
				b.WriteString(jsonString(v.keys[i]))
				b.WriteString(":")
				if pretty {
					b.WriteString(" ")
				}
			}
			item.write(b, inner, pretty)
		}
		if pretty {
			b.WriteString("\n")
			b.WriteString(indent)
		}
		b.WriteString(close)
	default:
		b.WriteString(v.raw)
	}
}

func jsonString(s string) string {
	if plainJSONString(s) {
		return `"` + s + `"`
	}
	out, _ := json.Marshal(s)
	return string(out)
}

// plainJSONString reports whether s holds only bytes that json.Marshal
// writes unchanged inside a string: letters, digits, '_', '.' and '-'.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// sampler builds deterministic sample values from message schemas.
type sampler struct {
	b      *builder
	budget int // fields left
}

func newSampler(b *builder) *sampler { return &sampler{b: b, budget: maxSampleFields} }

func raw(s string) *jsonValue { return &jsonValue{raw: s} }

// message builds a sample of md; stack holds the messages being built, so
// that recursive types end instead of looping.
func (s *sampler) message(md protoreflect.MessageDescriptor, depth int, stack []protoreflect.FullName) *jsonValue {
	if v := wellKnownSample(md); v != nil {
		return v
	}
	obj := &jsonValue{obj: true}
	if depth >= maxSampleDepth {
		return obj
	}
	stack = append(stack, md.FullName())
	seenOneof := map[protoreflect.FullName]bool{}
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if s.b.hidden[fd.FullName()] {
			continue
		}
		if s.budget <= 0 {
			break
		}
		if o := fd.ContainingOneof(); o != nil && !o.IsSynthetic() {
			if seenOneof[o.FullName()] {
				continue
			}
			seenOneof[o.FullName()] = true
		}
		v := s.field(fd, depth, stack)
		if v == nil {
			continue
		}
		s.budget--
		obj.keys = append(obj.keys, fd.JSONName())
		obj.vals = append(obj.vals, v)
	}
	return obj
}

func (s *sampler) field(fd protoreflect.FieldDescriptor, depth int, stack []protoreflect.FullName) *jsonValue {
	if fd.IsMap() {
		v := s.single(fd.MapValue(), depth, stack)
		if v == nil {
			return nil
		}
		return &jsonValue{obj: true, keys: []string{mapKeySample(fd.MapKey())}, vals: []*jsonValue{v}}
	}
	v := s.single(fd, depth, stack)
	if v == nil {
		return nil
	}
	if fd.IsList() {
		return &jsonValue{arr: true, vals: []*jsonValue{v}}
	}
	return v
}

func (s *sampler) single(fd protoreflect.FieldDescriptor, depth int, stack []protoreflect.FullName) *jsonValue {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		md := fd.Message()
		for _, n := range stack {
			if n == md.FullName() {
				return nil // recursive type: leave the field out
			}
		}
		return s.message(md, depth+1, stack)
	case protoreflect.EnumKind:
		ed := fd.Enum()
		if ed.FullName() == "google.protobuf.NullValue" {
			return raw("null")
		}
		vals := ed.Values()
		pick := vals.Get(0)
		for i := 0; i < vals.Len(); i++ {
			if v := vals.Get(i); v.Number() != 0 && !s.b.hidden[v.FullName()] {
				pick = v
				break
			}
		}
		return raw(jsonString(string(pick.Name())))
	case protoreflect.BoolKind:
		return raw("true")
	case protoreflect.StringKind:
		return raw(jsonString("string"))
	case protoreflect.BytesKind:
		return raw(jsonString("Ynl0ZXM="))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return raw(`"0"`)
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return raw("0.5")
	}
	return raw("0")
}

func mapKeySample(fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return "key"
	case protoreflect.BoolKind:
		return "true"
	}
	return "0"
}

// wellKnownSample is the JSON form of well-known types with a special JSON
// mapping.
func wellKnownSample(md protoreflect.MessageDescriptor) *jsonValue {
	switch md.FullName() {
	case "google.protobuf.Timestamp":
		return raw(`"2024-01-01T00:00:00Z"`)
	case "google.protobuf.Duration":
		return raw(`"1.5s"`)
	case "google.protobuf.FieldMask":
		return raw(`"fieldName"`)
	case "google.protobuf.Struct":
		return &jsonValue{obj: true, keys: []string{"key"}, vals: []*jsonValue{raw(`"value"`)}}
	case "google.protobuf.Value":
		return raw(`"value"`)
	case "google.protobuf.ListValue":
		return &jsonValue{arr: true, vals: []*jsonValue{raw(`"value"`)}}
	case "google.protobuf.Any":
		return &jsonValue{obj: true, keys: []string{"@type"}, vals: []*jsonValue{raw(`"type.googleapis.com/google.protobuf.Empty"`)}}
	case "google.protobuf.Empty":
		return &jsonValue{obj: true}
	case "google.protobuf.BoolValue":
		return raw("true")
	case "google.protobuf.StringValue":
		return raw(`"string"`)
	case "google.protobuf.BytesValue":
		return raw(`"Ynl0ZXM="`)
	case "google.protobuf.Int64Value", "google.protobuf.UInt64Value":
		return raw(`"0"`)
	case "google.protobuf.Int32Value", "google.protobuf.UInt32Value":
		return raw("0")
	case "google.protobuf.DoubleValue", "google.protobuf.FloatValue":
		return raw("0.5")
	}
	return nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func queryEscape(s string) string { return url.QueryEscape(s) }
