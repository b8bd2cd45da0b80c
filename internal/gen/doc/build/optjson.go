package build

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Option values as JSON (model.Option.JSON), made once per distinct
// options message like their text: numbers, booleans, strings (enum value
// names; bytes in base64; "NaN", "Infinity" and "-Infinity" for floats
// JSON cannot hold, as protojson writes them), lists, and objects for
// messages (proto field names, extensions as "[full.name]", maps keyed by
// their keys' text). 64-bit integers are numbers: exact in JSON, though
// JavaScript reads those beyond 2^53 rounded.

var jsonNull = json.RawMessage("null")

// optionJSON is the JSON of the value of field fd.
func optionJSON(fd protoreflect.FieldDescriptor, v protoreflect.Value) json.RawMessage {
	return appendJSONValue(nil, fd, v)
}

func appendJSONValue(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) []byte {
	switch {
	case fd.IsList():
		l := v.List()
		b = append(b, '[')
		for i := 0; i < l.Len(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONSingle(b, fd, l.Get(i))
		}
		return append(b, ']')
	case fd.IsMap():
		type kv struct {
			k string
			v protoreflect.Value
		}
		var kvs []kv
		v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			kvs = append(kvs, kv{mapKeyText(fd.MapKey(), k.Value()), mv})
			return true
		})
		sort.Slice(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
		b = append(b, '{')
		for i, e := range kvs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, e.k)
			b = append(b, ':')
			b = appendJSONSingle(b, fd.MapValue(), e.v)
		}
		return append(b, '}')
	}
	return appendJSONSingle(b, fd, v)
}

func mapKeyText(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	if fd.Kind() == protoreflect.StringKind {
		return v.String()
	}
	return scalarText(v, fd)
}

func appendJSONSingle(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) []byte {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		m := v.Message()
		b = append(b, '{')
		for i, sf := range populated(m) {
			if i > 0 {
				b = append(b, ',')
			}
			name := string(sf.Name())
			if sf.IsExtension() {
				name = "[" + string(sf.FullName()) + "]"
			}
			b = appendJSONString(b, name)
			b = append(b, ':')
			b = appendJSONValue(b, sf, m.Get(sf))
		}
		return append(b, '}')
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return appendJSONString(b, string(ev.Name()))
		}
		return strconv.AppendInt(b, int64(v.Enum()), 10)
	case protoreflect.StringKind:
		return appendJSONString(b, v.String())
	case protoreflect.BytesKind:
		return appendJSONString(b, base64.StdEncoding.EncodeToString(v.Bytes()))
	case protoreflect.BoolKind:
		return strconv.AppendBool(b, v.Bool())
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			return append(b, `"NaN"`...)
		case math.IsInf(f, 1):
			return append(b, `"Infinity"`...)
		case math.IsInf(f, -1):
			return append(b, `"-Infinity"`...)
		}
		bits := 64
		if fd.Kind() == protoreflect.FloatKind {
			bits = 32
		}
		return strconv.AppendFloat(b, f, 'g', -1, bits)
	}
	// Integers.
	return append(b, scalarText(v, fd)...)
}

// defaultJSON is the JSON of an edition default, given as text in
// descriptor.proto (enum value names for every feature so far).
func defaultJSON(fd protoreflect.FieldDescriptor, text string) json.RawMessage {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		if text == "true" || text == "false" {
			return json.RawMessage(text)
		}
	case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Uint32Kind, protoreflect.Uint64Kind:
		if _, err := strconv.ParseInt(text, 10, 64); err == nil {
			return json.RawMessage(text)
		}
	}
	return appendJSONString(nil, text)
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it without HTML escaping; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
