package build

import (
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// The google.api annotations, read from the resolved options like any
// custom option (they are extensions defined in the request's
// google/api/*.proto files), once per distinct options message, and put in
// the model by meaning: field behaviours, resources and references to
// them, method signatures, the service's host and OAuth scopes, and the
// path parameters of HTTP bindings. They are left out of the option lists
// when they have the shape google/api declares (shownByMeaning).

// apiAnnotations are the google.api annotations of one options message.
// They are shared by every element with the same options and must not be
// changed.
type apiAnnotations struct {
	behaviors   []string
	reference   *model.ResourceReference // Anchor unset
	resource    *model.Resource          // Anchor unset
	definitions []*model.Resource        // Anchor set
	signatures  [][]string
	defaultHost string
	scopes      []string
}

var noAnnotations = &apiAnnotations{}

// shownByMeaning reports whether an option is a google.api annotation of
// the shape readAnnotations reads, which the model holds by its meaning.
func shownByMeaning(fd protoreflect.FieldDescriptor) bool {
	if !fd.IsExtension() {
		return false
	}
	switch fd.FullName() {
	case "google.api.field_behavior":
		return fd.IsList() && fd.Enum() != nil
	case "google.api.resource_reference", "google.api.resource":
		return fd.Message() != nil && !fd.IsList() && !fd.IsMap()
	case "google.api.resource_definition":
		return fd.Message() != nil && fd.IsList()
	case "google.api.method_signature":
		return fd.IsList() && fd.Kind() == protoreflect.StringKind
	case "google.api.default_host", "google.api.oauth_scopes":
		return !fd.IsList() && fd.Kind() == protoreflect.StringKind
	}
	return false
}

// annotations reads the google.api annotations of the entry's options.
func (e *optEntry) annotations() *apiAnnotations {
	if e == nil {
		return noAnnotations
	}
	e.annOnce.Do(func() { e.ann = readAnnotations(e.resolved) })
	return e.ann
}

func readAnnotations(m protoreflect.Message) *apiAnnotations {
	a := &apiAnnotations{}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if !fd.IsExtension() {
			return true
		}
		switch fd.FullName() {
		case "google.api.field_behavior":
			if fd.IsList() && fd.Enum() != nil {
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					if ev := fd.Enum().Values().ByNumber(l.Get(i).Enum()); ev != nil && ev.Number() != 0 {
						a.behaviors = append(a.behaviors, string(ev.Name()))
					}
				}
			}
		case "google.api.resource_reference":
			if fd.Message() != nil && !fd.IsList() {
				r := &model.ResourceReference{}
				forSet(v.Message(), func(name string, _ protoreflect.FieldDescriptor, v protoreflect.Value) {
					switch name {
					case "type":
						r.Type = v.String()
					case "child_type":
						r.ChildType = v.String()
					}
				})
				if r.Type != "" || r.ChildType != "" {
					a.reference = r
				}
			}
		case "google.api.resource":
			if fd.Message() != nil && !fd.IsList() {
				a.resource = readResource(v.Message())
			}
		case "google.api.resource_definition":
			if fd.Message() != nil && fd.IsList() {
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					if r := readResource(l.Get(i).Message()); r != nil {
						r.Anchor = "resource:" + r.Type
						a.definitions = append(a.definitions, r)
					}
				}
			}
		case "google.api.method_signature":
			if fd.IsList() && fd.Kind() == protoreflect.StringKind {
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					a.signatures = append(a.signatures, splitList(l.Get(i).String()))
				}
			}
		case "google.api.default_host":
			if fd.Kind() == protoreflect.StringKind && !fd.IsList() {
				a.defaultHost = v.String()
			}
		case "google.api.oauth_scopes":
			if fd.Kind() == protoreflect.StringKind && !fd.IsList() {
				a.scopes = splitList(v.String())
			}
		default:
			return true
		}
		found = true
		return true
	})
	if !found {
		return noAnnotations
	}
	return a
}

// readResource reads a google.api.ResourceDescriptor, nil without a type.
func readResource(m protoreflect.Message) *model.Resource {
	r := &model.Resource{}
	forSet(m, func(name string, fd protoreflect.FieldDescriptor, v protoreflect.Value) {
		switch name {
		case "type":
			r.Type = v.String()
		case "pattern":
			if fd.IsList() {
				for i := 0; i < v.List().Len(); i++ {
					r.Patterns = append(r.Patterns, v.List().Get(i).String())
				}
			}
		case "name_field":
			r.NameField = v.String()
		case "history":
			r.History = enumName(fd, v.Enum())
		case "plural":
			r.Plural = v.String()
		case "singular":
			r.Singular = v.String()
		case "style":
			if fd.IsList() {
				for i := 0; i < v.List().Len(); i++ {
					r.Style = append(r.Style, enumName(fd, v.List().Get(i).Enum()))
				}
			}
		}
	})
	if r.Type == "" {
		return nil
	}
	return r
}

// forSet calls fn with each set field of m whose kind matches what the
// google.api messages declare for its name: strings for names and
// patterns, enums for history and style. A field of another kind (an
// unrelated message of the same name) is skipped.
func forSet(m protoreflect.Message, fn func(name string, fd protoreflect.FieldDescriptor, v protoreflect.Value)) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.IsExtension() || fd.IsMap() {
			return true
		}
		name := string(fd.Name())
		want := protoreflect.StringKind
		if name == "history" || name == "style" {
			want = protoreflect.EnumKind
		}
		if fd.Kind() == want && (fd.IsList() == (name == "pattern" || name == "style")) {
			fn(name, fd, v)
		}
		return true
	})
}

func enumName(fd protoreflect.FieldDescriptor, n protoreflect.EnumNumber) string {
	if ev := fd.Enum().Values().ByNumber(n); ev != nil {
		return string(ev.Name())
	}
	return ""
}

// splitList splits a comma-separated list, trimming spaces and dropping
// empty items: "name,update_mask" or the OAuth scopes.
func splitList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// indexResources maps the resource types defined in the documented files
// to where they are shown: the message that is the resource (first
// choice), or the file-level definition.
func (b *builder) indexResources() {
	b.resources = map[string]string{}
	b.resourceFiles = map[string]string{}
	defs := map[string]string{}
	var msgs func(ms protoreflect.MessageDescriptors)
	msgs = func(ms protoreflect.MessageDescriptors) {
		for i := 0; i < ms.Len(); i++ {
			md := ms.Get(i)
			if b.hidden[md.FullName()] || md.IsMapEntry() {
				continue
			}
			if r := b.opt.entry(md.Options()).annotations().resource; r != nil {
				if _, dup := b.resources[r.Type]; !dup {
					b.resources[r.Type] = string(md.FullName())
				}
			}
			msgs(md.Messages())
		}
	}
	for _, f := range b.files {
		msgs(f.Desc.Messages())
		for _, r := range b.opt.entry(f.Desc.Options()).annotations().definitions {
			if _, dup := defs[r.Type]; !dup {
				defs[r.Type] = r.Anchor
				b.resourceFiles[r.Type] = f.Desc.Path()
			}
		}
	}
	for t, a := range defs {
		if _, ok := b.resources[t]; ok {
			delete(b.resourceFiles, t)
		} else {
			b.resources[t] = a
		}
	}
}

// fileResources are the resources a file defines at file level that are
// shown there: those no message of the run is, and that no file before it
// in the request defines.
func (b *builder) fileResources(fd protoreflect.FileDescriptor) []*model.Resource {
	var out []*model.Resource
	for _, r := range b.opt.entry(fd.Options()).annotations().definitions {
		if b.resourceFiles[r.Type] == fd.Path() && !containsResource(out, r.Type) {
			out = append(out, r)
		}
	}
	return out
}

func containsResource(rs []*model.Resource, t string) bool {
	for _, r := range rs {
		if r.Type == t {
			return true
		}
	}
	return false
}

// annotateField sets the behaviours and resource reference of a field.
func (b *builder) annotateField(out *model.Field, a *apiAnnotations) {
	out.Behaviors = a.behaviors
	if r := a.reference; r != nil {
		ref := *r
		t := ref.Type
		if t == "" {
			t = ref.ChildType
		}
		ref.Anchor = b.resources[t]
		out.ResourceReference = &ref
	}
}

// annotateMessage sets the resource a message describes.
func annotateMessage(out *model.Message, a *apiAnnotations) {
	if r := a.resource; r != nil {
		res := *r
		res.Anchor = out.Anchor
		out.Resource = &res
	}
}

// annotateHTTP completes the HTTP bindings of a method: the URL under
// the base URL, the body field and the path parameters, resolved against
// the request message.
func (b *builder) annotateHTTP(rules []model.HTTPRule, input protoreflect.MessageDescriptor) {
	for i := range rules {
		r := &rules[i]
		r.URL = b.cfg.BaseURL + r.Path
		if r.Body != "" && r.Body != "*" {
			r.BodyField = b.fieldPath(input, r.Body)
		}
		for _, p := range pathParams(r.Path) {
			p.Field = b.fieldPath(input, p.Name)
			r.PathParams = append(r.PathParams, p)
		}
	}
}

// fieldPath is the full name of the field a dotted path names in md (the
// last field of the path), or "" when there is none or it is hidden.
func (b *builder) fieldPath(md protoreflect.MessageDescriptor, path string) string {
	var fd protoreflect.FieldDescriptor
	for _, name := range strings.Split(path, ".") {
		if md == nil {
			return ""
		}
		fd = md.Fields().ByName(protoreflect.Name(name))
		if fd == nil || b.hidden[fd.FullName()] {
			return ""
		}
		md = fd.Message()
	}
	if fd == nil {
		return ""
	}
	return string(fd.FullName())
}

// pathParams lists the variables of a path template:
// "{field.path=pattern}" or "{field.path}" (pattern "*").
func pathParams(tmpl string) []model.PathParam {
	var out []model.PathParam
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			return out
		}
		v := tmpl[i+1 : i+j]
		name, pattern, ok := strings.Cut(v, "=")
		if !ok || pattern == "" {
			pattern = "*"
		}
		if name = strings.TrimSpace(name); name != "" {
			out = append(out, model.PathParam{Name: name, Pattern: pattern})
		}
		tmpl = tmpl[i+j+1:]
	}
}
