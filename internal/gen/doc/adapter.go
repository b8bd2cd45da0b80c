package doc

import (
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// The types below are a light tree over the descriptors of the documented
// files, each element with its comments. protogen builds a similar tree,
// but computes Go names and import paths that documentation never needs,
// which costs time and memory on large requests.

type commentSet struct {
	LeadingDetached []string
	Leading         string
	Trailing        string
}

// sources indexes the comments and positions of the elements of the
// documented files by file and descriptor path. The descriptors themselves
// are built without source info, which saves much memory on large
// requests.
type sources map[string]map[string]*location

// location is what the documents need of a source location.
type location struct {
	leading, trailing string
	detached          []string
	line, col         int32 // zero-based
}

func (l *location) comments() commentSet {
	if l == nil {
		return commentSet{}
	}
	return commentSet{LeadingDetached: l.detached, Leading: l.leading, Trailing: l.trailing}
}

func pathKey(p []int32) string {
	var buf [32]byte
	b := buf[:0]
	for _, v := range p {
		b = protowire.AppendVarint(b, uint64(v))
	}
	return string(b)
}

// loc is the source location of a path in a file, or nil.
func (s sources) loc(file string, path []int32) *location {
	return s[file][pathKey(path)]
}

// of is the source location of a descriptor, or nil.
func (s sources) of(d protoreflect.Descriptor) *location {
	return s.loc(d.ParentFile().Path(), descPath(d))
}

func (s sources) comments(d protoreflect.Descriptor) commentSet {
	return s.of(d).comments()
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

type pFile struct {
	Desc       protoreflect.FileDescriptor
	src        map[string]*location // source locations by pathKey
	Edition    descriptorpb.Edition
	Services   []*pService
	Messages   []*pMessage
	Enums      []*pEnum
	Extensions []*pField
}

type pService struct {
	Desc     protoreflect.ServiceDescriptor
	Comments commentSet
	Methods  []*pMethod
}

type pMethod struct {
	Desc     protoreflect.MethodDescriptor
	Comments commentSet
}

type pMessage struct {
	Desc       protoreflect.MessageDescriptor
	Comments   commentSet
	Fields     []*pField
	Oneofs     []*pOneof
	Messages   []*pMessage
	Enums      []*pEnum
	Extensions []*pField
}

type pField struct {
	Desc     protoreflect.FieldDescriptor
	Comments commentSet
}

type pOneof struct {
	Desc     protoreflect.OneofDescriptor
	Comments commentSet
	Fields   []*pField
}

type pEnum struct {
	Desc     protoreflect.EnumDescriptor
	Comments commentSet
	Values   []*pEnumValue
}

type pEnumValue struct {
	Desc     protoreflect.EnumValueDescriptor
	Comments commentSet
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

func (p *pathBuf) comments(idx map[string]*location) commentSet { return idx[string(p.b)].comments() }

func newFile(src sources, fd protoreflect.FileDescriptor, edition descriptorpb.Edition) *pFile {
	idx := src[fd.Path()]
	f := &pFile{Desc: fd, Edition: edition, src: idx}
	p := &pathBuf{b: make([]byte, 0, 32)}
	for i := 0; i < fd.Services().Len(); i++ {
		sd := fd.Services().Get(i)
		ms := p.push(pathFileService, i)
		s := &pService{Desc: sd, Comments: p.comments(idx)}
		for j := 0; j < sd.Methods().Len(); j++ {
			mm := p.push(pathServiceMethod, j)
			s.Methods = append(s.Methods, &pMethod{Desc: sd.Methods().Get(j), Comments: p.comments(idx)})
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
		f.Extensions = append(f.Extensions, &pField{Desc: fd.Extensions().Get(i), Comments: p.comments(idx)})
		p.pop(m)
	}
	return f
}

// newMessage builds the tree of a message whose path is in p.
func newMessage(idx map[string]*location, p *pathBuf, md protoreflect.MessageDescriptor) *pMessage {
	m := &pMessage{Desc: md, Comments: p.comments(idx)}
	byName := map[protoreflect.Name]*pField{}
	for i := 0; i < md.Fields().Len(); i++ {
		mk := p.push(pathMsgField, i)
		f := &pField{Desc: md.Fields().Get(i), Comments: p.comments(idx)}
		p.pop(mk)
		byName[f.Desc.Name()] = f
		m.Fields = append(m.Fields, f)
	}
	for i := 0; i < md.Oneofs().Len(); i++ {
		od := md.Oneofs().Get(i)
		mk := p.push(pathMsgOneof, i)
		o := &pOneof{Desc: od, Comments: p.comments(idx)}
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
		m.Extensions = append(m.Extensions, &pField{Desc: md.Extensions().Get(i), Comments: p.comments(idx)})
		p.pop(mk)
	}
	return m
}

// newEnum builds the tree of an enum whose path is in p.
func newEnum(idx map[string]*location, p *pathBuf, ed protoreflect.EnumDescriptor) *pEnum {
	e := &pEnum{Desc: ed, Comments: p.comments(idx)}
	for i := 0; i < ed.Values().Len(); i++ {
		mk := p.push(pathEnumValue, i)
		e.Values = append(e.Values, &pEnumValue{Desc: ed.Values().Get(i), Comments: p.comments(idx)})
		p.pop(mk)
	}
	return e
}
