package corpus

import (
	"strings"
	"testing"

	"github.com/polyrpc/polyrpc/internal/gen/doc"
	"github.com/polyrpc/polyrpc/internal/openapicheck"
)

// TestOpenAPIGoogleAPIs writes the OpenAPI documents of googleapis, one per
// package, and validates them with libopenapi: every document in full
// mode, the Pub/Sub, Storage and Cloud Tasks ones (with their field
// behaviours, resource patterns and additional bindings) always, and
// those three only with openapi_paths=template (which changes paths, not
// schemas).
func TestOpenAPIGoogleAPIs(t *testing.T) {
	for _, p := range []string{"format=openapi,layout=package", "format=openapi,layout=package,openapi_paths=template"} {
		t.Run(p, func(t *testing.T) { googleAPIsOpenAPI(t, p) })
	}
}

func googleAPIsOpenAPI(t *testing.T, p string) {
	few := testing.Short() || strings.Contains(p, "template")
	req, err := Request("googleapis")
	if err != nil {
		t.Skipf("googleapis: %v", err)
	}
	req.Parameter = &p
	resp := doc.Generate(req)
	if resp.Error != nil {
		t.Fatalf("generate: %s", resp.GetError())
	}
	must := map[string]bool{"google/pubsub/v1/index.openapi.json": false, "google/storage/v2/index.openapi.json": false, "google/cloud/tasks/v2/index.openapi.json": false}
	n, paths := 0, 0
	for _, f := range resp.File {
		name := f.GetName()
		if name == "" {
			t.Fatal("unexpected continuation piece: documents should be small enough for one")
		}
		if _, ok := must[name]; !ok && few {
			continue
		}
		if _, ok := must[name]; ok {
			must[name] = true
		}
		if _, err := openapicheck.Document([]byte(f.GetContent())); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		n++
		paths += strings.Count(f.GetContent(), `"operationId"`)
	}
	for name, seen := range must {
		if !seen {
			t.Errorf("no %s", name)
		}
	}
	t.Logf("%d documents with %d operations validate", n, paths)
}
