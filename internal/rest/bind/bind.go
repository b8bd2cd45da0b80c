// Package bind is the request stage of REST serving: it fills a request
// message from the path variables, the query string and the body of an HTTP
// request, as google.api.HttpRule maps them, with the values in the form of
// the protobuf JSON mapping (enums by name or number, 64-bit integers,
// bytes in base64, Timestamp, Duration, FieldMask and wrappers as their
// JSON strings). Every error is a *Error, the caller's fault, naming the
// field or parameter.
package bind

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// maxFieldPath bounds the fields of a dotted query parameter name, which
// recursive messages would otherwise let grow with the URL.
const maxFieldPath = 32

// Error is a request the caller got wrong: a malformed value, an unknown
// parameter, malformed JSON.
type Error struct {
	Field string // the field path or parameter concerned, if any
	Msg   string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Msg)
}

func errorf(field, format string, args ...any) *Error {
	return &Error{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// FieldPath resolves a dotted field path ("a.b.c") in md, by proto names or
// JSON names, and checks that it leads through singular messages to a
// field. It is used when building the routes.
func FieldPath(md protoreflect.MessageDescriptor, path string) ([]protoreflect.FieldDescriptor, error) {
	parts := strings.Split(path, ".")
	fds := make([]protoreflect.FieldDescriptor, 0, len(parts))
	for i, p := range parts {
		fd := lookupField(md, p)
		if fd == nil {
			return nil, fmt.Errorf("no field %q in %s", p, md.FullName())
		}
		fds = append(fds, fd)
		if i < len(parts)-1 {
			if fd.Message() == nil || fd.IsList() || fd.IsMap() {
				return nil, fmt.Errorf("field %q of %s is not a singular message", p, md.FullName())
			}
			md = fd.Message()
		}
	}
	return fds, nil
}

func lookupField(md protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
	fields := md.Fields()
	if fd := fields.ByName(protoreflect.Name(name)); fd != nil {
		return fd
	}
	return fields.ByJSONName(name)
}

// IsScalar reports whether a field takes one value from a path or a query
// parameter: a scalar, an enum, or a well-known type whose JSON form is a
// string, number or boolean.
func IsScalar(fd protoreflect.FieldDescriptor) bool {
	if fd.Message() == nil {
		return true
	}
	return scalarMessage(fd.Message().FullName())
}

func scalarMessage(name protoreflect.FullName) bool {
	switch name {
	case "google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask",
		"google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
		"google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
		"google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue":
		return true
	}
	return false
}

// SetPath sets the field at the end of fds (from FieldPath) in msg to a
// path variable's value.
func SetPath(msg protoreflect.Message, fds []protoreflect.FieldDescriptor, name, value string) error {
	for _, fd := range fds[:len(fds)-1] {
		msg = msg.Mutable(fd).Message()
	}
	fd := fds[len(fds)-1]
	if fd.IsList() || fd.IsMap() {
		return errorf(name, "a path variable cannot set a repeated or map field")
	}
	return setScalar(msg, fd, name, value)
}

// setScalar sets a singular field, or appends to a list field.
func setScalar(msg protoreflect.Message, fd protoreflect.FieldDescriptor, name, value string) error {
	if fd.Message() != nil {
		if !scalarMessage(fd.Message().FullName()) {
			return errorf(name, "a message field takes no single value; set its fields (%s.<field>)", name)
		}
		m := msg.NewField(fd)
		if err := setWellKnown(m.Message(), name, value); err != nil {
			return err
		}
		if fd.IsList() {
			msg.Mutable(fd).List().Append(m)
		} else {
			msg.Set(fd, m)
		}
		return nil
	}
	v, err := parseValue(fd, name, value)
	if err != nil {
		return err
	}
	if fd.IsList() {
		msg.Mutable(fd).List().Append(v)
		return nil
	}
	msg.Set(fd, v)
	return nil
}

func setWellKnown(m protoreflect.Message, name, value string) error {
	md := m.Descriptor()
	switch md.FullName() {
	case "google.protobuf.FieldMask":
		// Comma-separated paths, by proto names (as grpc-gateway reads
		// them) or JSON names (as the JSON mapping writes them).
		list := m.Mutable(md.Fields().ByName("paths")).List()
		for p := range strings.SplitSeq(value, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			list.Append(protoreflect.ValueOfString(snakeCase(p)))
		}
		return nil
	case "google.protobuf.Timestamp", "google.protobuf.Duration":
		if err := protojson.Unmarshal([]byte(strconv.Quote(value)), m.Interface()); err != nil {
			return errorf(name, "invalid %s %q", md.Name(), clip(value))
		}
		return nil
	}
	fd := md.Fields().ByName("value")
	v, err := parseValue(fd, name, value)
	if err != nil {
		return err
	}
	m.Set(fd, v)
	return nil
}

// snakeCase turns the lowerCamelCase segments of a field path into proto
// names; proto names are left as they are.
func snakeCase(path string) string {
	if strings.IndexFunc(path, func(r rune) bool { return 'A' <= r && r <= 'Z' }) < 0 {
		return path
	}
	var b strings.Builder
	for _, r := range path {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('_')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// parseValue parses a scalar or enum value as the protobuf JSON mapping
// writes it, without JSON quoting.
func parseValue(fd protoreflect.FieldDescriptor, name, s string) (protoreflect.Value, error) {
	bad := func() (protoreflect.Value, error) {
		return protoreflect.Value{}, errorf(name, "invalid value %q for type %s", clip(s), kindName(fd))
	}
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(s), nil
	case protoreflect.BoolKind:
		switch s {
		case "true", "True", "TRUE", "1", "t":
			return protoreflect.ValueOfBool(true), nil
		case "false", "False", "FALSE", "0", "f":
			return protoreflect.ValueOfBool(false), nil
		}
		return bad()
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return bad()
		}
		return protoreflect.ValueOfInt32(int32(n)), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return bad()
		}
		return protoreflect.ValueOfInt64(n), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return bad()
		}
		return protoreflect.ValueOfUint32(uint32(n)), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return bad()
		}
		return protoreflect.ValueOfUint64(n), nil
	case protoreflect.FloatKind:
		f, ok := parseFloat(s, 32)
		if !ok {
			return bad()
		}
		return protoreflect.ValueOfFloat32(float32(f)), nil
	case protoreflect.DoubleKind:
		f, ok := parseFloat(s, 64)
		if !ok {
			return bad()
		}
		return protoreflect.ValueOfFloat64(f), nil
	case protoreflect.BytesKind:
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(s); err == nil {
				return protoreflect.ValueOfBytes(b), nil
			}
		}
		return bad()
	case protoreflect.EnumKind:
		ed := fd.Enum()
		if ev := ed.Values().ByName(protoreflect.Name(s)); ev != nil {
			return protoreflect.ValueOfEnum(ev.Number()), nil
		}
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil || (ed.IsClosed() && ed.Values().ByNumber(protoreflect.EnumNumber(n)) == nil) {
			return protoreflect.Value{}, errorf(name, "invalid value %q for enum %s", clip(s), ed.FullName())
		}
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), nil
	}
	return bad()
}

func parseFloat(s string, bits int) (float64, bool) {
	switch s {
	case "NaN":
		return math.NaN(), true
	case "Infinity":
		return math.Inf(1), true
	case "-Infinity":
		return math.Inf(-1), true
	}
	if s == "" || strings.ContainsAny(s, "iInN_xX") {
		// strconv also reads "inf", "nan", hex and underscores, which the
		// JSON mapping does not.
		return 0, false
	}
	f, err := strconv.ParseFloat(s, bits)
	return f, err == nil
}

func kindName(fd protoreflect.FieldDescriptor) string {
	if fd.Kind() == protoreflect.EnumKind {
		return string(fd.Enum().FullName())
	}
	return fd.Kind().String()
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// QueryFilter says how a query parameter's field path is bound: Allowed for a
// query parameter, or the reason it may not be one.
type QueryFilter func(fds []protoreflect.FieldDescriptor) string

// Query sets the fields named by the parameters of a raw query string
// ("a=1&b.c=x&r=1&r=2&m[k]=v"). Parameter names are field paths, by proto
// or JSON names; a repeated field takes the parameter once per value, a map
// field of scalars takes "name[key]=value". A parameter that names no field,
// or a field that filter refuses (bound by the path or the body), is an
// error: deliberately stricter than grpc-gateway, which ignores unknown
// parameters, so that a misspelt parameter is not silently dropped.
func Query(msg protoreflect.Message, rawQuery string, filter QueryFilter) error {
	// The filter may keep the slice: one per call, not per parameter.
	fds := make([]protoreflect.FieldDescriptor, 0, 8)
	for rawQuery != "" {
		var kv string
		kv, rawQuery, _ = strings.Cut(rawQuery, "&")
		if kv == "" {
			continue
		}
		rawKey, rawValue, _ := strings.Cut(kv, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return errorf(clip(rawKey), "malformed query parameter name")
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return errorf(key, "malformed percent-encoding in query parameter value")
		}
		if err := setQuery(msg, fds[:0], key, value, filter); err != nil {
			return err
		}
	}
	return nil
}

func setQuery(msg protoreflect.Message, fds []protoreflect.FieldDescriptor, key, value string, filter QueryFilter) error {
	path, mapKey := key, ""
	if i := strings.IndexByte(key, '['); i > 0 && strings.HasSuffix(key, "]") {
		path, mapKey = key[:i], key[i+1:len(key)-1]
	}
	md := msg.Descriptor()
	rest := path
	for {
		var part string
		part, rest, _ = strings.Cut(rest, ".")
		fd := lookupField(md, part)
		if fd == nil || len(fds) == maxFieldPath {
			return errorf(clip(key), "unknown query parameter")
		}
		fds = append(fds, fd)
		if rest == "" {
			break
		}
		if fd.Message() == nil || fd.IsList() || fd.IsMap() || scalarMessage(fd.Message().FullName()) {
			return errorf(clip(key), "unknown query parameter: %s has no fields", fd.Name())
		}
		md = fd.Message()
	}
	if filter != nil {
		if why := filter(fds); why != "" {
			return errorf(clip(key), "%s", why)
		}
	}
	for _, fd := range fds[:len(fds)-1] {
		msg = msg.Mutable(fd).Message()
	}
	fd := fds[len(fds)-1]
	if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
		if set := msg.WhichOneof(od); set != nil && set != fd {
			return errorf(clip(key), "oneof %s already has field %s set", od.Name(), set.Name())
		}
	}
	if fd.IsMap() {
		if mapKey == "" && !strings.HasSuffix(key, "[]") {
			return errorf(clip(key), "a map field takes parameters of the form %s[key]=value", path)
		}
		if fd.MapValue().Message() != nil && !scalarMessage(fd.MapValue().Message().FullName()) {
			return errorf(clip(key), "a map of messages cannot be set by query parameters")
		}
		k, err := parseValue(fd.MapKey(), key, mapKey)
		if err != nil {
			return err
		}
		var v protoreflect.Value
		if md := fd.MapValue().Message(); md != nil {
			m := msg.Mutable(fd).Map().NewValue()
			if err := setWellKnown(m.Message(), key, value); err != nil {
				return err
			}
			v = m
		} else if v, err = parseValue(fd.MapValue(), key, value); err != nil {
			return err
		}
		msg.Mutable(fd).Map().Set(k.MapKey(), v)
		return nil
	}
	if mapKey != "" {
		return errorf(clip(key), "unknown query parameter: %s is not a map", fd.Name())
	}
	if fd.IsList() && fd.Message() != nil && !scalarMessage(fd.Message().FullName()) {
		return errorf(clip(key), "a repeated message field cannot be set by query parameters")
	}
	return setScalar(msg, fd, key, value)
}

// unmarshal reads JSON into m, discarding unknown fields as polyrpc's
// Connect JSON codec does, and names the problem of a malformed body.
func unmarshal(data []byte, m proto.Message, field string) error {
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, m); err != nil {
		return &Error{Field: field, Msg: "malformed JSON body: " + strings.TrimPrefix(err.Error(), "proto: ")}
	}
	return nil
}

// Body reads a JSON request body into msg: the whole message when fd is
// nil (body "*"), else the field fd (body "field"). An empty body leaves
// msg as it is. A google.api.HttpBody target takes the body as it is,
// with its content type, instead of JSON.
func Body(msg protoreflect.Message, fd protoreflect.FieldDescriptor, data []byte, contentType string) error {
	if fd == nil {
		if IsHTTPBody(msg.Descriptor()) {
			setHTTPBody(msg, data, contentType)
			return nil
		}
		if len(data) == 0 {
			return nil
		}
		return unmarshal(data, msg.Interface(), "")
	}
	if md := fd.Message(); md != nil && !fd.IsList() && !fd.IsMap() {
		m := msg.Mutable(fd).Message()
		if IsHTTPBody(md) {
			setHTTPBody(m, data, contentType)
			return nil
		}
		if len(data) == 0 {
			return nil
		}
		return unmarshal(data, m.Interface(), string(fd.Name()))
	}
	if len(data) == 0 {
		return nil
	}
	// A scalar, repeated or map field: read {"<field>": body} into a
	// message of the request's type.
	wrapped := make([]byte, 0, len(fd.JSONName())+len(data)+5)
	wrapped = append(wrapped, `{"`...)
	wrapped = append(wrapped, fd.JSONName()...)
	wrapped = append(wrapped, `":`...)
	wrapped = append(wrapped, data...)
	wrapped = append(wrapped, '}')
	tmp := msg.New()
	if err := unmarshal(wrapped, tmp.Interface(), string(fd.Name())); err != nil {
		return err
	}
	msg.Set(fd, tmp.Get(fd))
	return nil
}

// IsHTTPBody reports whether md is google.api.HttpBody.
func IsHTTPBody(md protoreflect.MessageDescriptor) bool {
	return md.FullName() == "google.api.HttpBody"
}

func setHTTPBody(m protoreflect.Message, data []byte, contentType string) {
	fields := m.Descriptor().Fields()
	m.Set(fields.ByName("content_type"), protoreflect.ValueOfString(contentType))
	m.Set(fields.ByName("data"), protoreflect.ValueOfBytes(data))
}
