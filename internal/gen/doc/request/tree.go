package request

import (
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// The types below are a light tree over the descriptors of the documented
// files, each element with its comments. protogen builds a similar tree,
// but computes Go names and import paths that documentation never needs,
// which costs time and memory on large requests.

// Comments are the comments of one element.
type Comments struct {
	LeadingDetached []string
	Leading         string
	Trailing        string
}

// Sources indexes the comments and positions of the elements of the
// documented files by file and descriptor path. The descriptors themselves
// are built without source info, which saves much memory on large
// requests.
type Sources map[string]map[string]*Location

// Location is what the documents need of a source location.
type Location struct {
	leading, trailing string
	detached          []string
	Line, Col         int32 // zero-based
}

// Comments are the comments at l (none when l is nil).
func (l *Location) Comments() Comments {
	if l == nil {
		return Comments{}
	}
	return Comments{LeadingDetached: l.detached, Leading: l.leading, Trailing: l.trailing}
}

func pathKey(p []int32) string {
	var buf [32]byte
	b := buf[:0]
	for _, v := range p {
		b = protowire.AppendVarint(b, uint64(v))
	}
	return string(b)
}

// Loc is the source location of a path in a file, or nil.
func (s Sources) Loc(file string, path []int32) *Location {
	return s[file][pathKey(path)]
}

// Of is the source location of a descriptor, or nil.
func (s Sources) Of(d protoreflect.Descriptor) *Location {
	return s.Loc(d.ParentFile().Path(), descPath(d))
}

// Comments are the comments of a descriptor.
func (s Sources) Comments(d protoreflect.Descriptor) Comments {
	return s.Of(d).Comments()
}

// Field numbers of descriptor.proto that make up source paths.
const (
	pathFileMessage   = 4
	pathFileEnum      = 5
	pathFileService   = 6
	pathFileExtension = 7
	pathMsgField      = 2
	pathMsgNested     = 3
	pathMsgEnum       = 4
	pathMsgExtension  = 6
	pathMsgOneof      = 8
	pathEnumValue     = 2
	pathServiceMethod = 2
)

// descPath is the source path of a descriptor within its file.
func descPath(d protoreflect.Descriptor) []int32 {
	under := func(parent protoreflect.Descriptor, fileField, nestedField int32) []int32 {
		if _, ok := parent.(protoreflect.FileDescriptor); ok {
			return []int32{fileField, int32(d.Index())}
		}
		pp := descPath(parent)
		return append(pp[:len(pp):len(pp)], nestedField, int32(d.Index()))
	}
	switch d := d.(type) {
	case protoreflect.MessageDescriptor:
		return under(d.Parent(), pathFileMessage, pathMsgNested)
	case protoreflect.EnumDescriptor:
		return under(d.Parent(), pathFileEnum, pathMsgEnum)
	case protoreflect.FieldDescriptor:
		if d.IsExtension() {
			return under(d.Parent(), pathFileExtension, pathMsgExtension)
		}
		return under(d.Parent(), -1, pathMsgField)
	case protoreflect.OneofDescriptor:
		return under(d.Parent(), -1, pathMsgOneof)
	case protoreflect.EnumValueDescriptor:
		return under(d.Parent(), -1, pathEnumValue)
	case protoreflect.ServiceDescriptor:
		return []int32{pathFileService, int32(d.Index())}
	case protoreflect.MethodDescriptor:
		return under(d.Parent(), -1, pathServiceMethod)
	}
	return nil
}

// File is a documented file: its descriptor, its source locations and the
// tree of its elements with their comments.
type File struct {
	Desc       protoreflect.FileDescriptor
	Src        map[string]*Location // source locations by pathKey
	Edition    descriptorpb.Edition
	Services   []*Service
	Messages   []*Message
	Enums      []*Enum
	Extensions []*Field
}

type Service struct {
	Desc     protoreflect.ServiceDescriptor
	Comments Comments
	Methods  []*Method
}

type Method struct {
	Desc     protoreflect.MethodDescriptor
	Comments Comments
}

type Message struct {
	Desc       protoreflect.MessageDescriptor
	Comments   Comments
	Fields     []*Field
	Oneofs     []*Oneof
	Messages   []*Message
	Enums      []*Enum
	Extensions []*Field
}

type Field struct {
	Desc     protoreflect.FieldDescriptor
	Comments Comments
}

type Oneof struct {
	Desc     protoreflect.OneofDescriptor
	Comments Comments
	Fields   []*Field
}

type Enum struct {
	Desc     protoreflect.EnumDescriptor
	Comments Comments
	Values   []*EnumValue
}

type EnumValue struct {
	Desc     protoreflect.EnumValueDescriptor
	Comments Comments
}

// pathBuf is the source path of the element being visited, encoded as
// pathKey encodes it: elements are pushed on the way down and popped on the
// way back, so that looking up their locations allocates nothing.
type pathBuf struct{ b []byte }

func (p *pathBuf) push(field, index int) (mark int) {
	mark = len(p.b)
	p.b = protowire.AppendVarint(protowire.AppendVarint(p.b, uint64(field)), uint64(index))
	return mark
}

func (p *pathBuf) pop(mark int) { p.b = p.b[:mark] }

func (p *pathBuf) comments(idx map[string]*Location) Comments { return idx[string(p.b)].Comments() }

func newFile(src Sources, fd protoreflect.FileDescriptor, edition descriptorpb.Edition) *File {
	idx := src[fd.Path()]
	f := &File{Desc: fd, Edition: edition, Src: idx}
	p := &pathBuf{b: make([]byte, 0, 32)}
	for i := 0; i < fd.Services().Len(); i++ {
		sd := fd.Services().Get(i)
		ms := p.push(pathFileService, i)
		s := &Service{Desc: sd, Comments: p.comments(idx)}
		for j := 0; j < sd.Methods().Len(); j++ {
			mm := p.push(pathServiceMethod, j)
			s.Methods = append(s.Methods, &Method{Desc: sd.Methods().Get(j), Comments: p.comments(idx)})
			p.pop(mm)
		}
		p.pop(ms)
		f.Services = append(f.Services, s)
	}
	for i := 0; i < fd.Messages().Len(); i++ {
		m := p.push(pathFileMessage, i)
		f.Messages = append(f.Messages, newMessage(idx, p, fd.Messages().Get(i)))
		p.pop(m)
	}
	for i := 0; i < fd.Enums().Len(); i++ {
		m := p.push(pathFileEnum, i)
		f.Enums = append(f.Enums, newEnum(idx, p, fd.Enums().Get(i)))
		p.pop(m)
	}
	for i := 0; i < fd.Extensions().Len(); i++ {
		m := p.push(pathFileExtension, i)
		f.Extensions = append(f.Extensions, &Field{Desc: fd.Extensions().Get(i), Comments: p.comments(idx)})
		p.pop(m)
	}
	return f
}

// newMessage builds the tree of a message whose path is in p.
func newMessage(idx map[string]*Location, p *pathBuf, md protoreflect.MessageDescriptor) *Message {
	m := &Message{Desc: md, Comments: p.comments(idx)}
	byName := map[protoreflect.Name]*Field{}
	for i := 0; i < md.Fields().Len(); i++ {
		mk := p.push(pathMsgField, i)
		f := &Field{Desc: md.Fields().Get(i), Comments: p.comments(idx)}
		p.pop(mk)
		byName[f.Desc.Name()] = f
		m.Fields = append(m.Fields, f)
	}
	for i := 0; i < md.Oneofs().Len(); i++ {
		od := md.Oneofs().Get(i)
		mk := p.push(pathMsgOneof, i)
		o := &Oneof{Desc: od, Comments: p.comments(idx)}
		p.pop(mk)
		for j := 0; j < od.Fields().Len(); j++ {
			o.Fields = append(o.Fields, byName[od.Fields().Get(j).Name()])
		}
		m.Oneofs = append(m.Oneofs, o)
	}
	for i := 0; i < md.Messages().Len(); i++ {
		mk := p.push(pathMsgNested, i)
		m.Messages = append(m.Messages, newMessage(idx, p, md.Messages().Get(i)))
		p.pop(mk)
	}
	for i := 0; i < md.Enums().Len(); i++ {
		mk := p.push(pathMsgEnum, i)
		m.Enums = append(m.Enums, newEnum(idx, p, md.Enums().Get(i)))
		p.pop(mk)
	}
	for i := 0; i < md.Extensions().Len(); i++ {
		mk := p.push(pathMsgExtension, i)
		m.Extensions = append(m.Extensions, &Field{Desc: md.Extensions().Get(i), Comments: p.comments(idx)})
		p.pop(mk)
	}
	return m
}

// newEnum builds the tree of an enum whose path is in p.
func newEnum(idx map[string]*Location, p *pathBuf, ed protoreflect.EnumDescriptor) *Enum {
	e := &Enum{Desc: ed, Comments: p.comments(idx)}
	for i := 0; i < ed.Values().Len(); i++ {
		mk := p.push(pathEnumValue, i)
		e.Values = append(e.Values, &EnumValue{Desc: ed.Values().Get(i), Comments: p.comments(idx)})
		p.pop(mk)
	}
	return e
}
