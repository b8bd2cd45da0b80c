// Command protoc-gen-dump is a protoc plugin that saves the
// CodeGeneratorRequest protoc sends it, for genbench to replay:
//
//	protoc --plugin=protoc-gen-dump=BIN --dump_out=DIR --dump_opt=FILE x.proto
//
// The request is written to FILE, or to $PROTOC_GEN_DUMP_OUT when no
// parameter is given. The parameter field is dropped from the saved bytes
// (everything else is kept as protoc encoded it), so the file is the request
// protoc would send with no parameter. The response names no files and
// declares proto3 optional and editions, so that protoc accepts every input.
package main

import (
	"fmt"
	"io"
	"os"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

// envOut names the file to write when the parameter is empty.
const envOut = "PROTOC_GEN_DUMP_OUT"

func main() {
	if err := run(os.Stdin, os.Stdout, os.Getenv(envOut)); err != nil {
		fmt.Fprintln(os.Stderr, "protoc-gen-dump:", err)
		os.Exit(1)
	}
}

// run reads a request from stdin, writes it to the file its parameter (or
// else fallback) names, and writes an empty response to stdout; with no file
// named the response carries the error.
func run(stdin io.Reader, stdout io.Writer, fallback string) error {
	raw, err := io.ReadAll(stdin)
	if err != nil {
		return err
	}
	req := &pluginpb.CodeGeneratorRequest{}
	if err := proto.Unmarshal(raw, req); err != nil {
		return fmt.Errorf("decoding the request: %v", err)
	}
	resp := &pluginpb.CodeGeneratorResponse{
		SupportedFeatures: proto.Uint64(uint64(pluginpb.CodeGeneratorResponse_FEATURE_PROTO3_OPTIONAL |
			pluginpb.CodeGeneratorResponse_FEATURE_SUPPORTS_EDITIONS)),
		MinimumEdition: proto.Int32(int32(descriptorpb.Edition_EDITION_PROTO2)),
		MaximumEdition: proto.Int32(int32(descriptorpb.Edition_EDITION_MAX)),
	}
	path := req.GetParameter()
	if path == "" {
		path = fallback
	}
	if path == "" {
		resp.Error = proto.String("no output file: pass it as the parameter (--dump_opt=FILE) or in $" + envOut)
	} else {
		out, err := withoutParameter(raw)
		if err != nil {
			return err
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return err
		}
	}
	b, err := proto.Marshal(resp)
	if err != nil {
		return err
	}
	_, err = stdout.Write(b)
	return err
}

// withoutParameter returns the encoded request without its parameter field,
// keeping every other field's bytes in order.
func withoutParameter(raw []byte) ([]byte, error) {
	num := protowire.Number((&pluginpb.CodeGeneratorRequest{}).ProtoReflect().Descriptor().Fields().ByName("parameter").Number())
	out := make([]byte, 0, len(raw))
	for b := raw; len(b) > 0; {
		n, _, size := protowire.ConsumeField(b)
		if size < 0 {
			return nil, fmt.Errorf("decoding the request: %v", protowire.ParseError(size))
		}
		if n != num {
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return out, nil
}
