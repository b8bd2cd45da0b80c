// Package templates holds the document templates of protoc-gen-rpcdoc,
// embedded in the binary: html/page.html.tmpl (html/template) and
// markdown/page.md.tmpl (text/template). Both render one document of the
// documentation model (see internal/gen/doc/model). The HTML page's style
// sheet and scripts are html/*.css.tmpl and html/*.js.tmpl: the base
// style and script, the layout (layout.css), the table of contents that
// follows the reader (nav.js) and the search (search.js).
package templates

import "embed"

// FS holds html/*.tmpl and markdown/*.tmpl.
//
//go:embed html/*.tmpl markdown/*.tmpl
var FS embed.FS
