package doc

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
	"github.com/polyrpc/polyrpc/internal/gen/doc/openapiout"
)

// DefaultAPIVersion is info.version of OpenAPI documents.
const DefaultAPIVersion = "1.0.0"

// openapi_paths values: a multi-segment path variable is one parameter
// with a pattern, or one parameter per wildcard.
const (
	OpenAPIPathsTemplate = "template"
	OpenAPIPathsSegments = "segments"
)

// checkAPIVersion checks the api_version option.
func checkAPIVersion(v string) error {
	if strings.TrimSpace(v) == "" || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("option api_version: %q is not a version (a non-empty line of text, e.g. 1.2.0 or v1)", v)
	}
	return nil
}

// prepareOpenAPI indexes the types of the run for the OpenAPI documents.
func (r *renderer) prepareOpenAPI(opts *Options, docs []*model.Document) {
	if containsFormat(opts.Formats, FormatOpenAPI) {
		r.openapiTypes = openapiout.NewTypes(docs)
		r.apiVersion = opts.APIVersion
		r.baseURL = opts.BaseURL
		r.openapiSegments = opts.OpenAPIPaths == OpenAPIPathsSegments
	}
}

// writeOpenAPI writes one document as OpenAPI 3.1.
func (r *renderer) writeOpenAPI(b *bytes.Buffer, v *view) error {
	return openapiout.Write(b, v.Document, r.openapiTypes, openapiout.Config{
		Title:     v.Title,
		Version:   r.apiVersion,
		ServerURL: r.baseURL,
		Segments:  r.openapiSegments,
	})
}
