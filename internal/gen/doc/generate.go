package doc

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/plugin"
)

// Generate documents the files of a request. Problems with the options or
// the protos are reported in the response's error field.
func Generate(req *pluginpb.CodeGeneratorRequest) *pluginpb.CodeGeneratorResponse {
	opts := NewOptions()
	gen, err := plugin.New(withGoPackages(req), opts.Set)
	if err != nil {
		return plugin.ErrorResponse(err)
	}
	if err := opts.finish(); err != nil {
		return plugin.ErrorResponse(err)
	}
	out, err := Build(gen, opts)
	if err != nil {
		return plugin.ErrorResponse(err)
	}
	r, err := newRenderer(opts)
	if err != nil {
		return plugin.ErrorResponse(err)
	}
	idx := anchorIndex(out)
	for _, f := range opts.Formats {
		for _, d := range out {
			v := &view{Document: d, ext: f.ext(), index: idx}
			b, err := r.render(f, v)
			if err != nil {
				return plugin.ErrorResponse(err)
			}
			g := gen.NewGeneratedFile(d.Path+f.ext(), "")
			g.Write(b)
		}
	}
	return gen.Response()
}

// withGoPackages gives protogen a Go import path for every file that lacks
// one: documentation needs none, but protogen refuses files without it.
func withGoPackages(req *pluginpb.CodeGeneratorRequest) *pluginpb.CodeGeneratorRequest {
	var extra []string
	for _, f := range req.GetProtoFile() {
		if f.GetOptions().GetGoPackage() == "" {
			extra = append(extra, "M"+f.GetName()+"=rpcdoc.invalid/"+strings.TrimSuffix(f.GetName(), ".proto"))
		}
	}
	if len(extra) == 0 {
		return req
	}
	r := proto.Clone(req).(*pluginpb.CodeGeneratorRequest)
	param := strings.Join(extra, ",")
	if p := req.GetParameter(); p != "" {
		param = p + "," + param
	}
	r.Parameter = proto.String(param)
	return r
}

// Build makes the documents of a run. The error lists undocumented
// elements when opts.RequireComments is set.
func Build(gen *protogen.Plugin, opts *Options) ([]*Document, error) {
	b := &builder{opts: opts, inDoc: map[protoreflect.FullName]bool{}}
	// Files in the order they were given (file_to_generate).
	for _, name := range gen.Request.GetFileToGenerate() {
		if f, ok := gen.FilesByPath[name]; ok && f.Generate && !opts.excluded(name) {
			b.files = append(b.files, f)
		}
	}
	b.hidden = computeHidden(b.files)
	b.opt = newOptionReader(gen.Files)
	for _, f := range b.files {
		markDocumented(f.Desc, b.inDoc)
	}
	var files []*File
	for _, f := range b.files {
		files = append(files, b.buildFile(f))
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
	if opts.Order == OrderAlpha {
		sortFiles(files)
	}
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
