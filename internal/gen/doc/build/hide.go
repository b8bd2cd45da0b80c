package build

import (
	"regexp"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/polyrpc/polyrpc/internal/gen/doc/request"
)

var hideTag = regexp.MustCompile(`(^|\s)@hide(\s|$)`)

// isHidden reports whether an element's comments carry the @hide tag.
func isHidden(cs request.Comments) bool {
	return strings.Contains(cs.Leading, "@hide") && hideTag.MatchString(cs.Leading) ||
		strings.Contains(cs.Trailing, "@hide") && hideTag.MatchString(cs.Trailing)
}

// computeHidden returns every element left out of the documents: those
// tagged @hide, everything inside them, and every type that only hidden
// elements use (repeated until nothing changes).
func computeHidden(files []*request.File) map[protoreflect.FullName]bool {
	h := map[protoreflect.FullName]bool{}
	users := map[protoreflect.FullName][]protoreflect.FullName{} // type -> elements that use it
	var types []protoreflect.Descriptor                          // every message and enum, in order
	use := func(t protoreflect.Descriptor, user protoreflect.FullName) {
		if t != nil {
			users[t.FullName()] = append(users[t.FullName()], user)
		}
	}
	var hideAll func(d protoreflect.Descriptor)
	hideAll = func(d protoreflect.Descriptor) {
		h[d.FullName()] = true
		switch d := d.(type) {
		case protoreflect.MessageDescriptor:
			for i := 0; i < d.Fields().Len(); i++ {
				hideAll(d.Fields().Get(i))
			}
			for i := 0; i < d.Oneofs().Len(); i++ {
				h[d.Oneofs().Get(i).FullName()] = true
			}
			for i := 0; i < d.Messages().Len(); i++ {
				hideAll(d.Messages().Get(i))
			}
			for i := 0; i < d.Enums().Len(); i++ {
				hideAll(d.Enums().Get(i))
			}
			for i := 0; i < d.Extensions().Len(); i++ {
				hideAll(d.Extensions().Get(i))
			}
		case protoreflect.EnumDescriptor:
			for i := 0; i < d.Values().Len(); i++ {
				h[d.Values().Get(i).FullName()] = true
			}
		case protoreflect.ServiceDescriptor:
			for i := 0; i < d.Methods().Len(); i++ {
				h[d.Methods().Get(i).FullName()] = true
			}
		}
	}
	field := func(f *request.Field) {
		use(f.Desc.Message(), f.Desc.FullName())
		use(f.Desc.Enum(), f.Desc.FullName())
		if isHidden(f.Comments) {
			hideAll(f.Desc)
		}
	}
	enum := func(e *request.Enum) {
		types = append(types, e.Desc)
		if isHidden(e.Comments) {
			hideAll(e.Desc)
		}
		for _, v := range e.Values {
			if isHidden(v.Comments) {
				h[v.Desc.FullName()] = true
			}
		}
	}
	var message func(m *request.Message)
	message = func(m *request.Message) {
		types = append(types, m.Desc)
		for _, f := range m.Fields {
			field(f)
		}
		for _, f := range m.Extensions {
			field(f)
		}
		for _, o := range m.Oneofs {
			if isHidden(o.Comments) {
				h[o.Desc.FullName()] = true
				for _, f := range o.Fields {
					hideAll(f.Desc)
				}
			}
		}
		for _, e := range m.Enums {
			enum(e)
		}
		for _, n := range m.Messages {
			message(n)
		}
		if isHidden(m.Comments) {
			hideAll(m.Desc)
		}
	}
	for _, f := range files {
		for _, s := range f.Services {
			for _, m := range s.Methods {
				use(m.Desc.Input(), m.Desc.FullName())
				use(m.Desc.Output(), m.Desc.FullName())
				if isHidden(m.Comments) {
					h[m.Desc.FullName()] = true
				}
			}
			if isHidden(s.Comments) {
				hideAll(s.Desc)
			}
		}
		for _, e := range f.Enums {
			enum(e)
		}
		for _, m := range f.Messages {
			message(m)
		}
		for _, x := range f.Extensions {
			field(x)
		}
	}
	for changed := true; changed; {
		changed = false
		for _, t := range types {
			name := t.FullName()
			if h[name] {
				continue
			}
			n, hiddenUsers := 0, 0
			for _, u := range users[name] {
				if strings.HasPrefix(string(u), string(name)+".") {
					continue // a type's own fields do not keep it visible
				}
				n++
				if h[u] {
					hiddenUsers++
				}
			}
			if n > 0 && n == hiddenUsers {
				hideAll(t)
				changed = true
			}
		}
	}
	return h
}
