// Package rest builds the REST bindings of RPC methods from their
// google.api.http options: for each HttpRule and its additional_bindings,
// the HTTP method, the parsed path template with its variables resolved to
// fields, the body and response_body fields, and what the query string may
// set. The runtime builds them once, when a service is registered, and
// serves them with the stages below: route (path templates, routing), bind
// (request binding) and reply (responses and errors).
package rest

import (
	"fmt"
	"net/http"
	"slices"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/polyrpc/polyrpc/internal/rest/bind"
	"github.com/polyrpc/polyrpc/internal/rest/route"
)

// Binding is one REST mapping of a method.
type Binding struct {
	Method   protoreflect.MethodDescriptor
	Verb     string // HTTP method; "*" for a custom rule of kind "*"
	Template *route.Template
	// PathFields are the fields of the template's variables, in order.
	PathFields [][]protoreflect.FieldDescriptor
	// Body is the rule's body: "" (none), "*" (every field not in the
	// path) or a top-level field, BodyField.
	Body      string
	BodyField protoreflect.FieldDescriptor
	// ResponseBody is the response field sent as the body, if any.
	ResponseBody protoreflect.FieldDescriptor
	// UpdateMask is the request's top-level "update_mask" FieldMask field
	// for a PATCH whose body is a message field: left empty by the caller,
	// it is filled with the fields present in the body.
	UpdateMask protoreflect.FieldDescriptor
}

// Rule returns the google.api.http option of a method, or nil.
func Rule(md protoreflect.MethodDescriptor) *annotations.HttpRule {
	opts, ok := md.Options().(*descriptorpb.MethodOptions)
	if !ok || opts == nil {
		return nil
	}
	if rule, ok := proto.GetExtension(opts, annotations.E_Http).(*annotations.HttpRule); ok && rule != nil {
		return rule
	}
	if len(opts.ProtoReflect().GetUnknown()) == 0 {
		return nil
	}
	// Options parsed before the extension was linked in keep it as unknown
	// fields.
	b, err := proto.Marshal(opts)
	if err != nil {
		return nil
	}
	parsed := &descriptorpb.MethodOptions{}
	if err := (proto.UnmarshalOptions{Resolver: protoregistry.GlobalTypes}).Unmarshal(b, parsed); err != nil {
		return nil
	}
	rule, _ := proto.GetExtension(parsed, annotations.E_Http).(*annotations.HttpRule)
	return rule
}

// Bindings returns the REST bindings of a method: its google.api.http rule
// and the rule's additional_bindings. A rule that cannot be served is an
// error naming the method and the rule; the other rules are still returned.
func Bindings(md protoreflect.MethodDescriptor) ([]*Binding, []error) {
	rule := Rule(md)
	if rule == nil {
		return nil, nil
	}
	var out []*Binding
	var errs []error
	add := func(r *annotations.HttpRule) {
		b, err := newBinding(md, r)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", md.FullName(), err))
			return
		}
		out = append(out, b)
	}
	add(rule)
	for _, r := range rule.GetAdditionalBindings() {
		if len(r.GetAdditionalBindings()) != 0 {
			errs = append(errs, fmt.Errorf("%s: additional_bindings may not nest", md.FullName()))
			continue
		}
		add(r)
	}
	return out, errs
}

func newBinding(md protoreflect.MethodDescriptor, r *annotations.HttpRule) (*Binding, error) {
	var verb, path string
	switch p := r.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		verb, path = http.MethodGet, p.Get
	case *annotations.HttpRule_Put:
		verb, path = http.MethodPut, p.Put
	case *annotations.HttpRule_Post:
		verb, path = http.MethodPost, p.Post
	case *annotations.HttpRule_Delete:
		verb, path = http.MethodDelete, p.Delete
	case *annotations.HttpRule_Patch:
		verb, path = http.MethodPatch, p.Patch
	case *annotations.HttpRule_Custom:
		verb, path = p.Custom.GetKind(), p.Custom.GetPath()
		if verb == "" {
			return nil, fmt.Errorf("custom rule %q has no kind", path)
		}
	default:
		return nil, fmt.Errorf("rule has no pattern")
	}
	tmpl, err := route.Parse(path)
	if err != nil {
		return nil, err
	}
	b := &Binding{Method: md, Verb: verb, Template: tmpl, Body: r.GetBody()}
	in := md.Input()
	for _, v := range tmpl.Vars {
		fds, err := bind.FieldPath(in, v.FieldPath)
		if err != nil {
			return nil, fmt.Errorf("%s %s: path variable %q: %w", verb, path, v.FieldPath, err)
		}
		last := fds[len(fds)-1]
		if last.IsList() || last.IsMap() || !bind.IsScalar(last) {
			return nil, fmt.Errorf("%s %s: path variable %q must be a singular scalar field", verb, path, v.FieldPath)
		}
		b.PathFields = append(b.PathFields, fds)
	}
	switch b.Body {
	case "", "*":
	default:
		fd := in.Fields().ByName(protoreflect.Name(b.Body))
		if fd == nil {
			return nil, fmt.Errorf("%s %s: body field %q is not a field of %s", verb, path, b.Body, in.FullName())
		}
		b.BodyField = fd
	}
	if rb := r.GetResponseBody(); rb != "" {
		fd := md.Output().Fields().ByName(protoreflect.Name(rb))
		if fd == nil {
			return nil, fmt.Errorf("%s %s: response_body field %q is not a field of %s", verb, path, rb, md.Output().FullName())
		}
		b.ResponseBody = fd
	}
	if verb == http.MethodPatch && b.BodyField != nil && b.BodyField.Message() != nil && !b.BodyField.IsList() && !b.BodyField.IsMap() {
		if fd := in.Fields().ByName("update_mask"); fd != nil && !fd.IsList() && fd.Message() != nil &&
			fd.Message().FullName() == "google.protobuf.FieldMask" {
			b.UpdateMask = fd
		}
	}
	return b, nil
}

// QueryFilter returns what refuses query parameters for the fields that the
// path or the body bind.
func (b *Binding) QueryFilter() bind.QueryFilter {
	if b.Body == "*" {
		return func([]protoreflect.FieldDescriptor) string {
			return "unknown query parameter: the body binds every field not in the path"
		}
	}
	return func(fds []protoreflect.FieldDescriptor) string {
		if b.BodyField != nil && fds[0] == b.BodyField {
			return "bound by the request body, not a query parameter"
		}
		for _, pf := range b.PathFields {
			if isPrefix(pf, fds) || isPrefix(fds, pf) {
				return "bound by the URL path, not a query parameter"
			}
		}
		return ""
	}
}

func isPrefix(a, b []protoreflect.FieldDescriptor) bool {
	return len(a) <= len(b) && slices.Equal(a, b[:len(a)])
}
