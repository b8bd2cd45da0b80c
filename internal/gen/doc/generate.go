package doc

import (
	"fmt"
	"sort"
	"strings"
	"unsafe"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/plugin"
)

// Generate documents the files of a request. Problems with the options or
// the protos are reported in the response's error field.
func Generate(req *pluginpb.CodeGeneratorRequest) *pluginpb.CodeGeneratorResponse {
	opts := NewOptions()
	for _, p := range plugin.ParseParams(req.GetParameter()) {
		if plugin.IsProtogenParam(p.Name) {
			continue // Go import paths and output paths mean nothing to documents
		}
		if err := opts.Set(p.Name, p.Value); err != nil {
			return plugin.ErrorResponse(err)
		}
	}
	if err := opts.finish(); err != nil {
		return plugin.ErrorResponse(err)
	}
	// Index the source info of the documented files, then build the
	// descriptors without it. From here on the request is not used, so its
	// memory can go once the descriptors exist.
	toGenerate := req.GetFileToGenerate()
	wanted := map[string]bool{}
	for _, name := range toGenerate {
		wanted[name] = true
	}
	src := sources{}
	protos := make([]*descriptorpb.FileDescriptorProto, len(req.GetProtoFile()))
	editions := map[string]descriptorpb.Edition{}
	for i, fp := range req.GetProtoFile() {
		if wanted[fp.GetName()] {
			src.add(fp)
		}
		editions[fp.GetName()] = fp.GetEdition()
		protos[i] = withoutSourceInfo(fp)
	}
	req = nil
	files, err := protodesc.NewFiles(&descriptorpb.FileDescriptorSet{File: protos})
	if err != nil {
		return plugin.ErrorResponse(fmt.Errorf("invalid descriptors in the request: %v", err))
	}
	var all, selected []*pFile
	byPath := map[string]*pFile{}
	for _, fp := range protos {
		fd, err := files.FindFileByPath(fp.GetName())
		if err != nil {
			return plugin.ErrorResponse(err)
		}
		f := newFile(src, fd, editions[fp.GetName()])
		all = append(all, f)
		byPath[fp.GetName()] = f
	}
	protos, files = nil, nil
	for _, name := range toGenerate {
		f, ok := byPath[name]
		if !ok {
			return plugin.ErrorResponse(fmt.Errorf("file_to_generate %q is not among the request's files", name))
		}
		if !opts.excluded(name) {
			selected = append(selected, f)
		}
	}
	sort.SliceStable(selected, func(i, j int) bool { return selected[i].Desc.Path() < selected[j].Desc.Path() })
	docs, err := build(opts, src, all, selected)
	if err != nil {
		return plugin.ErrorResponse(err)
	}
	r, err := newRenderer(opts)
	if err != nil {
		return plugin.ErrorResponse(err)
	}
	resp := &pluginpb.CodeGeneratorResponse{
		SupportedFeatures: proto.Uint64(plugin.Features),
		MinimumEdition:    proto.Int32(int32(plugin.MinimumEdition)),
		MaximumEdition:    proto.Int32(int32(plugin.MaximumEdition)),
	}
	idx := anchorIndex(docs)
	for _, f := range opts.Formats {
		for _, d := range docs {
			v := &view{Document: d, ext: f.ext(), index: idx}
			b, err := r.render(f, v)
			if err != nil {
				return plugin.ErrorResponse(err)
			}
			resp.File = append(resp.File, &pluginpb.CodeGeneratorResponse_File{
				Name:    proto.String(d.Path + f.ext()),
				Content: proto.String(bytesToString(b)),
			})
		}
	}
	return resp
}

// build makes the documents of a run from the selected files; all holds
// every file of the request (for custom option definitions). The error
// lists undocumented elements when opts.RequireComments is set.
func build(opts *Options, src sources, all, selected []*pFile) ([]*Document, error) {
	b := &builder{opts: opts, src: src, inDoc: map[protoreflect.FullName]bool{}, files: selected}
	b.hidden = computeHidden(b.files)
	b.opt = newOptionReader(all)
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

// withoutSourceInfo is a shallow copy of a file descriptor without its
// source code info.
func withoutSourceInfo(fp *descriptorpb.FileDescriptorProto) *descriptorpb.FileDescriptorProto {
	out := new(descriptorpb.FileDescriptorProto)
	m := out.ProtoReflect()
	fp.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Number() != fileSourceCodeInfoPath {
			m.Set(fd, v)
		}
		return true
	})
	m.SetUnknown(fp.ProtoReflect().GetUnknown())
	return out
}

// fileSourceCodeInfoPath is FileDescriptorProto.source_code_info.
const fileSourceCodeInfoPath = 9
