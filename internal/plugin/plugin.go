// Package plugin holds what both polyrpc protoc plugins share: reading the
// CodeGeneratorRequest, splitting plugin options from protogen's own options,
// and writing the CodeGeneratorResponse.
//
// Problems with the user's protos or options are reported through
// CodeGeneratorResponse.error; only unreadable input and broken I/O end the
// process with a message on stderr and exit status 1.
package plugin

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

// Features is what both plugins declare to protoc and buf.
const Features = uint64(pluginpb.CodeGeneratorResponse_FEATURE_PROTO3_OPTIONAL |
	pluginpb.CodeGeneratorResponse_FEATURE_SUPPORTS_EDITIONS)

// Edition range supported by both plugins.
const (
	MinimumEdition = descriptorpb.Edition_EDITION_PROTO2
	MaximumEdition = descriptorpb.Edition_EDITION_2024
)

// Param is one name=value pair of the plugin parameter, in the order given.
type Param struct {
	Name  string
	Value string
}

// ParseParams splits a CodeGeneratorRequest parameter ("a=b,c,d=e") into its
// pairs. Empty entries are dropped.
func ParseParams(s string) []Param {
	var out []Param
	for _, kv := range strings.Split(s, ",") {
		if kv == "" {
			continue
		}
		name, value, _ := strings.Cut(kv, "=")
		out = append(out, Param{Name: strings.TrimSpace(name), Value: value})
	}
	return out
}

// IsProtogenParam reports whether the parameter is handled by protogen itself
// (paths, module, annotate_code, default_api_level and M mappings).
func IsProtogenParam(name string) bool {
	switch name {
	case "paths", "module", "annotate_code", "default_api_level":
		return true
	}
	return strings.HasPrefix(name, "M") && len(name) > 1
}

// New builds a protogen.Plugin for req. Every parameter that is not one of
// protogen's own is passed to set, in order; set returns an error for unknown
// names or bad values, and New returns that error unchanged.
func New(req *pluginpb.CodeGeneratorRequest, set func(name, value string) error) (*protogen.Plugin, error) {
	var keep []string
	for _, p := range ParseParams(req.GetParameter()) {
		if IsProtogenParam(p.Name) {
			keep = append(keep, p.Name+"="+p.Value)
			continue
		}
		if err := set(p.Name, p.Value); err != nil {
			return nil, err
		}
	}
	// A shallow copy with protogen's parameters only: protogen reads the
	// request and does not modify it, so a deep copy would only double the
	// memory held for a large request.
	r := &pluginpb.CodeGeneratorRequest{
		FileToGenerate:        req.FileToGenerate,
		Parameter:             proto.String(strings.Join(keep, ",")),
		ProtoFile:             req.ProtoFile,
		SourceFileDescriptors: req.SourceFileDescriptors,
		CompilerVersion:       req.CompilerVersion,
	}
	gen, err := protogen.Options{}.New(r)
	if err != nil {
		return nil, err
	}
	gen.Request = req
	gen.SupportedFeatures = Features
	gen.SupportedEditionsMinimum = MinimumEdition
	gen.SupportedEditionsMaximum = MaximumEdition
	return gen, nil
}

// ErrorResponse is the response for a request that could not be processed.
// It still declares the supported features and editions, as protoc expects.
func ErrorResponse(err error) *pluginpb.CodeGeneratorResponse {
	return &pluginpb.CodeGeneratorResponse{
		Error:             proto.String(err.Error()),
		SupportedFeatures: proto.Uint64(Features),
		MinimumEdition:    proto.Int32(int32(MinimumEdition)),
		MaximumEdition:    proto.Int32(int32(MaximumEdition)),
	}
}

// Generator turns a request into a response. Problems with the input belong
// in the response's error field, never in a panic.
type Generator func(*pluginpb.CodeGeneratorRequest) *pluginpb.CodeGeneratorResponse

// Main runs a plugin process: flags --version and --help, the request from
// stdin, the response to stdout. It returns the exit status.
func Main(name, version, usage string, args []string, stdin io.Reader, stdout, stderr io.Writer, gen Generator) int {
	if code, done := flags(name, version, usage, args, stdout, stderr); done {
		return code
	}
	in, err := readAll(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "%s: reading request: %v\n", name, err)
		return 1
	}
	req := &pluginpb.CodeGeneratorRequest{}
	if err := proto.Unmarshal(in, req); err != nil {
		fmt.Fprintf(stderr, "%s: %v: %v\n", name, ErrNotRequest, err)
		return 1
	}
	resp := safeGenerate(gen, req)
	out, err := proto.Marshal(resp)
	if err != nil {
		fmt.Fprintf(stderr, "%s: encoding response: %v\n", name, err)
		return 1
	}
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintf(stderr, "%s: writing response: %v\n", name, err)
		return 1
	}
	return 0
}

// flags handles the command line; done is false when the process is to
// read a request.
func flags(name, version, usage string, args []string, stdout, stderr io.Writer) (code int, done bool) {
	if len(args) == 0 {
		return 0, false
	}
	switch args[0] {
	case "--version", "-version":
		fmt.Fprintf(stdout, "%s %s\n", name, version)
		return 0, true
	case "--help", "-help", "-h":
		fmt.Fprint(stdout, usage)
		return 0, true
	}
	fmt.Fprintf(stderr, "%s: unknown argument %q (this program is run by protoc or buf; see --help)\n", name, args[0])
	return 2, true
}

// ErrNotRequest is wrapped by a StreamGenerator's error when its input is
// not an encoded CodeGeneratorRequest.
var ErrNotRequest = errors.New("stdin is not a CodeGeneratorRequest (this program is run by protoc or buf)")

// A StreamGenerator reads an encoded CodeGeneratorRequest from in (so
// that it can keep the parts it needs instead of the whole) and passes the
// output files to emit as they are ready. A file may come in pieces: its
// name with the first piece, then "" with each further one, as
// CodeGeneratorResponse.File allows. emit does not keep content. Problems
// with the input are returned as the error, which ends the response. emit
// fails only when the response cannot be written; the generator then stops
// and returns that error.
type StreamGenerator func(in io.Reader, emit func(name string, content []byte) error) error

// MainStream runs a plugin process like Main, but writes each file of the
// response as soon as the generator emits it, so that a large response is
// never held in memory whole. protoc and buf read the fields of a response
// in any order, and fail the run when its error is set, even after files.
func MainStream(name, version, usage string, args []string, stdin io.Reader, stdout, stderr io.Writer, gen StreamGenerator) int {
	if code, done := flags(name, version, usage, args, stdout, stderr); done {
		return code
	}
	w := &responseWriter{w: bufio.NewWriterSize(stdout, 64<<10)}
	w.header()
	genErr := safeStream(gen, stdin, w.file)
	switch {
	case w.err != nil:
		fmt.Fprintf(stderr, "%s: writing response: %v\n", name, w.err)
		return 1
	case genErr != nil && errors.Is(genErr, ErrNotRequest) && w.files == 0:
		fmt.Fprintf(stderr, "%s: %v\n", name, genErr)
		return 1
	case genErr != nil:
		w.error(genErr)
	}
	if err := w.w.Flush(); err != nil || w.err != nil {
		fmt.Fprintf(stderr, "%s: writing response: %v\n", name, errors.Join(w.err, err))
		return 1
	}
	return 0
}

// readAll reads the request. A request can be over a hundred megabytes;
// when stdin is a file, its size is known and the buffer is made once.
func readAll(r io.Reader) ([]byte, error) {
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > 0 {
			b := make([]byte, 0, st.Size()+1) // +1: EOF is seen without growing
			for {
				n, err := f.Read(b[len(b):cap(b)])
				b = b[:len(b)+n]
				if err == io.EOF {
					return b, nil
				}
				if err != nil {
					return nil, err
				}
				if len(b) == cap(b) {
					// The file grew: read the rest the usual way.
					rest, err := io.ReadAll(f)
					return append(b, rest...), err
				}
			}
		}
	}
	return io.ReadAll(r)
}

// safeStream runs a StreamGenerator, turning a panic into an error.
func safeStream(gen StreamGenerator, in io.Reader, emit func(string, []byte) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error (please report it): %v", r)
		}
	}()
	return gen(in, emit)
}

// responseWriter encodes a CodeGeneratorResponse field by field.
type responseWriter struct {
	w     *bufio.Writer
	err   error // first write error
	files int
	buf   []byte
}

// Field numbers of CodeGeneratorResponse and its File.
const (
	respError             = 1
	respSupportedFeatures = 2
	respMinimumEdition    = 3
	respMaximumEdition    = 4
	respFile              = 15
	fileName              = 1
	fileContent           = 15
)

// header writes the features and editions the plugin supports.
func (w *responseWriter) header() {
	b := w.buf[:0]
	b = protowire.AppendTag(b, respSupportedFeatures, protowire.VarintType)
	b = protowire.AppendVarint(b, Features)
	b = protowire.AppendTag(b, respMinimumEdition, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(MinimumEdition))
	b = protowire.AppendTag(b, respMaximumEdition, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(MaximumEdition))
	w.write(b)
	w.buf = b
}

// file writes one File of the response; content is written as it is. A
// file without a name continues the one before.
func (w *responseWriter) file(name string, content []byte) error {
	if w.err != nil {
		return w.err
	}
	n := protowire.SizeTag(fileContent) + protowire.SizeBytes(len(content))
	if name != "" {
		n += protowire.SizeTag(fileName) + protowire.SizeBytes(len(name))
	}
	b := w.buf[:0]
	b = protowire.AppendTag(b, respFile, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(n))
	if name != "" {
		b = protowire.AppendTag(b, fileName, protowire.BytesType)
		b = protowire.AppendString(b, name)
	}
	b = protowire.AppendTag(b, fileContent, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(len(content)))
	w.buf = b
	w.write(b)
	w.write(content)
	w.files++
	return w.err
}

// error writes the response's error.
func (w *responseWriter) error(err error) {
	b := w.buf[:0]
	b = protowire.AppendTag(b, respError, protowire.BytesType)
	b = protowire.AppendString(b, strings.ToValidUTF8(err.Error(), "\uFFFD"))
	w.buf = b
	w.write(b)
}

func (w *responseWriter) write(b []byte) {
	if w.err == nil {
		_, w.err = w.w.Write(b)
	}
}

// safeGenerate turns a panic in the generator into an error response, so a
// bug never shows up to the user as a Go stack trace from protoc.
func safeGenerate(gen Generator, req *pluginpb.CodeGeneratorRequest) (resp *pluginpb.CodeGeneratorResponse) {
	defer func() {
		if r := recover(); r != nil {
			resp = ErrorResponse(fmt.Errorf("internal error (please report it): %v", r))
		}
	}()
	return gen(req)
}
