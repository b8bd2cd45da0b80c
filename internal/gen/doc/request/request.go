// Package request reads protoc-gen-rpcdoc's CodeGeneratorRequest at the
// wire level (only for speed and memory; DESIGN.md, decision 13): each
// file is kept as its own buffer until decoded, the source info of the
// documented files is indexed straight from the wire and that of the
// others skipped, and descriptors are built with protodesc on parallel
// workers as soon as a file's imports are built. Each documented file
// comes with a light tree of its elements and their comments (tree.go).
package request

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/polyrpc/polyrpc/internal/gen/doc/parallel"
	"github.com/polyrpc/polyrpc/internal/plugin"
)

// A large request is mostly source code info: positions and comments of
// every element of every file, dependencies included. The documents need
// the comments of the documented files only, so the request is read at the
// wire level: the source info of the documented files goes straight into
// the comment index, that of the other files is skipped, and each file is
// decoded and turned into a descriptor in parallel, as soon as the files
// it imports are ready.

// Request is a decoded CodeGeneratorRequest.
type Request struct {
	Parameter  string
	ToGenerate []string
	files      []rawFile // in request order
	ByName     map[string]int
}

// rawFile is one proto_file of the request, not yet decoded.
type rawFile struct {
	name string
	deps []string
	b    []byte
}

// Field numbers of CodeGeneratorRequest and FileDescriptorProto.
const (
	reqFileToGenerate = 1
	reqParameter      = 2
	reqProtoFile      = 15
	fileName          = 1
	fileDependency    = 3
	fileSourceInfo    = 9
)

// Read reads an encoded CodeGeneratorRequest and splits it into
// its parts without decoding the files. Each file is read into a buffer of
// its own, which can go as soon as the file is decoded.
func Read(r io.Reader) (*Request, error) {
	req := &Request{ByName: map[string]int{}}
	err := readFields(bufio.NewReaderSize(r, 64<<10), func(num protowire.Number, typ protowire.Type, v []byte) error {
		if typ != protowire.BytesType {
			return nil // unknown fields, as protobuf takes a known number with another wire type
		}
		switch num {
		case reqFileToGenerate:
			req.ToGenerate = append(req.ToGenerate, string(v))
		case reqParameter:
			req.Parameter = string(v)
		case reqProtoFile:
			f := rawFile{b: v}
			err := forEachField(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
				switch {
				case num == fileName && typ == protowire.BytesType:
					f.name = string(v)
				case num == fileDependency && typ == protowire.BytesType:
					f.deps = append(f.deps, string(v))
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("proto_file %d: %v", len(req.files), err)
			}
			if _, dup := req.ByName[f.name]; dup {
				return fmt.Errorf("file %q appears more than once", f.name)
			}
			req.ByName[f.name] = len(req.files)
			req.files = append(req.files, f)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", plugin.ErrNotRequest, err)
	}
	return req, nil
}

// readFields reads the fields of an encoded message from r, as
// forEachField does from a buffer. The value of a length-delimited field
// is a new buffer, never reused.
func readFields(r *bufio.Reader, fn func(num protowire.Number, typ protowire.Type, v []byte) error) error {
	for {
		tag, err := binary.ReadUvarint(r)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return unexpectedEOF(err)
		}
		num, typ := protowire.DecodeTag(tag)
		if num < protowire.MinValidNumber || num > protowire.MaxValidNumber {
			return errors.New("invalid field number")
		}
		var v []byte
		switch typ {
		case protowire.VarintType:
			x, err := binary.ReadUvarint(r)
			if err != nil {
				return unexpectedEOF(err)
			}
			v = protowire.AppendVarint(nil, x)
		case protowire.Fixed32Type, protowire.Fixed64Type:
			v = make([]byte, 4)
			if typ == protowire.Fixed64Type {
				v = make([]byte, 8)
			}
			if _, err := io.ReadFull(r, v); err != nil {
				return unexpectedEOF(err)
			}
		case protowire.BytesType:
			n, err := binary.ReadUvarint(r)
			if err != nil {
				return unexpectedEOF(err)
			}
			if n > math.MaxInt32 {
				return errors.New("field too long")
			}
			if v, err = readN(r, int(n)); err != nil {
				return unexpectedEOF(err)
			}
		default:
			return fmt.Errorf("field %d: unsupported wire type %d", num, typ)
		}
		if err := fn(num, typ, v); err != nil {
			return err
		}
	}
}

// readN reads n bytes. A buffer of n bytes is made up front only for
// modest n, so that a corrupt length cannot make a huge allocation before
// the data turns out to be missing.
func readN(r io.Reader, n int) ([]byte, error) {
	if n <= 4<<20 {
		b := make([]byte, n)
		_, err := io.ReadFull(r, b)
		return b, err
	}
	var buf bytes.Buffer
	buf.Grow(4 << 20)
	if _, err := io.CopyN(&buf, r, int64(n)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// forEachField calls fn with the number, type and value of each field of
// an encoded message: the contents for length-delimited fields, the
// encoded value for the others.
func forEachField(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		if typ == protowire.BytesType {
			var m int
			v, m = protowire.ConsumeBytes(b)
			if m < 0 {
				return protowire.ParseError(m)
			}
			n = m
		} else {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			v = b[:n]
		}
		if err := fn(num, typ, v); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// Loaded is a file of the request turned into a descriptor.
type Loaded struct {
	Desc    protoreflect.FileDescriptor
	edition descriptorpb.Edition
	// pf is the element tree of a documented file (nil for the others).
	File *File
	// Src holds the comments of a file that is not documented, when
	// LoadComments was asked to keep them (nil otherwise).
	Src map[string]*Location
}

// Load decodes every file of the request and builds its descriptor,
// in parallel. Files for which document(name) is true get their element
// tree built, with their comments, and with the positions of elements
// without comments when positions is set (for require_comments).
func Load(req *Request, document func(name string) bool, positions bool) ([]Loaded, error) {
	return LoadComments(req, document, nil, positions)
}

// LoadComments is Load that also keeps the comments of the files that are
// not documented and for which comments(name) is true, in Loaded.Src.
func LoadComments(req *Request, document, comments func(name string) bool, positions bool) ([]Loaded, error) {
	order, err := topoOrder(req)
	if err != nil {
		return nil, err
	}
	n := len(req.files)
	out := make([]Loaded, n)
	errs := make([]error, n)
	done := make([]chan struct{}, n)
	for i := range done {
		done[i] = make(chan struct{})
	}
	reg := newRegistry(req)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := min(runtime.GOMAXPROCS(0), n); w > 0; w-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k >= n {
					return
				}
				i := order[k]
				err := parallel.Protect(func() error {
					f := &req.files[i]
					doc := document(f.name)
					keep := !doc && comments != nil && comments(f.name)
					fp, src, err := decodeFile(f.b, doc || keep, positions && doc)
					f.b = nil // decoded: its buffer can go
					if err != nil {
						return fmt.Errorf("file %q: %v", f.name, err)
					}
					// Files come in dependency order, so every import has
					// been taken by a worker and will be done.
					for _, dep := range f.deps {
						j := req.ByName[dep]
						<-done[j]
						if errs[j] != nil {
							return errDepFailed
						}
					}
					fd, err := protodesc.NewFile(fp, reg)
					if err != nil {
						return fmt.Errorf("invalid descriptors in the request: %v", err)
					}
					if err := reg.add(fd); err != nil {
						return fmt.Errorf("invalid descriptors in the request: %v", err)
					}
					out[i] = Loaded{Desc: fd, edition: fp.GetEdition()}
					if keep {
						out[i].Src = src
					}
					if doc {
						out[i].File = newFile(Sources{f.name: src}, fd, fp.GetEdition())
					}
					return nil
				})
				// The error is set before the file counts as done.
				errs[i] = err
				close(done[i])
			}
		}()
	}
	wg.Wait()
	// Report the first failure in request order, whatever order the
	// workers met it in.
	for _, err := range errs {
		if err != nil && err != errDepFailed {
			return nil, err
		}
	}
	return out, nil
}

// errDepFailed marks a file not built because an import failed; the
// import's own error is the one reported.
var errDepFailed = errors.New("an import failed")

// topoOrder orders the files so that each comes after the files it
// imports, keeping request order where imports allow.
func topoOrder(req *Request) ([]int, error) {
	const (
		unseen = iota
		visiting
		visited
	)
	state := make([]uint8, len(req.files))
	order := make([]int, 0, len(req.files))
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case visiting:
			return fmt.Errorf("invalid descriptors in the request: import cycle in file %q", req.files[i].name)
		case visited:
			return nil
		}
		state[i] = visiting
		for _, dep := range req.files[i].deps {
			j, ok := req.ByName[dep]
			if !ok {
				return fmt.Errorf("invalid descriptors in the request: file %q imports %q, which is not in the request", req.files[i].name, dep)
			}
			if err := visit(j); err != nil {
				return err
			}
		}
		state[i] = visited
		order = append(order, i)
		return nil
	}
	for i := range req.files {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// decodeFile decodes one FileDescriptorProto without its source info.
// With comments set, the source info goes into a comment index instead
// (see indexSourceInfo for positions).
func decodeFile(b []byte, comments, positions bool) (*descriptorpb.FileDescriptorProto, map[string]*Location, error) {
	fp := new(descriptorpb.FileDescriptorProto)
	var src map[string]*Location
	if comments {
		src = map[string]*Location{}
	}
	// Decode the runs of fields between source infos: merging runs one
	// after the other is the same as decoding them as one message.
	opts := proto.UnmarshalOptions{Merge: true}
	start, pos := 0, 0
	flush := func(end int) error {
		if end > start {
			if err := opts.Unmarshal(b[start:end], fp); err != nil {
				return err
			}
		}
		return nil
	}
	for pos < len(b) {
		num, typ, n := protowire.ConsumeTag(b[pos:])
		if n < 0 {
			return nil, nil, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[pos+n:])
		if m < 0 {
			return nil, nil, protowire.ParseError(m)
		}
		if num == fileSourceInfo && typ == protowire.BytesType {
			if err := flush(pos); err != nil {
				return nil, nil, err
			}
			if comments {
				v, _ := protowire.ConsumeBytes(b[pos+n:])
				if err := indexSourceInfo(v, src, positions); err != nil {
					return nil, nil, fmt.Errorf("source_code_info: %v", err)
				}
			}
			start = pos + n + m
		}
		pos += n + m
	}
	if err := flush(pos); err != nil {
		return nil, nil, err
	}
	return fp, src, nil
}

// Field numbers of SourceCodeInfo and SourceCodeInfo.Location.
const (
	sciLocation        = 1
	locPath            = 1
	locSpan            = 2
	locLeading         = 3
	locTrailing        = 4
	locLeadingDetached = 6
)

// indexSourceInfo adds the locations of an encoded SourceCodeInfo to idx,
// keyed by pathKey of their path, keeping the first of duplicates.
// Locations that are parts of elements (names, types, numbers) are
// skipped. Without positions, a location without comments is kept as nil:
// only require_comments needs to know where such an element is.
func indexSourceInfo(b []byte, idx map[string]*Location, positions bool) error {
	var key []byte
	return forEachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num != sciLocation || typ != protowire.BytesType {
			return nil
		}
		key = key[:0]
		var l Location
		var span [2]int32
		spans := 0
		err := forEachField(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
			switch num {
			case locPath:
				// The key is the path's varints: a packed path is
				// already that.
				if typ == protowire.BytesType || typ == protowire.VarintType {
					key = append(key, v...)
				}
			case locSpan:
				// Packed (as protoc writes it) or one varint per field.
				for len(v) > 0 && spans < 2 && (typ == protowire.BytesType || typ == protowire.VarintType) {
					x, n := protowire.ConsumeVarint(v)
					if n < 0 {
						return protowire.ParseError(n)
					}
					span[spans] = int32(x)
					spans++
					v = v[n:]
				}
			case locLeading:
				l.leading = string(v)
			case locTrailing:
				l.trailing = string(v)
			case locLeadingDetached:
				l.detached = append(l.detached, string(v))
			}
			return nil
		})
		if err != nil {
			return err
		}
		if spans == 2 {
			l.Line, l.Col = span[0], span[1]
		}
		// Count the path's elements: varints end on bytes below 0x80.
		elems := 0
		for _, c := range key {
			if c < 0x80 {
				elems++
			}
		}
		if elems%2 == 1 && elems != 1 {
			return nil
		}
		if _, dup := idx[string(key)]; dup {
			return nil
		}
		if !positions && l.leading == "" && l.trailing == "" && len(l.detached) == 0 {
			idx[string(key)] = nil
			return nil
		}
		idx[string(key)] = &l
		return nil
	})
}

// registry resolves the names and imports of the files being built. It is
// safe for concurrent use: files are added as they are built.
type registry struct {
	req   *Request
	mu    sync.RWMutex
	files map[string]protoreflect.FileDescriptor
	names map[protoreflect.FullName]protoreflect.Descriptor
}

func newRegistry(req *Request) *registry {
	return &registry{
		req:   req,
		files: make(map[string]protoreflect.FileDescriptor, len(req.files)),
		names: map[protoreflect.FullName]protoreflect.Descriptor{},
	}
}

func (r *registry) FindFileByPath(p string) (protoreflect.FileDescriptor, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if fd, ok := r.files[p]; ok {
		return fd, nil
	}
	return nil, protoregistry.NotFound
}

// FindDescriptorByName finds declarations as protoregistry.Files does:
// messages, enums, extensions and services by name, and fields, oneofs and
// methods through their parent; not enum values (see add).
func (r *registry) FindDescriptorByName(name protoreflect.FullName) (protoreflect.Descriptor, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if d, ok := r.names[name]; ok {
		return d, nil
	}
	parent, ok := r.names[name.Parent()]
	if !ok {
		return nil, protoregistry.NotFound
	}
	s := name.Name()
	switch p := parent.(type) {
	case protoreflect.MessageDescriptor:
		if d := p.Fields().ByName(s); d != nil {
			return d, nil
		}
		if d := p.Oneofs().ByName(s); d != nil {
			return d, nil
		}
	case protoreflect.ServiceDescriptor:
		if d := p.Methods().ByName(s); d != nil {
			return d, nil
		}
	}
	return nil, protoregistry.NotFound
}

// add registers a built file and its declarations. Enum values, which are
// most of the names of a large request, are left out: type references,
// extendees and method types, all that protodesc looks up, never name
// them.
func (r *registry) add(fd protoreflect.FileDescriptor) error {
	var decls []protoreflect.Descriptor
	var enums func(es protoreflect.EnumDescriptors)
	enums = func(es protoreflect.EnumDescriptors) {
		for i := 0; i < es.Len(); i++ {
			decls = append(decls, es.Get(i))
		}
	}
	exts := func(xs protoreflect.ExtensionDescriptors) {
		for i := 0; i < xs.Len(); i++ {
			decls = append(decls, xs.Get(i))
		}
	}
	var msgs func(ms protoreflect.MessageDescriptors)
	msgs = func(ms protoreflect.MessageDescriptors) {
		for i := 0; i < ms.Len(); i++ {
			m := ms.Get(i)
			decls = append(decls, m)
			enums(m.Enums())
			exts(m.Extensions())
			msgs(m.Messages())
		}
	}
	msgs(fd.Messages())
	enums(fd.Enums())
	exts(fd.Extensions())
	for i := 0; i < fd.Services().Len(); i++ {
		decls = append(decls, fd.Services().Get(i))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range decls {
		if prev, dup := r.names[d.FullName()]; dup {
			return fmt.Errorf("%q is declared in both %q and %q", d.FullName(), prev.ParentFile().Path(), fd.Path())
		}
	}
	for _, d := range decls {
		r.names[d.FullName()] = d
	}
	r.files[fd.Path()] = fd
	return nil
}
