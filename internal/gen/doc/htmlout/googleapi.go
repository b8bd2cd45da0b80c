package htmlout

import (
	"bytes"

	"github.com/polyrpc/polyrpc/internal/gen/doc/htmlesc"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// The google.api annotations as the page shows them: field behaviours as
// badges, resources as cards that references link to, a service's host
// and OAuth scopes, method signatures, and HTTP bindings as REST URLs with
// their path parameters.

// writeBehaviors writes the badges of a field's behaviours.
func writeBehaviors(b *bytes.Buffer, behaviors []string, esc func(*bytes.Buffer, string)) {
	for i, fb := range behaviors {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(`<span class="badge fb fb-`)
		esc(b, model.BehaviorClass(fb))
		b.WriteString(`">`)
		esc(b, model.BehaviorLabel(fb))
		b.WriteString("</span>")
	}
}

// writeLabelCell writes the Label cell of a field row: its label (see
// Field.ShownLabel) and its behaviour badges.
func writeLabelCell(b *bytes.Buffer, f *model.Field) {
	l := f.ShownLabel()
	htmlesc.HTML(b, l)
	if len(f.Behaviors) > 0 {
		if l != "" {
			b.WriteByte(' ')
		}
		writeBehaviors(b, f.Behaviors, htmlesc.HTML)
	}
}

// writeCodeLink writes text as code, linked to anchor when it is
// documented in the run.
func (v *Page) writeCodeLink(b *bytes.Buffer, anchor, text string, esc func(*bytes.Buffer, string)) {
	l := link{}
	if anchor != "" {
		l = v.anchorLink(anchor)
	}
	if l.ok() {
		b.WriteString(`<a href="`)
		v.writeURL(b, l)
		b.WriteString(`">`)
	}
	b.WriteString("<code>")
	esc(b, text)
	b.WriteString("</code>")
	if l.ok() {
		b.WriteString("</a>")
	}
}

// writeResourceRef writes the resource a field refers to, in its
// description cell.
func (v *Page) writeResourceRef(b *bytes.Buffer, r *model.ResourceReference) {
	if r == nil {
		return
	}
	b.WriteString(`<p class="resource-ref">`)
	switch {
	case r.Type == "*":
		b.WriteString("Resource name of any type")
	case r.Type != "":
		b.WriteString("Resource name of ")
		v.writeCodeLink(b, r.Anchor, r.Type, htmlesc.HTML)
	default:
		b.WriteString("Resource name of the parent of ")
		v.writeCodeLink(b, r.Anchor, r.ChildType, htmlesc.HTML)
	}
	b.WriteString("</p>")
}

// writeResourceCard writes a resource: its type, name patterns and names.
// id is the card's own id (for file-level definitions), or "".
func writeResourceCard(b *bytes.Buffer, r *model.Resource, id string) {
	if r == nil {
		return
	}
	b.WriteString("\n<div class=\"resource-card\"")
	if id != "" {
		b.WriteString(` id="`)
		htmlesc.Text(b, id)
		b.WriteString(`"`)
	}
	b.WriteString(`><p class="resource-type"><span class="kind">resource</span> <code>`)
	htmlesc.Text(b, r.Type)
	b.WriteString("</code></p><dl class=\"meta\">")
	if len(r.Patterns) > 0 {
		b.WriteString(`<dt>Patterns</dt><dd><ul class="plain">`)
		for _, p := range r.Patterns {
			b.WriteString("<li><code>")
			htmlesc.Text(b, p)
			b.WriteString("</code></li>")
		}
		b.WriteString("</ul></dd>")
	}
	for _, kv := range [...][2]string{{"Plural", r.Plural}, {"Singular", r.Singular}, {"Name field", r.NameField}, {"History", r.History}} {
		if kv[1] != "" {
			writeStrings(b, "<dt>", kv[0], "</dt><dd><code>")
			htmlesc.Text(b, kv[1])
			b.WriteString("</code></dd>")
		}
	}
	if len(r.Style) > 0 {
		b.WriteString("<dt>Style</dt><dd>")
		writeCodeList(b, r.Style, "<code>", "</code>")
		b.WriteString("</dd>")
	}
	b.WriteString("</dl></div>")
}

// writeFileResources writes the resources a file defines at file level.
func writeFileResources(b *bytes.Buffer, rs []*model.Resource) {
	if len(rs) == 0 {
		return
	}
	b.WriteString("\n<h3 class=\"sub\">Resources defined in this file</h3>")
	for _, r := range rs {
		writeResourceCard(b, r, r.Anchor)
	}
}

// writeServiceAPI writes a service's host and OAuth scopes.
func writeServiceAPI(b *bytes.Buffer, s *model.Service) {
	if s.DefaultHost == "" && len(s.OAuthScopes) == 0 {
		return
	}
	b.WriteString("\n<dl class=\"meta service-api\">")
	if s.DefaultHost != "" {
		b.WriteString("<dt>Host</dt><dd><code>")
		htmlesc.Text(b, s.DefaultHost)
		b.WriteString("</code></dd>")
	}
	if len(s.OAuthScopes) > 0 {
		b.WriteString(`<dt>OAuth scopes</dt><dd><small>any of</small><ul class="plain">`)
		for _, sc := range s.OAuthScopes {
			b.WriteString("<li><code>")
			htmlesc.Text(b, sc)
			b.WriteString("</code></li>")
		}
		b.WriteString("</ul></dd>")
	}
	b.WriteString("</dl>")
}

// writeSignatures writes a method's signatures as the calls of client
// libraries: "CreateBook(parent, book)", each argument linked to its
// request field.
func (v *Page) writeSignatures(b *bytes.Buffer, m *model.Method) {
	if len(m.Signatures) == 0 {
		return
	}
	b.WriteString("\n<dt>Signatures</dt><dd><ul class=\"plain signatures\">")
	for _, sig := range m.Signatures {
		b.WriteString("<li><code>")
		htmlesc.Text(b, m.Name)
		b.WriteString("(</code>")
		for i, arg := range sig {
			if i > 0 {
				b.WriteString("<code>, </code>")
			}
			anchor := ""
			if m.Request.FullName != "" {
				anchor = m.Request.FullName + "." + arg
			}
			v.writeCodeLink(b, anchor, arg, htmlesc.Text)
		}
		b.WriteString("<code>)</code></li>")
	}
	b.WriteString("</ul></dd>")
}

// writeHTTPRules writes a method's HTTP bindings: the verb and URL, the
// body, and a table of the path parameters.
func (v *Page) writeHTTPRules(b *bytes.Buffer, rules []model.HTTPRule) {
	if len(rules) == 0 {
		return
	}
	b.WriteString("\n<dt>HTTP</dt><dd>")
	for _, r := range rules {
		b.WriteString(`<div class="rest"><p><code class="url"><span class="verb">`)
		htmlesc.Text(b, r.Method)
		b.WriteString("</span> ")
		u := r.URL
		if u == "" {
			u = r.Path
		}
		htmlesc.Text(b, u)
		b.WriteString("</code>")
		if r.Additional {
			b.WriteString(` <small>additional binding</small>`)
		}
		if r.Body != "" {
			b.WriteString(" <small>body: ")
			if r.Body == "*" {
				b.WriteString("the whole request")
			} else {
				v.writeCodeLink(b, r.BodyField, r.Body, htmlesc.Text)
			}
			b.WriteString("</small>")
		}
		if r.ResponseBody != "" {
			b.WriteString(" <small>response body: <code>")
			htmlesc.Text(b, r.ResponseBody)
			b.WriteString("</code></small>")
		}
		b.WriteString("</p>")
		if len(r.PathParams) > 0 {
			b.WriteString(`<table class="params"><thead><tr><th>Path parameter</th><th>Field</th><th>Pattern</th></tr></thead><tbody>`)
			for _, p := range r.PathParams {
				b.WriteString("<tr><td><code>{")
				htmlesc.Text(b, p.Name)
				b.WriteString("}</code></td><td>")
				if p.Field != "" {
					v.writeCodeLink(b, p.Field, p.Field, htmlesc.Text)
				} else {
					b.WriteString("<small>not a request field</small>")
				}
				b.WriteString("</td><td><code>")
				htmlesc.Text(b, p.Pattern)
				b.WriteString("</code></td></tr>")
			}
			b.WriteString("</tbody></table>")
		}
		b.WriteString("</div>")
	}
	b.WriteString("</dd>")
}
