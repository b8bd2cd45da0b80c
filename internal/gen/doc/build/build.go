// Package build makes the documentation model from the request's files:
// one model.File per documented file, built on parallel workers, with
// comments cleaned up, elements marked @hide left out (hide.go), options
// flattened and validation rules made readable (options.go), and sample
// requests and responses (sample.go, with values from annotations, rules
// and names: values.go) and call examples per protocol (example.go) for
// each method. It also lists the elements without comments for
// require_comments, as lint findings.
package build

import (
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/polyrpc/polyrpc/internal/gen/doc/comment"
	"github.com/polyrpc/polyrpc/internal/gen/doc/lint"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
	"github.com/polyrpc/polyrpc/internal/gen/doc/parallel"
	"github.com/polyrpc/polyrpc/internal/gen/doc/request"
)

// Config is what the model depends on among the plugin options.
type Config struct {
	BaseURL         string // server address of the call examples
	Alpha           bool   // elements in alphabetical order instead of declaration order
	RequireComments bool   // collect the elements without comments
	// Ignore reports whether an element without a comment is left out of
	// the findings (lint_ignore); nil ignores nothing. It is called with
	// the element's full name and, for an enum value, once more with the
	// enum's full name plus the value's name.
	Ignore func(fullName string) bool

	// DefaultHost makes the call examples of a service with a
	// google.api.default_host call https:// and that host.
	DefaultHost bool
	// Extern links elements that the run does not document (extern_url).
	Extern []ExternURL
	// Referenced lists the elements that documented files refer to and
	// that no documented file defines (referenced.go), except those of
	// files Excluded reports (nil excludes none).
	Referenced bool
	Excluded   func(path string) bool
	// ReferencedAll lists, with Referenced, what the listed elements
	// refer to as well, transitively.
	ReferencedAll bool
	// ReferencedSources are the comments of files not documented, for
	// the listed elements (nil: they are listed without comments).
	ReferencedSources request.Sources
	// Unresolved, when not nil, receives the references of comments whose
	// target is not documented in the run (refs.go).
	Unresolved *[]UnresolvedRef
}

// builder turns the descriptors of a request into the documentation model.
type builder struct {
	cfg     Config
	files   []*request.File // files to document, in request order
	inDoc   map[protoreflect.FullName]bool
	hidden  map[protoreflect.FullName]bool
	opt     *optionReader
	src     request.Sources
	missing []lint.Finding // undocumented elements, for require_comments
	// resources maps the resource types defined in the run to the anchor
	// of their definition (googleapi.go).
	resources     map[string]string
	resourceFiles map[string]string // type -> file showing its definition

	all []protoreflect.FileDescriptor // every file of the request
	res *resourceCache                // its resources, for samples

	names      *nameIndex      // the request's elements, for references
	unresolved []UnresolvedRef // references to elements not documented
	referenced map[protoreflect.FullName]bool
	loose      map[string]protoreflect.Descriptor // loose lookups done (refs.go)
	listed     map[protoreflect.FullName]bool     // referenced elements listed (referenced.go)
}

// Source paths of file-level statements (descriptor.proto field numbers).
const (
	fileSyntaxPath  = 12
	filePackagePath = 2
	fileEditionPath = 14
)

func (b *builder) buildFile(f *request.File) *model.File {
	fd := f.Desc
	out := &model.File{
		Name:    f.Desc.Path(),
		Anchor:  "file:" + f.Desc.Path(),
		Package: string(fd.Package()),
	}
	switch fd.Syntax() {
	case protoreflect.Proto2:
		out.Syntax = "proto2"
	case protoreflect.Proto3:
		out.Syntax = "proto3"
	default:
		out.Syntax = "editions"
		out.Edition = editionName(f.Edition)
		out.Features = resolvedFeatures(f.Edition, fd.Options().(*descriptorpb.FileOptions).GetFeatures())
	}
	var desc []string
	for _, p := range []int32{fileSyntaxPath, fileEditionPath, filePackagePath} {
		loc := b.src.Loc(fd.Path(), []int32{p}).Comments()
		for _, d := range loc.LeadingDetached {
			if s := comment.Clean(d); s != "" && p == filePackagePath && !licenseHeader(s) {
				out.DetachedComments = append(out.DetachedComments, s)
			}
		}
		if s := comment.Clean(loc.Leading); s != "" && !licenseHeader(s) {
			desc = append(desc, s)
		}
		if s := comment.Clean(loc.Trailing); s != "" {
			desc = append(desc, s)
		}
	}
	out.Description = b.xref(strings.Join(desc, "\n\n"), fd.Package(), fd.Path())
	for i, d := range out.DetachedComments {
		out.DetachedComments[i] = b.xref(d, fd.Package(), fd.Path())
	}
	out.Deprecated = fd.Options().(*descriptorpb.FileOptions).GetDeprecated()
	out.Options = b.opt.options(fd.Options())
	out.Resources = b.fileResources(fd)
	for i := 0; i < fd.Imports().Len(); i++ {
		out.Imports = append(out.Imports, fd.Imports().Get(i).Path())
	}
	pkg := out.Package
	for _, s := range f.Services {
		if b.hidden[s.Desc.FullName()] {
			continue
		}
		out.Services = append(out.Services, b.buildService(s, pkg))
	}
	for _, e := range f.Enums {
		if !b.hidden[e.Desc.FullName()] {
			out.Enums = append(out.Enums, b.buildEnum(e, pkg))
		}
	}
	var walk func(ms []*request.Message)
	walk = func(ms []*request.Message) {
		for _, m := range ms {
			if m.Desc.IsMapEntry() || b.hidden[m.Desc.FullName()] {
				continue
			}
			out.Messages = append(out.Messages, b.buildMessage(m, pkg))
			for _, e := range m.Enums {
				if !b.hidden[e.Desc.FullName()] {
					out.Enums = append(out.Enums, b.buildEnum(e, pkg))
				}
			}
			walk(m.Messages)
		}
	}
	walk(f.Messages)
	for _, x := range f.Extensions {
		if !b.hidden[x.Desc.FullName()] {
			out.Extensions = append(out.Extensions, b.buildField(x, pkg))
		}
	}
	if b.cfg.Alpha {
		sort.SliceStable(out.Services, func(i, j int) bool { return out.Services[i].Name < out.Services[j].Name })
		for _, s := range out.Services {
			sort.SliceStable(s.Methods, func(i, j int) bool { return s.Methods[i].Name < s.Methods[j].Name })
		}
		sort.SliceStable(out.Messages, func(i, j int) bool { return out.Messages[i].Name < out.Messages[j].Name })
		sort.SliceStable(out.Enums, func(i, j int) bool { return out.Enums[i].Name < out.Enums[j].Name })
		sort.SliceStable(out.Extensions, func(i, j int) bool { return out.Extensions[i].FullName < out.Extensions[j].FullName })
		for _, m := range out.Messages {
			sort.SliceStable(m.Extensions, func(i, j int) bool { return m.Extensions[i].FullName < m.Extensions[j].FullName })
			sort.SliceStable(m.NestedMessages, func(i, j int) bool { return m.NestedMessages[i].Name < m.NestedMessages[j].Name })
			sort.SliceStable(m.NestedEnums, func(i, j int) bool { return m.NestedEnums[i].Name < m.NestedEnums[j].Name })
		}
	}
	return out
}

func editionName(e descriptorpb.Edition) string {
	s := strings.TrimPrefix(e.String(), "EDITION_")
	return s
}

// comment returns the Markdown description of an element (leading and
// trailing comments) and, for require_comments, records it as undocumented
// when empty.
func (b *builder) comment(kind string, d protoreflect.Descriptor, cs request.Comments) string {
	var parts []string
	if s := comment.Clean(string(cs.Leading)); s != "" {
		parts = append(parts, s)
	}
	if s := comment.Clean(string(cs.Trailing)); s != "" {
		parts = append(parts, s)
	}
	for i, p := range parts {
		parts[i] = b.xref(p, d.FullName(), d.ParentFile().Path())
	}
	if len(parts) == 0 && b.cfg.RequireComments && !b.ignored(d) {
		f := lint.Finding{File: d.ParentFile().Path(), Element: string(d.FullName()), Kind: kind}
		if l := b.src.Of(d); l != nil {
			f.Line, f.Column = int(l.Line)+1, int(l.Col)+1
		}
		b.missing = append(b.missing, f)
	}
	return strings.Join(parts, "\n\n")
}

func (b *builder) buildService(s *request.Service, pkg string) *model.Service {
	out := &model.Service{
		Name:        string(s.Desc.Name()),
		FullName:    string(s.Desc.FullName()),
		Anchor:      string(s.Desc.FullName()),
		Description: b.comment("service", s.Desc, s.Comments),
		Deprecated:  s.Desc.Options().(*descriptorpb.ServiceOptions).GetDeprecated(),
		Options:     b.opt.options(s.Desc.Options()),
	}
	if a := b.opt.entry(s.Desc.Options()).annotations(); a != noAnnotations {
		out.DefaultHost, out.OAuthScopes = a.defaultHost, a.scopes
	}
	for _, m := range s.Methods {
		if b.hidden[m.Desc.FullName()] {
			continue
		}
		out.Methods = append(out.Methods, b.buildMethod(m, pkg))
	}
	return out
}

func (b *builder) buildMethod(m *request.Method, pkg string) *model.Method {
	md := m.Desc
	opts := md.Options().(*descriptorpb.MethodOptions)
	out := &model.Method{
		Name:        string(md.Name()),
		FullName:    string(md.FullName()),
		Anchor:      string(md.FullName()),
		Description: b.comment("method", md, m.Comments),
		Deprecated:  opts.GetDeprecated(),
		Request:     b.namedRef(md.Input().FullName(), "message", pkg, md.Input().ParentFile()),
		Response:    b.namedRef(md.Output().FullName(), "message", pkg, md.Output().ParentFile()),
		Procedure:   "/" + string(md.Parent().FullName()) + "/" + string(md.Name()),
	}
	switch {
	case md.IsStreamingClient() && md.IsStreamingServer():
		out.Streaming = "bidi_streaming"
	case md.IsStreamingClient():
		out.Streaming = "client_streaming"
	case md.IsStreamingServer():
		out.Streaming = "server_streaming"
	default:
		out.Streaming = "unary"
	}
	if opts.GetIdempotencyLevel() != descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN {
		out.Idempotency = opts.GetIdempotencyLevel().String()
	}
	// What the polyrpc handler serves: gRPC needs HTTP/2; bidi streams need
	// HTTP/2 on every protocol.
	h1h2, h2 := []string{"HTTP/1.1", "HTTP/2"}, []string{"HTTP/2"}
	web := h1h2
	if out.Streaming == "bidi_streaming" {
		web = h2
	}
	out.Protocols = []model.Protocol{{Name: "Connect", HTTP: web}, {Name: "gRPC", HTTP: h2}, {Name: "gRPC-Web", HTTP: web}}
	oe := b.opt.entry(md.Options())
	out.HTTPRules = httpRules(oe.msg())
	b.annotateHTTP(out.HTTPRules, md.Input())
	out.Options = oe.list()
	out.Signatures = oe.annotations().signatures
	b.examples(out, md)
	return out
}

func (b *builder) buildMessage(m *request.Message, pkg string) *model.Message {
	md := m.Desc
	opts := md.Options().(*descriptorpb.MessageOptions)
	oe := b.opt.entry(md.Options())
	out := &model.Message{
		Name:        relName(md.FullName(), pkg),
		FullName:    string(md.FullName()),
		Anchor:      string(md.FullName()),
		Description: b.comment("message", md, m.Comments),
		Deprecated:  opts.GetDeprecated(),
		Rules:       messageRules(oe.msg()),
		Options:     oe.list(),
	}
	annotateMessage(out, oe.annotations())
	if p, ok := md.Parent().(protoreflect.MessageDescriptor); ok {
		out.Parent = string(p.FullName())
	}
	for _, f := range m.Fields {
		if b.hidden[f.Desc.FullName()] {
			continue
		}
		out.Fields = append(out.Fields, b.buildField(f, pkg))
	}
	for _, o := range m.Oneofs {
		if o.Desc.IsSynthetic() || b.hidden[o.Desc.FullName()] {
			continue
		}
		oo := &model.Oneof{
			Name:        string(o.Desc.Name()),
			FullName:    string(o.Desc.FullName()),
			Anchor:      string(o.Desc.FullName()),
			Description: b.xref(joinComments(o.Comments), o.Desc.FullName(), md.ParentFile().Path()),
		}
		ooe := b.opt.entry(o.Desc.Options())
		oo.Rules = oneofRules(ooe.msg())
		oo.Options = ooe.list()
		for _, f := range o.Fields {
			if !b.hidden[f.Desc.FullName()] {
				oo.Fields = append(oo.Fields, string(f.Desc.Name()))
			}
		}
		if len(oo.Fields) > 0 {
			out.Oneofs = append(out.Oneofs, oo)
		}
	}
	for _, n := range m.Messages {
		if n.Desc.IsMapEntry() || b.hidden[n.Desc.FullName()] {
			continue
		}
		out.NestedMessages = append(out.NestedMessages, b.namedRef(n.Desc.FullName(), "message", pkg, n.Desc.ParentFile()))
	}
	for _, e := range m.Enums {
		if !b.hidden[e.Desc.FullName()] {
			out.NestedEnums = append(out.NestedEnums, b.namedRef(e.Desc.FullName(), "enum", pkg, e.Desc.ParentFile()))
		}
	}
	out.ReservedRanges = fieldRanges(md.ReservedRanges())
	out.ReservedNames = names(md.ReservedNames())
	out.ExtensionRanges = fieldRanges(md.ExtensionRanges())
	for _, x := range m.Extensions {
		if !b.hidden[x.Desc.FullName()] {
			out.Extensions = append(out.Extensions, b.buildField(x, pkg))
		}
	}
	return out
}

func joinComments(cs request.Comments) string {
	var parts []string
	for _, c := range []string{cs.Leading, cs.Trailing} {
		if s := comment.Clean(string(c)); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n\n")
}

func (b *builder) buildField(f *request.Field, pkg string) *model.Field {
	fd := f.Desc
	kind := "field"
	if fd.IsExtension() {
		kind = "extension"
	}
	opts := fd.Options().(*descriptorpb.FieldOptions)
	oe := b.opt.entry(fd.Options())
	out := &model.Field{
		Name:        string(fd.Name()),
		FullName:    string(fd.FullName()),
		Anchor:      string(fd.FullName()),
		Number:      int32(fd.Number()),
		JSONName:    fd.JSONName(),
		Type:        b.typeRef(fd, pkg),
		Deprecated:  opts.GetDeprecated(),
		Description: b.fieldComment(kind, f),
		Rules:       fieldRules(oe.msg()),
		Options:     oe.list(),
	}
	b.annotateField(out, oe.annotations())
	if fd.IsExtension() {
		out.JSONName = "[" + string(fd.FullName()) + "]"
		x := b.namedRef(fd.ContainingMessage().FullName(), "message", pkg, fd.ContainingMessage().ParentFile())
		out.Extendee = &x
	}
	if o := fd.ContainingOneof(); o != nil && !o.IsSynthetic() {
		out.Oneof = string(o.Name())
	}
	switch {
	case fd.IsMap():
		out.Label, out.Presence = "map", "repeated"
	case fd.IsList():
		out.Label, out.Presence = "repeated", "repeated"
	case fd.Cardinality() == protoreflect.Required:
		out.Label, out.Presence = "required", "required"
	case fd.HasPresence():
		out.Presence = "explicit"
		if out.Oneof == "" {
			out.Label = "optional"
		}
	default:
		out.Presence = "implicit"
	}
	if fd.HasDefault() {
		out.Default = formatDefault(fd)
	}
	return out
}

func formatDefault(fd protoreflect.FieldDescriptor) string {
	v := fd.Default()
	switch fd.Kind() {
	case protoreflect.EnumKind:
		if ev := fd.DefaultEnumValue(); ev != nil {
			return string(ev.Name())
		}
		return strconv.Itoa(int(v.Enum()))
	case protoreflect.StringKind:
		return strconv.Quote(v.String())
	case protoreflect.BytesKind:
		return quoteBytes(v.Bytes())
	}
	return scalarText(v, fd)
}

func (b *builder) buildEnum(e *request.Enum, pkg string) *model.Enum {
	ed := e.Desc
	out := &model.Enum{
		Name:        relName(ed.FullName(), pkg),
		FullName:    string(ed.FullName()),
		Anchor:      string(ed.FullName()),
		Description: b.comment("enum", ed, e.Comments),
		Deprecated:  ed.Options().(*descriptorpb.EnumOptions).GetDeprecated(),
		Closed:      ed.IsClosed(),
		Values:      []*model.EnumValue{},
		Options:     b.opt.options(ed.Options()),
	}
	if p, ok := ed.Parent().(protoreflect.MessageDescriptor); ok {
		out.Parent = string(p.FullName())
	}
	first := map[protoreflect.EnumNumber]string{}
	for _, v := range e.Values {
		vd := v.Desc
		name := string(vd.Name())
		alias := ""
		if f, ok := first[vd.Number()]; ok {
			alias = f
		} else {
			first[vd.Number()] = name
		}
		if b.hidden[vd.FullName()] {
			continue
		}
		fn := string(ed.FullName()) + "." + name
		out.Values = append(out.Values, &model.EnumValue{
			Name:        name,
			FullName:    fn,
			Anchor:      fn,
			Number:      int32(vd.Number()),
			AliasOf:     alias,
			Deprecated:  vd.Options().(*descriptorpb.EnumValueOptions).GetDeprecated(),
			Description: b.comment("enum value", vd, v.Comments),
			Options:     b.opt.options(vd.Options()),
		})
	}
	out.ReservedRanges = enumRanges(ed.ReservedRanges())
	out.ReservedNames = names(ed.ReservedNames())
	return out
}

// typeRef describes the type of a field.
func (b *builder) typeRef(fd protoreflect.FieldDescriptor, pkg string) model.TypeRef {
	if fd.IsMap() {
		k := b.typeRef(fd.MapKey(), pkg)
		v := b.typeRef(fd.MapValue(), pkg)
		return model.TypeRef{Name: "map<" + k.Name + ", " + v.Name + ">", Kind: "map", FullName: v.FullName, URL: v.URL, Key: &k, Value: &v}
	}
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return b.namedRef(fd.Message().FullName(), "message", pkg, fd.Message().ParentFile())
	case protoreflect.EnumKind:
		return b.namedRef(fd.Enum().FullName(), "enum", pkg, fd.Enum().ParentFile())
	}
	return model.TypeRef{Name: fd.Kind().String(), Kind: "scalar"}
}

func (b *builder) namedRef(fn protoreflect.FullName, kind, pkg string, file protoreflect.FileDescriptor) model.TypeRef {
	r := model.TypeRef{Name: relName(fn, pkg), Kind: kind, FullName: string(fn)}
	if file != nil && wellKnownFiles[file.Path()] && !b.inDoc[fn] {
		r.URL = wktURL(fn)
	} else if file != nil && !b.inDoc[fn] {
		if len(b.cfg.Extern) > 0 {
			r.URL = b.externFor(string(file.Package()), string(fn))
		}
		if r.URL == "" && b.cfg.Referenced && b.names != nil {
			b.refer(b.names.lookup(string(fn)))
		}
	}
	return r
}

// wellKnownFiles define the well-known types documented at protobuf.dev.
var wellKnownFiles = map[string]bool{
	"google/protobuf/any.proto":            true,
	"google/protobuf/api.proto":            true,
	"google/protobuf/duration.proto":       true,
	"google/protobuf/empty.proto":          true,
	"google/protobuf/field_mask.proto":     true,
	"google/protobuf/source_context.proto": true,
	"google/protobuf/struct.proto":         true,
	"google/protobuf/timestamp.proto":      true,
	"google/protobuf/type.proto":           true,
	"google/protobuf/wrappers.proto":       true,
}

// wktURL is the reference documentation of a well-known type.
func wktURL(fn protoreflect.FullName) string {
	name := strings.TrimPrefix(string(fn), "google.protobuf.")
	if i := strings.IndexByte(name, '.'); i >= 0 {
		name = name[:i]
	}
	var b strings.Builder
	for i, r := range name {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return "https://protobuf.dev/reference/protobuf/google.protobuf/#" + b.String()
}

// relName is a full name relative to a package.
func relName(fn protoreflect.FullName, pkg string) string {
	s := string(fn)
	if pkg != "" && strings.HasPrefix(s, pkg+".") {
		return s[len(pkg)+1:]
	}
	return s
}

func fieldRanges(r protoreflect.FieldRanges) []string {
	var out []string
	for i := 0; i < r.Len(); i++ {
		rg := r.Get(i)
		lo, hi := int(rg[0]), int(rg[1])-1 // end is exclusive
		out = append(out, rangeText(lo, hi, hi == int(protowire.MaxValidNumber)))
	}
	return out
}

func enumRanges(r protoreflect.EnumRanges) []string {
	var out []string
	for i := 0; i < r.Len(); i++ {
		rg := r.Get(i) // end is inclusive
		out = append(out, rangeText(int(rg[0]), int(rg[1]), rg[1] == 2147483647))
	}
	return out
}

func rangeText(lo, hi int, max bool) string {
	switch {
	case lo == hi:
		return strconv.Itoa(lo)
	case max:
		return strconv.Itoa(lo) + " to max"
	}
	return strconv.Itoa(lo) + " to " + strconv.Itoa(hi)
}

func names(n protoreflect.Names) []string {
	var out []string
	for i := 0; i < n.Len(); i++ {
		out = append(out, string(n.Get(i)))
	}
	return out
}

// fieldComment is the description of a field; a group without its own
// comment takes the comment of its message.
func (b *builder) fieldComment(kind string, f *request.Field) string {
	if f.Desc.Kind() == protoreflect.GroupKind && f.Desc.Message() != nil && joinComments(f.Comments) == "" {
		if s := joinComments(b.src.Comments(f.Desc.Message())); s != "" {
			return b.xref(s, f.Desc.Message().FullName(), f.Desc.ParentFile().Path())
		}
	}
	return b.comment(kind, f.Desc, f.Comments)
}

// ignored reports whether an undocumented element is left out of the
// findings.
func (b *builder) ignored(d protoreflect.Descriptor) bool {
	if b.cfg.Ignore == nil {
		return false
	}
	if b.cfg.Ignore(string(d.FullName())) {
		return true
	}
	// An enum value's full name is in the enum's scope; its enum's name
	// plus its own reads as what it is (acme.v1.Status.*).
	if v, ok := d.(protoreflect.EnumValueDescriptor); ok {
		return b.cfg.Ignore(string(v.Parent().FullName()) + "." + string(v.Name()))
	}
	return false
}

// resolvedFeatures applies a file's features to the defaults of its
// edition, which descriptor.proto declares on each FeatureSet field.
func resolvedFeatures(edition descriptorpb.Edition, set *descriptorpb.FeatureSet) []model.Option {
	md := (&descriptorpb.FeatureSet{}).ProtoReflect().Descriptor()
	explicit := set.ProtoReflect()
	var out []model.Option
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		if set != nil && explicit.Has(fd) {
			out = append(out, model.Option{Name: string(fd.Name()), Value: formatValue(fd, explicit.Get(fd)), JSON: optionJSON(fd, explicit.Get(fd))})
			continue
		}
		var best *descriptorpb.FieldOptions_EditionDefault
		for _, d := range fd.Options().(*descriptorpb.FieldOptions).GetEditionDefaults() {
			if d.GetEdition() <= edition && (best == nil || d.GetEdition() > best.GetEdition()) {
				best = d
			}
		}
		if best != nil {
			out = append(out, model.Option{Name: string(fd.Name()), Value: best.GetValue(), JSON: defaultJSON(fd, best.GetValue())})
		}
	}
	return out
}

// Files makes the model of the selected files, in path order; all
// holds every file of the request (for custom option definitions). When
// cfg.RequireComments is set, it also returns the undocumented elements,
// in request file order and then source order. The element trees of the
// selected files are dropped as they are built.
func Files(cfg Config, all []protoreflect.FileDescriptor, selected []*request.File) ([]*model.File, []lint.Finding, error) {
	b := &builder{cfg: cfg, inDoc: map[protoreflect.FullName]bool{}, files: selected, all: all, res: &resourceCache{}}
	b.hidden = computeHidden(b.files)
	b.opt = newOptionReader(all)
	b.names = newNameIndex(all)
	order := map[string]int{}
	for i, f := range b.files {
		markDocumented(f.Desc, b.inDoc)
		order[f.Desc.Path()] = i
		b.names.documented[f.Desc.Path()] = true
	}
	b.indexResources()
	// Files are built in parallel, each by a copy of the builder that
	// reads the file's own source locations and collects its own
	// undocumented elements. A file's tree and comments go once it is
	// built: the model holds what the documents need.
	files := make([]*model.File, len(b.files))
	missing := make([][]lint.Finding, len(b.files))
	unresolved := make([][]UnresolvedRef, len(b.files))
	referenced := make([]map[protoreflect.FullName]bool, len(b.files))
	err := parallel.For(len(b.files), func(i int) {
		f := b.files[i]
		fb := *b
		fb.src = request.Sources{f.Desc.Path(): f.Src}
		fb.missing = nil
		fb.loose = nil
		files[i] = fb.buildFile(f)
		missing[i] = fb.missing
		unresolved[i] = fb.unresolved
		referenced[i] = fb.referenced
		b.files[i] = nil
	})
	if err != nil {
		return nil, nil, err
	}
	for _, m := range missing {
		b.missing = append(b.missing, m...)
	}
	if cfg.Referenced {
		names := map[protoreflect.FullName]bool{}
		for _, r := range referenced {
			for n := range r {
				names[n] = true
			}
		}
		if cfg.ReferencedAll {
			b.closeReferenced(names)
		}
		refFiles, refUnresolved := b.referencedFiles(names)
		files = append(files, refFiles...)
		unresolved = append(unresolved, refUnresolved)
	}
	if cfg.Unresolved != nil {
		var all []UnresolvedRef
		for _, u := range unresolved {
			all = append(all, u...)
		}
		sortUnresolved(all)
		*cfg.Unresolved = all
	}
	sort.SliceStable(b.missing, func(i, j int) bool {
		x, y := b.missing[i], b.missing[j]
		if x.File != y.File {
			return order[x.File] < order[y.File]
		}
		if x.Line != y.Line {
			return x.Line < y.Line
		}
		return x.Column < y.Column
	})
	// Files always come in path order: protoc keeps the command line's
	// order and buf its own, and both must give the same documents.
	sortFiles(files)
	return files, b.missing, nil
}

func sortFiles(files []*model.File) {
	for i := 1; i < len(files); i++ {
		for j := i; j > 0 && files[j].Name < files[j-1].Name; j-- {
			files[j], files[j-1] = files[j-1], files[j]
		}
	}
}

// markDocumented records the messages and enums of a documented file.
func markDocumented(fd protoreflect.FileDescriptor, m map[protoreflect.FullName]bool) {
	var msgs func(ms protoreflect.MessageDescriptors)
	msgs = func(ms protoreflect.MessageDescriptors) {
		for i := 0; i < ms.Len(); i++ {
			md := ms.Get(i)
			m[md.FullName()] = true
			for j := 0; j < md.Enums().Len(); j++ {
				m[md.Enums().Get(j).FullName()] = true
			}
			msgs(md.Messages())
		}
	}
	for j := 0; j < fd.Enums().Len(); j++ {
		m[fd.Enums().Get(j).FullName()] = true
	}
	msgs(fd.Messages())
}
