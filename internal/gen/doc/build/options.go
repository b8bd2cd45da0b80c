package build

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// optionReader reads options, custom ones included. Custom options arrive
// as unknown fields of the descriptor options; they are resolved against
// the extensions defined in the request itself.
type optionReader struct {
	types *protoregistry.Types
	// Options messages are often alike (the same field behaviour on many
	// fields): they are resolved and listed once per distinct encoding.
	byBytes sync.Map // type name + "\x00" + encoding -> *optEntry
}

// optEntry is one distinct options message, resolved, and its listing.
type optEntry struct {
	resolved protoreflect.Message
	once     sync.Once
	opts     []model.Option
	annOnce  sync.Once
	ann      *apiAnnotations // googleapi.go
}

func newOptionReader(files []protoreflect.FileDescriptor) *optionReader {
	types := new(protoregistry.Types)
	var addExts func(xs protoreflect.ExtensionDescriptors)
	var addMsgs func(ms protoreflect.MessageDescriptors)
	addExts = func(xs protoreflect.ExtensionDescriptors) {
		for i := 0; i < xs.Len(); i++ {
			// A name defined twice cannot occur in a valid request; ignore it.
			_ = types.RegisterExtension(dynamicpb.NewExtensionType(xs.Get(i)))
		}
	}
	addMsgs = func(ms protoreflect.MessageDescriptors) {
		for i := 0; i < ms.Len(); i++ {
			addExts(ms.Get(i).Extensions())
			addMsgs(ms.Get(i).Messages())
		}
	}
	for _, f := range files {
		addExts(f.Extensions())
		addMsgs(f.Messages())
	}
	return &optionReader{types: types}
}

// entry is an options message re-read with the request's extensions
// known, or nil when there is none. It is shared by every options message
// with the same encoding and must not be changed.
func (r *optionReader) entry(m proto.Message) *optEntry {
	if m == nil || !m.ProtoReflect().IsValid() {
		return nil
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return &optEntry{resolved: m.ProtoReflect()}
	}
	key := string(m.ProtoReflect().Descriptor().FullName()) + "\x00" + string(b)
	if e, ok := r.byBytes.Load(key); ok {
		return e.(*optEntry)
	}
	out := m.ProtoReflect().New()
	if err := (proto.UnmarshalOptions{Resolver: r.types}).Unmarshal(b, out.Interface()); err != nil {
		out = m.ProtoReflect()
	}
	e, _ := r.byBytes.LoadOrStore(key, &optEntry{resolved: out})
	return e.(*optEntry)
}

// Options shown elsewhere on the page, or meaningless to readers.
var skipOptions = map[string]bool{
	"deprecated":                true,
	"idempotency_level":         true,
	"map_entry":                 true,
	"uninterpreted_option":      true,
	"(buf.validate.field)":      true,
	"(buf.validate.message)":    true,
	"(buf.validate.oneof)":      true,
	"(buf.validate.predefined)": true,
	"(google.api.http)":         true,
}

// msg is the resolved options message, or nil.
func (e *optEntry) msg() protoreflect.Message {
	if e == nil {
		return nil
	}
	return e.resolved
}

// list is every set option, flattened to dotted paths. It is shared and
// must not be changed.
func (e *optEntry) list() []model.Option {
	if e == nil {
		return nil
	}
	e.once.Do(func() { e.opts = listOptions(e.resolved) })
	return e.opts
}

// options lists the options of m.
func (r *optionReader) options(m proto.Message) []model.Option { return r.entry(m).list() }

func listOptions(resolved protoreflect.Message) []model.Option {
	var out []model.Option
	for _, fd := range populated(resolved) {
		name := optionName(fd)
		if skipOptions[name] || shownByMeaning(fd) {
			continue
		}
		flattenOption(name, fd, resolved.Get(fd), &out)
	}
	for b := resolved.GetUnknown(); len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			break
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			break
		}
		b = b[n+m:]
		out = append(out, model.Option{Name: fmt.Sprintf("(%d)", num), Value: "(extension not defined in the request)", JSON: jsonNull})
	}
	return out
}

func optionName(fd protoreflect.FieldDescriptor) string {
	if fd.IsExtension() {
		return "(" + string(fd.FullName()) + ")"
	}
	return string(fd.Name())
}

// populated lists the set fields of m: regular fields in declaration order,
// then extensions by field number.
func populated(m protoreflect.Message) []protoreflect.FieldDescriptor {
	var out []protoreflect.FieldDescriptor
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		if fd := fields.Get(i); m.Has(fd) {
			out = append(out, fd)
		}
	}
	var exts []protoreflect.FieldDescriptor
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if fd.IsExtension() {
			exts = append(exts, fd)
		}
		return true
	})
	sort.Slice(exts, func(i, j int) bool { return exts[i].Number() < exts[j].Number() })
	return append(out, exts...)
}

func flattenOption(name string, fd protoreflect.FieldDescriptor, v protoreflect.Value, out *[]model.Option) {
	if fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
		sub := v.Message()
		fields := populated(sub)
		if len(fields) > 0 && len(sub.GetUnknown()) == 0 {
			for _, sf := range fields {
				flattenOption(name+"."+optionName(sf), sf, sub.Get(sf), out)
			}
			return
		}
	}
	*out = append(*out, model.Option{Name: name, Value: formatValue(fd, v), JSON: optionJSON(fd, v)})
}

// formatValue writes a value in protobuf text syntax, deterministically.
func formatValue(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	switch {
	case fd.IsList():
		l := v.List()
		parts := make([]string, l.Len())
		for i := range parts {
			parts[i] = formatSingle(fd, l.Get(i))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case fd.IsMap():
		type kv struct{ k, v string }
		var kvs []kv
		v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			kvs = append(kvs, kv{formatSingle(fd.MapKey(), k.Value()), formatSingle(fd.MapValue(), mv)})
			return true
		})
		sort.Slice(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
		parts := make([]string, len(kvs))
		for i, e := range kvs {
			parts[i] = "{key: " + e.k + ", value: " + e.v + "}"
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return formatSingle(fd, v)
}

func formatSingle(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		m := v.Message()
		var parts []string
		for _, sf := range populated(m) {
			parts = append(parts, optionName(sf)+": "+formatValue(sf, m.Get(sf)))
		}
		if len(m.GetUnknown()) > 0 {
			parts = append(parts, "...")
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return strconv.Itoa(int(v.Enum()))
	case protoreflect.StringKind:
		return strconv.Quote(v.String())
	case protoreflect.BytesKind:
		return quoteBytes(v.Bytes())
	}
	return scalarText(v, fd)
}

func scalarText(v protoreflect.Value, fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return strconv.FormatBool(v.Bool())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return strconv.FormatInt(v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return strconv.FormatUint(v.Uint(), 10)
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		f := v.Float()
		switch {
		case math.IsInf(f, 1):
			return "inf"
		case math.IsInf(f, -1):
			return "-inf"
		case math.IsNaN(f):
			return "nan"
		}
		bits := 64
		if fd.Kind() == protoreflect.FloatKind {
			bits = 32
		}
		return strconv.FormatFloat(f, 'g', -1, bits)
	}
	return fmt.Sprint(v.Interface())
}

func quoteBytes(b []byte) string {
	var s strings.Builder
	s.WriteByte('"')
	for _, c := range b {
		switch {
		case c == '"' || c == '\\':
			s.WriteByte('\\')
			s.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			s.WriteByte(c)
		default:
			fmt.Fprintf(&s, "\\%03o", c)
		}
	}
	s.WriteByte('"')
	return s.String()
}

// extension returns the value of a set extension found by full name.
func findExtension(m protoreflect.Message, name protoreflect.FullName) (protoreflect.FieldDescriptor, protoreflect.Value, bool) {
	if m == nil {
		return nil, protoreflect.Value{}, false
	}
	var (
		fd protoreflect.FieldDescriptor
		v  protoreflect.Value
	)
	m.Range(func(f protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		if f.IsExtension() && f.FullName() == name {
			fd, v = f, val
			return false
		}
		return true
	})
	return fd, v, fd != nil
}

// httpRules reads google.api.http bindings from resolved method options.
func httpRules(opts protoreflect.Message) []model.HTTPRule {
	fd, v, ok := findExtension(opts, "google.api.http")
	if !ok || fd.Message() == nil || fd.IsList() {
		return nil
	}
	var out []model.HTTPRule
	var add func(m protoreflect.Message, nested bool)
	add = func(m protoreflect.Message, nested bool) {
		var r model.HTTPRule
		var extra []protoreflect.Message
		for _, f := range populated(m) {
			val := m.Get(f)
			switch f.Name() {
			case "get", "put", "post", "delete", "patch":
				r.Method, r.Path = strings.ToUpper(string(f.Name())), val.String()
			case "custom":
				c := val.Message()
				for _, cf := range populated(c) {
					switch cf.Name() {
					case "kind":
						r.Method = c.Get(cf).String()
					case "path":
						r.Path = c.Get(cf).String()
					}
				}
			case "body":
				r.Body = val.String()
			case "response_body":
				r.ResponseBody = val.String()
			case "additional_bindings":
				if f.IsList() && !nested {
					for i := 0; i < val.List().Len(); i++ {
						extra = append(extra, val.List().Get(i).Message())
					}
				}
			}
		}
		if r.Method != "" {
			r.Additional = nested
			out = append(out, r)
		}
		for _, e := range extra {
			add(e, true)
		}
	}
	add(v.Message(), false)
	return out
}

func fieldRules(opts protoreflect.Message) []string {
	return validateRules(opts, "buf.validate.field")
}

func messageRules(opts protoreflect.Message) []string {
	return validateRules(opts, "buf.validate.message")
}

func oneofRules(opts protoreflect.Message) []string {
	return validateRules(opts, "buf.validate.oneof")
}

func validateRules(opts protoreflect.Message, ext protoreflect.FullName) []string {
	fd, v, ok := findExtension(opts, ext)
	if !ok || fd.Message() == nil || fd.IsList() {
		return nil
	}
	var out []string
	readableRules(v.Message(), "", &out)
	return out
}

var rulePhrases = map[string]string{
	"const":        "must equal %s",
	"lt":           "< %s",
	"lte":          "≤ %s",
	"gt":           "> %s",
	"gte":          "≥ %s",
	"in":           "one of %s",
	"not_in":       "none of %s",
	"len":          "length = %s",
	"min_len":      "length ≥ %s",
	"max_len":      "length ≤ %s",
	"len_bytes":    "size = %s bytes",
	"min_bytes":    "size ≥ %s bytes",
	"max_bytes":    "size ≤ %s bytes",
	"pattern":      "matches %s",
	"prefix":       "starts with %s",
	"suffix":       "ends with %s",
	"contains":     "contains %s",
	"not_contains": "does not contain %s",
	"min_items":    "at least %s items",
	"max_items":    "at most %s items",
	"min_pairs":    "at least %s entries",
	"max_pairs":    "at most %s entries",
	"within":       "within %s of now",
}

var ruleScopes = map[string]string{"items": "each item: ", "keys": "each key: ", "values": "each value: "}

// readableRules turns protovalidate rules into short sentences.
func readableRules(m protoreflect.Message, scope string, out *[]string) {
	for _, fd := range populated(m) {
		name := string(fd.Name())
		v := m.Get(fd)
		switch {
		case name == "cel" && fd.IsList():
			for i := 0; i < v.List().Len(); i++ {
				r := v.List().Get(i).Message()
				var id, msg, expr string
				for _, f := range populated(r) {
					switch f.Name() {
					case "id":
						id = r.Get(f).String()
					case "message":
						msg = r.Get(f).String()
					case "expression":
						expr = r.Get(f).String()
					}
				}
				s := scope + "CEL"
				if id != "" {
					s += " " + id
				}
				s += ": " + expr
				if msg != "" {
					s += " (" + msg + ")"
				}
				*out = append(*out, s)
			}
		case fd.Kind() == protoreflect.BoolKind && !fd.IsList():
			if v.Bool() {
				*out = append(*out, scope+strings.ReplaceAll(name, "_", " "))
			} else {
				*out = append(*out, scope+strings.ReplaceAll(name, "_", " ")+": false")
			}
		case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			if s, ok := ruleScopes[name]; ok {
				readableRules(v.Message(), scope+s, out)
			} else if _, ok := rulePhrases[name]; ok {
				*out = append(*out, scope+fmt.Sprintf(rulePhrases[name], formatValue(fd, v)))
			} else {
				// A rule set for one kind of value (string, int32, repeated, ...).
				readableRules(v.Message(), scope, out)
			}
		default:
			if p, ok := rulePhrases[name]; ok {
				*out = append(*out, scope+fmt.Sprintf(p, formatValue(fd, v)))
			} else {
				*out = append(*out, scope+name+" = "+formatValue(fd, v))
			}
		}
	}
}
