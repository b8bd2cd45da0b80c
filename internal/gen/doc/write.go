package doc

import (
	"bytes"
	"fmt"
	"runtime"

	"github.com/polyrpc/polyrpc/internal/gen/doc/htmlout"
	"github.com/polyrpc/polyrpc/internal/gen/doc/jsonout"
	"github.com/polyrpc/polyrpc/internal/gen/doc/mdout"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
	"github.com/polyrpc/polyrpc/internal/gen/doc/parallel"
)

// Documents are written as a stream of parts: the built-in pages as their
// head, one section per file and their tail, anything else (JSON, custom
// templates) as one part. Parts are rendered on parallel workers, whatever
// the layout, and collected in order into chunks of about chunkSize
// bytes, each passed on as soon as it is full. So a run holds a few
// chunks at a time instead of its documents, however large they are.

// chunkSize is the size from which a document is passed on in pieces: a
// plugin may send a file as several CodeGeneratorResponse.File values, all
// but the first without a name. protoc appends them as they come; buf joins
// them into one string, which costs a copy per piece, so pieces are large.
var chunkSize = 8 << 20

// part is one rendered part of a document.
type part struct {
	doc  int // index into the jobs of writeDocuments
	last bool
	buf  *bytes.Buffer
}

// bufferList keeps the buffers of a run's parts for reuse. Unlike a
// sync.Pool, which the collector empties at every cycle, it keeps them for
// the whole run, so that they grow once instead of once per cycle.
type bufferList chan *bytes.Buffer

func (l bufferList) get() *bytes.Buffer {
	select {
	case b := <-l:
		b.Reset()
		return b
	default:
		return new(bytes.Buffer)
	}
}

func (l bufferList) put(b *bytes.Buffer) {
	select {
	case l <- b:
	default:
	}
}

// writeDocuments renders every document in every format and passes the
// output to emit in order: for each document, its name with its first
// chunk, then "" with each further chunk. emit must not keep content.
func writeDocuments(opts *Options, r *renderer, docs []*model.Document, emit func(name string, content []byte) error) error {
	idx := model.Anchors(docs)
	for _, f := range opts.Formats {
		if !r.builtin(f) {
			// Templates read the commands from the model's fields.
			model.FillExamples(docs)
			break
		}
	}
	searchIndex := searchIndexFile(opts, docs)
	r.htmlRun.SearchIndex = searchIndex
	r.prepareOpenAPI(opts, docs)
	type job struct {
		v     *view
		parts int
	}
	var jobs []job
	type ref struct{ job, part int }
	var refs []ref
	for _, f := range opts.Formats {
		for _, d := range docs {
			page := &model.Page{Document: d, Ext: f.ext(), Index: idx}
			v := &view{Document: d, page: page, r: r, format: f, html: htmlout.NewPage(page, &r.htmlRun)}
			n := 1
			if r.builtin(f) && (f != FormatJSON || len(d.Files) > 0) {
				n = len(d.Files) + 2 // head, sections, tail
			}
			for p := 0; p < n; p++ {
				refs = append(refs, ref{len(jobs), p})
			}
			jobs = append(jobs, job{v, n})
		}
	}
	var pending bytes.Buffer
	started := false
	// Parts in flight are bounded by parallel.InOrder; a few more buffers
	// cover the ones being written.
	bufs := make(bufferList, 2*runtime.GOMAXPROCS(0)+2)
	err := parallel.InOrder(len(refs), func(i int) (part, error) {
		j, p := jobs[refs[i].job], refs[i].part
		b := bufs.get()
		var err error
		v := j.v
		switch {
		case j.parts == 1:
			err = r.renderWhole(b, v)
		case p == 0:
			err = r.head(b, v)
		case p == j.parts-1:
			err = r.tail(b, v)
		default:
			err = r.section(b, v, p-1)
		}
		if err != nil {
			bufs.put(b)
			return part{}, fmt.Errorf("rendering %s: %v", v.Path+v.page.Ext, err)
		}
		return part{doc: refs[i].job, last: p == j.parts-1, buf: b}, nil
	}, func(i int, pt part) error {
		defer bufs.put(pt.buf)
		// A part that fills a chunk on its own is passed on without a copy.
		if pending.Len() == 0 && (pt.buf.Len() >= chunkSize || pt.last) {
			return emitChunk(emit, jobs[pt.doc].v, &started, pt.buf.Bytes(), pt.last)
		}
		pending.Write(pt.buf.Bytes())
		if pending.Len() >= chunkSize || pt.last {
			err := emitChunk(emit, jobs[pt.doc].v, &started, pending.Bytes(), pt.last)
			pending.Reset()
			return err
		}
		return nil
	})
	if err != nil || searchIndex == "" {
		return err
	}
	return writeSearchIndex(searchIndex, docs, emit)
}

// emitChunk passes one chunk of a document on, named when it is the
// document's first.
func emitChunk(emit func(string, []byte) error, v *view, started *bool, b []byte, last bool) error {
	name := ""
	if !*started {
		name = v.Path + v.page.Ext
	}
	*started = !last
	return emit(name, b)
}

// builtin reports whether format f is rendered by the built-in page
// writer, part by part.
func (r *renderer) builtin(f Format) bool {
	switch f {
	case FormatHTML:
		return r.htmlEntry == htmlEntry
	case FormatMarkdown:
		return r.mdEntry == mdEntry
	case FormatJSON:
		return r.json == nil
	}
	return false
}

func (r *renderer) head(b *bytes.Buffer, v *view) error {
	switch v.format {
	case FormatMarkdown:
		return mdout.WriteHead(b, v.page)
	case FormatJSON:
		return v.json.Head(b, v.Document)
	}
	return htmlout.WriteHead(b, v.html)
}

func (r *renderer) tail(b *bytes.Buffer, v *view) error {
	switch v.format {
	case FormatMarkdown:
		return mdout.WriteTail(b, v.page)
	case FormatJSON:
		return v.json.Tail(b, v.Document)
	}
	return htmlout.WriteTail(b, v.html)
}

// section renders the part of one file.
func (r *renderer) section(b *bytes.Buffer, v *view, i int) error {
	if v.format == FormatJSON {
		jsonout.File(b, v.Document, i)
		return nil
	}
	return r.renderFile(b, v, v.Files[i])
}

// renderWhole renders a document as one part: with a custom template, or
// as JSON when it has no files.
func (r *renderer) renderWhole(b *bytes.Buffer, v *view) error {
	switch v.format {
	case FormatHTML:
		return r.html.ExecuteTemplate(b, r.htmlEntry, v)
	case FormatMarkdown:
		return r.md.ExecuteTemplate(b, r.mdEntry, v)
	case FormatOpenAPI:
		return r.writeOpenAPI(b, v)
	}
	if r.json != nil {
		return r.json.ExecuteTemplate(b, r.jsonEntry, v)
	}
	return jsonout.Encode(b, v.Document, "")
}
