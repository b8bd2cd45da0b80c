package jsonout

import (
	"encoding/json"

	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// Writers of the google.api annotations of the model and of typed option
// values, as encoding/json writes them.

// raw writes a member whose value is JSON already (json.RawMessage):
// re-indented as encoding/json does, null when empty.
func (w *jsonWriter) raw(k string, v json.RawMessage) {
	w.key(k)
	if len(v) == 0 {
		w.null()
		return
	}
	prefix := w.prefix
	for i := 0; i < w.depth; i++ {
		prefix += "  "
	}
	if err := json.Indent(w.b, v, prefix, "  "); err != nil {
		w.null() // the model never holds invalid JSON
	}
}

func (w *jsonWriter) resource(r *model.Resource) {
	if r == nil {
		w.null()
		return
	}
	w.open('{')
	w.str("type", r.Type)
	w.str("anchor", r.Anchor)
	w.strings("patterns", r.Patterns, true)
	w.optStr("name_field", r.NameField)
	w.optStr("history", r.History)
	w.optStr("plural", r.Plural)
	w.optStr("singular", r.Singular)
	w.strings("style", r.Style, true)
	w.close('}')
}

// optResource writes a member holding a resource, omitted when nil.
func (w *jsonWriter) optResource(k string, r *model.Resource) {
	if r != nil {
		w.key(k)
		w.resource(r)
	}
}

// fieldAnnotations writes the behaviours and resource reference of a field.
func (w *jsonWriter) fieldAnnotations(f *model.Field) {
	w.strings("behaviors", f.Behaviors, true)
	if r := f.ResourceReference; r != nil {
		w.key("resource_reference")
		w.open('{')
		w.optStr("type", r.Type)
		w.optStr("child_type", r.ChildType)
		w.optStr("anchor", r.Anchor)
		w.close('}')
	}
}

// httpAnnotations writes the members of an HTTP rule after its bodies.
func (w *jsonWriter) httpAnnotations(r *model.HTTPRule) {
	w.optStr("url", r.URL)
	w.optBool("additional", r.Additional)
	w.optStr("body_field", r.BodyField)
	jsonList(w, "path_params", r.PathParams, true, func(p model.PathParam) {
		w.open('{')
		w.str("name", p.Name)
		w.optStr("field", p.Field)
		w.str("pattern", p.Pattern)
		w.close('}')
	})
}

// signatures writes a method's signatures, if any.
func (w *jsonWriter) signatures(sigs [][]string) {
	jsonList(w, "signatures", sigs, true, func(s []string) {
		if s == nil {
			w.null()
			return
		}
		w.open('[')
		for _, x := range s {
			w.next()
			w.quote(x)
		}
		w.close(']')
	})
}
