package rest_test

import (
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	_ "google.golang.org/protobuf/types/known/fieldmaskpb"

	restpb "github.com/polyrpc/polyrpc/golden/rpc/rest"
	"github.com/polyrpc/polyrpc/internal/rest"
)

func TestBindingsOfGolden(t *testing.T) {
	sd := restpb.File_rest_rest_proto.Services().ByName("ABitOfEverythingService")
	got := map[string]string{}
	for i := range sd.Methods().Len() {
		md := sd.Methods().Get(i)
		bs, errs := rest.Bindings(md)
		if len(errs) != 0 {
			t.Fatalf("%s: %v", md.Name(), errs)
		}
		for _, b := range bs {
			got[b.Verb+" "+b.Template.Raw] = string(md.Name())
		}
	}
	for route, method := range map[string]string{
		"GET /v1/example/a_bit_of_everything/{uuid}":                      "Lookup",
		"HEAD /v1/example/a_bit_of_everything/{uuid}":                     "Lookup",
		"PATCH /v2/example/a_bit_of_everything/{abe.uuid}":                "UpdateV2",
		"PATCH /v2a/example/a_bit_of_everything/{abe.uuid}":               "UpdateV2",
		"LOCK /v1/example/a_bit_of_everything/{uuid}":                     "Lock",
		"GET /v1/files/{name=**}":                                         "Download",
		"POST /v1/example/a_bit_of_everything/{uuid}:custom":              "Custom",
		"POST /v1/example/a_bit_of_everything/params/post/{string_value}": "CheckPostQueryParams",
	} {
		if got[route] != method {
			t.Errorf("%s: method %q, want %q", route, got[route], method)
		}
	}
	md := sd.Methods().ByName("UpdateV2")
	bs, _ := rest.Bindings(md)
	if len(bs) != 3 || bs[0].UpdateMask != nil || bs[1].UpdateMask == nil || bs[2].UpdateMask != nil {
		t.Errorf("update masks: PUT %v, PATCH abe %v, PATCH * %v", bs[0].UpdateMask, bs[1].UpdateMask, bs[2].UpdateMask)
	}
	if rest.Rule(sd.Methods().ByName("NoRest")) != nil {
		t.Error("NoRest has a rule")
	}
}

// bindingErrors builds a method with rule and returns the errors of its
// bindings.
func bindingErrors(t *testing.T, rule *annotations.HttpRule) []error {
	t.Helper()
	opts := &descriptorpb.MethodOptions{}
	proto.SetExtension(opts, annotations.E_Http, rule)
	str := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
	msg := descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	rep := descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	fdp := &descriptorpb.FileDescriptorProto{
		Name:       proto.String("bad/bad.proto"),
		Package:    proto.String("bad"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"google/protobuf/field_mask.proto"},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Req"), Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("name"), JsonName: proto.String("name"), Number: proto.Int32(1), Type: str, Label: opt},
				{Name: proto.String("tags"), JsonName: proto.String("tags"), Number: proto.Int32(2), Type: str, Label: rep},
				{Name: proto.String("sub"), JsonName: proto.String("sub"), Number: proto.Int32(3), Type: msg, Label: opt, TypeName: proto.String(".bad.Req")},
				{Name: proto.String("update_mask"), JsonName: proto.String("updateMask"), Number: proto.Int32(4), Type: msg, Label: opt, TypeName: proto.String(".google.protobuf.FieldMask")},
			}},
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name:   proto.String("S"),
			Method: []*descriptorpb.MethodDescriptorProto{{Name: proto.String("M"), InputType: proto.String(".bad.Req"), OutputType: proto.String(".bad.Req"), Options: opts}},
		}},
	}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	var md protoreflect.MethodDescriptor = fd.Services().Get(0).Methods().Get(0)
	_, errs := rest.Bindings(md)
	return errs
}

func TestBindingErrors(t *testing.T) {
	get := func(path string) *annotations.HttpRule {
		return &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: path}}
	}
	for _, c := range []struct {
		rule *annotations.HttpRule
		want string
	}{
		{get("/v1/{name"), `bad.S.M: path template "/v1/{name": syntax error at column 10: expected '}'`},
		{get("/v1/{nope}"), `bad.S.M: GET /v1/{nope}: path variable "nope": no field "nope" in bad.Req`},
		// Deliberately unlike grpc-gateway, which reads repeated path
		// variables as comma-separated lists: google/api/http.proto says
		// path variables must not be repeated.
		{get("/v1/{tags}"), `bad.S.M: GET /v1/{tags}: path variable "tags" must be a singular scalar field`},
		{get("/v1/{sub}"), `path variable "sub" must be a singular scalar field`},
		{get("/v1/{name.x}"), `field "name" of bad.Req is not a singular message`},
		{&annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: "/v1/x"}, Body: "nope"}, `body field "nope" is not a field of bad.Req`},
		{&annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: "/v1/x"}, ResponseBody: "nope"}, `response_body field "nope" is not a field of bad.Req`},
		{&annotations.HttpRule{Pattern: &annotations.HttpRule_Custom{Custom: &annotations.CustomHttpPattern{Path: "/v1/x"}}}, `custom rule "/v1/x" has no kind`},
		{&annotations.HttpRule{}, "rule has no pattern"},
		{&annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/a"}, AdditionalBindings: []*annotations.HttpRule{
			{Pattern: &annotations.HttpRule_Get{Get: "/v1/b"}, AdditionalBindings: []*annotations.HttpRule{get("/v1/c")}}}},
			"additional_bindings may not nest"},
	} {
		errs := bindingErrors(t, c.rule)
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), c.want) {
			t.Errorf("rule %v: errors %v, want one containing %q", c.rule, errs, c.want)
		}
	}
}
