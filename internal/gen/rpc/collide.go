package rpc

import (
	"errors"
	"fmt"
	"go/token"
	"path"
	"strings"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/gofeaturespb"
)

// checkCollisions reports every pair of proto elements whose generated Go
// identifiers clash in one Go package: identifiers emitted by this plugin for
// different services and methods, and identifiers this plugin emits that
// protoc-gen-go already declares for messages, enums, extensions and files
// of the same Go package. Go code with such a clash would not compile, so
// the generator refuses it and names both elements.
func checkCollisions(gen *protogen.Plugin, opts Options) error {
	var order []protogen.GoImportPath
	generated := map[protogen.GoImportPath][]*protogen.File{}
	for _, f := range gen.Files {
		if !f.Generate || len(f.Services) == 0 {
			continue
		}
		_, pkg := outputPath(f, opts)
		if _, ok := generated[pkg]; !ok {
			order = append(order, pkg)
		}
		generated[pkg] = append(generated[pkg], f)
	}
	var errs []string
	for _, pkg := range order {
		f := generated[pkg][0]
		if name := string(f.GoPackageName); !token.IsIdentifier(name) || name == "_" {
			errs = append(errs, fmt.Sprintf("%s: Go package name %q (from go_package or an M option) is not a valid identifier",
				f.Desc.Path(), name))
		}
	}
	if opts.PackageSuffix != "" {
		for _, pkg := range order {
			parent := generated[pkg][0]
			if p := string(parent.GoImportPath); path.Clean(p) != p || strings.HasPrefix(p, "/") {
				errs = append(errs, fmt.Sprintf("%s: Go import path %q is not clean, so package_suffix cannot name a package under it",
					parent.Desc.Path(), p))
			}
		}
	}
	for _, pkg := range order {
		declared := map[string]protoreflect.Descriptor{}
		declare := func(name string, d protoreflect.Descriptor) {
			if _, ok := declared[name]; !ok {
				declared[name] = d
			}
		}
		for _, f := range gen.Files {
			if f.GoImportPath == pkg {
				protocGenGoIdents(f, declare)
			}
		}
		reported := map[[2]string]bool{}
		for _, f := range generated[pkg] {
			imported := messageImports(gen, f, opts)
			for _, s := range f.Services {
				for _, id := range packageLevel(s, opts) {
					if msg, ok := imported[id.name]; ok {
						errs = append(errs, fmt.Sprintf("%s and the Go package of %s (%q, imported as %s) both map to Go identifier %s",
							describe(id.from), describe(msg.Desc), string(msg.GoIdent.GoImportPath), id.name, id.name))
						continue
					}
					prev, ok := declared[id.name]
					if !ok {
						declared[id.name] = id.from
						continue
					}
					key := [2]string{elementKey(id.from), elementKey(prev)}
					if key[0] == key[1] || reported[key] {
						continue
					}
					reported[key] = true
					errs = append(errs, fmt.Sprintf("%s and %s both map to Go identifier %s",
						describe(id.from), describe(prev), id.name))
				}
			}
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}

// messageImports returns the names under which the file generated for f
// imports the Go packages of its request and response messages, each with
// a message from that package. A package-level identifier of the same name
// would clash with the import. The names are protogen's, found by
// qualifying the messages as the emitter does, in a file left out of the
// output.
func messageImports(gen *protogen.Plugin, f *protogen.File, opts Options) map[string]*protogen.Message {
	filename, importPath := outputPath(f, opts)
	g := gen.NewGeneratedFile(filename, importPath)
	g.Skip()
	names := map[string]*protogen.Message{}
	for _, s := range f.Services {
		for _, m := range s.Methods {
			g.QualifiedGoIdent(contextPackage.Ident("Context"))
			for _, msg := range []*protogen.Message{m.Input, m.Output} {
				q := g.QualifiedGoIdent(msg.GoIdent)
				if i := strings.LastIndexByte(q, '.'); i >= 0 {
					if _, ok := names[q[:i]]; !ok {
						names[q[:i]] = msg
					}
				}
			}
		}
	}
	return names
}

// protocGenGoIdents calls declare for the package-level identifiers
// protoc-gen-go emits for f: every exported one, and the unexported oneof
// interfaces, which have the shape of this plugin's unexported names.
func protocGenGoIdents(f *protogen.File, declare func(string, protoreflect.Descriptor)) {
	declare(f.GoDescriptorIdent.GoName, f.Desc)
	for _, e := range f.Enums {
		enumIdents(e, declare)
	}
	for _, x := range f.Extensions {
		declare("E_"+x.GoIdent.GoName, x.Desc)
	}
	for _, m := range f.Messages {
		messageIdents(m, declare)
	}
}

func enumIdents(e *protogen.Enum, declare func(string, protoreflect.Descriptor)) {
	declare(e.GoIdent.GoName, e.Desc)
	declare(e.GoIdent.GoName+"_name", e.Desc)
	declare(e.GoIdent.GoName+"_value", e.Desc)
	for _, v := range e.Values {
		declare(v.GoIdent.GoName, v.Desc)
	}
}

func messageIdents(m *protogen.Message, declare func(string, protoreflect.Descriptor)) {
	if m.Desc.IsMapEntry() {
		return
	}
	name := m.GoIdent.GoName
	declare(name, m.Desc)
	open := m.APILevel == gofeaturespb.GoFeatures_API_OPEN || m.APILevel == gofeaturespb.GoFeatures_API_LEVEL_UNSPECIFIED
	if !open {
		declare(name+"_builder", m.Desc)
	}
	for _, field := range m.Fields {
		if field.Desc.HasDefault() {
			declare("Default_"+name+"_"+field.GoName, field.Desc)
		}
	}
	for _, o := range m.Oneofs {
		if o.Desc.IsSynthetic() {
			continue
		}
		declare("is"+name+"_"+o.GoName, o.Desc)
		if !open {
			declare(name+"_"+o.GoName+"_not_set_case", o.Desc)
		}
		for _, field := range o.Fields {
			declare(field.GoIdent.GoName, field.Desc)
			if !open {
				declare(name+"_"+field.GoName+"_case", field.Desc)
			}
		}
	}
	for _, e := range m.Enums {
		enumIdents(e, declare)
	}
	for _, x := range m.Extensions {
		declare("E_"+x.GoIdent.GoName, x.Desc)
	}
	for _, nested := range m.Messages {
		messageIdents(nested, declare)
	}
}

// elementKey identifies a proto element across files.
func elementKey(d protoreflect.Descriptor) string {
	if f, ok := d.(protoreflect.FileDescriptor); ok {
		return "file " + f.Path()
	}
	return string(d.FullName())
}

// describe names a proto element for an error message, with its position
// when the request carries source info: `foo.proto:12:3: method "pkg.Svc.Get"`.
func describe(d protoreflect.Descriptor) string {
	file := d.ParentFile()
	if f, ok := d.(protoreflect.FileDescriptor); ok {
		return fmt.Sprintf("%s: file %q", f.Path(), f.Path())
	}
	pos := file.Path()
	if loc := file.SourceLocations().ByDescriptor(d); loc.Path != nil {
		pos = fmt.Sprintf("%s:%d:%d", pos, loc.StartLine+1, loc.StartColumn+1)
	}
	return fmt.Sprintf("%s: %s %q", pos, kind(d), d.FullName())
}

func kind(d protoreflect.Descriptor) string {
	switch d := d.(type) {
	case protoreflect.ServiceDescriptor:
		return "service"
	case protoreflect.MethodDescriptor:
		return "method"
	case protoreflect.MessageDescriptor:
		return "message"
	case protoreflect.EnumDescriptor:
		return "enum"
	case protoreflect.EnumValueDescriptor:
		return "enum value"
	case protoreflect.OneofDescriptor:
		return "oneof"
	case protoreflect.FieldDescriptor:
		if d.IsExtension() {
			return "extension"
		}
		return "field"
	}
	return "element"
}
