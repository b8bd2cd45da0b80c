package mdout

import (
	"bytes"

	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// The google.api annotations in Markdown: field behaviours in the Label
// column, resources as small tables that references link to, a service's
// host and OAuth scopes, method signatures, and HTTP bindings as REST URLs
// with a table of their path parameters.

// writeMDLabel writes the Label cell of a field: its label (see
// Field.ShownLabel) and its behaviours in bold.
func writeMDLabel(w *bytes.Buffer, f *model.Field) {
	l := f.ShownLabel()
	w.WriteString(l)
	for i, fb := range f.Behaviors {
		if i > 0 || l != "" {
			w.WriteByte(' ')
		}
		w.WriteString("**")
		writeMDEscape(w, model.BehaviorLabel(fb))
		w.WriteString("**")
	}
}

// writeMDResourceRef ends a description cell with the resource the field
// refers to; start is where the cell began in w.
func writeMDResourceRef(w *bytes.Buffer, v *model.Page, r *model.ResourceReference, start int) {
	if r == nil {
		return
	}
	if w.Len() > start {
		w.WriteString("<br>")
	}
	switch {
	case r.Type == "*":
		w.WriteString("Resource name of any type")
	case r.Type != "":
		w.WriteString("Resource name of ")
		writeMDLink(w, v, r.Anchor, r.Type, true)
	default:
		w.WriteString("Resource name of the parent of ")
		writeMDLink(w, v, r.Anchor, r.ChildType, true)
	}
}

// writeMDResource writes a resource as a two-column table, after a blank
// line; anchor is the anchor written before it ("" for none).
func writeMDResource(w *bytes.Buffer, r *model.Resource, anchor string) {
	if r == nil {
		return
	}
	w.WriteString("\n\n")
	if anchor != "" {
		writeMDAnchor(w, "", anchor, "")
	}
	w.WriteString("**Resource** ")
	writeMDCode(w, r.Type, false)
	w.WriteString("\n\n| | |\n|---|---|")
	if len(r.Patterns) > 0 {
		w.WriteString("\n| Patterns | ")
		for i, p := range r.Patterns {
			if i > 0 {
				w.WriteString("<br>")
			}
			writeMDCode(w, p, true)
		}
		w.WriteString(" |")
	}
	for _, kv := range [...][2]string{{"Plural", r.Plural}, {"Singular", r.Singular}, {"Name field", r.NameField}, {"History", r.History}} {
		if kv[1] != "" {
			w.WriteString("\n| ")
			w.WriteString(kv[0])
			w.WriteString(" | ")
			writeMDCode(w, kv[1], true)
			w.WriteString(" |")
		}
	}
	if len(r.Style) > 0 {
		w.WriteString("\n| Style | ")
		for i, s := range r.Style {
			if i > 0 {
				w.WriteString(", ")
			}
			writeMDCode(w, s, true)
		}
		w.WriteString(" |")
	}
}

// writeMDFileResources writes the resources a file defines at file level.
func writeMDFileResources(w *bytes.Buffer, rs []*model.Resource) {
	if len(rs) == 0 {
		return
	}
	w.WriteString("\n\nResources defined in this file:")
	for _, r := range rs {
		writeMDResource(w, r, r.Anchor)
	}
}

// writeMDServiceAPI writes a service's host and OAuth scopes.
func writeMDServiceAPI(w *bytes.Buffer, s *model.Service) {
	if s.DefaultHost == "" && len(s.OAuthScopes) == 0 {
		return
	}
	w.WriteByte('\n')
	if s.DefaultHost != "" {
		w.WriteString("\n- Host: ")
		writeMDCode(w, s.DefaultHost, false)
	}
	if len(s.OAuthScopes) > 0 {
		w.WriteString("\n- OAuth scopes (any of): ")
		for i, sc := range s.OAuthScopes {
			if i > 0 {
				w.WriteString(", ")
			}
			writeMDCode(w, sc, false)
		}
	}
}

// writeMDSignatures writes a method's signatures, as list items.
func writeMDSignatures(w *bytes.Buffer, v *model.Page, m *model.Method) {
	for _, sig := range m.Signatures {
		w.WriteString("\n- Signature: ")
		writeMDCode3(w, m.Name, "(", "", false)
		for i, arg := range sig {
			if i > 0 {
				writeMDCode(w, ", ", false)
			}
			anchor := ""
			if m.Request.FullName != "" {
				anchor = m.Request.FullName + "." + arg
			}
			writeMDLink(w, v, anchor, arg, false)
		}
		writeMDCode(w, ")", false)
	}
}

// writeMDHTTPRules writes a method's HTTP bindings as list items.
func writeMDHTTPRules(w *bytes.Buffer, v *model.Page, rules []model.HTTPRule) {
	for _, r := range rules {
		w.WriteString("\n- HTTP: ")
		u := r.URL
		if u == "" {
			u = r.Path
		}
		writeMDCode3(w, r.Method, " ", u, false)
		if r.Additional {
			w.WriteString(" (additional binding)")
		}
		if r.Body != "" {
			w.WriteString(" (body: ")
			if r.Body == "*" {
				w.WriteString("the whole request")
			} else {
				writeMDLink(w, v, r.BodyField, r.Body, false)
			}
			w.WriteByte(')')
		}
		if r.ResponseBody != "" {
			w.WriteString(" (response body: ")
			writeMDCode(w, r.ResponseBody, false)
			w.WriteByte(')')
		}
	}
}

// writeMDPathParams writes a table of the path parameters of each HTTP
// binding that has some, after a blank line.
func writeMDPathParams(w *bytes.Buffer, v *model.Page, rules []model.HTTPRule) {
	for _, r := range rules {
		if len(r.PathParams) == 0 {
			continue
		}
		w.WriteString("\n\nPath parameters of ")
		writeMDCode3(w, r.Method, " ", r.Path, false)
		w.WriteString(":\n\n| Path parameter | Field | Pattern |\n|---|---|---|")
		for _, p := range r.PathParams {
			w.WriteString("\n| ")
			writeMDCode3(w, "{", p.Name, "}", true)
			w.WriteString(" | ")
			if p.Field != "" {
				writeMDLink(w, v, p.Field, p.Field, true)
			} else {
				w.WriteString("not a request field")
			}
			w.WriteString(" | ")
			writeMDCode(w, p.Pattern, true)
			w.WriteString(" |")
		}
	}
}
