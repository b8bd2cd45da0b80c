// Package model is the documentation model of protoc-gen-rpcdoc: the
// plain, ordered types every format renders (Document, File, Service,
// Method, Message, Field, Enum, Option and the rest), whose JSON encoding
// is the JSON format; how files are grouped into the documents of a
// layout; and the links between the documents of a run (Page).
package model

import "encoding/json"

// SchemaVersion is the version of the JSON documentation model. It changes
// only when a field is removed or changes meaning; new fields may be added
// within a version.
const SchemaVersion = 2

// Document is one output document and the root of the JSON model.
type Document struct {
	SchemaVersion int    `json:"schema_version"`
	Title         string `json:"title"`      // page title (the title= option, or the package or file name)
	SiteTitle     string `json:"site_title"` // the title= option
	Path          string `json:"path"`       // output path without extension, e.g. "index" or "acme/v1/index"
	Layout        string `json:"layout"`     // single, package or file
	// Documents lists every document of this run (for navigation between
	// documents), including this one.
	Documents []DocumentRef `json:"documents"`
	Files     []*File       `json:"files"`
}

// DocumentRef names another document of the same run.
type DocumentRef struct {
	Title string `json:"title"`
	Path  string `json:"path"` // without extension
}

// File is a documented .proto file.
type File struct {
	Name    string `json:"name"`   // path of the .proto file, e.g. "acme/v1/acme.proto"
	Anchor  string `json:"anchor"` // "file:" + Name
	Package string `json:"package"`
	Syntax  string `json:"syntax"`            // proto2, proto3 or editions
	Edition string `json:"edition,omitempty"` // e.g. "2023" when Syntax is editions
	// Features are the resolved file-level features of an editions file:
	// the edition's defaults with the file's own settings applied.
	Features    []Option `json:"features,omitempty"`
	Description string   `json:"description,omitempty"`
	// DetachedComments are the comments separated by a blank line from the
	// package statement, in source order (Markdown). Comments before the
	// syntax or edition statement (the file's header) and license headers
	// are not documentation and are left out.
	DetachedComments []string   `json:"detached_comments,omitempty"`
	Deprecated       bool       `json:"deprecated,omitempty"`
	Options          []Option   `json:"options,omitempty"` // every set file option, features included
	Imports          []string   `json:"imports,omitempty"`
	Services         []*Service `json:"services,omitempty"`
	// Messages holds every message of the file, nested ones right after
	// their parent (depth first). Synthetic map entries are never listed.
	Messages []*Message `json:"messages,omitempty"`
	// Enums holds every enum of the file, nested ones included.
	Enums []*Enum `json:"enums,omitempty"`
	// Extensions declared at file level.
	Extensions []*Field `json:"extensions,omitempty"`
	// Resources are the resources the file defines with
	// google.api.resource_definition.
	Resources []*Resource `json:"resources,omitempty"`
	// Referenced marks a file that the run does not document: it holds
	// only the elements that documented files refer to
	// (referenced_types).
	Referenced bool `json:"referenced,omitempty"`
}

// Service is a service with its methods.
type Service struct {
	Name        string    `json:"name"`
	FullName    string    `json:"full_name"`
	Anchor      string    `json:"anchor"`
	Description string    `json:"description,omitempty"`
	Deprecated  bool      `json:"deprecated,omitempty"`
	Options     []Option  `json:"options,omitempty"`
	Methods     []*Method `json:"methods,omitempty"`
	// DefaultHost is the google.api.default_host of the service: the host
	// name it is served on, e.g. "pubsub.googleapis.com".
	DefaultHost string `json:"default_host,omitempty"`
	// OAuthScopes are the google.api.oauth_scopes of the service: the
	// OAuth scopes a caller needs, one of which suffices.
	OAuthScopes []string `json:"oauth_scopes,omitempty"`
}

// Method is an RPC with everything needed to call it.
type Method struct {
	Name        string `json:"name"`
	FullName    string `json:"full_name"`
	Anchor      string `json:"anchor"`
	Description string `json:"description,omitempty"`
	Deprecated  bool   `json:"deprecated,omitempty"`
	// Streaming is unary, client_streaming, server_streaming or bidi_streaming.
	Streaming string  `json:"streaming"`
	Request   TypeRef `json:"request"`
	Response  TypeRef `json:"response"`
	// Idempotency is NO_SIDE_EFFECTS, IDEMPOTENT or empty (unknown).
	Idempotency string `json:"idempotency,omitempty"`
	// Procedure is the HTTP path of the method, "/pkg.Service/Method".
	Procedure string `json:"procedure"`
	// Protocols lists the protocols the multi-protocol handler serves the
	// method on, with the HTTP versions for each.
	Protocols []Protocol `json:"protocols"`
	// ConnectGet is the Connect GET URL (for NO_SIDE_EFFECTS unary methods).
	ConnectGet string `json:"connect_get,omitempty"`
	// HTTPRules are the google.api.http bindings.
	HTTPRules []HTTPRule `json:"http_rules,omitempty"`
	// SampleRequest is a JSON request body built from the request schema.
	SampleRequest string `json:"sample_request"`
	// Example is a shell command that calls the method (over Connect).
	Example string   `json:"example"`
	Options []Option `json:"options,omitempty"`
	// Signatures are the google.api.method_signature values of the method:
	// each lists the request fields (as paths like "topic.name") that a
	// client library method takes as arguments; an empty list is a method
	// without arguments.
	Signatures [][]string `json:"signatures,omitempty"`

	// SampleResponse is a JSON response built from the response schema
	// (one message of a stream).
	SampleResponse string `json:"sample_response,omitempty"`
	// Examples are the shell commands that send SampleRequest, one per
	// protocol: Connect (curl, or buf curl for streams), gRPC (buf curl)
	// and REST (curl, for a method with a google.api.http binding).
	Examples []CallExample `json:"examples,omitempty"`
	// ExampleURL is the server URL the call examples use: base_url, or
	// the service's google.api.default_host. The builder leaves Example
	// and Examples empty and sets ExampleURL and RESTExample instead:
	// CallExamples makes the commands when they are written.
	ExampleURL string `json:"-"`
	// RESTExample is the REST command of the call examples ("" without a
	// google.api.http binding the example can follow).
	RESTExample string `json:"-"`
}

// CallExample is a shell command that calls a method over one protocol.
type CallExample struct {
	Protocol string `json:"protocol"` // connect, grpc or rest
	Title    string `json:"title"`    // Connect, gRPC or REST
	Command  string `json:"command"`  // the shell command, ready to copy
}

// Protocol is one wire protocol and the HTTP versions it is served on.
type Protocol struct {
	Name string   `json:"name"` // Connect, gRPC or gRPC-Web
	HTTP []string `json:"http"` // HTTP/1.1, HTTP/2
}

// HTTPRule is one google.api.http binding.
type HTTPRule struct {
	Method       string `json:"method"` // GET, POST, ... or the custom verb
	Path         string `json:"path"`
	Body         string `json:"body,omitempty"`
	ResponseBody string `json:"response_body,omitempty"`
	// URL is the path template after the server address of the call
	// examples (the base_url option), e.g.
	// "http://localhost:8080/v1/{name=projects/*/topics/*}".
	URL string `json:"url,omitempty"`
	// Additional marks a binding from additional_bindings.
	Additional bool `json:"additional,omitempty"`
	// BodyField is the full name of the request field the body holds,
	// when Body names one ("" for "*" or when it is not found).
	BodyField string `json:"body_field,omitempty"`
	// PathParams are the variables of the path template, in order.
	PathParams []PathParam `json:"path_params,omitempty"`
}

// Message is a message type.
type Message struct {
	Name        string `json:"name"` // name within the file's package, e.g. "Outer.Inner"
	FullName    string `json:"full_name"`
	Anchor      string `json:"anchor"`
	Parent      string `json:"parent,omitempty"` // full name of the enclosing message
	Description string `json:"description,omitempty"`
	Deprecated  bool   `json:"deprecated,omitempty"`
	// Fields in declaration order, whatever the order option. Members of
	// a oneof carry its name in Field.Oneof.
	Fields          []*Field  `json:"fields,omitempty"`
	Oneofs          []*Oneof  `json:"oneofs,omitempty"` // real oneofs only, never synthetic ones
	NestedMessages  []TypeRef `json:"nested_messages,omitempty"`
	NestedEnums     []TypeRef `json:"nested_enums,omitempty"`
	ReservedRanges  []string  `json:"reserved_ranges,omitempty"` // e.g. "5", "10 to 20", "100 to max"
	ReservedNames   []string  `json:"reserved_names,omitempty"`
	ExtensionRanges []string  `json:"extension_ranges,omitempty"`
	Extensions      []*Field  `json:"extensions,omitempty"` // extensions declared inside this message
	Rules           []string  `json:"rules,omitempty"`      // buf.validate message rules, readable
	Options         []Option  `json:"options,omitempty"`
	// Resource is the google.api.resource the message describes.
	Resource *Resource `json:"resource,omitempty"`
}

// Oneof is a real (non-synthetic) oneof.
type Oneof struct {
	Name        string   `json:"name"`
	FullName    string   `json:"full_name"`
	Anchor      string   `json:"anchor"`
	Description string   `json:"description,omitempty"`
	Fields      []string `json:"fields"` // names of the member fields
	Rules       []string `json:"rules,omitempty"`
	Options     []Option `json:"options,omitempty"`
}

// Field is a message field or an extension.
type Field struct {
	Name     string  `json:"name"`
	FullName string  `json:"full_name"`
	Anchor   string  `json:"anchor"`
	Number   int32   `json:"number"`
	JSONName string  `json:"json_name"`
	Type     TypeRef `json:"type"`
	// Label is repeated, map, required, optional (explicit presence outside
	// a oneof) or empty (implicit presence, or a oneof member).
	Label string `json:"label,omitempty"`
	// Presence is explicit, implicit, required (legacy required) or
	// repeated (lists and maps have no presence).
	Presence    string `json:"presence"`
	Oneof       string `json:"oneof,omitempty"`   // name of the real oneof
	Default     string `json:"default,omitempty"` // declared default, in proto syntax
	Deprecated  bool   `json:"deprecated,omitempty"`
	Description string `json:"description,omitempty"`
	// Extendee is the extended message, for extensions.
	Extendee *TypeRef `json:"extendee,omitempty"`
	Rules    []string `json:"rules,omitempty"` // buf.validate field rules, readable
	Options  []Option `json:"options,omitempty"`
	// Behaviors are the google.api.field_behavior values of the field, in
	// the order written: REQUIRED, OUTPUT_ONLY, INPUT_ONLY, IMMUTABLE,
	// IDENTIFIER, OPTIONAL, UNORDERED_LIST or NON_EMPTY_DEFAULT
	// (BehaviorLabel is their readable form).
	Behaviors []string `json:"behaviors,omitempty"`
	// ResourceReference is the google.api.resource_reference of the field:
	// the resource whose name it holds.
	ResourceReference *ResourceReference `json:"resource_reference,omitempty"`
}

// TypeRef refers to a type.
type TypeRef struct {
	// Name is the type as written in proto, relative to the package of the
	// referring file, e.g. "string", "Foo", "other.v1.Bar",
	// "map<string, Foo>".
	Name string `json:"name"`
	// Kind is scalar, message, enum or map.
	Kind string `json:"kind"`
	// FullName is the full name of a message or enum type, or of the map
	// value type for maps of messages and enums.
	FullName string `json:"full_name,omitempty"`
	// URL is the reference documentation of a well-known type.
	URL string `json:"url,omitempty"`
	// Key and Value are the key and value types of a map.
	Key   *TypeRef `json:"key,omitempty"`
	Value *TypeRef `json:"value,omitempty"`
}

// Enum is an enum type.
type Enum struct {
	Name           string       `json:"name"`
	FullName       string       `json:"full_name"`
	Anchor         string       `json:"anchor"`
	Parent         string       `json:"parent,omitempty"`
	Description    string       `json:"description,omitempty"`
	Deprecated     bool         `json:"deprecated,omitempty"`
	Closed         bool         `json:"closed,omitempty"` // closed enum semantics (proto2, or the enum_type feature)
	Values         []*EnumValue `json:"values"`
	ReservedRanges []string     `json:"reserved_ranges,omitempty"`
	ReservedNames  []string     `json:"reserved_names,omitempty"`
	Options        []Option     `json:"options,omitempty"`
}

// EnumValue is one value of an enum.
type EnumValue struct {
	Name        string   `json:"name"`
	FullName    string   `json:"full_name"` // enum full name + "." + value name
	Anchor      string   `json:"anchor"`
	Number      int32    `json:"number"`
	AliasOf     string   `json:"alias_of,omitempty"` // first value with the same number
	Deprecated  bool     `json:"deprecated,omitempty"`
	Description string   `json:"description,omitempty"`
	Options     []Option `json:"options,omitempty"`
}

// Option is one set option, standard or custom, flattened to a dotted
// path: "features.field_presence", "(acme.v1.sensitive)",
// "(acme.v1.meta).owner". Options that rpcdoc shows by their meaning
// (deprecation, idempotency, validation rules, the google.api annotations)
// are not listed.
type Option struct {
	Name string `json:"name"`
	// Value is the value in proto text syntax, e.g. `"x"`, `[A, B]`,
	// `{a: 1}` (the "text" member in JSON).
	Value string `json:"text"`
	// JSON is the value as JSON (the "value" member): a number, boolean,
	// string (strings, enum value names, bytes in base64, "NaN",
	// "Infinity"), list, or object for a message (proto field names,
	// extensions as "[full.name]"); null for an extension not defined in
	// the request.
	JSON json.RawMessage `json:"value"`
}

// FieldGroup is a run of fields that belong to the same oneof (or to none).
type FieldGroup struct {
	Oneof  *Oneof
	Fields []*Field
}

// FieldGroups splits the fields into runs by oneof, for tables that group
// oneof members under a heading.
func (m *Message) FieldGroups() []FieldGroup {
	var out []FieldGroup
	for _, f := range m.Fields {
		if n := len(out); n > 0 && out[n-1].oneofName() == f.Oneof {
			out[n-1].Fields = append(out[n-1].Fields, f)
			continue
		}
		g := FieldGroup{Fields: []*Field{f}}
		if f.Oneof != "" {
			for _, o := range m.Oneofs {
				if o.Name == f.Oneof {
					g.Oneof = o
				}
			}
		}
		out = append(out, g)
	}
	return out
}

func (g FieldGroup) oneofName() string {
	if g.Oneof == nil {
		return ""
	}
	return g.Oneof.Name
}

// HasDefaults reports whether any field declares a default value.
func (m *Message) HasDefaults() bool {
	for _, f := range m.Fields {
		if f.Default != "" {
			return true
		}
	}
	return false
}

// IdempotencyLabel is the readable idempotency level.
func (m *Method) IdempotencyLabel() string {
	switch m.Idempotency {
	case "NO_SIDE_EFFECTS":
		return "no side effects"
	case "IDEMPOTENT":
		return "idempotent"
	}
	return ""
}

// ClientStreams and ServerStreams tell which side sends a stream.
func (m *Method) ClientStreams() bool {
	return m.Streaming == "client_streaming" || m.Streaming == "bidi_streaming"
}

func (m *Method) ServerStreams() bool {
	return m.Streaming == "server_streaming" || m.Streaming == "bidi_streaming"
}

// StreamingLabel is the badge text of a streaming kind.
func StreamingLabel(s string) string {
	switch s {
	case "client_streaming":
		return "client streaming"
	case "server_streaming":
		return "server streaming"
	case "bidi_streaming":
		return "bidi streaming"
	}
	return "unary"
}
