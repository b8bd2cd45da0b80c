package doc

import (
	"strings"
	"testing"
)

// edgeProtos are unusual but valid inputs: no package, empty elements,
// recursion, name clashes between packages, extensions of well-known
// types, deeply nested types, and comment edge cases.
var edgeProtos = map[string]string{
	"nopkg.proto": `syntax = "proto3";
message Empty {}
// Recursive tree.
message Node { repeated Node children = 1; map<string, Node> by_name = 2; oneof v { Node left = 3; Empty e = 4; } }
service NoMethods {}
enum Lonely { LONELY_ZERO = 0; }
`,
	"odd dir (1)/x.proto": `syntax = "proto3";
package odd;
import "a/same.proto";
// See [the thing](#same.Thing) and [nothing](#no.such.Thing).
message X { same.Thing t = 1; }
`,
	"a/same.proto": `syntax = "proto3";
package same;
import "google/protobuf/descriptor.proto";
import "google/protobuf/timestamp.proto";
// Same short name as b/same.proto's message.
message Thing { google.protobuf.Timestamp at = 1; Outer.Middle.Inner deep = 2; }
message Outer { message Middle { message Inner { enum Deep { DEEP_UNSPECIFIED = 0; } Deep d = 1; } } }
extend google.protobuf.FieldOptions { optional string note = 51000; }
service S {
  rpc A(Thing) returns (Thing);
  rpc B(stream Thing) returns (stream Thing) { option idempotency_level = IDEMPOTENT; }
}
`,
	"b/same.proto": `syntax = "proto2";
package same.b;
import "a/same.proto";
/* Block comment
 * with stars. */
message Thing {
  optional same.Thing other = 1 [(same.note) = "it's \"quoted\""];
  optional string s = 2 [default = "a|b\n<c>"];
  optional float f = 3 [default = inf];
  optional double d = 4 [default = -nan];
  optional int64 big = 5 [default = -9223372036854775808];
  extensions 10 to 20;
}
extend Thing { optional Thing self = 10; }
`,
}

var edgeFiles = []string{"nopkg.proto", "a/same.proto", "b/same.proto", "odd dir (1)/x.proto"}

func TestEdgeCases(t *testing.T) {
	for _, layout := range []string{"single", "package", "file"} {
		for _, order := range []string{"declaration", "alpha"} {
			param := "format=html,markdown,json,layout=" + layout + ",order=" + order
			files := generate(t, compileSources(t, edgeProtos, param, edgeFiles...))
			checkHTMLSet(t, files)
			for name, src := range files {
				if strings.HasSuffix(name, ".md") {
					checkMarkdownTables(t, name, src)
				}
			}
		}
	}
	files := generate(t, compileSources(t, edgeProtos, "format=markdown", edgeFiles...))
	md := files["index.md"]
	for _, want := range []string{
		"`map<string, Node>`", // map of a recursive type
		"`\"a\\|b\\n<c>\"`",   // default with a pipe, escaped inside the code span
		"`inf`", "`nan`", "`-9223372036854775808`",
		"Block comment\nwith stars.",  // block comment stars removed by the compiler
		"[`same.Thing`](#same.Thing)", // reference across packages with the same short name
		"`(same.note) = \"it's \\\"quoted\\\"\"`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %s", want)
		}
	}
	files = generate(t, compileSources(t, edgeProtos, "layout=package", edgeFiles...))
	if diff := sortedKeys(files); strings.Join(diff, " ") != "index.html index.search.js odd/index.html same/b/index.html same/index.html" {
		t.Errorf("package layout files: %v", diff)
	}
}
