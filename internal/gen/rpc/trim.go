package rpc

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/plugin"
)

// Source paths (field numbers in FileDescriptorProto) whose locations the
// generator reads: service and method comments, and the comments on the
// syntax and package statements.
const fileServiceField = 6

// trimRequest returns a copy of req holding only what this generator reads,
// so that protogen builds, and keeps in memory, far less than the whole
// request. protoc sends every field of every message of every file with its
// source info and comments; the generator needs
//
//   - services and methods, with their comments, of the files it generates,
//     and the comments on their syntax and package statements;
//   - every message by name, since methods may use any of them, and every
//     enum, which kept fields may refer to;
//   - of the Go packages it writes into, what protoc-gen-go declares
//     package-level identifiers for (checked for collisions): messages,
//     enums and their values, extensions, oneof wrappers and default
//     constants, and so the fields of messages with oneofs or defaults;
//   - the positions of declarations, for collision errors.
//
// Everything else is left out. The copy shares what it keeps with req,
// which it does not modify.
func trimRequest(req *pluginpb.CodeGeneratorRequest) *pluginpb.CodeGeneratorRequest {
	generate := map[string]bool{}
	for _, name := range req.GetFileToGenerate() {
		generate[name] = true
	}
	params := plugin.ParseParams(req.GetParameter())
	mapped := map[string]string{}
	suffix := false
	for _, p := range params {
		if strings.HasPrefix(p.Name, "M") && len(p.Name) > 1 {
			if imp, _, _ := strings.Cut(p.Value, ";"); imp != "" {
				mapped[p.Name[1:]] = imp
			}
		}
		if p.Name == "package_suffix" && p.Value != "" {
			suffix = true
		}
	}
	importPath := func(f *descriptorpb.FileDescriptorProto) string {
		if imp := mapped[f.GetName()]; imp != "" {
			return imp
		}
		imp, _, _ := strings.Cut(f.GetOptions().GetGoPackage(), ";")
		return imp
	}
	// The Go packages written into.
	var written []string
	for _, f := range req.GetProtoFile() {
		if generate[f.GetName()] && len(f.GetService()) > 0 {
			imp := importPath(f)
			if imp == "" {
				// protogen reports the missing import path; keep the
				// request as it is.
				return req
			}
			written = append(written, imp)
		}
	}
	complete := func(f *descriptorpb.FileDescriptorProto) bool {
		imp := importPath(f)
		if imp == "" {
			return true
		}
		for _, w := range written {
			// With package_suffix the package written into is below the
			// message package.
			if imp == w || suffix && strings.HasPrefix(imp, w+"/") {
				return true
			}
		}
		return false
	}

	out := &pluginpb.CodeGeneratorRequest{
		FileToGenerate:        req.FileToGenerate,
		Parameter:             req.Parameter,
		SourceFileDescriptors: req.SourceFileDescriptors,
		CompilerVersion:       req.CompilerVersion,
		ProtoFile:             make([]*descriptorpb.FileDescriptorProto, len(req.GetProtoFile())),
	}
	for i, f := range req.GetProtoFile() {
		t := &descriptorpb.FileDescriptorProto{
			Name:             f.Name,
			Package:          f.Package,
			Dependency:       f.Dependency,
			PublicDependency: f.PublicDependency,
			WeakDependency:   f.WeakDependency,
			OptionDependency: f.OptionDependency,
			EnumType:         f.EnumType,
			Options:          f.Options,
			Syntax:           f.Syntax,
			Edition:          f.Edition,
		}
		full := complete(f)
		bare := map[string]bool{}
		t.MessageType = trimMessages(f.MessageType, full, []int32{fileMessageField}, bare)
		if full {
			t.Extension = f.Extension
		}
		t.SourceCodeInfo = trimSourceInfo(f.SourceCodeInfo, bare)
		if generate[f.GetName()] && len(f.GetService()) > 0 {
			t.Service = f.Service
		}
		out.ProtoFile[i] = t
	}
	return out
}

// Field numbers in DescriptorProto.
const (
	messageFieldField  = 2
	messageNestedField = 3
	messageOneofField  = 8
	fileMessageField   = 4
)

// trimMessages copies msgs (at path in the file) without their fields and
// oneofs, keeping names, options, nested messages and enums, extensions and
// extension ranges. In a complete file, the fields of a message with a
// real oneof or a field with a default value are kept too: protoc-gen-go
// declares identifiers for those, named after the fields; so are the
// message and enum fields of other messages. Map entries are kept whole. The paths of messages that lose their fields go into bare.
func trimMessages(msgs []*descriptorpb.DescriptorProto, complete bool, path []int32, bare map[string]bool) []*descriptorpb.DescriptorProto {
	if len(msgs) == 0 {
		return nil
	}
	out := make([]*descriptorpb.DescriptorProto, len(msgs))
	for i, m := range msgs {
		if m.GetOptions().GetMapEntry() || complete && namedFields(m) {
			out[i] = m
			continue
		}
		p := append(path[:len(path):len(path)], int32(i))
		bare[pathKey(p)] = true
		t := &descriptorpb.DescriptorProto{
			Name:           m.Name,
			NestedType:     trimMessages(m.NestedType, complete, append(p, messageNestedField), bare),
			EnumType:       m.EnumType,
			ExtensionRange: m.ExtensionRange,
			Options:        m.Options,
			Visibility:     m.Visibility,
		}
		if complete {
			t.Extension = m.Extension
			t.Field = typedFields(m.Field)
		}
		out[i] = t
	}
	return out
}

// typedFields returns the message and enum fields of fields, outside any
// oneof: protoc-gen-go imports the Go packages of their types, and those
// import names are checked for collisions. (Messages with real oneofs are
// kept whole; the synthetic oneofs of proto3 optional fields are dropped.)
func typedFields(fields []*descriptorpb.FieldDescriptorProto) []*descriptorpb.FieldDescriptorProto {
	var out []*descriptorpb.FieldDescriptorProto
	for _, f := range fields {
		switch f.GetType() {
		case descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, descriptorpb.FieldDescriptorProto_TYPE_GROUP, descriptorpb.FieldDescriptorProto_TYPE_ENUM:
			if f.OneofIndex != nil {
				c := proto.Clone(f).(*descriptorpb.FieldDescriptorProto)
				c.OneofIndex, c.Proto3Optional = nil, nil
				f = c
			}
			out = append(out, f)
		}
	}
	return out
}

// namedFields reports whether protoc-gen-go declares package-level
// identifiers for fields of m: oneof wrappers and default constants.
func namedFields(m *descriptorpb.DescriptorProto) bool {
	for _, f := range m.GetField() {
		if f.DefaultValue != nil || f.OneofIndex != nil && !f.GetProto3Optional() {
			return true
		}
	}
	return false
}

func pathKey(p []int32) string { return fmt.Sprint(p) }

// trimSourceInfo keeps the locations of the syntax and package statements
// and of services and methods, with their comments, and the positions of
// all other declarations (for collision errors), without comments.
func trimSourceInfo(info *descriptorpb.SourceCodeInfo, bare map[string]bool) *descriptorpb.SourceCodeInfo {
	if info == nil {
		return nil
	}
	var keep []*descriptorpb.SourceCodeInfo_Location
	for _, l := range info.Location {
		p := l.GetPath()
		switch {
		case len(p) == 0:
			keep = append(keep, l)
		case p[0] == fileSyntaxField || p[0] == filePackageField:
			keep = append(keep, l)
		case p[0] == fileServiceField:
			if declaration(p) {
				keep = append(keep, l)
			}
		case declaration(p):
			if n := len(p); n >= 4 && (p[n-2] == messageFieldField || p[n-2] == messageOneofField) && bare[pathKey(p[:n-2])] {
				// A field or oneof of a message trimmed to its name.
				continue
			}
			keep = append(keep, &descriptorpb.SourceCodeInfo_Location{Path: l.Path, Span: l.Span})
		}
	}
	return &descriptorpb.SourceCodeInfo{Location: keep}
}

// Kinds of declarations, for declaration.
const (
	declFile = iota
	declMessage
	declEnum
	declService
	declLeaf // fields, oneofs, enum values, methods: no declarations inside
)

// declaration reports whether path is the path of a declaration (message,
// field, oneof, enum, enum value, extension, service, method) rather than
// of a part of one (a name, a type, an option).
func declaration(path []int32) bool {
	if len(path)%2 != 0 {
		return false
	}
	in := declFile
	for i := 0; i < len(path); i += 2 {
		next := -1
		switch in {
		case declFile:
			switch path[i] {
			case 4: // message_type
				next = declMessage
			case 5: // enum_type
				next = declEnum
			case 6: // service
				next = declService
			case 7: // extension
				next = declLeaf
			}
		case declMessage:
			switch path[i] {
			case 2, 6, 8: // field, extension, oneof_decl
				next = declLeaf
			case 3: // nested_type
				next = declMessage
			case 4: // enum_type
				next = declEnum
			}
		case declEnum, declService:
			if path[i] == 2 { // value, method
				next = declLeaf
			}
		}
		if next < 0 {
			return false
		}
		in = next
	}
	return true
}
