package rpc

import (
	"errors"
	"fmt"
	"go/token"
	"path"
	"strings"
	"unicode"

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
			if p := string(parent.GoImportPath); !validImportPath(p) {
				errs = append(errs, fmt.Sprintf("%s: Go import path %q is not valid, so package_suffix cannot name a package under it",
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
		ours := map[string]protoreflect.Descriptor{}
		reported := map[[2]string]bool{}
		for _, f := range generated[pkg] {
			for _, s := range f.Services {
				for _, id := range packageLevel(s, opts) {
					if _, ok := ours[id.name]; !ok {
						ours[id.name] = id.from
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
		// An import name may not be declared at package level, in any
		// file of the package: the imports of the generated files against
		// every identifier, protoc-gen-go's imports against ours.
		for _, f := range generated[pkg] {
			for _, imp := range goImports(gen, f, opts, true) {
				if d, ok := declared[imp.name]; ok {
					errs = append(errs, importClash(d, imp))
				}
				if !validImportPath(string(imp.path)) {
					errs = append(errs, fmt.Sprintf("%s: Go import path %q of %s is not valid, so the generated file cannot import it",
						f.Desc.Path(), string(imp.path), describe(imp.from)))
				}
			}
		}
		if opts.PackageSuffix == "" {
			for _, f := range gen.Files {
				if f.GoImportPath != pkg {
					continue
				}
				for _, imp := range goImports(gen, f, opts, false) {
					if d, ok := ours[imp.name]; ok {
						errs = append(errs, importClash(d, imp))
					}
				}
			}
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}

// validImportPath reports whether p can be imported: a clean, relative
// slash-separated path without the characters go/types and the compiler
// reject.
func validImportPath(p string) bool {
	if p == "" || path.Clean(p) != p || strings.HasPrefix(p, "/") {
		return false
	}
	for _, r := range p {
		if !unicode.IsGraphic(r) || unicode.IsSpace(r) || strings.ContainsRune("!\"#$%&'()*,:;<=>?[\\]^{|}`\uFFFD", r) {
			return false
		}
	}
	return true
}

// goImport is a Go package imported by a generated file: the name it is
// imported under and the proto element that needs it.
type goImport struct {
	name string
	path protogen.GoImportPath
	from protoreflect.Descriptor
}

func importClash(d protoreflect.Descriptor, imp goImport) string {
	return fmt.Sprintf("%s and the Go package of %s (%q, imported as %s) both map to Go identifier %s",
		describe(d), describe(imp.from), string(imp.path), imp.name, imp.name)
}

// goImports returns the names under which a generated file imports the
// Go packages of other proto files, in order: with rpc, the file this
// plugin writes for f (request and response messages, qualified in the
// emitter's order); without, protoc-gen-go's file for f (field, map and
// extension types). The names are protogen's, found by qualifying the
// types in a file left out of the output.
func goImports(gen *protogen.Plugin, f *protogen.File, opts Options, rpc bool) []goImport {
	filename, importPath := f.GeneratedFilenamePrefix+".pb.go", f.GoImportPath
	if rpc {
		filename, importPath = outputPath(f, opts)
	}
	g := gen.NewGeneratedFile(filename, importPath)
	g.Skip()
	var out []goImport
	seen := map[string]bool{}
	use := func(id protogen.GoIdent, from protoreflect.Descriptor) {
		q := g.QualifiedGoIdent(id)
		if i := strings.LastIndexByte(q, '.'); i >= 0 && !seen[q[:i]] {
			seen[q[:i]] = true
			out = append(out, goImport{name: q[:i], path: id.GoImportPath, from: from})
		}
	}
	if rpc {
		for _, s := range f.Services {
			for _, m := range s.Methods {
				g.QualifiedGoIdent(contextPackage.Ident("Context"))
				use(m.Input.GoIdent, m.Input.Desc)
				use(m.Output.GoIdent, m.Output.Desc)
			}
		}
		return out
	}
	field := func(x *protogen.Field) {
		if x.Message != nil {
			use(x.Message.GoIdent, x.Message.Desc)
		}
		if x.Enum != nil {
			use(x.Enum.GoIdent, x.Enum.Desc)
		}
		if x.Extendee != nil {
			use(x.Extendee.GoIdent, x.Extendee.Desc)
		}
	}
	var message func(m *protogen.Message)
	message = func(m *protogen.Message) {
		for _, x := range m.Fields {
			field(x)
		}
		for _, x := range m.Extensions {
			field(x)
		}
		for _, n := range m.Messages {
			message(n)
		}
	}
	for _, m := range f.Messages {
		message(m)
	}
	for _, x := range f.Extensions {
		field(x)
	}
	return out
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
