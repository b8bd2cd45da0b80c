package doc

import (
	"bytes"

	"github.com/polyrpc/polyrpc/internal/gen/doc/htmlout"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// searchIndexFile is the name of the run's search index (htmlout/search.go),
// or "" when the run has none: only HTML runs of several documents have
// one, so that a single page stays self-contained.
func searchIndexFile(opts *Options, docs []*model.Document) string {
	if len(docs) < 2 {
		return ""
	}
	for _, f := range opts.Formats {
		if f == FormatHTML {
			return htmlout.SearchIndexName(opts.Name)
		}
	}
	return ""
}

// writeSearchIndex writes the search index of the run's HTML documents and
// passes it to emit in chunks, as writeDocuments passes documents.
func writeSearchIndex(name string, docs []*model.Document, emit func(name string, content []byte) error) error {
	var b bytes.Buffer
	started := false
	send := func() error {
		piece := ""
		if !started {
			piece, started = name, true
		}
		err := emit(piece, b.Bytes())
		b.Reset()
		return err
	}
	err := htmlout.WriteSearchIndexTo(&b, docs, FormatHTML.ext(), func() error {
		if b.Len() < chunkSize {
			return nil
		}
		return send()
	})
	if err != nil {
		return err
	}
	if b.Len() > 0 || !started {
		return send()
	}
	return nil
}
