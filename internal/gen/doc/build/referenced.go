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
// such elements (model.File.Referenced), built from the descriptors, with
// the comments the request carries for the file (protoc sends them for
// every file; ReferencedSources). Only the elements referenced directly are listed, not
// the types they use in turn, and never those of google/protobuf (the
// well-known types and descriptor.proto) or of excluded files. The listing
// is asked for with referenced_types=true; referenced_types=all lists the
// types that listed elements use too, and so on, so that every type link
// has a target.

// referencedNote is the description of a file of referenced elements.
const referencedNote = "Referenced types: this file is not documented in this run. " +
	"It lists only the elements that the documented files refer to."

// refer records an element that is referenced and not documented, when
// referenced elements are listed. It returns whether it is.
func (b *builder) refer(d protoreflect.Descriptor) bool {
	if !b.cfg.Referenced || d == nil {
		return false
	}
	h := holderOf(d)
	if h == "" {
		return false
	}
	if b.referenced == nil {
		b.referenced = map[protoreflect.FullName]bool{}
	}
	b.referenced[h] = true
	return true
}

// holderOf is the element listed for d: its message, enum or service (the
// innermost), or d itself for an extension; "" for a file.
func holderOf(d protoreflect.Descriptor) protoreflect.FullName {
	for p := d; p != nil; p = p.Parent() {
		switch x := p.(type) {
		case protoreflect.MessageDescriptor:
			if !x.IsMapEntry() {
				return x.FullName()
			}
		case protoreflect.EnumDescriptor, protoreflect.ServiceDescriptor:
			return x.FullName()
		case protoreflect.FieldDescriptor:
			if x.IsExtension() {
				return x.FullName()
			}
		case protoreflect.FileDescriptor:
			return ""
		}
	}
	return ""
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
// elements, a model.File that holds them. It also returns the references
// of their comments that find no documented or listed element.
func (b *builder) referencedFiles(names map[protoreflect.FullName]bool) ([]*model.File, []UnresolvedRef) {
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
	// What listed comments refer to is listed only when listed already.
	fb.cfg.Referenced = false
	fb.listed = names
	fb.src = b.cfg.ReferencedSources
	if fb.src == nil {
		fb.src = request.Sources{}
	}
	src := fb.src
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
				f.Services = append(f.Services, fb.buildService(bareService(sd, src), pkg))
			}
		}
		for i := 0; i < fd.Enums().Len(); i++ {
			if ed := fd.Enums().Get(i); names[ed.FullName()] {
				f.Enums = append(f.Enums, fb.buildEnum(bareEnum(ed, src), pkg))
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
					f.Messages = append(f.Messages, fb.buildMessage(bareMessage(md, src), pkg))
				}
				for j := 0; j < md.Enums().Len(); j++ {
					if ed := md.Enums().Get(j); names[ed.FullName()] {
						f.Enums = append(f.Enums, fb.buildEnum(bareEnum(ed, src), pkg))
					}
				}
				for j := 0; j < md.Extensions().Len(); j++ {
					if xd := md.Extensions().Get(j); names[xd.FullName()] {
						f.Extensions = append(f.Extensions, fb.buildField(&request.Field{Desc: xd, Comments: src.Comments(xd)}, pkg))
					}
				}
				walk(md.Messages())
			}
		}
		walk(fd.Messages())
		for i := 0; i < fd.Extensions().Len(); i++ {
			if xd := fd.Extensions().Get(i); names[xd.FullName()] {
				f.Extensions = append(f.Extensions, fb.buildField(&request.Field{Desc: xd, Comments: src.Comments(xd)}, pkg))
			}
		}
		f.Deprecated = fd.Options().(*descriptorpb.FileOptions).GetDeprecated()
		out = append(out, f)
	}
	return out, fb.unresolved
}

// bareService, bareMessage and bareEnum are element trees of files that
// are not documented, with the comments src holds.
func bareService(sd protoreflect.ServiceDescriptor, src request.Sources) *request.Service {
	s := &request.Service{Desc: sd, Comments: src.Comments(sd)}
	for i := 0; i < sd.Methods().Len(); i++ {
		md := sd.Methods().Get(i)
		s.Methods = append(s.Methods, &request.Method{Desc: md, Comments: src.Comments(md)})
	}
	return s
}

func bareMessage(md protoreflect.MessageDescriptor, src request.Sources) *request.Message {
	m := &request.Message{Desc: md, Comments: src.Comments(md)}
	byName := map[protoreflect.Name]*request.Field{}
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		f := &request.Field{Desc: fd, Comments: src.Comments(fd)}
		byName[f.Desc.Name()] = f
		m.Fields = append(m.Fields, f)
	}
	for i := 0; i < md.Oneofs().Len(); i++ {
		od := md.Oneofs().Get(i)
		o := &request.Oneof{Desc: od, Comments: src.Comments(od)}
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

func bareEnum(ed protoreflect.EnumDescriptor, src request.Sources) *request.Enum {
	e := &request.Enum{Desc: ed, Comments: src.Comments(ed)}
	for i := 0; i < ed.Values().Len(); i++ {
		vd := ed.Values().Get(i)
		e.Values = append(e.Values, &request.EnumValue{Desc: vd, Comments: src.Comments(vd)})
	}
	return e
}
