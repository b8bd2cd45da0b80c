// Package doc is protoc-gen-rpcdoc: it generates API documentation (HTML,
// Markdown, JSON) from a CodeGeneratorRequest. This package holds the
// options (options.go), the run (generate.go), custom templates and the
// data they execute on (render.go), and the writing of documents as
// streamed parts (write.go). The pipeline is in its subpackages:
//
//	request   reads the request at the wire level: descriptors, and the
//	          comment trees of the documented files
//	build     makes the documentation model of the documented files
//	model     the model (Document and the types it holds), layouts, links
//	comment   comments (Markdown) as inert HTML or as safe Markdown
//	htmlout   the built-in HTML page, escaped as html/template would (htmlesc)
//	mdout     the built-in Markdown page
//	jsonout   the JSON format: encoding/json's bytes, written in parts
//	openapiout the openapi format: OpenAPI 3.1 of the REST and Connect operations
//	lint      require_comments' findings as text, GitHub workflow
//	          commands, JSON or SARIF
//	parallel  the workers the stages run on
//
// # Options
//
// The plugin parameter is a comma-separated list of name=value pairs.
//
//	format=html|markdown|json|openapi
//	                           repeatable or comma-separated (format=html,json);
//	                           default html. Files end in .html, .md, .json,
//	                           .openapi.json (OpenAPI 3.1, package openapiout).
//	layout=single|package|file single (default): one document NAME.EXT;
//	                           package: one per proto package, pkg/path/NAME.EXT;
//	                           file: one per proto file, following its path
//	                           (bar/bar-server.proto -> bar/bar-server.EXT).
//	                           HTML runs of several documents also write
//	                           NAME.search.js, the search index of them all.
//	name=NAME                  base file name (default index).
//	title=TEXT                 page title (default "API Reference").
//	exclude=GLOB               leave out files whose path matches (repeatable);
//	                           * and ? stay within a path element, ** crosses
//	                           elements, [abc] is a class.
//	order=declaration|alpha    declaration (default) keeps source order; alpha
//	                           sorts services, methods, messages, enums and
//	                           extensions by name. Fields and enum values keep
//	                           declaration order, and files and packages are
//	                           always in path order, whatever tool sends them.
//	template=PATH              custom template for the only format requested,
//	template=FORMAT:PATH       or for one format. HTML templates are
//	                           html/template (contextually escaped), Markdown
//	                           and JSON ones text/template. They run on the
//	                           same data as the built-in ones, whose named
//	                           templates they may call or redefine.
//	require_comments=true|warn doc lint: list every service, method, message,
//	                           field, extension, enum and enum value without a
//	                           comment. true fails the run with the list (the
//	                           error text); warn writes the documents and
//	                           writes the list to stderr, or to lint_out.
//	lint_format=text|github|json|sarif
//	                           format of the list (default text): file:line:col
//	                           lines, GitHub Actions ::error/::warning commands,
//	                           a JSON list, a SARIF 2.1.0 log (lint.go).
//	lint_ignore=GLOB           leave elements out of the lint by full name
//	                           (repeatable); * and ? stay within a name, **
//	                           crosses dots; an enum value also matches as
//	                           ENUM.VALUE.
//	lint_out=PATH              with require_comments=warn, also write the list
//	                           to this file under the output directory.
//	lint_path_prefix=DIR       put DIR/ before proto paths in the list.
//	base_url=URL               server address in call examples, in the
//	                           URLs of google.api.http bindings and of
//	                           OpenAPI documents (default http://localhost:8080).
//	extern_url=PACKAGE=URL     link elements of PACKAGE (and packages below it;
//	                           * for all) that the run does not document to
//	                           URL#full.name (repeatable; longest package wins).
//	referenced_types=true|all  list the elements documented files refer to but
//	                           no documented file defines: their files are
//	                           added holding only them, with their comments;
//	                           all: and the types those use, transitively.
//	warn_unresolved=false      do not list on stderr the cross-references whose
//	                           target no document holds.
//	example_host=base_url|default_host
//	                           default_host: the examples of a service with
//	                           a google.api.default_host call https:// and
//	                           that host; others call base_url (the default).
//	api_version=TEXT           info.version of OpenAPI documents (default 1.0.0).
//	openapi_paths=segments|template
//	                           a multi-segment path variable in OpenAPI: its
//	                           segments, one parameter per wildcard (default),
//	                           or one {name} parameter with a pattern.
//
// # Custom templates
//
// A custom template is the body of a template named "custom", parsed into a
// copy of the built-in set, so it can call (or redefine) the built-in named
// templates: "page-head", "file", "page-tail" for HTML and "md-head",
// "md-file", "md-tail" for Markdown. The built-in pages themselves are
// written in Go; their named templates call them, and redefining one
// changes only the custom template's own calls. A custom template executes
// on a view of one Document: the Document's fields, plus
//
//	.Comment TEXT        a Markdown comment as inert HTML
//	.Href ANCHOR         link to a documented element ("" when it is not documented)
//	.Ref TYPEREF         resolved type reference (.Name, .Href, .Kind, .FQN)
//	.DocHref PATH        link to another document of the run
//	.Section FILE        the built-in HTML of one file (MDSection for Markdown)
//	.PageHead/.PageTail  the built-in HTML before the first and after the last file
//	                     (MDHead/MDTail for Markdown)
//	.MDBlock/.MDCell TEXT  a comment made safe for Markdown blocks or table cells
//
// Custom HTML templates are html/template, so everything they print is
// escaped for its context, except the HTML that Comment and Section return.
//
// Comments are Markdown. An element whose leading or trailing comment holds
// the word @hide is left out, together with its contents and every type
// that only hidden elements use.
//
// # JSON schema
//
// format=json writes each Document as encoding/json does.
// docs/rpcdoc.schema.json is its JSON Schema, generated from the types of
// package model by the tests. The field names are the json tags of Document,
// File, Service, Method, Protocol, HTTPRule, PathParam, Message, Oneof,
// Field, TypeRef, Enum, EnumValue, Option, Resource and ResourceReference;
// the meaning of each field is documented on the Go type, and the schema
// carries it as descriptions, with enums for closed sets of values.
// Descriptions are the comments as Markdown source. Option values are JSON
// ("value") and proto text ("text"). The google.api annotations are typed
// members (behaviors, resource_reference, resource, resources,
// default_host, oauth_scopes, signatures, the path_params of http_rules),
// not options. schema_version is 2 and changes only when a field is
// removed or changes meaning. Empty
// lists and false flags are omitted, except files, documents, values and
// fields that always appear where noted. Anchors (element ids in HTML) are
// the fully qualified proto names; files use "file:" plus their path.
package doc

// Usage is the --help text of protoc-gen-rpcdoc.
const Usage = `protoc-gen-rpcdoc writes API documentation (HTML, Markdown, JSON, OpenAPI) for protobuf files.
It is run by protoc or buf:

  protoc --rpcdoc_out=DIR [--rpcdoc_opt=OPTIONS] FILES.proto
  buf generate   (with protoc-gen-rpcdoc in buf.gen.yaml; use strategy: all)

Options (comma-separated name=value pairs):
  format=html|markdown|json|openapi   repeatable or comma-separated; default html
  layout=single|package|file  one document, one per package, or one per file
  name=NAME                   base file name (default index)
  title=TEXT                  page title (default "API Reference")
  exclude=GLOB                skip files matching GLOB (repeatable; ** crosses directories)
  order=declaration|alpha     element order (default declaration)
  template=[FORMAT:]PATH      custom template (html/template for HTML, text/template otherwise)
  require_comments=true|warn  list every undocumented element: fail, or warn and write the docs
  lint_format=FORMAT          text, github, json or sarif (default text)
  lint_ignore=GLOB            leave elements out of the lint by full name (repeatable; ** crosses dots)
  lint_out=PATH               with require_comments=warn: also write the findings to this file
  lint_path_prefix=DIR        put DIR/ before proto paths in findings
  base_url=URL                server address used in call examples (default http://localhost:8080)
  example_host=HOST           base_url (default) or default_host: a service's google.api.default_host
  extern_url=PKG=URL          link undocumented elements of package PKG (repeatable; * for all)
  referenced_types=true|all   list referenced elements that no documented file defines (all: transitively)
  warn_unresolved=false       do not report unresolved cross-references on stderr
  api_version=TEXT            info.version of OpenAPI documents (default 1.0.0)
  openapi_paths=STYLE         segments (default) or template: multi-segment path variables in OpenAPI

Comments are Markdown; elements whose comment contains @hide are left out.
`
