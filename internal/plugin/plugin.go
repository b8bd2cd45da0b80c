// Package plugin holds what both polyrpc protoc plugins share: reading the
// CodeGeneratorRequest, splitting plugin options from protogen's own options,
// and writing the CodeGeneratorResponse.
//
// Problems with the user's protos or options are reported through
// CodeGeneratorResponse.error; only unreadable input and broken I/O end the
// process with a message on stderr and exit status 1.
package plugin

import (
	"fmt"
	"io"
	"strings"

	"google.golang.org/protobuf/compiler/protogen"
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
	if len(args) > 0 {
		switch args[0] {
		case "--version", "-version":
			fmt.Fprintf(stdout, "%s %s\n", name, version)
			return 0
		case "--help", "-help", "-h":
			fmt.Fprint(stdout, usage)
			return 0
		default:
			fmt.Fprintf(stderr, "%s: unknown argument %q (this program is run by protoc or buf; see --help)\n", name, args[0])
			return 2
		}
	}
	in, err := io.ReadAll(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "%s: reading request: %v\n", name, err)
		return 1
	}
	req := &pluginpb.CodeGeneratorRequest{}
	if err := proto.Unmarshal(in, req); err != nil {
		fmt.Fprintf(stderr, "%s: stdin is not a CodeGeneratorRequest (this program is run by protoc or buf): %v\n", name, err)
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
