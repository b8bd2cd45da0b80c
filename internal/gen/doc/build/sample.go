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
	maxRequiredOver = 200 // required fields past maxSampleFields
)

// jsonValue is a tiny ordered JSON tree for sample request bodies.
type jsonValue struct {
	raw  string       // a scalar in JSON syntax
	obj  bool         // an object (keys/vals)
	arr  bool         // an array (vals)
	keys []string     // object keys
	vals []*jsonValue // object values or array items

	// isMap marks an object that is a proto map, which has no place in
	// a REST query string.
	isMap bool
}

func (v *jsonValue) pretty(indent string) string {
	var b strings.Builder
	v.write(&b, indent, true)
	return exact(&b)
}

// exact is the text of b in a string of its own size: the model keeps
// samples and commands for the whole run, and the builder's buffer has
// grown up to twice the size it needs.
func exact(b *strings.Builder) string {
	if b.Cap()-b.Len() <= b.Len()/16 {
		return b.String()
	}
	return strings.Clone(b.String())
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

// sampler builds deterministic sample values from message schemas. A
// request sample leaves out output-only and deprecated fields, a response
// sample input-only and deprecated ones; required fields are always
// filled, the others while the field budget lasts.
type sampler struct {
	b        *builder
	response bool
	budget   int               // fields left
	hints    map[string]string // path templates of HTTP variables, by field path
	// byPath records the sample of each singular field, by proto field
	// path from the root ("topic.name"), for the REST path.
	byPath map[string]*jsonValue
}

func newSampler(b *builder) *sampler {
	return &sampler{b: b, budget: maxSampleFields, byPath: map[string]*jsonValue{}}
}

func raw(s string) *jsonValue { return &jsonValue{raw: s} }

// skipField reports whether a field stays out of the sample.
func (s *sampler) skipField(fd protoreflect.FieldDescriptor, a fieldAnnotations) bool {
	if s.b.hidden[fd.FullName()] || a.deprecated {
		return true
	}
	if s.response {
		return a.inputOnly
	}
	return a.outputOnly
}

// message builds a sample of md; stack holds the messages being built, so
// that recursive types end instead of looping.
func (s *sampler) message(md protoreflect.MessageDescriptor, depth int, stack []protoreflect.FullName) *jsonValue {
	return s.messageAt(md, depth, stack, "")
}

// messageAt is message for md at proto field path path from the root
// message ("" for the root).
func (s *sampler) messageAt(md protoreflect.MessageDescriptor, depth int, stack []protoreflect.FullName, path string) *jsonValue {
	if v := wellKnownSample(md); v != nil {
		return v
	}
	obj := &jsonValue{obj: true}
	if depth >= maxSampleDepth {
		return obj
	}
	stack = append(stack, md.FullName())
	doneOneof := map[protoreflect.FullName]bool{}
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		a := s.b.annotations(fd)
		if s.skipField(fd, a) {
			continue
		}
		if s.budget <= 0 && !a.required || s.budget <= -maxRequiredOver {
			continue // required fields go past the budget, up to a bound
		}
		o := fd.ContainingOneof()
		if o != nil && !o.IsSynthetic() && doneOneof[o.FullName()] {
			continue
		}
		v := s.field(fd, a, depth, stack, joinPath(path, string(fd.Name())))
		if v == nil {
			continue
		}
		if o != nil && !o.IsSynthetic() {
			doneOneof[o.FullName()] = true
		}
		s.budget--
		obj.keys = append(obj.keys, fd.JSONName())
		obj.vals = append(obj.vals, v)
	}
	return obj
}

// noPath starts the path of the items of lists and maps, which no HTTP
// variable names.
const noPath = "\x00"

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func (s *sampler) field(fd protoreflect.FieldDescriptor, a fieldAnnotations, depth int, stack []protoreflect.FullName, path string) *jsonValue {
	if fd.IsMap() {
		v := s.single(fd.MapValue(), fieldAnnotations{}, depth, stack, noPath)
		if v == nil {
			return nil
		}
		return &jsonValue{obj: true, isMap: true, keys: []string{mapKeySample(fd.MapKey())}, vals: []*jsonValue{v}}
	}
	if fd.IsList() {
		v := s.single(fd, a, depth, stack, noPath)
		if v == nil {
			return nil
		}
		arr := &jsonValue{arr: true, vals: []*jsonValue{v}}
		for n := a.minItems(); len(arr.vals) < n; {
			arr.vals = append(arr.vals, v)
		}
		return arr
	}
	v := s.single(fd, a, depth, stack, path)
	if v != nil && !strings.HasPrefix(path, noPath) {
		s.byPath[path] = v
	}
	return v
}

func (s *sampler) single(fd protoreflect.FieldDescriptor, a fieldAnnotations, depth int, stack []protoreflect.FullName, path string) *jsonValue {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		md := fd.Message()
		for _, n := range stack {
			if n == md.FullName() {
				return nil // recursive type: leave the field out
			}
		}
		if a.rules != nil {
			if v := wrapperSample(md, fd, a); v != nil {
				return v
			}
		}
		return s.messageAt(md, depth+1, stack, path)
	case protoreflect.EnumKind:
		return s.enumValue(fd, a)
	case protoreflect.BoolKind:
		return raw("true")
	case protoreflect.StringKind:
		return raw(jsonString(s.stringValue(fd, a, path)))
	case protoreflect.BytesKind:
		return raw(jsonString(bytesValue(a)))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return raw(`"` + numberValue(fd, a, true) + `"`)
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return raw(numberValue(fd, a, false))
	}
	return raw(numberValue(fd, a, true))
}

// enumValue is the first value that is not zero, hidden or deprecated
// (and that the rules allow), or the first value.
func (s *sampler) enumValue(fd protoreflect.FieldDescriptor, a fieldAnnotations) *jsonValue {
	ed := fd.Enum()
	if ed.FullName() == "google.protobuf.NullValue" {
		return raw("null")
	}
	vals := ed.Values()
	pick := vals.Get(0)
	for i := 0; i < vals.Len(); i++ {
		v := vals.Get(i)
		if v.Number() == 0 || s.b.hidden[v.FullName()] || enumValueDeprecated(v) || !a.allowsEnum(int32(v.Number())) {
			continue
		}
		pick = v
		break
	}
	return raw(jsonString(string(pick.Name())))
}

// wrapperSample is the sample of a wrapper type under protovalidate
// rules for its value, or nil for other types.
func wrapperSample(md protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor, a fieldAnnotations) *jsonValue {
	switch md.FullName() {
	case "google.protobuf.Int32Value", "google.protobuf.UInt32Value":
		return raw(numberValue(fd, a, true))
	case "google.protobuf.Int64Value", "google.protobuf.UInt64Value":
		return raw(`"` + numberValue(fd, a, true) + `"`)
	case "google.protobuf.DoubleValue", "google.protobuf.FloatValue":
		return raw(numberValue(fd, a, false))
	}
	return nil
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
