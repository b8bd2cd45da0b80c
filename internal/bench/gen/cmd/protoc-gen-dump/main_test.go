package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/google/go-cmp/cmp"
)

func request(param string) *pluginpb.CodeGeneratorRequest {
	return &pluginpb.CodeGeneratorRequest{
		FileToGenerate: []string{"a/v1/a.proto"},
		Parameter:      proto.String(param),
		ProtoFile: []*descriptorpb.FileDescriptorProto{{
			Name:    proto.String("a/v1/a.proto"),
			Package: proto.String("a.v1"),
			Syntax:  proto.String("proto3"),
			MessageType: []*descriptorpb.DescriptorProto{{
				Name: proto.String("Ping"),
			}},
			Service: []*descriptorpb.ServiceDescriptorProto{{
				Name: proto.String("PingService"),
				Method: []*descriptorpb.MethodDescriptorProto{{
					Name: proto.String("Ping"), InputType: proto.String(".a.v1.Ping"), OutputType: proto.String(".a.v1.Ping"),
				}},
			}},
			SourceCodeInfo: &descriptorpb.SourceCodeInfo{Location: []*descriptorpb.SourceCodeInfo_Location{{
				Path: []int32{6, 0}, Span: []int32{3, 0, 5, 1}, LeadingComments: proto.String(" Pings.\n"),
			}}},
		}},
		CompilerVersion: &pluginpb.Version{Major: proto.Int32(3), Minor: proto.Int32(21), Patch: proto.Int32(12)},
	}
}

// dump runs the plugin on req and returns the response.
func dump(t *testing.T, req *pluginpb.CodeGeneratorRequest, fallback string) *pluginpb.CodeGeneratorResponse {
	t.Helper()
	in, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(bytes.NewReader(in), &out, fallback); err != nil {
		t.Fatal(err)
	}
	resp := &pluginpb.CodeGeneratorResponse{}
	if err := proto.Unmarshal(out.Bytes(), resp); err != nil {
		t.Fatal(err)
	}
	want := uint64(pluginpb.CodeGeneratorResponse_FEATURE_PROTO3_OPTIONAL | pluginpb.CodeGeneratorResponse_FEATURE_SUPPORTS_EDITIONS)
	if resp.GetSupportedFeatures() != want || resp.GetMaximumEdition() != int32(descriptorpb.Edition_EDITION_MAX) ||
		resp.GetMinimumEdition() != int32(descriptorpb.Edition_EDITION_PROTO2) {
		t.Errorf("features %d, editions %d..%d; want %d, proto2..max", resp.GetSupportedFeatures(),
			resp.GetMinimumEdition(), resp.GetMaximumEdition(), want)
	}
	if len(resp.GetFile()) != 0 {
		t.Errorf("response names %d files, want none", len(resp.GetFile()))
	}
	return resp
}

// saved decodes the request in file.
func saved(t *testing.T, file string) *pluginpb.CodeGeneratorRequest {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	got := &pluginpb.CodeGeneratorRequest{}
	if err := proto.Unmarshal(b, got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestDumpToParameter(t *testing.T) {
	file := filepath.Join(t.TempDir(), "req.bin")
	req := request(file)
	if resp := dump(t, req, filepath.Join(t.TempDir(), "unused.bin")); resp.Error != nil {
		t.Fatalf("error %q", resp.GetError())
	}
	want := proto.Clone(req).(*pluginpb.CodeGeneratorRequest)
	want.Parameter = nil
	if diff := cmp.Diff(want, saved(t, file), protocmp.Transform()); diff != "" {
		t.Errorf("saved request (-want +got):\n%s", diff)
	}
}

func TestDumpToEnvKeepsBytes(t *testing.T) {
	file := filepath.Join(t.TempDir(), "req.bin")
	req := request("")
	req.Parameter = nil
	in, _ := proto.Marshal(req)
	if resp := dump(t, req, file); resp.Error != nil {
		t.Fatalf("error %q", resp.GetError())
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, in) {
		t.Errorf("saved %d bytes differ from the %d bytes read", len(got), len(in))
	}
}

func TestDumpWithoutFile(t *testing.T) {
	resp := dump(t, request(""), "")
	want := "no output file: pass it as the parameter (--dump_opt=FILE) or in $PROTOC_GEN_DUMP_OUT"
	if resp.GetError() != want {
		t.Errorf("error %q, want %q", resp.GetError(), want)
	}
}

func TestDumpBadRequest(t *testing.T) {
	if err := run(bytes.NewReader([]byte{0xff}), &bytes.Buffer{}, "x"); err == nil {
		t.Error("no error on a malformed request")
	}
}

// TestProtoc runs the built plugin under protoc on a proto3 file with an
// optional field, which protoc refuses unless the plugin declares support.
func TestProtoc(t *testing.T) {
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		t.Skip("protoc not installed (.ci/run installs protobuf-compiler)")
	}
	dir := t.TempDir()
	plugin := filepath.Join(dir, "protoc-gen-dump")
	if out, err := exec.Command("go", "build", "-o", plugin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	src := "syntax = \"proto3\";\npackage p.v1;\n// A thing.\nmessage Thing {\n  optional string name = 1;\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "p.proto"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "req.bin")
	cmd := exec.Command(protoc, "-I"+dir, "--plugin=protoc-gen-dump="+plugin, "--dump_out="+dir, "p.proto")
	cmd.Env = append(os.Environ(), envOut+"="+file)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("protoc: %v\n%s", err, out)
	}
	req := saved(t, file)
	if req.Parameter != nil || len(req.GetProtoFile()) != 1 || req.GetProtoFile()[0].GetName() != "p.proto" {
		t.Fatalf("saved request: parameter %q, files %d", req.GetParameter(), len(req.GetProtoFile()))
	}
	var comment string
	for _, l := range req.GetProtoFile()[0].GetSourceCodeInfo().GetLocation() {
		comment += l.GetLeadingComments()
	}
	if comment != " A thing.\n" {
		t.Errorf("comments %q, want the message's", comment)
	}
}
