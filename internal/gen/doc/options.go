package doc

import (
	"fmt"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/polyrpc/polyrpc/internal/gen/doc/build"
	"github.com/polyrpc/polyrpc/internal/gen/doc/comment"
	"github.com/polyrpc/polyrpc/internal/gen/doc/lint"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// Format is an output format.
type Format string

// The output formats, in the order their documents are written.
const (
	FormatHTML     Format = "html"
	FormatMarkdown Format = "markdown"
	FormatJSON     Format = "json"
	FormatOpenAPI  Format = "openapi" // OpenAPI 3.1 in JSON (openapi.go)
)

var allFormats = []Format{FormatHTML, FormatMarkdown, FormatJSON, FormatOpenAPI}

// ext is the file name extension of a format.
func (f Format) ext() string {
	switch f {
	case FormatMarkdown:
		return ".md"
	case FormatJSON:
		return ".json"
	case FormatOpenAPI:
		return ".openapi.json"
	}
	return ".html"
}

// Order values.
const (
	OrderDeclaration = "declaration"
	OrderAlpha       = "alpha"
)

// DefaultBaseURL is the server address used in call examples.
const DefaultBaseURL = "http://localhost:8080"

// example_host values.
const (
	ExampleHostBaseURL = "base_url"     // every example calls base_url
	ExampleHostDefault = "default_host" // a service's google.api.default_host, over https
)

// Options are the plugin options. The zero value is not ready; use
// NewOptions and then Set for every parameter.
type Options struct {
	Formats         []Format
	Layout          string
	Name            string
	Title           string
	Exclude         []string
	Order           string
	RequireComments bool // list the elements without comments (true or warn)
	BaseURL         string
	// ExampleHost is "" or base_url (every example calls BaseURL) or
	// default_host (a service's google.api.default_host, over https).
	ExampleHost string
	// ExternURL maps packages that the run does not document to where
	// they are documented (extern_url=PKG=URL, repeatable).
	ExternURL []build.ExternURL
	// Referenced lists the referenced elements that no documented file
	// defines (referenced_types=true), and ReferencedAll the types they
	// use as well, transitively (referenced_types=all).
	Referenced, ReferencedAll bool
	// QuietRefs does not report unresolved cross-references on stderr
	// (warn_unresolved=false).
	QuietRefs    bool
	APIVersion   string // info.version of OpenAPI documents
	OpenAPIPaths string // template or segments (openapi.go)
	// The doc lint (require_comments). LintWarn reports the findings
	// (on stderr, and in LintOut) and writes the documents; otherwise
	// they fail the run.
	LintWarn       bool
	LintFormat     lint.Format
	LintIgnore     []string // globs over full proto names
	LintOut        string   // extra generated file with the findings
	LintPathPrefix string   // put before proto paths in findings
	// Templates maps a format to the text of a custom template.
	Templates map[Format]string

	templateArgs []string // raw template= values, resolved by finish
	last         string   // name of the previous option
	exclude      []*regexp.Regexp
	lintIgnore   []*regexp.Regexp
}

// NewOptions returns the defaults: one index.html, single layout,
// declaration order.
func NewOptions() *Options {
	return &Options{
		Layout:       model.LayoutSingle,
		Name:         "index",
		Title:        "API Reference",
		Order:        OrderDeclaration,
		BaseURL:      DefaultBaseURL,
		APIVersion:   DefaultAPIVersion,
		OpenAPIPaths: OpenAPIPathsSegments,
		Templates:    map[Format]string{},
		LintFormat:   lint.Text,
	}
}

// OptionNames lists the options Set understands.
var OptionNames = []string{"api_version", "base_url", "example_host", "exclude", "extern_url", "format", "layout", "lint_format", "lint_ignore", "lint_out", "lint_path_prefix", "name", "openapi_paths", "order", "referenced_types", "require_comments", "template", "title", "warn_unresolved"}

// Set applies one name=value plugin parameter.
func (o *Options) Set(name, value string) error {
	// "format=html,markdown" reaches us as format=html and a bare markdown.
	if value == "" && o.last == "format" {
		switch name {
		case "html", "markdown", "md", "json", "openapi":
			return o.Set("format", name)
		}
	}
	o.last = name
	switch name {
	case "format":
		for _, v := range strings.Split(value, ",") {
			v = strings.TrimSpace(v)
			var f Format
			switch strings.ToLower(v) {
			case "html":
				f = FormatHTML
			case "markdown", "md":
				f = FormatMarkdown
			case "json":
				f = FormatJSON
			case "openapi":
				f = FormatOpenAPI
			default:
				return fmt.Errorf("option format: %q is not a format (use html, markdown, json or openapi)", v)
			}
			if !containsFormat(o.Formats, f) {
				o.Formats = append(o.Formats, f)
			}
		}
	case "layout":
		switch value {
		case model.LayoutSingle, model.LayoutPackage, model.LayoutFile:
			o.Layout = value
		default:
			return fmt.Errorf("option layout: %q is not a layout (use single, package or file)", value)
		}
	case "name":
		if value == "" || strings.ContainsAny(value, `/\`) || value == "." || value == ".." {
			return fmt.Errorf("option name: %q is not a file base name (no directories, not empty)", value)
		}
		o.Name = value
	case "title":
		if strings.TrimSpace(value) == "" {
			return fmt.Errorf("option title: the title must not be empty")
		}
		o.Title = value
	case "exclude":
		re, err := globRegexp(value)
		if err != nil {
			return fmt.Errorf("option exclude: %v", err)
		}
		o.Exclude = append(o.Exclude, value)
		o.exclude = append(o.exclude, re)
	case "order":
		switch value {
		case OrderDeclaration, OrderAlpha:
			o.Order = value
		default:
			return fmt.Errorf("option order: %q is not an order (use declaration or alpha)", value)
		}
	case "require_comments":
		if value == "" {
			value = "true"
		}
		if value == "warn" {
			o.RequireComments, o.LintWarn = true, true
			break
		}
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("option require_comments: %q is not true, false or warn", value)
		}
		o.RequireComments, o.LintWarn = b, false
	case "lint_format":
		f, ok := lint.ParseFormat(value)
		if !ok {
			return fmt.Errorf("option lint_format: %q is not a lint format (use text, github, json or sarif)", value)
		}
		o.LintFormat = f
	case "lint_ignore":
		re, err := nameGlob(value)
		if err != nil {
			return fmt.Errorf("option lint_ignore: %v", err)
		}
		o.LintIgnore = append(o.LintIgnore, value)
		o.lintIgnore = append(o.lintIgnore, re)
	case "lint_out":
		if value == "" || strings.Contains(value, `\`) || path.IsAbs(value) || path.Clean(value) != value ||
			value == "." || value == ".." || strings.HasPrefix(value, "../") {
			return fmt.Errorf("option lint_out: %q is not a relative file path inside the output directory", value)
		}
		o.LintOut = value
	case "lint_path_prefix":
		if value != "" && !strings.HasSuffix(value, "/") {
			value += "/"
		}
		o.LintPathPrefix = value
	case "base_url":
		if !strings.HasPrefix(value, "http://") && !strings.HasPrefix(value, "https://") {
			return fmt.Errorf("option base_url: %q is not an http:// or https:// URL", value)
		}
		o.BaseURL = strings.TrimRight(value, "/")
	case "example_host":
		switch value {
		case ExampleHostBaseURL, ExampleHostDefault:
			o.ExampleHost = value
		default:
			return fmt.Errorf("option example_host: %q is not base_url or default_host", value)
		}
	case "extern_url":
		pkg, u, ok := strings.Cut(value, "=")
		if !ok || !(pkg == "*" || comment.IsIdent(pkg) || comment.IsProtoName(pkg)) || strings.HasPrefix(pkg, ".") ||
			!strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") || strings.ContainsAny(u, " \t\n\"'<>`") {
			return fmt.Errorf("option extern_url: %q is not PACKAGE=URL (a proto package or *, and an http:// or https:// URL)", value)
		}
		if pkg == "*" {
			pkg = ""
		}
		o.ExternURL = append(o.ExternURL, build.ExternURL{Package: pkg, URL: strings.TrimRight(u, "#")})
	case "referenced_types", "warn_unresolved":
		if value == "" {
			value = "true"
		}
		if name == "referenced_types" && value == "all" {
			o.Referenced, o.ReferencedAll = true, true
			break
		}
		b, err := strconv.ParseBool(value)
		if err != nil && name == "referenced_types" {
			return fmt.Errorf("option referenced_types: %q is not true, false or all", value)
		}
		if err != nil {
			return fmt.Errorf("option %s: %q is not true or false", name, value)
		}
		if name == "referenced_types" {
			o.Referenced, o.ReferencedAll = b, false
		} else {
			o.QuietRefs = !b
		}
	case "api_version":
		if err := checkAPIVersion(value); err != nil {
			return err
		}
		o.APIVersion = value
	case "openapi_paths":
		if value != OpenAPIPathsTemplate && value != OpenAPIPathsSegments {
			return fmt.Errorf("option openapi_paths: %q is not a path style (use template or segments)", value)
		}
		o.OpenAPIPaths = value
	case "template":
		if value == "" {
			return fmt.Errorf("option template: a file path is required (template=PATH or template=FORMAT:PATH)")
		}
		o.templateArgs = append(o.templateArgs, value)
	default:
		return fmt.Errorf("unknown option %q (known options: %s)", name, strings.Join(OptionNames, ", "))
	}
	return nil
}

func containsFormat(fs []Format, f Format) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

// finish applies defaults and reads custom templates. It is called once all
// parameters are set.
func (o *Options) finish() error {
	if len(o.Formats) == 0 {
		o.Formats = []Format{FormatHTML}
	}
	// Write formats in a fixed order, whatever the order of the options.
	var fs []Format
	for _, f := range allFormats {
		if containsFormat(o.Formats, f) {
			fs = append(fs, f)
		}
	}
	o.Formats = fs
	if o.LintOut != "" && !o.LintWarn {
		return fmt.Errorf("option lint_out=%s: needs require_comments=warn (protoc and buf write no files when require_comments fails the run)", o.LintOut)
	}
	for _, arg := range o.templateArgs {
		f, path := Format(""), arg
		if prefix, rest, ok := strings.Cut(arg, ":"); ok {
			switch prefix {
			case "html":
				f, path = FormatHTML, rest
			case "markdown", "md":
				f, path = FormatMarkdown, rest
			case "json":
				f, path = FormatJSON, rest
			}
		}
		if f == "" && o.Formats[0] == FormatOpenAPI && len(o.Formats) == 1 || strings.HasPrefix(arg, "openapi:") {
			return fmt.Errorf("option template=%s: format openapi has no templates", arg)
		}
		if f == "" {
			if len(o.Formats) != 1 {
				return fmt.Errorf("option template=%s: with more than one format, say which format the template is for (template=html:PATH, template=markdown:PATH or template=json:PATH)", arg)
			}
			f = o.Formats[0]
		}
		if !containsFormat(o.Formats, f) {
			return fmt.Errorf("option template=%s: format %s is not being generated (add format=%s)", arg, f, f)
		}
		if _, dup := o.Templates[f]; dup {
			return fmt.Errorf("option template=%s: a template for %s is already given", arg, f)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("option template: cannot read template %q: %v", path, unwrapPathError(err))
		}
		o.Templates[f] = string(b)
	}
	return nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// excluded reports whether a proto file path matches an exclude pattern.
func (o *Options) excluded(path string) bool {
	for _, re := range o.exclude {
		if re.MatchString(path) {
			return true
		}
	}
	return false
}

// lintIgnored reports whether an element name matches a lint_ignore
// pattern.
func (o *Options) lintIgnored(name string) bool {
	for _, re := range o.lintIgnore {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

// globRegexp compiles a glob over slash-separated paths: * matches within a
// path element, ** matches across elements, ? one character, [...] a class.
func globRegexp(glob string) (*regexp.Regexp, error) { return sepGlob(glob, '/') }

// nameGlob compiles a glob over full proto names, whose elements are
// separated by dots: acme.*.Order, **.Internal*.
func nameGlob(glob string) (*regexp.Regexp, error) { return sepGlob(glob, '.') }

// sepGlob compiles a glob over names whose elements are separated by sep:
// * and ? stay within an element, ** crosses elements, and "**" followed
// by sep also matches no element at all.
func sepGlob(glob string, sep byte) (*regexp.Regexp, error) {
	within := "[^" + regexp.QuoteMeta(string(sep)) + "]"
	quotedSep := regexp.QuoteMeta(string(sep))
	if glob == "" {
		return nil, fmt.Errorf("empty pattern")
	}
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(glob); i++ {
		c := glob[i]
		switch c {
		case '*':
			if i+1 < len(glob) && glob[i+1] == '*' {
				i++
				if i+1 < len(glob) && glob[i+1] == sep {
					i++
					b.WriteString("(?:.*" + quotedSep + ")?")
				} else {
					b.WriteString(".*")
				}
			} else {
				b.WriteString(within + "*")
			}
		case '?':
			b.WriteString(within)
		case '[':
			end := strings.IndexByte(glob[i+1:], ']')
			if end < 0 {
				return nil, fmt.Errorf("bad pattern %q: unclosed [", glob)
			}
			class := glob[i+1 : i+1+end]
			if class == "" || class == "!" || class == "^" {
				return nil, fmt.Errorf("bad pattern %q: empty character class", glob)
			}
			if class[0] == '!' {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += end + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("bad pattern %q", glob)
	}
	return re, nil
}
