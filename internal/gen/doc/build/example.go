package build

import (
	"encoding/json"
	"net/url"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// The call examples of a method: a sample request and response, and the
// commands that send the request over Connect (curl, or buf curl for
// streams), gRPC (buf curl) and, where the method has a google.api.http
// binding, REST (curl to the bound path, the body and query as the rule
// says).

// serverURL is the address the examples of a service call: base_url, or
// https:// and the service's google.api.default_host when the
// example_host option asks for it and the service has one.
func (b *builder) serverURL(sd protoreflect.ServiceDescriptor) string {
	if !b.cfg.DefaultHost {
		return b.cfg.BaseURL
	}
	opts, _ := sd.Options().(*descriptorpb.ServiceOptions)
	if opts == nil || !hasExtension(opts, extDefaultHost) {
		return b.cfg.BaseURL
	}
	xd, v, ok := findExtension(b.opt.entry(opts).msg(), "google.api.default_host")
	if !ok || xd.Kind() != protoreflect.StringKind || xd.IsList() {
		return b.cfg.BaseURL
	}
	host := strings.TrimSuffix(strings.TrimSpace(v.String()), ":443")
	if host == "" || strings.ContainsAny(host, "/?#@ \t\n'\"\\") {
		return b.cfg.BaseURL
	}
	return "https://" + host
}

// examples fills the samples and call examples of a method.
func (b *builder) examples(out *model.Method, md protoreflect.MethodDescriptor) {
	base := b.serverURL(md.Parent().(protoreflect.ServiceDescriptor))
	var rule *model.HTTPRule
	if len(out.HTTPRules) > 0 && !md.IsStreamingClient() {
		rule = &out.HTTPRules[0]
	}
	s := newSampler(b)
	var vars []pathVar
	if rule != nil {
		vars = pathVars(rule.Path)
		s.hints = map[string]string{}
		for _, v := range vars {
			s.hints[v.field] = v.tmpl
		}
	}
	sample := s.message(md.Input(), 0, nil)
	out.SampleRequest = sample.pretty("")
	out.SampleResponse = b.responseSample(md.Output())

	out.ExampleURL = base
	if out.Streaming == "unary" && out.Idempotency == "NO_SIDE_EFFECTS" {
		out.ConnectGet = base + out.Procedure + "?encoding=json&message=" + queryEscape(sample.compact())
	}
	if rule != nil {
		out.RESTExample = restCommand(base, rule, vars, md.Input(), sample, s.byPath)
	}
}

// responseSample is the sample response of a message type, made once per
// type for the whole run: many methods answer with the same type
// (google.longrunning.Operation, google.protobuf.Empty), and they share
// the string.
func (b *builder) responseSample(md protoreflect.MessageDescriptor) string {
	if v, ok := b.res.responses.Load(md.FullName()); ok {
		return v.(string)
	}
	s := newSampler(b)
	s.response = true
	v, _ := b.res.responses.LoadOrStore(md.FullName(), s.message(md, 0, nil).pretty(""))
	return v.(string)
}

// pathVar is one variable of an HTTP path template: {field} or
// {field=tmpl}, at [start, end) of the path.
type pathVar struct {
	field, tmpl string
	start, end  int
}

// pathVars lists the variables of a path template.
func pathVars(path string) []pathVar {
	var out []pathVar
	for i := 0; i < len(path); {
		j := strings.IndexByte(path[i:], '{')
		if j < 0 {
			break
		}
		k := strings.IndexByte(path[i+j:], '}')
		if k < 0 {
			break
		}
		inner := path[i+j+1 : i+j+k]
		field, tmpl, ok := strings.Cut(inner, "=")
		if !ok {
			tmpl = "*"
		}
		out = append(out, pathVar{field: strings.TrimSpace(field), tmpl: tmpl, start: i + j, end: i + j + k + 1})
		i += j + k + 1
	}
	return out
}

// restCommand is the curl command of an HTTP binding, or "" when the rule
// cannot be followed (a field it names is not in the request).
func restCommand(base string, rule *model.HTTPRule, vars []pathVar, in protoreflect.MessageDescriptor, sample *jsonValue, byPath map[string]*jsonValue) string {
	var path strings.Builder
	last := 0
	var skip [][]string // JSON paths of the fields bound to the path
	for _, v := range vars {
		jp, ok := jsonPath(in, v.field)
		if !ok {
			return ""
		}
		skip = append(skip, jp)
		val := ""
		if sv := byPath[v.field]; sv != nil && !sv.obj && !sv.arr {
			val = scalarString(sv.raw)
		}
		if !matchTemplate(val, v.tmpl) {
			val = fillTemplate(v.tmpl)
		}
		path.WriteString(rule.Path[last:v.start])
		segs := strings.Split(val, "/")
		if !strings.Contains(v.tmpl, "/") && !strings.Contains(v.tmpl, "**") {
			segs = []string{val}
		}
		for i, s := range segs {
			if i > 0 {
				path.WriteByte('/')
			}
			path.WriteString(url.PathEscape(s))
		}
		last = v.end
	}
	path.WriteString(rule.Path[last:])
	rest := without(sample, skip)
	var body *jsonValue
	var query []string
	switch rule.Body {
	case "*":
		body = rest
	case "":
		queryParams("", rest, &query)
	default:
		jp, ok := jsonPath(in, rule.Body)
		if !ok || len(jp) != 1 {
			return ""
		}
		for i, k := range rest.keys {
			if k == jp[0] {
				body = rest.vals[i]
				continue
			}
			queryParams(k, rest.vals[i], &query)
		}
		if body == nil {
			body = &jsonValue{obj: true}
		}
	}
	target := base + path.String()
	if len(query) > 0 {
		target += "?" + strings.Join(query, "&")
	}
	var cmd strings.Builder
	cmd.WriteString("curl")
	if rule.Method != "GET" {
		cmd.WriteString(" -X " + shellQuoteWord(rule.Method))
	}
	if body != nil {
		cmd.WriteString(" \\\n  --header 'Content-Type: application/json' \\\n  --data " + shellQuote(body.pretty("")))
	}
	cmd.WriteString(" \\\n  " + shellQuote(target))
	return exact(&cmd)
}

// shellQuoteWord leaves a plain word (an HTTP method) unquoted.
func shellQuoteWord(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return shellQuote(s)
		}
	}
	return s
}

// jsonPath maps a dotted proto field path to the JSON names of its fields.
func jsonPath(md protoreflect.MessageDescriptor, fieldPath string) ([]string, bool) {
	var out []string
	for i, name := range strings.Split(fieldPath, ".") {
		if md == nil {
			return nil, false
		}
		fd := fieldNamed(md.Fields(), protoreflect.Name(name))
		if fd == nil {
			return nil, false
		}
		out = append(out, fd.JSONName())
		md = nil
		if fd.Message() != nil && !fd.IsList() && !fd.IsMap() && i < len(strings.Split(fieldPath, "."))-1 {
			md = fd.Message()
		}
	}
	return out, true
}

// fieldNamed finds a field by name without the index that Fields.ByName
// builds and keeps in the descriptor: lists of fields are short.
func fieldNamed(fs protoreflect.FieldDescriptors, name protoreflect.Name) protoreflect.FieldDescriptor {
	for i := 0; i < fs.Len(); i++ {
		if fd := fs.Get(i); fd.Name() == name {
			return fd
		}
	}
	return nil
}

// without is v less the fields at the given JSON paths; v is not changed.
func without(v *jsonValue, paths [][]string) *jsonValue {
	out := v
	for _, p := range paths {
		out = withoutPath(out, p)
	}
	return out
}

func withoutPath(v *jsonValue, p []string) *jsonValue {
	if v == nil || !v.obj || len(p) == 0 {
		return v
	}
	c := &jsonValue{obj: true, isMap: v.isMap}
	for i, k := range v.keys {
		if k == p[0] {
			if len(p) == 1 {
				continue
			}
			c.keys = append(c.keys, k)
			c.vals = append(c.vals, withoutPath(v.vals[i], p[1:]))
			continue
		}
		c.keys = append(c.keys, k)
		c.vals = append(c.vals, v.vals[i])
	}
	return c
}

// queryParams adds the fields of a sample as query parameters: scalars and
// lists of scalars, nested messages with dotted names. Maps stay out.
func queryParams(key string, v *jsonValue, out *[]string) {
	switch {
	case v.isMap:
	case v.obj:
		for i, k := range v.keys {
			name := k
			if key != "" {
				name = key + "." + k
			}
			queryParams(name, v.vals[i], out)
		}
	case v.arr:
		for _, item := range v.vals {
			if !item.obj && !item.arr {
				queryParams(key, item, out)
			}
		}
	case v.raw == "null" || key == "":
	default:
		*out = append(*out, url.QueryEscape(key)+"="+url.QueryEscape(scalarString(v.raw)))
	}
}

// scalarString is a JSON scalar as text: strings unquoted.
func scalarString(raw string) string {
	if strings.HasPrefix(raw, `"`) {
		var s string
		if json.Unmarshal([]byte(raw), &s) == nil {
			return s
		}
	}
	return raw
}
