package jsonout

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// The files of a JSON document are written by jsonWriter rather than
// encoding/json: the same bytes as json.Encoder with SetEscapeHTML(false)
// and SetIndent(prefix, "  ") gives for the model's types (field order,
// omitempty, null for nil lists without omitempty, string escaping), in
// one pass and without reflection. TestJSONWriter and FuzzJSONWriter
// compare the two.

// jsonWriter writes indented JSON into a buffer.
type jsonWriter struct {
	b      *bytes.Buffer
	prefix string
	depth  int
	empty  []bool // per open object or array: nothing written in it yet
}

// newline starts a line at the current depth.
func (w *jsonWriter) newline() {
	w.b.WriteByte('\n')
	w.b.WriteString(w.prefix)
	for i := 0; i < w.depth; i++ {
		w.b.WriteString("  ")
	}
}

func (w *jsonWriter) open(c byte) {
	w.b.WriteByte(c)
	w.depth++
	w.empty = append(w.empty, true)
}

func (w *jsonWriter) close(c byte) {
	w.depth--
	n := len(w.empty) - 1
	if !w.empty[n] {
		w.newline()
	}
	w.empty = w.empty[:n]
	w.b.WriteByte(c)
}

// next starts an element of the open object or array.
func (w *jsonWriter) next() {
	n := len(w.empty) - 1
	if w.empty[n] {
		w.empty[n] = false
	} else {
		w.b.WriteByte(',')
	}
	w.newline()
}

// key starts a member of the open object; k needs no escaping.
func (w *jsonWriter) key(k string) {
	w.next()
	w.b.WriteByte('"')
	w.b.WriteString(k)
	w.b.WriteString(`": `)
}

func (w *jsonWriter) str(k, v string) {
	w.key(k)
	w.quote(v)
}

// optStr writes a member with omitempty.
func (w *jsonWriter) optStr(k, v string) {
	if v != "" {
		w.str(k, v)
	}
}

func (w *jsonWriter) optBool(k string, v bool) {
	if v {
		w.key(k)
		w.b.WriteString("true")
	}
}

func (w *jsonWriter) int(k string, v int64) {
	w.key(k)
	w.b.WriteString(strconv.FormatInt(v, 10))
}

func (w *jsonWriter) null() { w.b.WriteString("null") }

// strings writes a list of strings; omit drops an empty one (omitempty),
// otherwise a nil one is null.
func (w *jsonWriter) strings(k string, v []string, omit bool) {
	if omit && len(v) == 0 {
		return
	}
	w.key(k)
	if v == nil {
		w.null()
		return
	}
	w.open('[')
	for _, s := range v {
		w.next()
		w.quote(s)
	}
	w.close(']')
}

// list writes a list member: omitempty drops an empty one, otherwise a nil
// one is null; each element is written by elem after next.
func jsonList[T any](w *jsonWriter, k string, v []T, omit bool, elem func(T)) {
	if omit && len(v) == 0 {
		return
	}
	w.key(k)
	if v == nil {
		w.null()
		return
	}
	w.open('[')
	for _, x := range v {
		w.next()
		elem(x)
	}
	w.close(']')
}

// quote writes s as a JSON string, escaped as encoding/json escapes it
// without HTML escaping.
func (w *jsonWriter) quote(s string) {
	const hex = "0123456789abcdef"
	b := w.b
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b.WriteString(s[start:i])
			switch c {
			case '\\', '"':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(s[start:i])
			b.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b.WriteString(s[start:i])
			b.WriteString(`\u202`)
			b.WriteByte(hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

// file writes a File as encoding/json does, then a newline.
func (w *jsonWriter) file(f *model.File) {
	if f == nil {
		w.null()
		return
	}
	w.open('{')
	w.str("name", f.Name)
	w.str("anchor", f.Anchor)
	w.str("package", f.Package)
	w.str("syntax", f.Syntax)
	w.optStr("edition", f.Edition)
	jsonList(w, "features", f.Features, true, w.option)
	w.optStr("description", f.Description)
	w.strings("detached_comments", f.DetachedComments, true)
	w.optBool("deprecated", f.Deprecated)
	jsonList(w, "options", f.Options, true, w.option)
	w.strings("imports", f.Imports, true)
	jsonList(w, "services", f.Services, true, w.service)
	jsonList(w, "messages", f.Messages, true, w.message)
	jsonList(w, "enums", f.Enums, true, w.enum)
	jsonList(w, "extensions", f.Extensions, true, w.field)
	jsonList(w, "resources", f.Resources, true, w.resource)
	w.optBool("referenced", f.Referenced)
	w.close('}')
}

func (w *jsonWriter) option(o model.Option) {
	w.open('{')
	w.str("name", o.Name)
	w.str("text", o.Value)
	w.raw("value", o.JSON)
	w.close('}')
}

func (w *jsonWriter) service(s *model.Service) {
	if s == nil {
		w.null()
		return
	}
	w.open('{')
	w.str("name", s.Name)
	w.str("full_name", s.FullName)
	w.str("anchor", s.Anchor)
	w.optStr("description", s.Description)
	w.optBool("deprecated", s.Deprecated)
	jsonList(w, "options", s.Options, true, w.option)
	jsonList(w, "methods", s.Methods, true, w.method)
	w.optStr("default_host", s.DefaultHost)
	w.strings("oauth_scopes", s.OAuthScopes, true)
	w.close('}')
}

func (w *jsonWriter) method(m *model.Method) {
	if m == nil {
		w.null()
		return
	}
	w.open('{')
	w.str("name", m.Name)
	w.str("full_name", m.FullName)
	w.str("anchor", m.Anchor)
	w.optStr("description", m.Description)
	w.optBool("deprecated", m.Deprecated)
	w.str("streaming", m.Streaming)
	w.key("request")
	w.typeRef(&m.Request)
	w.key("response")
	w.typeRef(&m.Response)
	w.optStr("idempotency", m.Idempotency)
	w.str("procedure", m.Procedure)
	jsonList(w, "protocols", m.Protocols, false, func(p model.Protocol) {
		w.open('{')
		w.str("name", p.Name)
		w.strings("http", p.HTTP, false)
		w.close('}')
	})
	w.optStr("connect_get", m.ConnectGet)
	jsonList(w, "http_rules", m.HTTPRules, true, func(r model.HTTPRule) {
		w.open('{')
		w.str("method", r.Method)
		w.str("path", r.Path)
		w.optStr("body", r.Body)
		w.optStr("response_body", r.ResponseBody)
		w.httpAnnotations(&r)
		w.close('}')
	})
	w.str("sample_request", m.SampleRequest)
	example, examples := m.CallExamples()
	w.str("example", example)
	jsonList(w, "options", m.Options, true, w.option)
	w.signatures(m.Signatures)
	w.optStr("sample_response", m.SampleResponse)
	jsonList(w, "examples", examples, true, func(e model.CallExample) {
		w.open('{')
		w.str("protocol", e.Protocol)
		w.str("title", e.Title)
		w.str("command", e.Command)
		w.close('}')
	})
	w.close('}')
}

func (w *jsonWriter) typeRef(t *model.TypeRef) {
	if t == nil {
		w.null()
		return
	}
	w.open('{')
	w.str("name", t.Name)
	w.str("kind", t.Kind)
	w.optStr("full_name", t.FullName)
	w.optStr("url", t.URL)
	if t.Key != nil {
		w.key("key")
		w.typeRef(t.Key)
	}
	if t.Value != nil {
		w.key("value")
		w.typeRef(t.Value)
	}
	w.close('}')
}

func (w *jsonWriter) message(m *model.Message) {
	if m == nil {
		w.null()
		return
	}
	w.open('{')
	w.str("name", m.Name)
	w.str("full_name", m.FullName)
	w.str("anchor", m.Anchor)
	w.optStr("parent", m.Parent)
	w.optStr("description", m.Description)
	w.optBool("deprecated", m.Deprecated)
	jsonList(w, "fields", m.Fields, true, w.field)
	jsonList(w, "oneofs", m.Oneofs, true, func(o *model.Oneof) {
		if o == nil {
			w.null()
			return
		}
		w.open('{')
		w.str("name", o.Name)
		w.str("full_name", o.FullName)
		w.str("anchor", o.Anchor)
		w.optStr("description", o.Description)
		w.strings("fields", o.Fields, false)
		w.strings("rules", o.Rules, true)
		jsonList(w, "options", o.Options, true, w.option)
		w.close('}')
	})
	typeRef := func(t model.TypeRef) { w.typeRef(&t) }
	jsonList(w, "nested_messages", m.NestedMessages, true, typeRef)
	jsonList(w, "nested_enums", m.NestedEnums, true, typeRef)
	w.strings("reserved_ranges", m.ReservedRanges, true)
	w.strings("reserved_names", m.ReservedNames, true)
	w.strings("extension_ranges", m.ExtensionRanges, true)
	jsonList(w, "extensions", m.Extensions, true, w.field)
	w.strings("rules", m.Rules, true)
	jsonList(w, "options", m.Options, true, w.option)
	w.optResource("resource", m.Resource)
	w.close('}')
}

func (w *jsonWriter) field(f *model.Field) {
	if f == nil {
		w.null()
		return
	}
	w.open('{')
	w.str("name", f.Name)
	w.str("full_name", f.FullName)
	w.str("anchor", f.Anchor)
	w.int("number", int64(f.Number))
	w.str("json_name", f.JSONName)
	w.key("type")
	w.typeRef(&f.Type)
	w.optStr("label", f.Label)
	w.str("presence", f.Presence)
	w.optStr("oneof", f.Oneof)
	w.optStr("default", f.Default)
	w.optBool("deprecated", f.Deprecated)
	w.optStr("description", f.Description)
	if f.Extendee != nil {
		w.key("extendee")
		w.typeRef(f.Extendee)
	}
	w.strings("rules", f.Rules, true)
	jsonList(w, "options", f.Options, true, w.option)
	w.fieldAnnotations(f)
	w.close('}')
}

func (w *jsonWriter) enum(e *model.Enum) {
	if e == nil {
		w.null()
		return
	}
	w.open('{')
	w.str("name", e.Name)
	w.str("full_name", e.FullName)
	w.str("anchor", e.Anchor)
	w.optStr("parent", e.Parent)
	w.optStr("description", e.Description)
	w.optBool("deprecated", e.Deprecated)
	w.optBool("closed", e.Closed)
	jsonList(w, "values", e.Values, false, func(v *model.EnumValue) {
		if v == nil {
			w.null()
			return
		}
		w.open('{')
		w.str("name", v.Name)
		w.str("full_name", v.FullName)
		w.str("anchor", v.Anchor)
		w.int("number", int64(v.Number))
		w.optStr("alias_of", v.AliasOf)
		w.optBool("deprecated", v.Deprecated)
		w.optStr("description", v.Description)
		jsonList(w, "options", v.Options, true, w.option)
		w.close('}')
	})
	w.strings("reserved_ranges", e.ReservedRanges, true)
	w.strings("reserved_names", e.ReservedNames, true)
	jsonList(w, "options", e.Options, true, w.option)
	w.close('}')
}

// WriteFile writes f as json.Encoder writes it with SetEscapeHTML(false)
// and SetIndent(prefix, "  "), final newline included.
func WriteFile(b *bytes.Buffer, f *model.File, prefix string) {
	w := jsonWriter{b: b, prefix: prefix, empty: make([]bool, 0, 8)}
	w.file(f)
	b.WriteByte('\n')
}
