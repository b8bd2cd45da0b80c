package htmlesc

import (
	"bytes"
	"html"
	htmltemplate "html/template"
	"strings"
	"testing"
)

// escapeCases are values that each escaper must treat exactly as
// html/template does in the same place.
var escapeCases = []string{
	"", "plain", "acme.v1.Shop", "file:acme/v1/shop.proto",
	`"quoted"`, "it's", "a&b", "&amp;", "a+b", "<script>alert(1)</script>", "</title>", ">",
	"\x00nul", "tab\tnew\nline", "\xff\xfe invalid", "é 漢字 🙂", "\uFFFD",
	"-._~!$'()*,;=:@[]{}|\\^`", "%", "%4", "%41", "%zz", "50%", "a%2Fb",
	"javascript:alert(1)", "JavaScript:x", " javascript:x", "java\nscript:x", "vbscript:x", "data:text/html,<b>x</b>", "ftp://x",
	"http://example.com/a b?c=d&e=f+g#h", "HTTPS://EXAMPLE.COM/", "mailto:a@b.c", "https://x/\"onmouseover=\"",
	"#frag", "#file:a b/c.proto", "./a b/c.html#d", "../x/y.html#acme.v1.A", "a/b:c", "a:b/c", "no-scheme",
	"?q=1", "//evil.example/x",
}

// refEscape executes src (with {{.}} as the value) as an html/template and
// returns what it writes for s between prefix and suffix.
func refEscape(t *testing.T, src, prefix, suffix string, funcs htmltemplate.FuncMap, s string) string {
	t.Helper()
	tmpl := htmltemplate.Must(htmltemplate.New("").Funcs(funcs).Parse(src))
	var b strings.Builder
	if err := tmpl.Execute(&b, s); err != nil {
		t.Fatalf("%s with %q: %v", src, s, err)
	}
	out := b.String()
	if !strings.HasPrefix(out, prefix) || !strings.HasSuffix(out, suffix) {
		t.Fatalf("%s with %q: unexpected %q", src, s, out)
	}
	return out[len(prefix) : len(out)-len(suffix)]
}

// escaperContexts are the places of the page whose escaping the escapers
// reproduce, as html/template source with the value as {{.}}.
var escaperContexts = []struct {
	name, src, prefix, suffix string
	esc                       func(*bytes.Buffer, string)
}{
	{"text", `<p>{{.}}</p>`, "<p>", "</p>", Text},
	{"title", `<title>{{.}}</title>`, "<title>", "</title>", Text},
	{"attribute", `<p id="{{.}}">`, `<p id="`, `">`, Text},
	{"class", `<p class="type {{.}}">`, `<p class="type `, `">`, Text},
	{"aria-label", `<a aria-label="Link to {{.}}">`, `<a aria-label="Link to `, `">`, Text},
	{"data-target", `<b data-target="ex:{{.}}">`, `<b data-target="ex:`, `">`, Text},
	{"fragment", `<a href="#{{.}}">`, `<a href="#`, `">`, Fragment},
	{"fragment suffix", `<a href="#{{.}}.extensions">`, `<a href="#`, `.extensions">`, Fragment},
	{"url", `<a href="{{url .}}">`, `<a href="`, `">`, URL},
}

func TestHTMLEscapers(t *testing.T) {
	fm := htmltemplate.FuncMap{"url": PageURL}
	for _, c := range escaperContexts {
		for _, s := range escapeCases {
			want := refEscape(t, c.src, c.prefix, c.suffix, fm, s)
			var b bytes.Buffer
			c.esc(&b, s)
			if got := b.String(); got != want {
				t.Errorf("%s: %q gives %q, html/template gives %q", c.name, s, got, want)
			}
		}
	}
}

// TestEscHTML checks HTML against html.EscapeString's rules for the
// table rows (they leave + and NUL alone).
func TestEscHTML(t *testing.T) {
	for _, s := range escapeCases {
		var b bytes.Buffer
		HTML(&b, s)
		if got, want := b.String(), html.EscapeString(s); got != want {
			t.Errorf("%q gives %q, want %q", s, got, want)
		}
	}
}

// TestWriteHrefAttr: links in table rows accept only fragments, relative
// paths and http, https and mailto URLs, and percent-encode whatever could
// end the attribute or start markup.
func TestWriteHrefAttr(t *testing.T) {
	for in, want := range map[string]string{
		"#acme.v1.Foo":                     "#acme.v1.Foo",
		"../b/index.html#file:b/c d.proto": "../b/index.html#file:b/c%20d.proto",
		"./x.html#a\"onmouseover=\"x":      "./x.html#a%22onmouseover=%22x",
		"https://protobuf.dev/a?b=c&d=e":   "https://protobuf.dev/a?b=c%26d=e",
		"HTTPS://x/<script>'":              "HTTPS://x/%3Cscript%3E%27",
		"mailto:a@b.c":                     "mailto:a@b.c",
		"javascript:alert(1)":              "#",
		"JavaScript:alert(1)":              "#",
		"data:text/html,<b>":               "#",
		"vbscript:x":                       "#",
		"//evil.example/x":                 "#",
		"./é\x00\xff":                      "./%C3%A9%00%FF",
	} {
		var b bytes.Buffer
		HrefAttr(&b, in)
		if got := b.String(); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// FuzzHTMLEscapers checks the escapers against html/template for any
// value.
func FuzzHTMLEscapers(f *testing.F) {
	for _, s := range escapeCases {
		f.Add(s)
	}
	fm := htmltemplate.FuncMap{"url": PageURL}
	tmpls := make([]*htmltemplate.Template, len(escaperContexts))
	for i, c := range escaperContexts {
		tmpls[i] = htmltemplate.Must(htmltemplate.New("").Funcs(fm).Parse(c.src))
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i, c := range escaperContexts {
			var want strings.Builder
			if err := tmpls[i].Execute(&want, s); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			got.WriteString(c.prefix)
			c.esc(&got, s)
			got.WriteString(c.suffix)
			if got.String() != want.String() {
				t.Errorf("%s: %q gives %q, html/template gives %q", c.name, s, got.String(), want.String())
			}
		}
	})
}
