// Package openapicheck is the test stage of protoc-gen-rpcdoc's openapi
// format: it validates OpenAPI documents with github.com/pb33f/libopenapi
// (the document against the OpenAPI 3.1 schema, and that libopenapi builds
// its model of it), and HTTP exchanges against a document with
// libopenapi-validator. Only tests import it.
package openapicheck

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/errors"
)

// maxReported bounds the errors listed in one failure.
const maxReported = 20

// Document checks an OpenAPI document and returns a validator for
// exchanges with a server it describes.
func Document(spec []byte) (validator.Validator, error) {
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		return nil, fmt.Errorf("libopenapi: %v", err)
	}
	if v := doc.GetVersion(); !strings.HasPrefix(v, "3.1") {
		return nil, fmt.Errorf("openapi version %q, want 3.1.x", v)
	}
	if _, err := doc.BuildV3Model(); err != nil {
		return nil, fmt.Errorf("libopenapi model: %v", err)
	}
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions(), config.WithContentParameterValidation())
	if len(errs) > 0 {
		return nil, fmt.Errorf("libopenapi-validator: %v", errs[0])
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		return nil, fmt.Errorf("document does not validate against the OpenAPI schema:\n%s", list(verrs))
	}
	return v, nil
}

// Exchange validates a request and its response against a document. The
// bodies are given as bytes, since the exchange has consumed them.
func Exchange(v validator.Validator, req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) error {
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	if ok, errs := v.ValidateHttpRequestSync(r); !ok {
		return fmt.Errorf("request %s %s does not validate:\n%s", req.Method, req.URL.RequestURI(), list(errs))
	}
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	w := *resp
	w.Body = io.NopCloser(bytes.NewReader(respBody))
	if ok, errs := v.ValidateHttpResponse(r, &w); !ok {
		return fmt.Errorf("response %d to %s %s (%s) does not validate:\n%s", resp.StatusCode, req.Method, req.URL.RequestURI(), respBody, list(errs))
	}
	return nil
}

func list(errs []*errors.ValidationError) string {
	var b strings.Builder
	for i, e := range errs {
		if i == maxReported {
			fmt.Fprintf(&b, "  ... and %d more\n", len(errs)-i)
			break
		}
		fmt.Fprintf(&b, "  %s: %s", e.Message, e.Reason)
		for _, se := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n    %s at %s", se.Reason, se.FieldPath)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Refused checks an exchange whose request breaks the document (a test of
// hostile input): the request must fail validation, and the server's
// answer must still match the document.
func Refused(v validator.Validator, req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) error {
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	if ok, _ := v.ValidateHttpRequestSync(r); ok {
		return fmt.Errorf("request %s %s validates, but it should not", req.Method, req.URL.RequestURI())
	}
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	w := *resp
	w.Body = io.NopCloser(bytes.NewReader(respBody))
	if ok, errs := v.ValidateHttpResponse(r, &w); !ok {
		return fmt.Errorf("response %d to %s %s (%s) does not validate:\n%s", resp.StatusCode, req.Method, req.URL.RequestURI(), respBody, list(errs))
	}
	return nil
}
