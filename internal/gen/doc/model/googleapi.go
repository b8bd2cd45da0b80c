package model

// The google.api annotations (google/api/field_behavior.proto,
// resource.proto, client.proto and http.proto) as the model holds them:
// what they mean, not the options that say it.

// Resource is a google.api.resource (on a message) or
// google.api.resource_definition (on a file).
type Resource struct {
	// Type is the resource type, "{service}/{kind}", e.g.
	// "pubsub.googleapis.com/Topic".
	Type string `json:"type"`
	// Anchor is the element that shows the resource: the message's anchor,
	// or "resource:" + Type for a definition at file level.
	Anchor string `json:"anchor"`
	// Patterns are the resource name patterns, e.g.
	// "projects/{project}/topics/{topic}".
	Patterns []string `json:"patterns,omitempty"`
	// NameField is the message field that holds the resource name, when
	// it is not "name".
	NameField string `json:"name_field,omitempty"`
	// History is ORIGINALLY_SINGLE_PATTERN or FUTURE_MULTI_PATTERN, when set.
	History string `json:"history,omitempty"`
	// Plural and Singular are the resource's names in lowerCamelCase, as
	// in collection identifiers and method names.
	Plural   string `json:"plural,omitempty"`
	Singular string `json:"singular,omitempty"` // e.g. "topic"
	// Style lists style hints, e.g. DECLARATIVE_FRIENDLY.
	Style []string `json:"style,omitempty"`
}

// ResourceReference is a google.api.resource_reference: the field holds
// the name of a resource of Type, or, with ChildType, of a resource that
// can be the parent of a ChildType resource.
type ResourceReference struct {
	Type      string `json:"type,omitempty"`       // "*" for any resource type
	ChildType string `json:"child_type,omitempty"` // set instead of Type
	// Anchor is where the referenced resource (Type or ChildType) is
	// defined in this run: a message's anchor or a file-level
	// definition's; empty when the run does not define it.
	Anchor string `json:"anchor,omitempty"`
}

// PathParam is a variable of a google.api.http path template:
// "{name=projects/*/topics/*}" is the field path "name" and the pattern
// "projects/*/topics/*".
type PathParam struct {
	Name string `json:"name"` // field path in the request, e.g. "topic.name"
	// Field is the full name of the request field the path names (the
	// last one of a path), or empty when the request has no such field.
	Field string `json:"field,omitempty"`
	// Pattern is the segments the variable matches: "*" (one segment) when
	// the template gives none.
	Pattern string `json:"pattern"`
}

// BehaviorLabel is the readable form of a google.api.field_behavior value
// name, e.g. "Output only" for OUTPUT_ONLY.
func BehaviorLabel(b string) string {
	switch b {
	case "REQUIRED":
		return "Required"
	case "OUTPUT_ONLY":
		return "Output only"
	case "INPUT_ONLY":
		return "Input only"
	case "IMMUTABLE":
		return "Immutable"
	case "IDENTIFIER":
		return "Identifier"
	case "OPTIONAL":
		return "Optional"
	case "UNORDERED_LIST":
		return "Unordered list"
	case "NON_EMPTY_DEFAULT":
		return "Non-empty default"
	}
	return b
}

// BehaviorClass is the CSS class suffix of a field behaviour badge:
// "required", "output-only", ...
func BehaviorClass(b string) string {
	out := make([]byte, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '_':
			c = '-'
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		default:
			c = '-'
		}
		out[i] = c
	}
	return string(out)
}

// ShownLabel is the Label column of a field: its label, except the
// "optional" of proto3 optional fields whose behaviours (badges) say more,
// or "oneof" for a member of a oneof.
func (f *Field) ShownLabel() string {
	switch {
	case f.Label == "optional" && len(f.Behaviors) > 0:
		return ""
	case f.Label != "":
		return f.Label
	case f.Oneof != "":
		return "oneof"
	}
	return ""
}
