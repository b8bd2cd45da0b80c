package doc

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/gen/doc/build"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
	"github.com/polyrpc/polyrpc/internal/gen/doc/request"
	"github.com/polyrpc/polyrpc/internal/plugin"
)

// Generate documents the files of a request. Problems with the options or
// the protos are reported in the response's error field.
func Generate(req *pluginpb.CodeGeneratorRequest) *pluginpb.CodeGeneratorResponse {
	return generateTo(req, os.Stderr)
}

// generateTo is Generate with require_comments=warn reporting to stderr.
func generateTo(req *pluginpb.CodeGeneratorRequest, stderr io.Writer) *pluginpb.CodeGeneratorResponse {
	in, err := proto.Marshal(req)
	if err != nil {
		return plugin.ErrorResponse(err)
	}
	resp := &pluginpb.CodeGeneratorResponse{
		SupportedFeatures: proto.Uint64(plugin.Features),
		MinimumEdition:    proto.Int32(int32(plugin.MinimumEdition)),
		MaximumEdition:    proto.Int32(int32(plugin.MaximumEdition)),
	}
	err = run(bytes.NewReader(in), stderr, func(name string, content []byte) error {
		if name == "" { // the next piece of the last file
			last := resp.File[len(resp.File)-1]
			last.Content = proto.String(last.GetContent() + string(content))
			return nil
		}
		resp.File = append(resp.File, &pluginpb.CodeGeneratorResponse_File{
			Name:    proto.String(name),
			Content: proto.String(string(content)),
		})
		return nil
	})
	if err != nil {
		return plugin.ErrorResponse(err)
	}
	return resp
}

// Run documents the files of an encoded CodeGeneratorRequest read from in,
// passing the output to emit as it is rendered, in a fixed order. A large
// file comes in pieces: its name with the first, then "" with each further
// piece, as in CodeGeneratorResponse.File. emit must not keep content. An
// error is about the options or the protos, or comes from emit. With
// require_comments=warn the findings go to os.Stderr, which protoc and buf
// show.
func Run(in io.Reader, emit func(name string, content []byte) error) error {
	return run(in, os.Stderr, emit)
}

func run(in io.Reader, stderr io.Writer, emit func(name string, content []byte) error) error {
	req, err := request.Read(in)
	if err != nil {
		return err
	}
	opts := NewOptions()
	for _, p := range plugin.ParseParams(req.Parameter) {
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
	// Templates are parsed first, so that a broken one fails at once.
	r, err := newRenderer(opts)
	if err != nil {
		return err
	}
	wanted := map[string]bool{}
	for _, name := range req.ToGenerate {
		if _, ok := req.ByName[name]; !ok {
			return fmt.Errorf("file_to_generate %q is not among the request's files", name)
		}
		wanted[name] = !opts.excluded(name)
	}
	building := collectOften()
	defer building()
	// Only the documented files need their comments and element trees.
	var keepComments func(string) bool
	if opts.Referenced {
		// Listed elements of files not documented keep their comments.
		keepComments = func(string) bool { return true }
	}
	files, err := request.LoadComments(req, func(name string) bool { return wanted[name] }, keepComments, opts.RequireComments)
	if err != nil {
		return err
	}
	all := make([]protoreflect.FileDescriptor, len(files))
	var otherSrc request.Sources
	for i, f := range files {
		all[i] = f.Desc
		if f.Src != nil {
			if otherSrc == nil {
				otherSrc = request.Sources{}
			}
			otherSrc[f.Desc.Path()] = f.Src
		}
	}
	var selected []*request.File
	for _, name := range req.ToGenerate {
		if f := files[req.ByName[name]]; f.File != nil {
			selected = append(selected, f.File)
		}
	}
	req, files = nil, nil
	sort.SliceStable(selected, func(i, j int) bool { return selected[i].Desc.Path() < selected[j].Desc.Path() })
	cfg := build.Config{BaseURL: opts.BaseURL, Alpha: opts.Order == OrderAlpha, RequireComments: opts.RequireComments}
	if len(opts.lintIgnore) > 0 {
		cfg.Ignore = opts.lintIgnored
	}
	cfg.DefaultHost = opts.ExampleHost == ExampleHostDefault
	cfg.Extern, cfg.Referenced, cfg.Excluded = opts.ExternURL, opts.Referenced, opts.excluded
	cfg.ReferencedAll, cfg.ReferencedSources = opts.ReferencedAll, otherSrc
	var unresolved []build.UnresolvedRef
	if !opts.QuietRefs {
		cfg.Unresolved = &unresolved
	}
	built, findings, err := build.Files(cfg, all, selected)
	if err != nil {
		return err
	}
	reportUnresolved(stderr, unresolved)
	var lintFile []byte
	if opts.RequireComments {
		if lintFile, err = reportFindings(opts, findings, stderr); err != nil {
			return err
		}
	}
	docs := model.Documents(built, opts.Layout, opts.Name, opts.Title)
	if opts.LintOut != "" {
		if err := checkLintOut(opts, docs); err != nil {
			return err
		}
	}
	all, selected = nil, nil
	building()
	defer capHeap()()
	if err := writeDocuments(opts, r, docs, emit); err != nil {
		return err
	}
	if opts.LintOut != "" {
		return emit(opts.LintOut, lintFile)
	}
	return nil
}

// The collector is tuned for the two phases of a run. While the request's
// descriptors are built and the model is made from them, the live heap
// grows to its peak, and the collector would let the heap reach twice that
// before looking again: it runs more often then (GOGC=30 unless GOGC is
// set), which costs about a tenth more CPU and a quarter of the peak
// memory (googleapis-full: about 530 MB against 700 MB at GOGC=80, with
// the call examples in the model). Once the model is built the
// descriptors are garbage, and rendering needs far less: the memory the
// process already holds becomes its soft limit (unless a lower one is
// set), so that the heap does not grow further.

// gcPercentWhileBuilding is GOGC while descriptors are live.
const gcPercentWhileBuilding = 30

// collectOften lowers GOGC for the build phase. It returns the function
// that restores it.
func collectOften() (restore func()) {
	return gcPercent.acquire(func() func() {
		if os.Getenv("GOGC") != "" {
			return nil
		}
		old := debug.SetGCPercent(gcPercentWhileBuilding)
		return func() { debug.SetGCPercent(old) }
	})
}

// capHeap sets the soft memory limit for rendering. It returns the function
// that restores it.
func capHeap() (restore func()) {
	return memoryLimit.acquire(func() func() {
		sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 || sample[1].Value.Kind() != metrics.KindUint64 {
			return nil
		}
		held := int64(sample[0].Value.Uint64() - sample[1].Value.Uint64())
		if old := debug.SetMemoryLimit(-1); held <= 0 || held >= old {
			return nil
		}
		old := debug.SetMemoryLimit(held)
		return func() { debug.SetMemoryLimit(old) }
	})
}

var gcPercent, memoryLimit sharedSetting

// sharedSetting is a process-wide setting changed for the length of a
// phase. Runs at the same time share the first one's change, and the last
// to finish undoes it.
type sharedSetting struct {
	mu    sync.Mutex
	users int
	undo  func()
}

// acquire applies the setting unless it is in force already; apply
// returns how to undo it (nil when it changed nothing).
func (s *sharedSetting) acquire(apply func() (undo func())) (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users == 0 {
		s.undo = apply()
	}
	s.users++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.users--; s.users == 0 && s.undo != nil {
				s.undo()
				s.undo = nil
			}
		})
	}
}
