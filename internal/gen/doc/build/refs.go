package build

import (
	"slices"
	"sort"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/polyrpc/polyrpc/internal/gen/doc/comment"
)

// Cross-references are settled here, where the scope of each comment is
// known; the renderers then link full names of documented elements
// (package comment). A reference's label is looked up as protoc looks up a
// type name: relative to the commented element, then to each enclosing
// scope out to the root ("[Task.status][]" in a comment of
// google.cloud.tasks.v2.Queue finds google.cloud.tasks.v2.Task.status).
// A label that names a documented element becomes its full name (its
// anchor); one that names an element the run does not document becomes a
// link to the reference documentation of a well-known type or to the
// extern_url of its package, and otherwise stays for the renderers, which
// print its text with a note. Such references, and those that name no
// element of the request at all, are reported (Unresolved).

// ExternURL links the elements of a package (and of the packages below
// it) that the run does not document: to URL + "#" + the element's full
// name, as rpcdoc's own anchors are.
type ExternURL struct {
	Package string // "google.type", or "" for every package
	URL     string
}

// UnresolvedRef is a reference whose target is not documented in the run.
type UnresolvedRef struct {
	File    string // proto file of the comment
	Element string // full name of the commented element
	Target  string // the reference's label
	Known   bool   // the target exists in the request, in a file not documented
}

// nameIndex finds the elements of the request by full name.
type nameIndex struct {
	byPkg      map[string][]protoreflect.FileDescriptor
	byPath     map[string]protoreflect.FileDescriptor
	documented map[string]bool // paths of the documented files
}

func newNameIndex(all []protoreflect.FileDescriptor) *nameIndex {
	ix := &nameIndex{byPkg: map[string][]protoreflect.FileDescriptor{}, byPath: map[string]protoreflect.FileDescriptor{}, documented: map[string]bool{}}
	for _, f := range all {
		ix.byPath[f.Path()] = f
		ix.byPkg[string(f.Package())] = append(ix.byPkg[string(f.Package())], f)
	}
	return ix
}

// lookup is the element with a full name, or nil.
func (ix *nameIndex) lookup(name string) protoreflect.Descriptor {
	if name == "" || len(name) > 1024 {
		return nil
	}
	parts := strings.Split(name, ".")
	for i := len(parts) - 1; i >= 0; i-- {
		for _, f := range ix.byPkg[strings.Join(parts[:i], ".")] {
			var d protoreflect.Descriptor = f
			for _, p := range parts[i:] {
				if d = child(d, protoreflect.Name(p)); d == nil {
					break
				}
			}
			if d != nil {
				return d
			}
		}
	}
	return nil
}

// file is the request's file with a path, or nil.
func (ix *nameIndex) file(path string) protoreflect.FileDescriptor { return ix.byPath[path] }

// nearest finds, among the elements of package pkg, the one whose full
// name ends with name, comparing each dotted part without case and
// underscores ("Profile.CreateTime" finds Profile.create_time,
// "CreateCompany" CompanyService.CreateCompany): the reference as its
// writer meant it, when no scope holds the name as written. It returns
// nil unless exactly one element matches.
func (ix *nameIndex) nearest(pkg, name string) protoreflect.Descriptor {
	want := strings.Split(name, ".")
	for i, w := range want {
		want[i] = loose(w)
	}
	var found protoreflect.Descriptor
	n := 0
	var visit func(d protoreflect.Descriptor)
	match := func(d protoreflect.Descriptor) {
		fn := anchorOf(d)
		for i := len(want) - 1; i >= 0; i-- {
			j := strings.LastIndexByte(fn, '.')
			if j < 0 || loose(fn[j+1:]) != want[i] {
				return
			}
			fn = fn[:j]
		}
		if found == nil || anchorOf(found) != anchorOf(d) {
			n++
		}
		found = d
	}
	visit = func(d protoreflect.Descriptor) {
		match(d)
		switch d := d.(type) {
		case protoreflect.MessageDescriptor:
			for i := 0; i < d.Fields().Len(); i++ {
				match(d.Fields().Get(i))
			}
			for i := 0; i < d.Messages().Len(); i++ {
				visit(d.Messages().Get(i))
			}
			for i := 0; i < d.Enums().Len(); i++ {
				visit(d.Enums().Get(i))
			}
		case protoreflect.EnumDescriptor:
			for i := 0; i < d.Values().Len(); i++ {
				match(d.Values().Get(i))
			}
		case protoreflect.ServiceDescriptor:
			for i := 0; i < d.Methods().Len(); i++ {
				match(d.Methods().Get(i))
			}
		}
	}
	for _, f := range ix.byPkg[pkg] {
		for i := 0; i < f.Messages().Len(); i++ {
			visit(f.Messages().Get(i))
		}
		for i := 0; i < f.Enums().Len(); i++ {
			visit(f.Enums().Get(i))
		}
		for i := 0; i < f.Services().Len(); i++ {
			visit(f.Services().Get(i))
		}
	}
	if n != 1 {
		return nil
	}
	return found
}

// maxLooseLookups bounds the loose lookups of one file's comments, each a
// walk over a package, so that a file of many bad references stays fast.
const maxLooseLookups = 4096

// nearest is nameIndex.nearest, remembered per file and bounded.
func (b *builder) nearest(pkg, name string) protoreflect.Descriptor {
	key := pkg + "\x00" + name
	if d, ok := b.loose[key]; ok {
		return d
	}
	if len(b.loose) >= maxLooseLookups {
		return nil
	}
	if b.loose == nil {
		b.loose = map[string]protoreflect.Descriptor{}
	}
	d := b.names.nearest(pkg, name)
	b.loose[key] = d
	return d
}

func p0(pkgs []string) string {
	if len(pkgs) == 0 {
		return ""
	}
	return pkgs[0]
}

// definedLabels are the labels of the link reference definitions of a
// comment ("[label]: URL" at the start of a line).
func definedLabels(src string) map[string]bool {
	defs := map[string]bool{}
	for _, l := range strings.Split(src, "\n") {
		l = strings.TrimLeft(l, " ")
		if !strings.HasPrefix(l, "[") {
			continue
		}
		if i := strings.Index(l, "]:"); i > 1 {
			defs[l[1:i]] = true
		}
	}
	return defs
}

// loose is a name part without case and underscores.
func loose(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }

// child is the element named name directly inside d, or nil. Enum values
// are found both inside their enum and beside it, as protobuf scopes them.
// Lists are searched in order: their ByName methods build indexes that
// the descriptors keep, for every message a lookup passes through.
func child(d protoreflect.Descriptor, name protoreflect.Name) protoreflect.Descriptor {
	type container interface {
		Messages() protoreflect.MessageDescriptors
		Enums() protoreflect.EnumDescriptors
		Extensions() protoreflect.ExtensionDescriptors
	}
	switch d := d.(type) {
	case protoreflect.MessageDescriptor:
		if f := fieldNamed(d.Fields(), name); f != nil {
			return f
		}
		for i := 0; i < d.Oneofs().Len(); i++ {
			if o := d.Oneofs().Get(i); o.Name() == name {
				return o
			}
		}
	case protoreflect.FileDescriptor:
		for i := 0; i < d.Services().Len(); i++ {
			if s := d.Services().Get(i); s.Name() == name {
				return s
			}
		}
	case protoreflect.EnumDescriptor:
		return valueNamed(d.Values(), name)
	case protoreflect.ServiceDescriptor:
		for i := 0; i < d.Methods().Len(); i++ {
			if m := d.Methods().Get(i); m.Name() == name {
				return m
			}
		}
		return nil
	case protoreflect.FieldDescriptor:
		// A path through fields: Request.config.name.
		if m := d.Message(); m != nil && !d.IsMap() {
			return child(m, name)
		}
		return nil
	default:
		return nil
	}
	c := d.(container)
	for i := 0; i < c.Messages().Len(); i++ {
		if m := c.Messages().Get(i); m.Name() == name {
			return m
		}
	}
	for i := 0; i < c.Enums().Len(); i++ {
		if e := c.Enums().Get(i); e.Name() == name {
			return e
		}
	}
	for i := 0; i < c.Extensions().Len(); i++ {
		if x := c.Extensions().Get(i); x.Name() == name {
			return x
		}
	}
	for i := 0; i < c.Enums().Len(); i++ {
		if v := valueNamed(c.Enums().Get(i).Values(), name); v != nil {
			return v
		}
	}
	return nil
}

func valueNamed(vs protoreflect.EnumValueDescriptors, name protoreflect.Name) protoreflect.EnumValueDescriptor {
	for i := 0; i < vs.Len(); i++ {
		if v := vs.Get(i); v.Name() == name {
			return v
		}
	}
	return nil
}

// anchorOf is the anchor of an element: its full name, and for an enum
// value its enum's full name and its own name.
func anchorOf(d protoreflect.Descriptor) string {
	if v, ok := d.(protoreflect.EnumValueDescriptor); ok {
		return string(v.Parent().FullName()) + "." + string(v.Name())
	}
	return string(d.FullName())
}

// documented reports whether the documents hold an element.
func (b *builder) documented(d protoreflect.Descriptor) bool {
	if !b.names.documented[d.ParentFile().Path()] {
		return b.listed != nil && b.listed[holderOf(d)]
	}
	for p := d; p != nil; p = p.Parent() {
		if _, ok := p.(protoreflect.FileDescriptor); ok {
			return true
		}
		if b.hidden[p.FullName()] {
			return false
		}
		if m, ok := p.(protoreflect.MessageDescriptor); ok && m.IsMapEntry() {
			return false
		}
	}
	return true
}

// externURL is where an element the run does not document is documented:
// protobuf.dev for the well-known types, or the longest extern_url
// package that holds it; "" when nowhere.
func (b *builder) externURL(d protoreflect.Descriptor) string {
	if wellKnownFiles[d.ParentFile().Path()] {
		top := d
		for p := d; p != nil; p = p.Parent() {
			if _, ok := p.(protoreflect.FileDescriptor); ok {
				break
			}
			top = p
		}
		if _, ok := top.(protoreflect.MessageDescriptor); ok {
			return wktURL(top.FullName())
		}
		if _, ok := top.(protoreflect.EnumDescriptor); ok {
			return wktURL(top.FullName())
		}
	}
	return b.externFor(string(d.ParentFile().Package()), anchorOf(d))
}

// externFor links an element of package pkg by anchor through the
// longest matching extern_url, or "".
func (b *builder) externFor(pkg, anchor string) string {
	best, bestLen := "", -1
	for _, e := range b.cfg.Extern {
		if (e.Package == "" || pkg == e.Package || strings.HasPrefix(pkg, e.Package+".")) && len(e.Package) > bestLen {
			best, bestLen = e.URL, len(e.Package)
		}
	}
	if bestLen < 0 {
		return ""
	}
	return best + "#" + anchor
}

// xref settles the references of a comment written in scope (the full
// name of the commented element, or the file's package).
func (b *builder) xref(src string, scope protoreflect.FullName, file string) string {
	if b.names == nil || !strings.Contains(src, "]") {
		return src
	}
	pkg := ""
	var pkgs []string
	if fd := b.names.file(file); fd != nil {
		pkg = string(fd.Package())
		pkgs = append(pkgs, pkg)
		for i := 0; i < fd.Imports().Len(); i++ {
			if p := string(fd.Imports().Get(i).Package()); !slices.Contains(pkgs, p) {
				pkgs = append(pkgs, p)
			}
		}
	}
	var defs map[string]bool
	return comment.RewriteRefs(src, func(r comment.Ref) (string, string, bool) {
		label := strings.TrimSpace(r.Label)
		if (strings.HasPrefix(label, "https://") || strings.HasPrefix(label, "http://")) && !strings.ContainsAny(label, " <>()") {
			return "", label, true // "[AIP-160][https://google.aip.dev/160]"
		}
		abs := strings.HasPrefix(label, ".")
		name := strings.TrimPrefix(label, ".")
		dotted := comment.IsProtoName(name)
		if !dotted && (r.Shortcut || !comment.IsIdent(name)) {
			return "", "", false // "[word]" and "[some text][]" are not references
		}
		if defs == nil && strings.Contains(src, "]:") {
			defs = definedLabels(src)
		}
		if defs[r.Label] {
			return "", "", false // the comment defines the label itself
		}
		var d protoreflect.Descriptor
		if dotted {
			if d = b.names.lookup(name); d != nil && anchorOf(d) == name && b.documented(d) {
				return "", "", false // already what the renderers link
			}
		}
		if d == nil && !abs {
			for s := string(scope); ; {
				cand := name
				if s != "" {
					cand = s + "." + name
				}
				if d = b.names.lookup(cand); d != nil || s == "" {
					break
				}
				if i := strings.LastIndexByte(s, '.'); i >= 0 {
					s = s[:i]
				} else {
					s = ""
				}
			}
		}
		if d == nil && !abs && !r.Shortcut && 'A' <= name[0] && name[0] <= 'Z' {
			// Not as written: as meant, in the comment's package, then in
			// those its file imports. (A name that starts with a package
			// is taken as written.)
			for _, p := range pkgs {
				if d = b.nearest(p, name); d != nil {
					break
				}
			}
			if i := strings.LastIndexByte(name, '.'); d == nil && i >= 0 {
				// A wrong service or message name: the element itself,
				// when its name is unique in the package.
				d = b.nearest(p0(pkgs), name[i+1:])
			}
		}
		if d == nil {
			if r.Shortcut {
				return "", "", false
			}
			b.unresolved = append(b.unresolved, UnresolvedRef{File: file, Element: string(scope), Target: name})
			if !dotted && pkg != "" {
				// The renderers show a full name's unknown target as text
				// with a note; a bare name would stay as written.
				return pkg + "." + name, "", true
			}
			return "", "", false
		}
		a := anchorOf(d)
		if b.documented(d) {
			return a, "", true
		}
		if u := b.externURL(d); u != "" {
			return "", u, true
		}
		if b.refer(d) {
			return a, "", true // listed with the referenced types
		}
		if !r.Shortcut {
			b.unresolved = append(b.unresolved, UnresolvedRef{File: file, Element: string(scope), Target: a, Known: true})
		}
		if a != name {
			return a, "", true
		}
		return "", "", false
	})
}

// SortUnresolved orders references by file, element and target.
func sortUnresolved(u []UnresolvedRef) {
	sort.SliceStable(u, func(i, j int) bool {
		if u[i].File != u[j].File {
			return u[i].File < u[j].File
		}
		if u[i].Element != u[j].Element {
			return u[i].Element < u[j].Element
		}
		return u[i].Target < u[j].Target
	})
}
