// Package openapiout is the openapi format of protoc-gen-rpcdoc: it writes
// one documentation model Document as an OpenAPI 3.1 document in JSON.
//
// The document holds, for every method of the document's services, the
// REST operations of its google.api.http bindings (additional_bindings
// included) and the Connect operations the multi-protocol handler serves:
// POST /pkg.Service/Method for every unary method and, for methods with
// idempotency_level NO_SIDE_EFFECTS, GET with the Connect query
// parameters. Streaming methods have no Connect operation: Connect streams
// are enveloped binary frames that OpenAPI cannot describe, so the tag of
// the service names them instead. Server-streaming REST bindings answer
// newline-delimited JSON (or Server-Sent Events), described as one message
// per line; client and bidi streaming bindings are left out with a note.
//
// Schemas follow the protobuf JSON mapping (schema.go). Everything the
// document refers to is in its components, so each document stands alone.
package openapiout

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// Config is what the document depends on among the plugin options.
type Config struct {
	Title     string // info.title
	Version   string // info.version
	ServerURL string // servers[0].url
	// Segments spells out multi-segment path variables, one parameter
	// per wildcard (openapi_paths=segments).
	Segments bool
}

// gen builds one document.
type gen struct {
	t     *Types
	cfg   Config
	used  map[string]bool // component schemas referenced
	queue []string        // referenced, not yet written
	notes []string        // what the document leaves out, and why

	paths     map[string]obj // path -> path item
	pathOrder []string
	shapes    map[string]string // path with variables as {} + method -> first path
	opIDs     map[string]bool
}

// Write writes d as an OpenAPI 3.1 document. An error names the method
// and binding that cannot be described (a malformed path template, or a
// field path that names no field).
func Write(b *bytes.Buffer, d *model.Document, t *Types, c Config) error {
	g := &gen{t: t, cfg: c, used: map[string]bool{}, paths: map[string]obj{}, shapes: map[string]string{}, opIDs: map[string]bool{}}
	var tags []any
	for _, f := range d.Files {
		for _, s := range f.Services {
			tag := obj{{"name", s.FullName}}
			var streams []string
			for _, m := range s.Methods {
				if err := g.method(s, m); err != nil {
					return err
				}
				if m.Streaming != "unary" {
					streams = append(streams, "`"+m.Name+"` ("+model.StreamingLabel(m.Streaming)+")")
				}
			}
			desc := md(s.Description)
			if len(streams) > 0 {
				desc = joinParagraphs(desc, "Streaming methods, served over gRPC, gRPC-Web and Connect streams, which OpenAPI does not describe: "+strings.Join(streams, ", ")+".")
			}
			if desc != "" {
				tag.set("description", desc)
			}
			tags = append(tags, tag)
		}
	}
	// Every type of the document has a schema, used or not.
	for _, f := range d.Files {
		for _, m := range f.Messages {
			g.ref(m.FullName)
		}
		for _, e := range f.Enums {
			g.ref(e.FullName)
		}
	}
	schemas := map[string]obj{}
	for len(g.queue) > 0 {
		name := g.queue[0]
		g.queue = g.queue[1:]
		schemas[name] = g.componentSchema(name)
	}
	names := make([]string, 0, len(schemas))
	for n := range schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	comps := make(obj, 0, len(names))
	for _, n := range names {
		comps = append(comps, member{n, schemas[n]})
	}

	info := obj{{"title", c.Title}, {"version", c.Version}}
	desc := "REST (google.api.http) and Connect operations of " + d.Title + "."
	if len(g.notes) > 0 {
		desc += "\n\nNot described here:\n\n- " + strings.Join(g.notes, "\n- ")
	}
	info.set("description", desc)
	paths := make(obj, 0, len(g.pathOrder))
	for _, p := range g.pathOrder {
		paths = append(paths, member{p, g.paths[p]})
	}
	doc := obj{
		{"openapi", "3.1.0"},
		{"info", info},
		{"servers", []any{obj{{"url", c.ServerURL}}}},
	}
	if len(tags) > 0 {
		doc.set("tags", tags)
	}
	doc.set("paths", paths)
	doc.set("components", obj{{"schemas", comps}})
	writeJSON(b, doc, 0)
	b.WriteByte('\n')
	return nil
}

// method adds the operations of one method.
func (g *gen) method(s *model.Service, m *model.Method) error {
	for i, r := range m.HTTPRules {
		if err := g.rest(s, m, i, r); err != nil {
			var u undescribable
			if errors.As(err, &u) {
				g.notes = append(g.notes, fmt.Sprintf("`%s %s` of `%s`: %s.", r.Method, r.Path, m.FullName, u))
				continue
			}
			return fmt.Errorf("method %s: google.api.http binding %s %q: %v", m.FullName, r.Method, r.Path, err)
		}
	}
	if m.Streaming != "unary" {
		return nil
	}
	op := g.operation(s, m, m.FullName+"_connect", "Connect")
	op.set("parameters", connectHeaders())
	op.set("requestBody", obj{{"required", true}, {"content", obj{{"application/json", obj{{"schema", g.ref(m.Request.FullName)}}}}}})
	op.set("responses", g.connectResponses(m))
	g.add(m.Procedure, "post", op)
	if m.Idempotency == "NO_SIDE_EFFECTS" {
		op := g.operation(s, m, m.FullName+"_connect_get", "Connect GET")
		params := []any{
			obj{{"name", "message"}, {"in", "query"}, {"required", true},
				{"description", "The request as JSON (percent-encoded). Binary and compressed forms, with base64=1 and compression, are served too but not described here."},
				{"content", obj{{"application/json", obj{{"schema", g.ref(m.Request.FullName)}}}}}},
			obj{{"name", "encoding"}, {"in", "query"}, {"required", true}, {"schema", obj{{"type", "string"}, {"enum", []string{"json"}}}}},
			obj{{"name", "connect"}, {"in", "query"}, {"schema", obj{{"type", "string"}, {"enum", []string{"v1"}}}}},
		}
		op.set("parameters", params)
		op.set("responses", g.connectResponses(m))
		g.add(m.Procedure, "get", op)
	}
	return nil
}

func connectHeaders() []any {
	return []any{
		obj{{"name", "Connect-Protocol-Version"}, {"in", "header"}, {"schema", obj{{"type", "string"}, {"enum", []string{"1"}}}}},
		obj{{"name", "Connect-Timeout-Ms"}, {"in", "header"}, {"schema", obj{{"type", "string"}, {"pattern", "^[0-9]{1,10}$"}}}},
	}
}

func (g *gen) connectResponses(m *model.Method) obj {
	return obj{
		{"200", obj{{"description", "The response."}, {"content", obj{{"application/json", obj{{"schema", g.ref(m.Response.FullName)}}}}}}},
		{"default", obj{{"description", "A Connect error."}, {"content", obj{{"application/json", obj{{"schema", g.ref(connectErrorName)}}}}}}},
	}
}

// operation starts an operation object.
func (g *gen) operation(s *model.Service, m *model.Method, id, protocol string) obj {
	for n := 2; g.opIDs[id]; n++ {
		id = strings.TrimSuffix(id, "_"+strconv.Itoa(n-1)) + "_" + strconv.Itoa(n)
	}
	g.opIDs[id] = true
	op := obj{{"tags", []string{s.FullName}}, {"summary", s.Name + "." + m.Name + " (" + protocol + ")"}, {"operationId", id}}
	if m.Description != "" {
		op.set("description", md(m.Description))
	}
	if m.Deprecated {
		op.set("deprecated", true)
	}
	return op
}

// add puts an operation at a path, unless the path (or one that differs
// only in the names of its variables) has one for the method already.
func (g *gen) add(path, method string, op obj) bool {
	shape := method + " " + varNames.ReplaceAllString(path, "{}")
	if first, dup := g.shapes[shape]; dup {
		id, _ := op.get("operationId")
		g.notes = append(g.notes, fmt.Sprintf("`%s %s` of operation `%s`: the same path as `%s`, which is described.", strings.ToUpper(method), path, id, first))
		return false
	}
	g.shapes[shape] = path
	item, ok := g.paths[path]
	if !ok {
		g.pathOrder = append(g.pathOrder, path)
	}
	item = append(item, member{method, op})
	g.paths[path] = item
	return true
}

// varNames matches the variables of an OpenAPI path.
var varNames = regexp.MustCompile(`\{[^}]*\}`)

var openAPIMethods = map[string]string{"GET": "get", "PUT": "put", "POST": "post", "DELETE": "delete", "PATCH": "patch", "HEAD": "head", "OPTIONS": "options", "TRACE": "trace"}

// rest adds the operation of one google.api.http binding.
func (g *gen) rest(s *model.Service, m *model.Method, i int, r model.HTTPRule) error {
	method, ok := openAPIMethods[strings.ToUpper(r.Method)]
	if !ok {
		return undescribable("custom method " + r.Method + " is not an OpenAPI 3.1 operation")
	}
	if m.ClientStreams() {
		return undescribable("client and bidi streaming methods are not served over REST")
	}
	path, vars, err := openAPIPath(r.Path, g.cfg.Segments)
	if err != nil {
		return err
	}
	req := g.t.messages[m.Request.FullName]
	id := m.FullName + "_http"
	if i > 0 {
		id += strconv.Itoa(i + 1)
	}
	op := g.operation(s, m, id, "REST")
	var params []any
	bound := map[string]bool{} // field paths taken by the path or the body
	for _, v := range vars {
		if seenParam(params, v.name()) {
			return undescribable("path parameter " + v.name() + " would appear twice")
		}
		f, err := g.fieldAt(req, m.Request.FullName, v.field)
		if err != nil {
			return err
		}
		if f.Label == "repeated" || f.Label == "map" || (f.Type.Kind == "message" && !scalarWKT[f.Type.FullName]) {
			return fmt.Errorf("path variable %s: field %s is not a scalar", v.field, f.FullName)
		}
		bound[v.field] = true
		schema := g.paramSchema(f.Type)
		desc := md(f.Description)
		switch {
		case v.param != "":
			schema = obj{{"type", "string"}}
			desc = "One segment of the field `" + v.field + "` (`" + v.pattern + "` in its pattern)."
		case v.multi():
			schema = obj{{"type", "string"}, {"pattern", v.regexp()}}
			desc = joinParagraphs(desc, "Matches `"+v.pattern+"`; its slashes are part of the value.")
		}
		p := obj{{"name", v.name()}, {"in", "path"}, {"required", true}}
		if desc != "" {
			p.set("description", desc)
		}
		if f.Deprecated {
			p.set("deprecated", true)
		}
		p.set("schema", schema)
		params = append(params, p)
	}
	switch r.Body {
	case "":
		if req != nil {
			params = g.queryParams(params, req, "", "", bound, map[string]bool{req.FullName: true})
		}
	case "*":
		var schema obj
		top := map[string]bool{}
		for _, v := range vars {
			if !strings.Contains(v.field, ".") {
				top[v.field] = true
			}
		}
		switch {
		case m.Request.FullName == httpBodyName:
			schema = nil
		case req != nil && len(top) > 0:
			schema = g.messageSchema(req, top)
		default:
			schema = g.ref(m.Request.FullName)
		}
		op.set("requestBody", g.body(schema, m.Request.FullName == httpBodyName))
	default:
		f, err := g.fieldAt(req, m.Request.FullName, r.Body)
		if err != nil {
			return fmt.Errorf("body: %v", err)
		}
		bound[r.Body] = true
		op.set("requestBody", g.body(g.fieldSchema(f), f.Type.FullName == httpBodyName && f.Label == ""))
		if req != nil {
			params = g.queryParams(params, req, "", "", bound, map[string]bool{req.FullName: true})
		}
	}
	if len(params) > 0 {
		op.set("parameters", params)
	}
	// The response, or one of its fields.
	var resp obj
	raw := m.Response.FullName == httpBodyName
	if r.ResponseBody != "" {
		f, err := g.fieldAt(g.t.messages[m.Response.FullName], m.Response.FullName, r.ResponseBody)
		if err != nil {
			return fmt.Errorf("response_body: %v", err)
		}
		resp, raw = g.fieldSchema(f), f.Type.FullName == httpBodyName && f.Label == ""
	} else {
		resp = g.ref(m.Response.FullName)
	}
	ok200 := obj{{"description", "The response."}}
	switch {
	case raw:
		ok200.set("content", obj{{"*/*", obj{{"schema", obj{}}}}})
		if m.ServerStreams() {
			ok200.set("description", "The bodies of the streamed google.api.HttpBody messages, one after another.")
		}
	case m.ServerStreams():
		ok200.set("description", "The stream: one response message per line (newline-delimited JSON), or one per event with Accept: text/event-stream.")
		ok200.set("content", obj{{"application/x-ndjson", obj{{"schema", resp}}}, {"text/event-stream", obj{{"schema", obj{{"type", "string"}}}}}})
	default:
		ok200.set("content", obj{{"application/json", obj{{"schema", resp}}}})
	}
	op.set("responses", obj{
		{"200", ok200},
		{"default", obj{{"description", "An error: the HTTP status the gRPC code maps to."}, {"content", obj{{"application/json", obj{{"schema", g.ref(statusName)}}}}}}},
	})
	g.add(path, method, op)
	return nil
}

func seenParam(params []any, name string) bool {
	for _, p := range params {
		if n, _ := p.(obj).get("name"); n == name {
			return true
		}
	}
	return false
}

// body is a request body with a schema, or any content for HttpBody.
func (g *gen) body(schema obj, raw bool) obj {
	if raw {
		return obj{{"content", obj{{"*/*", obj{{"schema", obj{}}}}}}}
	}
	return obj{{"required", true}, {"content", obj{{"application/json", obj{{"schema", schema}}}}}}
}

// scalarWKT are the well-known messages whose JSON form is a scalar, which
// can be path and query parameters.
var scalarWKT = map[string]bool{
	"google.protobuf.Timestamp": true, "google.protobuf.Duration": true, "google.protobuf.FieldMask": true,
	"google.protobuf.DoubleValue": true, "google.protobuf.FloatValue": true, "google.protobuf.Int64Value": true,
	"google.protobuf.UInt64Value": true, "google.protobuf.Int32Value": true, "google.protobuf.UInt32Value": true,
	"google.protobuf.BoolValue": true, "google.protobuf.StringValue": true, "google.protobuf.BytesValue": true,
}

// fieldAt follows a field path (proto names) from a message.
func (g *gen) fieldAt(m *model.Message, name, path string) (*model.Field, error) {
	segs := strings.Split(path, ".")
	for i, seg := range segs {
		if m == nil {
			return nil, fmt.Errorf("field path %s: message %s is not in the run", path, name)
		}
		var f *model.Field
		for _, x := range m.Fields {
			if x.Name == seg {
				f = x
			}
		}
		if f == nil {
			return nil, fmt.Errorf("field path %s: %s has no field %s", path, name, seg)
		}
		if i == len(segs)-1 {
			return f, nil
		}
		if f.Type.Kind != "message" || f.Label == "repeated" || f.Label == "map" {
			return nil, fmt.Errorf("field path %s: %s is not a singular message field", path, f.FullName)
		}
		name = f.Type.FullName
		m = g.t.messages[name]
	}
	return nil, fmt.Errorf("empty field path")
}

// paramSchema is the schema of a path or query parameter: 64-bit integers
// are their JSON strings (a URL holds text, and validators read a string
// that may be an integer as an int64, refusing large uint64 values).
func (g *gen) paramSchema(t model.TypeRef) obj {
	if t.Kind == "scalar" {
		s := scalarSchema(t.Name)
		if ty, ok := s.get("type"); ok {
			if l, ok := ty.([]string); ok && len(l) == 2 {
				s.set("type", "string")
			}
		}
		return s
	}
	return g.typeSchema(t)
}

// maxQueryDepth bounds the nesting of query parameters.
const maxQueryDepth = 8

// queryParams adds a query parameter for every field not bound to the path
// or the body: scalars, enums, repeated ones and the well-known types with
// scalar JSON forms, nested messages as a.b, by JSON name. Maps, repeated
// messages and other well-known types cannot be query parameters.
func (g *gen) queryParams(params []any, m *model.Message, prefix, protoPrefix string, bound, stack map[string]bool) []any {
	if len(stack) > maxQueryDepth {
		return params
	}
	for _, f := range m.Fields {
		pp := protoPrefix + f.Name
		if bound[pp] || f.Label == "map" || f.Type.Kind == "map" {
			continue
		}
		name := prefix + f.JSONName
		if f.Type.Kind == "message" && !scalarWKT[f.Type.FullName] {
			sub := g.t.messages[f.Type.FullName]
			if f.Label == "repeated" || sub == nil || stack[sub.FullName] {
				continue
			}
			stack[sub.FullName] = true
			params = g.queryParams(params, sub, name+".", pp+".", bound, stack)
			delete(stack, sub.FullName)
			continue
		}
		var schema obj
		if f.Label == "repeated" {
			schema = obj{{"type", "array"}, {"items", g.paramSchema(f.Type)}}
		} else {
			schema = g.paramSchema(f.Type)
		}
		p := obj{{"name", name}, {"in", "query"}}
		if f.Description != "" {
			p.set("description", md(f.Description))
		}
		if behaviors(f)["REQUIRED"] {
			p.set("required", true)
		}
		if f.Deprecated {
			p.set("deprecated", true)
		}
		p.set("schema", schema)
		params = append(params, p)
	}
	return params
}
