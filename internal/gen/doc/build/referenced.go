package build

import (
	"sort"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
	"github.com/polyrpc/polyrpc/internal/gen/doc/request"
)

// Referenced types. An element that a documented file refers to (as the
// type of a field, the request or response of a method, or the target of a
// cross-reference) but that no documented file defines, and that no
// extern_url or well-known type page documents, gets a place in the
// documents: the file that defines it is added to the model holding only
// such elements (model.File.Referenced), built from the descriptors, so
// without comments. Only the elements referenced directly are listed, not
// the types they use in turn, and never those of google/protobuf (the
// well-known types and descriptor.proto) or of excluded files. The listing
// is asked for with referenced_types=true; referenced_types=all lists the
// types that listed elements use too, and so on, so that every type link
// has a target.

// referencedNote is the description of a file of referenced elements.
const referencedNote = "Referenced types: this file is not documented in this run. " +
	"It lists the elements that the documented files refer to, without their comments."

// refer records an element that is referenced and not documented, when
// referenced elements are listed. It returns whether it is.
func (b *builder) refer(d protoreflect.Descriptor) bool {
	if !b.cfg.Referenced || d == nil {
		return false
	}
	holder := d
outer:
	for p := d; p != nil; p = p.Parent() {
		switch x := p.(type) {
		case protoreflect.MessageDescriptor:
			if x.IsMapEntry() {
				continue
			}
			holder = x
		case protoreflect.EnumDescriptor, protoreflect.ServiceDescriptor:
			holder = x
		case protoreflect.FieldDescriptor:
			if x.IsExtension() {
				holder = x
			} else {
				continue
			}
		case protoreflect.FileDescriptor:
			return false
		default:
			continue
		}
		break outer
	}
	if b.referenced == nil {
		b.referenced = map[protoreflect.FullName]bool{}
	}
	b.referenced[holder.FullName()] = true
	return true
}

// closeReferenced adds to names, until nothing changes, the elements
// that the listed ones refer to in turn and that the run does not
// document: field types and the request and response of methods
// (referenced_types=all).
func (b *builder) closeReferenced(names map[protoreflect.FullName]bool) {
	queue := make([]protoreflect.FullName, 0, len(names))
	for n := range names {
		queue = append(queue, n)
	}
	sort.Slice(queue, func(i, j int) bool { return queue[i] < queue[j] })
	add := func(d protoreflect.Descriptor) {
		if d == nil || b.inDoc[d.FullName()] || wellKnownFiles[d.ParentFile().Path()] ||
			b.externFor(string(d.ParentFile().Package()), string(d.FullName())) != "" {
			return
		}
		fb := builder{cfg: b.cfg}
		if fb.refer(d) {
			for n := range fb.referenced {
				if !names[n] {
					names[n] = true
					queue = append(queue, n)
				}
			}
		}
	}
	fieldTypes := func(fs protoreflect.FieldDescriptors) {
		for i := 0; i < fs.Len(); i++ {
			fd := fs.Get(i)
			if fd.IsMap() {
				fd = fd.MapValue()
			}
			if fd.Message() != nil {
				add(fd.Message())
			} else if fd.Enum() != nil {
				add(fd.Enum())
			}
		}
	}
	for len(queue) > 0 {
		d := b.names.lookup(string(queue[0]))
		queue = queue[1:]
		switch d := d.(type) {
		case protoreflect.MessageDescriptor:
			fieldTypes(d.Fields())
		case protoreflect.ServiceDescriptor:
			for i := 0; i < d.Methods().Len(); i++ {
				add(d.Methods().Get(i).Input())
				add(d.Methods().Get(i).Output())
			}
		case protoreflect.FieldDescriptor:
			if d.Message() != nil {
				add(d.Message())
			} else if d.Enum() != nil {
				add(d.Enum())
			}
		}
	}
}

// referencedFiles builds, for each file that defines referenced
// elements, a model.File that holds them.
func (b *builder) referencedFiles(names map[protoreflect.FullName]bool) []*model.File {
	byFile := map[string]protoreflect.FileDescriptor{}
	for n := range names {
		if d := b.names.lookup(string(n)); d != nil && !b.names.documented[d.ParentFile().Path()] &&
			!strings.HasPrefix(d.ParentFile().Path(), "google/protobuf/") &&
			(b.cfg.Excluded == nil || !b.cfg.Excluded(d.ParentFile().Path())) {
			byFile[d.ParentFile().Path()] = d.ParentFile()
		}
	}
	paths := make([]string, 0, len(byFile))
	for p := range byFile {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	fb := *b
	fb.cfg.RequireComments = false
	fb.src = request.Sources{}
	fb.referenced = nil
	fb.unresolved = nil
	var out []*model.File
	for _, p := range paths {
		fd := byFile[p]
		pkg := string(fd.Package())
		f := &model.File{Name: p, Anchor: "file:" + p, Package: pkg, Description: referencedNote, Referenced: true}
		switch fd.Syntax() {
		case protoreflect.Proto2:
			f.Syntax = "proto2"
		case protoreflect.Proto3:
			f.Syntax = "proto3"
		default:
			f.Syntax = "editions"
		}
		for i := 0; i < fd.Services().Len(); i++ {
			if sd := fd.Services().Get(i); names[sd.FullName()] {
				f.Services = append(f.Services, fb.buildService(bareService(sd), pkg))
			}
		}
		for i := 0; i < fd.Enums().Len(); i++ {
			if ed := fd.Enums().Get(i); names[ed.FullName()] {
				f.Enums = append(f.Enums, fb.buildEnum(bareEnum(ed), pkg))
			}
		}
		var walk func(ms protoreflect.MessageDescriptors)
		walk = func(ms protoreflect.MessageDescriptors) {
			for i := 0; i < ms.Len(); i++ {
				md := ms.Get(i)
				if md.IsMapEntry() {
					continue
				}
				if names[md.FullName()] {
					f.Messages = append(f.Messages, fb.buildMessage(bareMessage(md), pkg))
				}
				for j := 0; j < md.Enums().Len(); j++ {
					if ed := md.Enums().Get(j); names[ed.FullName()] {
						f.Enums = append(f.Enums, fb.buildEnum(bareEnum(ed), pkg))
					}
				}
				for j := 0; j < md.Extensions().Len(); j++ {
					if xd := md.Extensions().Get(j); names[xd.FullName()] {
						f.Extensions = append(f.Extensions, fb.buildField(&request.Field{Desc: xd}, pkg))
					}
				}
				walk(md.Messages())
			}
		}
		walk(fd.Messages())
		for i := 0; i < fd.Extensions().Len(); i++ {
			if xd := fd.Extensions().Get(i); names[xd.FullName()] {
				f.Extensions = append(f.Extensions, fb.buildField(&request.Field{Desc: xd}, pkg))
			}
		}
		f.Deprecated = fd.Options().(*descriptorpb.FileOptions).GetDeprecated()
		out = append(out, f)
	}
	return out
}

// bareService, bareMessage and bareEnum are element trees without
// comments, for files that are not documented.
func bareService(sd protoreflect.ServiceDescriptor) *request.Service {
	s := &request.Service{Desc: sd}
	for i := 0; i < sd.Methods().Len(); i++ {
		s.Methods = append(s.Methods, &request.Method{Desc: sd.Methods().Get(i)})
	}
	return s
}

func bareMessage(md protoreflect.MessageDescriptor) *request.Message {
	m := &request.Message{Desc: md}
	byName := map[protoreflect.Name]*request.Field{}
	for i := 0; i < md.Fields().Len(); i++ {
		f := &request.Field{Desc: md.Fields().Get(i)}
		byName[f.Desc.Name()] = f
		m.Fields = append(m.Fields, f)
	}
	for i := 0; i < md.Oneofs().Len(); i++ {
		od := md.Oneofs().Get(i)
		o := &request.Oneof{Desc: od}
		for j := 0; j < od.Fields().Len(); j++ {
			o.Fields = append(o.Fields, byName[od.Fields().Get(j).Name()])
		}
		m.Oneofs = append(m.Oneofs, o)
	}
	for i := 0; i < md.Messages().Len(); i++ {
		m.Messages = append(m.Messages, &request.Message{Desc: md.Messages().Get(i)})
	}
	for i := 0; i < md.Enums().Len(); i++ {
		m.Enums = append(m.Enums, &request.Enum{Desc: md.Enums().Get(i)})
	}
	return m
}

func bareEnum(ed protoreflect.EnumDescriptor) *request.Enum {
	e := &request.Enum{Desc: ed}
	for i := 0; i < ed.Values().Len(); i++ {
		e.Values = append(e.Values, &request.EnumValue{Desc: ed.Values().Get(i)})
	}
	return e
}
