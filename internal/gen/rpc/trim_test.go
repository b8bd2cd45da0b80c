package rpc

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/polyrpc/polyrpc/internal/gen/rpc/rpctest"
)

func TestTrimRequestLeavesRequestAlone(t *testing.T) {
	src := rpctest.Sources{
		"m.proto": `syntax = "proto3";
package m;
option go_package = "example.com/m";
// Req is documented.
message Req {
  // A field.
  string a = 1;
  map<string, Req> b = 2;
  enum E { E_UNSPECIFIED = 0; }
}
`,
		"s.proto": `syntax = "proto3";
package s;
option go_package = "example.com/s";
import "m.proto";
// Msg has a oneof.
message Msg { oneof o { string x = 1; int32 y = 2; } string z = 3; }
// Plain has no oneof.
message Plain { string z = 1; optional string w = 2; }
// Svc does things.
service Svc {
  // Get gets.
  rpc Get(m.Req) returns (Msg);
}
`,
	}
	req, err := rpctest.Request(src, []string{"s.proto"}, "")
	if err != nil {
		t.Fatal(err)
	}
	before := proto.Clone(req)
	tr := trimRequest(req)
	if !proto.Equal(before, req) {
		t.Fatal("trimRequest modified the request")
	}
	files := map[string]int{}
	for i, f := range tr.GetProtoFile() {
		files[f.GetName()] = i
	}
	m := tr.ProtoFile[files["m.proto"]]
	if got := m.MessageType[0]; len(got.Field) != 0 || len(got.EnumType) != 1 || len(got.NestedType) != 1 || len(got.NestedType[0].Field) != 2 {
		t.Errorf("message of another package: got %v, want no fields, its enum and its whole map entry", got)
	}
	s := tr.ProtoFile[files["s.proto"]]
	if len(s.MessageType[0].Field) != 3 || len(s.MessageType[1].Field) != 0 || len(s.MessageType[1].OneofDecl) != 0 {
		t.Errorf("messages of the generated package: got %v, want Msg whole and Plain without fields", s.MessageType)
	}
	var comments []string
	for _, l := range s.GetSourceCodeInfo().GetLocation() {
		if c := l.GetLeadingComments(); c != "" {
			comments = append(comments, c)
		}
	}
	if want := []string{" Svc does things.\n", " Get gets.\n"}; !slices.Equal(comments, want) {
		t.Errorf("comments kept %q, want %q", comments, want)
	}
	resp := Generate(req)
	if resp.Error != nil {
		t.Fatal(resp.GetError())
	}
}

func TestDeclaration(t *testing.T) {
	for _, c := range []struct {
		path []int32
		want bool
	}{
		{[]int32{4, 0}, true},
		{[]int32{4, 0, 2, 3}, true},
		{[]int32{4, 0, 3, 1, 8, 0}, true},
		{[]int32{5, 1, 2, 0}, true},
		{[]int32{6, 0, 2, 4}, true},
		{[]int32{7, 2}, true},
		{[]int32{4, 0, 2, 3, 1}, false},    // field name
		{[]int32{4, 0, 7, 50000}, false},   // message option
		{[]int32{6, 0, 2, 4, 4, 1}, false}, // method option
		{[]int32{8, 11}, false},            // file option
	} {
		if got := declaration(c.path); got != c.want {
			t.Errorf("declaration(%v) = %v, want %v", c.path, got, c.want)
		}
	}
}
