package build

import (
	"strconv"
	"strings"
	"sync"
	"unicode"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// The sample values of call examples: what a field's annotations say about
// it (google.api.field_behavior, google.api.resource_reference and the
// protovalidate rules), the resource patterns of the request
// (google.api.resource on messages, google.api.resource_definition on
// files), and values made from them, from HTTP path templates or from the
// field's name. Everything here is deterministic.

// fieldAnnotations is what the sample of a field depends on.
type fieldAnnotations struct {
	deprecated bool
	required   bool // REQUIRED behaviour or a protovalidate required rule
	outputOnly bool
	inputOnly  bool
	// refType and refChild are the google.api.resource_reference.
	refType, refChild string
	// rules is the kind's protovalidate rules (the string, int32, enum,
	// ... message of the field rules), items those of a repeated field's
	// items, repeated those of the list.
	rules, repeated protoreflect.Message
}

// Field numbers of the Google API extensions read here (google/api/*.proto).
const (
	extFieldBehavior      = 1052 // FieldOptions, repeated google.api.FieldBehavior
	extResourceReference  = 1055 // FieldOptions
	extResource           = 1053 // MessageOptions, google.api.ResourceDescriptor
	extResourceDefinition = 1053 // FileOptions, repeated ResourceDescriptor
	extDefaultHost        = 1049 // ServiceOptions, string
	extBufValidateField   = 1159 // FieldOptions, buf.validate.FieldRules
)

// FieldBehavior values (google/api/field_behavior.proto).
const (
	behaviorRequired   = 2
	behaviorOutputOnly = 3
	behaviorInputOnly  = 4
)

// hasExtension reports whether options m carry field number num, set or
// still unknown.
func hasExtension(m protoreflect.ProtoMessage, num protowire.Number) bool {
	if m == nil {
		return false
	}
	r := m.ProtoReflect()
	if !r.IsValid() {
		return false
	}
	found := false
	r.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if fd.IsExtension() && fd.Number() == num {
			found = true
		}
		return !found
	})
	if found {
		return true
	}
	for b := r.GetUnknown(); len(b) > 0; {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return false
		}
		if n == num {
			return true
		}
		m := protowire.ConsumeFieldValue(n, typ, b[l:])
		if m < 0 {
			return false
		}
		b = b[l+m:]
	}
	return false
}

// annotations reads what the sample of fd depends on.
func (b *builder) annotations(fd protoreflect.FieldDescriptor) fieldAnnotations {
	opts, _ := fd.Options().(*descriptorpb.FieldOptions)
	a := fieldAnnotations{deprecated: opts.GetDeprecated()}
	if opts == nil || !(hasExtension(opts, extFieldBehavior) || hasExtension(opts, extResourceReference) || hasExtension(opts, extBufValidateField)) {
		return a
	}
	if v, ok := b.res.annotations.Load(opts); ok {
		return v.(fieldAnnotations)
	}
	a = b.readAnnotations(opts, a)
	b.res.annotations.Store(opts, a)
	return a
}

func (b *builder) readAnnotations(opts *descriptorpb.FieldOptions, a fieldAnnotations) fieldAnnotations {
	m := b.opt.entry(opts).msg()
	if xd, v, ok := findExtension(m, "google.api.field_behavior"); ok && xd.IsList() && xd.Kind() == protoreflect.EnumKind {
		for i := 0; i < v.List().Len(); i++ {
			switch v.List().Get(i).Enum() {
			case behaviorRequired:
				a.required = true
			case behaviorOutputOnly:
				a.outputOnly = true
			case behaviorInputOnly:
				a.inputOnly = true
			}
		}
	}
	if xd, v, ok := findExtension(m, "google.api.resource_reference"); ok && xd.Message() != nil && !xd.IsList() {
		a.refType = stringField(v.Message(), "type")
		a.refChild = stringField(v.Message(), "child_type")
	}
	if xd, v, ok := findExtension(m, "buf.validate.field"); ok && xd.Message() != nil && !xd.IsList() {
		r := v.Message()
		if boolField(r, "required") {
			a.required = true
		}
		for _, f := range populated(r) {
			if f.Message() == nil || f.IsList() || f.IsMap() {
				continue
			}
			switch f.Name() {
			case "repeated":
				a.repeated = r.Get(f).Message()
				if items := messageField(a.repeated, "items"); items != nil {
					a.rules = kindRules(items)
				}
			case "map", "any", "duration", "timestamp", "cel":
			default:
				if a.rules == nil {
					a.rules = r.Get(f).Message()
				}
			}
		}
	}
	return a
}

// kindRules is the kind's rules message inside field rules.
func kindRules(r protoreflect.Message) protoreflect.Message {
	for _, f := range populated(r) {
		if f.Message() != nil && !f.IsList() && !f.IsMap() && f.Name() != "cel" {
			return r.Get(f).Message()
		}
	}
	return nil
}

func fieldByName(m protoreflect.Message, name protoreflect.Name) (protoreflect.FieldDescriptor, bool) {
	if m == nil {
		return nil, false
	}
	fd := m.Descriptor().Fields().ByName(name)
	return fd, fd != nil && m.Has(fd)
}

func stringField(m protoreflect.Message, name protoreflect.Name) string {
	if fd, ok := fieldByName(m, name); ok && fd.Kind() == protoreflect.StringKind && !fd.IsList() {
		return m.Get(fd).String()
	}
	return ""
}

func boolField(m protoreflect.Message, name protoreflect.Name) bool {
	if fd, ok := fieldByName(m, name); ok && fd.Kind() == protoreflect.BoolKind && !fd.IsList() {
		return m.Get(fd).Bool()
	}
	return false
}

func messageField(m protoreflect.Message, name protoreflect.Name) protoreflect.Message {
	if fd, ok := fieldByName(m, name); ok && fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
		return m.Get(fd).Message()
	}
	return nil
}

// uintField reads an unsigned rule (min_len, min_items, ...).
func uintField(m protoreflect.Message, name protoreflect.Name) (uint64, bool) {
	fd, ok := fieldByName(m, name)
	if !ok || fd.IsList() {
		return 0, false
	}
	switch fd.Kind() {
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
		return m.Get(fd).Uint(), true
	case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Sint32Kind, protoreflect.Sint64Kind,
		protoreflect.Sfixed32Kind, protoreflect.Sfixed64Kind:
		if n := m.Get(fd).Int(); n >= 0 {
			return uint64(n), true
		}
	}
	return 0, false
}

// minItems is the number of items a list sample holds: one, or the
// protovalidate minimum (at most 3).
func (a fieldAnnotations) minItems() int {
	n, ok := uintField(a.repeated, "min_items")
	if !ok || n <= 1 {
		return 1
	}
	return int(min(n, 3))
}

// allowsEnum reports whether the enum rules allow a value number.
func (a fieldAnnotations) allowsEnum(n int32) bool {
	if a.rules == nil || a.rules.Descriptor().Name() != "EnumRules" {
		return true
	}
	if fd, ok := fieldByName(a.rules, "const"); ok {
		return int32(a.rules.Get(fd).Int()) == n
	}
	if fd, ok := fieldByName(a.rules, "in"); ok && fd.IsList() {
		l := a.rules.Get(fd).List()
		for i := 0; i < l.Len(); i++ {
			if int32(l.Get(i).Int()) == n {
				return true
			}
		}
		return false
	}
	if fd, ok := fieldByName(a.rules, "not_in"); ok && fd.IsList() {
		l := a.rules.Get(fd).List()
		for i := 0; i < l.Len(); i++ {
			if int32(l.Get(i).Int()) == n {
				return false
			}
		}
	}
	return true
}

func enumValueDeprecated(v protoreflect.EnumValueDescriptor) bool {
	o, _ := v.Options().(*descriptorpb.EnumValueOptions)
	return o.GetDeprecated()
}

// stringValue is the sample of a string field: a value the rules fix,
// else one from the HTTP path template, the resource pattern or the
// field's name; then fitted to the length rules.
func (s *sampler) stringValue(fd protoreflect.FieldDescriptor, a fieldAnnotations, path string) string {
	r := a.rules
	if r != nil && r.Descriptor().Name() == "StringRules" {
		if v := stringField(r, "const"); v != "" {
			return v
		}
		if fd2, ok := fieldByName(r, "in"); ok && fd2.IsList() && r.Get(fd2).List().Len() > 0 {
			return r.Get(fd2).List().Get(0).String()
		}
	} else {
		r = nil
	}
	v := ""
	switch {
	case boolField(r, "email"):
		v = "user@example.com"
	case boolField(r, "uri") || boolField(r, "uri_ref"):
		v = "https://example.com/"
	case boolField(r, "hostname"):
		v = "example.com"
	case boolField(r, "ip") || boolField(r, "ipv4"):
		v = "192.0.2.1"
	case boolField(r, "ipv6"):
		v = "2001:db8::1"
	case boolField(r, "uuid"):
		v = "123e4567-e89b-12d3-a456-426614174000"
	case boolField(r, "tuuid"):
		v = "123e4567e89b12d3a456426614174000"
	}
	if v == "" {
		v = s.resourceValue(fd, a)
		if tmpl, ok := s.hints[path]; ok && !matchTemplate(v, tmpl) {
			v = fillTemplate(tmpl)
		}
	}
	if v == "" {
		v = nameValue(string(fd.Name()))
	}
	if r == nil {
		return v
	}
	prefix, suffix := stringField(r, "prefix"), stringField(r, "suffix")
	if prefix != "" && !strings.HasPrefix(v, prefix) {
		v = prefix + v
	}
	if suffix != "" && !strings.HasSuffix(v, suffix) {
		v += suffix
	}
	if c := stringField(r, "contains"); c != "" && !strings.Contains(v, c) {
		v += c
	}
	lo, hasLo := uintField(r, "min_len")
	hi, hasHi := uintField(r, "max_len")
	if n, ok := uintField(r, "len"); ok {
		lo, hi, hasLo, hasHi = n, n, true, true
	}
	return fitLength(v, lo, hi, hasLo, hasHi)
}

// fitLength pads (with x) or cuts v to the length rules, counted in
// characters, at most 64 of them.
func fitLength(v string, lo, hi uint64, hasLo, hasHi bool) string {
	rs := []rune(v)
	if hasHi && uint64(len(rs)) > hi {
		rs = rs[:hi]
	}
	if hasLo {
		for uint64(len(rs)) < min(lo, 64) {
			rs = append(rs, 'x')
		}
	}
	return string(rs)
}

// bytesValue is the sample of a bytes field (base64), "bytes" unless the
// length rules want another length.
func bytesValue(a fieldAnnotations) string {
	r := a.rules
	if r == nil || r.Descriptor().Name() != "BytesRules" {
		return "Ynl0ZXM="
	}
	lo, hasLo := uintField(r, "min_len")
	hi, hasHi := uintField(r, "max_len")
	if n, ok := uintField(r, "len"); ok {
		lo, hi, hasLo, hasHi = n, n, true, true
	}
	v := fitLength("bytes", lo, hi, hasLo, hasHi)
	return base64Std(v)
}

func base64Std(s string) string {
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var b strings.Builder
	for i := 0; i < len(s); i += 3 {
		var n uint32
		k := min(3, len(s)-i)
		for j := 0; j < 3; j++ {
			n <<= 8
			if j < k {
				n |= uint32(s[i+j])
			}
		}
		for j := 0; j < 4; j++ {
			if j <= k {
				b.WriteByte(enc[(n>>(18-6*j))&63])
			} else {
				b.WriteByte('=')
			}
		}
	}
	return b.String()
}

// numberValue is the sample of a number field, in JSON (without the quotes
// of 64-bit integers): the rules' const or first allowed value, else a
// value inside their bounds, else one from the field's name.
func numberValue(fd protoreflect.FieldDescriptor, a fieldAnnotations, integer bool) string {
	def := "0"
	if !integer {
		def = "0.5"
	}
	if n := nameNumber(string(fd.Name())); n != "" {
		def = n
	} else if a.required && integer {
		def = "1" // a required number must not be zero
	}
	r := a.rules
	if r == nil || !strings.HasSuffix(string(r.Descriptor().Name()), "Rules") ||
		r.Descriptor().Name() == "StringRules" || r.Descriptor().Name() == "BytesRules" || r.Descriptor().Name() == "EnumRules" {
		return def
	}
	if fd2, ok := fieldByName(r, "const"); ok {
		return scalarText(r.Get(fd2), fd2)
	}
	if fd2, ok := fieldByName(r, "in"); ok && fd2.IsList() && r.Get(fd2).List().Len() > 0 {
		return scalarText(r.Get(fd2).List().Get(0), fd2)
	}
	v, err := strconv.ParseFloat(def, 64)
	if err != nil {
		return def
	}
	bound := func(name protoreflect.Name) (float64, bool) {
		fd2, ok := fieldByName(r, name)
		if !ok || fd2.IsList() {
			return 0, false
		}
		f, err := strconv.ParseFloat(scalarText(r.Get(fd2), fd2), 64)
		return f, err == nil
	}
	step := 1.0
	if !integer {
		step = 0.5
	}
	if g, ok := bound("gte"); ok && v < g {
		v = g
	}
	if g, ok := bound("gt"); ok && v <= g {
		v = g + step
	}
	if l, ok := bound("lte"); ok && v > l {
		v = l
	}
	if l, ok := bound("lt"); ok && v >= l {
		v = l - step
	}
	if integer {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// nameNumber is a number that a field's name suggests, or "".
func nameNumber(name string) string {
	switch {
	case name == "page_size" || strings.HasSuffix(name, "_page_size") || name == "max_results" || name == "limit":
		return "10"
	case name == "max_messages":
		return "10"
	}
	return ""
}

// nameValue is a string that a field's name suggests: an address for an
// e-mail or URL field, a short ID for an ID, "string" otherwise.
func nameValue(name string) string {
	n := strings.ToLower(name)
	switch {
	case n == "email" || strings.HasSuffix(n, "_email") || strings.HasSuffix(n, "email_address"):
		return "user@example.com"
	case strings.HasPrefix(n, "relative_") && (strings.HasSuffix(n, "_uri") || strings.HasSuffix(n, "_url")) || n == "path" || strings.HasSuffix(n, "_path"):
		return "/path"
	case n == "url" || n == "uri" || strings.HasSuffix(n, "_url") || strings.HasSuffix(n, "_uri") || n == "endpoint" || strings.HasSuffix(n, "_endpoint"):
		return "https://example.com/"
	case n == "id" || n == "uid":
		return "my-id"
	case strings.HasSuffix(n, "_id"):
		return "my-" + kebab(strings.TrimSuffix(n, "_id"))
	case n == "etag":
		return "etag-value"
	case n == "page_token" || strings.HasSuffix(n, "_page_token"):
		return "next-page-token"
	case n == "display_name" || n == "title":
		return "My " + strings.ReplaceAll(n, "_", " ")
	case n == "description":
		return "A description."
	case n == "language_code":
		return "en-US"
	case n == "location" || n == "region":
		return "us-central1"
	case n == "zone":
		return "us-central1-a"
	case n == "project" || n == "project_id":
		return "my-project"
	}
	return "string"
}

func kebab(s string) string { return strings.ReplaceAll(s, "_", "-") }

// resourceValue is a resource name for a field: the name field of a
// resource message, or a field with a resource reference, filled from the
// resource's first pattern; "" when the field names no resource.
func (s *sampler) resourceValue(fd protoreflect.FieldDescriptor, a fieldAnnotations) string {
	if a.refType != "" || a.refChild != "" {
		if a.refType == "*" || a.refChild == "*" {
			return ""
		}
		if a.refType != "" {
			return fillPattern(s.b.resourcePatterns().pattern(a.refType))
		}
		return fillPattern(parentPattern(s.b.resourcePatterns().pattern(a.refChild)))
	}
	if p := s.b.resourcePatterns().ownPattern(fd); p != "" {
		return fillPattern(p)
	}
	return ""
}

// resourceIndex holds the resource patterns of the request, by type.
type resourceIndex struct {
	byType map[string]string // type -> first pattern
	// nameField maps a resource message to the field holding its name.
	byMessage map[protoreflect.FullName]resourceMsg
}

type resourceMsg struct {
	field   protoreflect.Name
	pattern string
}

// resourcePatterns indexes the request's resources on first use.
func (b *builder) resourcePatterns() *resourceIndex {
	b.res.once.Do(func() {
		idx := &resourceIndex{byType: map[string]string{}, byMessage: map[protoreflect.FullName]resourceMsg{}}
		add := func(rd protoreflect.Message) (string, string, protoreflect.Name) {
			typ := stringField(rd, "type")
			pattern := ""
			if fd, ok := fieldByName(rd, "pattern"); ok && fd.IsList() && rd.Get(fd).List().Len() > 0 {
				pattern = rd.Get(fd).List().Get(0).String()
			}
			nf := protoreflect.Name(stringField(rd, "name_field"))
			if nf == "" {
				nf = "name"
			}
			if typ != "" && pattern != "" {
				if _, dup := idx.byType[typ]; !dup {
					idx.byType[typ] = pattern
				}
			}
			return typ, pattern, nf
		}
		var msgs func(ms protoreflect.MessageDescriptors)
		msgs = func(ms protoreflect.MessageDescriptors) {
			for i := 0; i < ms.Len(); i++ {
				md := ms.Get(i)
				if hasExtension(md.Options(), extResource) {
					if xd, v, ok := findExtension(b.opt.entry(md.Options()).msg(), "google.api.resource"); ok && xd.Message() != nil && !xd.IsList() {
						if _, p, nf := add(v.Message()); p != "" {
							idx.byMessage[md.FullName()] = resourceMsg{field: nf, pattern: p}
						}
					}
				}
				msgs(md.Messages())
			}
		}
		for _, f := range b.all {
			if hasExtension(f.Options(), extResourceDefinition) {
				if xd, v, ok := findExtension(b.opt.entry(f.Options()).msg(), "google.api.resource_definition"); ok && xd.IsList() && xd.Message() != nil {
					for i := 0; i < v.List().Len(); i++ {
						add(v.List().Get(i).Message())
					}
				}
			}
			msgs(f.Messages())
		}
		b.res.idx = idx
	})
	return b.res.idx
}

// pattern is the first pattern of a resource type; for a type the request
// does not define, one made from its name ("example.com/BookShelf" ->
// "bookShelves/{book_shelf}").
func (r *resourceIndex) pattern(typ string) string {
	if p, ok := r.byType[typ]; ok {
		return p
	}
	_, kind, ok := strings.Cut(typ, "/")
	if !ok || kind == "" {
		return ""
	}
	snake := toSnake(kind)
	return plural(lowerFirst(kind)) + "/{" + snake + "}"
}

// ownPattern is the pattern of fd's message when fd is its name field.
func (r *resourceIndex) ownPattern(fd protoreflect.FieldDescriptor) string {
	if fd.Kind() != protoreflect.StringKind || fd.IsList() {
		return ""
	}
	if m, ok := r.byMessage[fd.ContainingMessage().FullName()]; ok && m.field == fd.Name() {
		return m.pattern
	}
	return ""
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func toSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func plural(s string) string {
	switch {
	case strings.HasSuffix(s, "y") && len(s) > 1 && !strings.ContainsRune("aeiou", rune(s[len(s)-2])):
		return s[:len(s)-1] + "ies"
	case strings.HasSuffix(s, "s") || strings.HasSuffix(s, "x") || strings.HasSuffix(s, "ch") || strings.HasSuffix(s, "sh"):
		return s + "es"
	}
	return s + "s"
}

func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies") && len(s) > 3:
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(s, "sses") || strings.HasSuffix(s, "xes") || strings.HasSuffix(s, "ches") || strings.HasSuffix(s, "shes"):
		return s[:len(s)-2]
	case strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "ss") && len(s) > 1:
		return s[:len(s)-1]
	}
	return s
}

// parentPattern is the pattern of the parent of a resource: its pattern
// without the last collection and ID ("projects/{project}/topics/{topic}"
// -> "projects/{project}").
func parentPattern(p string) string {
	segs := strings.Split(p, "/")
	if len(segs) < 3 {
		return ""
	}
	return strings.Join(segs[:len(segs)-2], "/")
}

// fillPattern fills the variables of a resource pattern:
// "projects/{project}/topics/{topic}" -> "projects/my-project/topics/my-topic".
func fillPattern(p string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			b.WriteString(p)
			return b.String()
		}
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			b.WriteString(p)
			return b.String()
		}
		b.WriteString(p[:i])
		name, _, _ := strings.Cut(p[i+1:i+j], "=")
		b.WriteString(variableValue(name))
		p = p[i+j+1:]
	}
}

// variableValue is the sample of one variable of a resource name.
func variableValue(name string) string {
	switch name {
	case "location", "region":
		return "us-central1"
	case "zone":
		return "us-central1-a"
	}
	return "my-" + kebab(strings.TrimSuffix(name, "_id"))
}

// matchTemplate reports whether v matches an HTTP path template's segments
// ("projects/*/topics/*", "**", "v1/{x}" is not a segment template).
func matchTemplate(v, tmpl string) bool {
	if v == "" {
		return false
	}
	segs := strings.Split(tmpl, "/")
	parts := strings.Split(v, "/")
	for i, s := range segs {
		if s == "**" {
			return i < len(parts) || i == 0
		}
		if i >= len(parts) || parts[i] == "" {
			return false
		}
		if s != "*" && s != parts[i] {
			return false
		}
	}
	return len(parts) == len(segs)
}

// fillTemplate makes a value that matches a template: each * named after
// the collection before it ("projects/*" -> "projects/my-project"), ** a
// short path.
func fillTemplate(tmpl string) string {
	segs := strings.Split(tmpl, "/")
	for i, s := range segs {
		switch s {
		case "*":
			name := "id"
			if i > 0 && segs[i-1] != "*" && segs[i-1] != "**" {
				name = toSnake(singular(segs[i-1]))
			}
			segs[i] = variableValue(name)
		case "**":
			segs[i] = "my-path"
		}
	}
	return strings.Join(segs, "/")
}

// resourceCache is the request's resource index, made on first use, and
// the samples shared by the builders of all files.
type resourceCache struct {
	once sync.Once
	idx  *resourceIndex
	// responses holds the sample response of each message type, by full
	// name (example.go).
	responses sync.Map
	// annotations holds what the samples read of a field's options, by
	// options message: a field is sampled for every method that uses it.
	annotations sync.Map // *descriptorpb.FieldOptions -> fieldAnnotations
}
