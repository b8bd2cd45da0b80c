package doc

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/plugin"
)

// Generate documents the files of a request. Problems with the options or
// the protos are reported in the response's error field.
func Generate(req *pluginpb.CodeGeneratorRequest) *pluginpb.CodeGeneratorResponse {
	in, err := proto.Marshal(req)
	if err != nil {
		return plugin.ErrorResponse(err)
	}
	resp := &pluginpb.CodeGeneratorResponse{
		SupportedFeatures: proto.Uint64(plugin.Features),
		MinimumEdition:    proto.Int32(int32(plugin.MinimumEdition)),
		MaximumEdition:    proto.Int32(int32(plugin.MaximumEdition)),
	}
	err = Run(in, func(name string, content []byte) error {
		resp.File = append(resp.File, &pluginpb.CodeGeneratorResponse_File{
			Name:    proto.String(name),
			Content: proto.String(bytesToString(content)),
		})
		return nil
	})
	if err != nil {
		return plugin.ErrorResponse(err)
	}
	return resp
}

// Run documents the files of an encoded CodeGeneratorRequest, passing each
// output file to emit as soon as it is rendered, in a fixed order. emit
// keeps content; it is not written again. An error is about the options or
// the protos, or comes from emit.
func Run(in []byte, emit func(name string, content []byte) error) error {
	req, err := readRequest(in)
	if err != nil {
		return err
	}
	opts := NewOptions()
	for _, p := range plugin.ParseParams(req.parameter) {
		if plugin.IsProtogenParam(p.Name) {
			continue // Go import paths and output paths mean nothing to documents
		}
		if err := opts.Set(p.Name, p.Value); err != nil {
			return err
		}
	}
	if err := opts.finish(); err != nil {
		return err
	}
	wanted := map[string]bool{}
	for _, name := range req.toGenerate {
		if _, ok := req.byName[name]; !ok {
			return fmt.Errorf("file_to_generate %q is not among the request's files", name)
		}
		wanted[name] = !opts.excluded(name)
	}
	// Only the documented files need their comments and element trees.
	files, src, err := loadFiles(req, func(name string) bool { return wanted[name] })
	if err != nil {
		return err
	}
	all := make([]protoreflect.FileDescriptor, len(files))
	for i, f := range files {
		all[i] = f.desc
	}
	var selected []*pFile
	for _, name := range req.toGenerate {
		if f := files[req.byName[name]]; f.pf != nil {
			selected = append(selected, f.pf)
		}
	}
	req, files = nil, nil
	sort.SliceStable(selected, func(i, j int) bool { return selected[i].Desc.Path() < selected[j].Desc.Path() })
	docs, err := build(opts, src, all, selected)
	if err != nil {
		return err
	}
	r, err := newRenderer(opts)
	if err != nil {
		return err
	}
	idx := anchorIndex(docs)
	type job struct {
		f Format
		d *Document
	}
	var jobs []job
	for _, f := range opts.Formats {
		for _, d := range docs {
			jobs = append(jobs, job{f, d})
		}
	}
	return inOrder(len(jobs), func(i int) ([]byte, error) {
		v := &view{Document: jobs[i].d, ext: jobs[i].f.ext(), index: idx}
		return r.render(jobs[i].f, v)
	}, func(i int, b []byte) error {
		return emit(jobs[i].d.Path+jobs[i].f.ext(), b)
	})
}

// parallelFor runs fn(0..n-1) on GOMAXPROCS workers.
func parallelFor(n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := min(runtime.GOMAXPROCS(0), n); w > 0; w-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// inOrder runs produce(0..n-1) on parallel workers and passes the results to
// use in index order, as soon as each is ready and all before it are used.
// At most a few results wait at a time, so that documents do not pile up
// in memory. The first error stops the work.
func inOrder(n int, produce func(i int) ([]byte, error), use func(i int, b []byte) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			b, err := produce(i)
			if err != nil {
				return err
			}
			if err := use(i, b); err != nil {
				return err
			}
		}
		return nil
	}
	type result struct {
		b   []byte
		err error
	}
	results := make([]chan result, n)
	for i := range results {
		results[i] = make(chan result, 1)
	}
	// A slot is taken before a job starts and given back when its result
	// is used, which bounds the results held at once.
	slots := make(chan struct{}, 2*workers)
	stop := make(chan struct{})
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				select {
				case slots <- struct{}{}:
				case <-stop:
					return
				}
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				b, err := produce(i)
				results[i] <- result{b, err}
			}
		}()
	}
	var err error
	for i := 0; i < n && err == nil; i++ {
		r := <-results[i]
		err = r.err
		if err == nil {
			err = use(i, r.b)
		}
		<-slots
	}
	close(stop)
	wg.Wait()
	return err
}

// build makes the documents of a run from the selected files; all holds
// every file of the request (for custom option definitions). The error
// lists undocumented elements when opts.RequireComments is set.
func build(opts *Options, src sources, all []protoreflect.FileDescriptor, selected []*pFile) ([]*Document, error) {
	b := &builder{opts: opts, src: src, inDoc: map[protoreflect.FullName]bool{}, files: selected}
	b.hidden = computeHidden(b.files)
	b.opt = newOptionReader(all)
	for _, f := range b.files {
		markDocumented(f.Desc, b.inDoc)
	}
	// Files are built in parallel, each by a copy of the builder that
	// collects its own undocumented elements.
	files := make([]*File, len(b.files))
	missing := make([][]missingComment, len(b.files))
	parallelFor(len(b.files), func(i int) {
		fb := *b
		fb.missing = nil
		files[i] = fb.buildFile(b.files[i])
		missing[i] = fb.missing
	})
	for _, m := range missing {
		b.missing = append(b.missing, m...)
	}
	if opts.RequireComments && len(b.missing) > 0 {
		noun := "elements have"
		if len(b.missing) == 1 {
			noun = "element has"
		}
		order := map[string]int{}
		for i, f := range b.files {
			order[f.Desc.Path()] = i
		}
		sort.SliceStable(b.missing, func(i, j int) bool {
			x, y := b.missing[i], b.missing[j]
			if x.file != y.file {
				return order[x.file] < order[y.file]
			}
			if x.line != y.line {
				return x.line < y.line
			}
			return x.col < y.col
		})
		lines := make([]string, len(b.missing))
		for i, m := range b.missing {
			lines[i] = m.text
		}
		return nil, fmt.Errorf("require_comments: %d %s no comment:\n  %s", len(b.missing), noun, strings.Join(lines, "\n  "))
	}
	// Files always come in path order: protoc keeps the command line's
	// order and buf its own, and both must give the same documents.
	sortFiles(files)
	return layout(opts, files), nil
}

func sortFiles(files []*File) {
	for i := 1; i < len(files); i++ {
		for j := i; j > 0 && files[j].Name < files[j-1].Name; j-- {
			files[j], files[j-1] = files[j-1], files[j]
		}
	}
}

// markDocumented records the messages and enums of a documented file.
func markDocumented(fd protoreflect.FileDescriptor, m map[protoreflect.FullName]bool) {
	var msgs func(ms protoreflect.MessageDescriptors)
	msgs = func(ms protoreflect.MessageDescriptors) {
		for i := 0; i < ms.Len(); i++ {
			md := ms.Get(i)
			m[md.FullName()] = true
			for j := 0; j < md.Enums().Len(); j++ {
				m[md.Enums().Get(j).FullName()] = true
			}
			msgs(md.Messages())
		}
	}
	for j := 0; j < fd.Enums().Len(); j++ {
		m[fd.Enums().Get(j).FullName()] = true
	}
	msgs(fd.Messages())
}

// bytesToString shares the bytes of a rendered document with the response
// instead of copying them: documents can be tens of megabytes, and b is
// never written again.
func bytesToString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
