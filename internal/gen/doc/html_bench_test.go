package doc

import (
	"encoding/json"
	"sort"
	"testing"

	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// BenchmarkRenderHTML writes the pages of BenchmarkGenerate (20 files, 800
// messages, 12,000 fields) from their model: the HTML writers alone,
// without reading the request and building the model. The model comes
// from the JSON output, which is the model.
func BenchmarkRenderHTML(b *testing.B) {
	for _, layout := range []string{"single", "package"} {
		b.Run(layout, func(b *testing.B) {
			srcs, names := largeProtos(20)
			out := generate(b, compileSources(b, srcs, "format=json,layout="+layout, names...))
			var docs []*model.Document
			for _, content := range out {
				d := new(model.Document)
				if err := json.Unmarshal([]byte(content), d); err != nil {
					b.Fatal(err, "short output")
				}
				docs = append(docs, d)
			}
			sort.Slice(docs, func(i, j int) bool { return docs[i].Path < docs[j].Path })
			for _, d := range docs {
				d.Documents = docs[0].Documents // one list per run, as layout makes it
			}
			opts := NewOptions()
			opts.Formats = []Format{FormatHTML}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := newRenderer(opts)
				if err != nil {
					b.Fatal(err)
				}
				size := 0
				err = writeDocuments(opts, r, docs, func(name string, content []byte) error {
					size += len(content)
					return nil
				})
				if err != nil || size < 1<<20 {
					b.Fatal(err, size)
				}
			}
		})
	}
}
