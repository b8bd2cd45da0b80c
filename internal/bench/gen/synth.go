// Package gen benchmarks the polyrpc protoc plugins against their peers
// (protoc-gen-go-grpc, protoc-gen-connect-go, protoc-gen-doc) on large
// CodeGeneratorRequests: a deterministic synthetic API set made here, and
// real public proto sets.
//
// The harness is run by internal/bench/gen/run.sh; see BENCHMARKS.md.
package gen

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/gen/rpc/rpctest"
)

// Shape of the synthetic request at scale 1: about 1,500 files, 1,700
// services and 12,000 methods, like the googleapis services request.
const (
	filesPerScale   = 1500
	filesPerPackage = 5
)

// nouns name the resources of a package; a package has at most
// 2*filesPerPackage services, so every service gets its own noun.
var nouns = []string{
	"Book", "Shelf", "Author", "Order", "Invoice", "Customer", "Device", "Sensor",
	"Topic", "Queue", "Cluster", "Instance", "Dataset", "Model", "Policy", "Secret",
}

// verbs are the methods of a service, in order, with their kind.
var verbs = []struct {
	name           string
	client, server bool // streaming sides
	readOnly       bool
}{
	{"Get", false, false, true},
	{"List", false, false, true},
	{"Create", false, false, false},
	{"Update", false, false, false},
	{"Watch", false, true, true},
	{"Upload", true, false, false},
	{"Sync", true, true, false},
	{"Delete", false, false, false},
	{"Search", false, false, true},
	{"Export", false, true, true},
	{"BatchCreate", true, false, false},
}

const license = `// Copyright 2026 The Synthetic API Authors
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.
`

// annotationsFile declares a custom method option, as google/api/annotations.proto does.
const annotationsFile = "synth/api/annotations.proto"

const annotations = license + `
syntax = "proto3";

package synth.api;

import "google/protobuf/descriptor.proto";

option go_package = "example.com/synth/api;api";

// HttpRule maps a method to an HTTP route.
message HttpRule {
  // The route pattern.
  oneof pattern {
    // GET route.
    string get = 2;
    // POST route.
    string post = 4;
    // PATCH route.
    string patch = 6;
    // DELETE route.
    string delete = 5;
  }
  // The request field mapped to the body, or "*".
  string body = 7;
}

extend google.protobuf.MethodOptions {
  // See HttpRule.
  HttpRule http = 72295728;
}
`

// SyntheticSources returns the proto files of the synthetic request at the
// given scale (1, 2, 4, ...) and the files to generate, in order. The output
// depends on scale only.
func SyntheticSources(scale int) (rpctest.Sources, []string) {
	src := rpctest.Sources{annotationsFile: annotations}
	var names []string
	n := filesPerScale * scale
	for i := 0; i < n; i++ {
		name, text := syntheticFile(i)
		src[name] = text
		names = append(names, name)
	}
	return src, names
}

// Synthetic compiles the synthetic request at the given scale, with source
// info, as protoc would send it.
func Synthetic(scale int) (*pluginpb.CodeGeneratorRequest, error) {
	if scale < 1 {
		return nil, fmt.Errorf("scale %d: want 1 or more", scale)
	}
	src, names := SyntheticSources(scale)
	return rpctest.Request(src, names, "")
}

func filePath(pkg, k int) string { return fmt.Sprintf("synth/p%d/v1/f%d.proto", pkg, k) }

// servicesIn returns how many services file i declares: 17 in every 15
// files (0, 2, 2, 2 and eleven 1s).
func servicesIn(i int) int {
	switch i % 15 {
	case 0:
		return 0
	case 1, 2, 3:
		return 2
	}
	return 1
}

// methodsIn returns how many methods service j of file i has: 3 to 11,
// 7 on average.
func methodsIn(i, j int) int { return 3 + (i*7+j*5)%9 }

// syntheticFile returns the path and text of file i.
func syntheticFile(i int) (string, string) {
	pkg, k := i/filesPerPackage, i%filesPerPackage
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	b.WriteString(license)
	w("\nsyntax = \"proto3\";\n\n")
	w("// Package synth.p%d.v1 is part %d of the synthetic API set.\n", pkg, pkg)
	w("package synth.p%d.v1;\n\n", pkg)

	imports := []string{
		annotationsFile,
		"google/protobuf/any.proto",
		"google/protobuf/duration.proto",
		"google/protobuf/empty.proto",
		"google/protobuf/field_mask.proto",
		"google/protobuf/struct.proto",
		"google/protobuf/timestamp.proto",
		"google/protobuf/wrappers.proto",
	}
	if k > 0 {
		imports = append(imports, filePath(pkg, k-1))
	}
	if pkg > 0 {
		imports = append(imports, filePath(pkg-1, 0))
	}
	sort.Strings(imports)
	for _, imp := range imports {
		w("import %q;\n", imp)
	}
	w("\noption go_package = \"example.com/synth/p%d/v1;p%dv1\";\n", pkg, pkg)
	w("option java_multiple_files = true;\n\n")

	// The file's own resource, used by its services and by later files.
	res := nouns[(k*2)%len(nouns)]
	resource(&b, i, pkg, k, res)

	for j := 0; j < servicesIn(i); j++ {
		noun := nouns[(k*2+j)%len(nouns)]
		if j > 0 {
			resource(&b, i, pkg, k, noun)
		}
		service(&b, i, j, noun)
	}
	return filePath(pkg, k), b.String()
}

// resource writes message noun with a nested enum, a nested message, a map,
// a oneof, well-known types and references to the files imported.
func resource(b *strings.Builder, i, pkg, k int, noun string) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	lower := strings.ToLower(noun)
	w("// A %s of the synthetic API, file %d.\n", noun, i)
	w("//\n// %ss are created by the service and may be listed, watched\n", noun)
	w("// and updated. Names have the form `projects/{project}/%ss/{%s}`.\n", lower, lower)
	w("message %s {\n", noun)
	w("  // The lifecycle state of a %s.\n", noun)
	w("  enum State {\n")
	w("    // Not specified.\n    STATE_UNSPECIFIED = 0;\n")
	w("    // Being created.\n    CREATING = 1;\n")
	w("    // Ready for use.\n    ACTIVE = 2;\n")
	w("    // Being deleted.\n    DELETING = 3;\n")
	w("    // Failed; see `status_message`.\n    FAILED = 4;\n")
	w("  }\n\n")
	w("  // One part of a %s.\n", noun)
	w("  message Part {\n")
	w("    // Part identifier, unique within the %s.\n    string id = 1;\n", lower)
	w("    // Size in bytes.\n    int64 size_bytes = 2;\n")
	w("    // Checksum of the content.\n    bytes sha256 = 3;\n")
	w("    // State of this part.\n    State state = 4;\n")
	w("  }\n\n")
	w("  // Resource name.\n  string name = 1;\n")
	w("  // Human-readable name, at most 63 characters.\n  string display_name = 2;\n")
	w("  // Output only. Lifecycle state.\n  State state = 3;\n")
	w("  // Output only. Creation time.\n  google.protobuf.Timestamp create_time = 4;\n")
	w("  // Output only. Last update time.\n  google.protobuf.Timestamp update_time = 5;\n")
	w("  // User labels.\n  map<string, string> labels = 6;\n")
	w("  // The parts, in order.\n  repeated Part parts = 7;\n")
	w("  // Where the content comes from.\n  oneof source {\n")
	w("    // A URI to fetch.\n    string uri = 8;\n")
	w("    // Inline content.\n    bytes content = 9;\n")
	w("    // Copied from another %s.\n    string copy_of = 10;\n", lower)
	w("  }\n")
	w("  // Free-form metadata.\n  google.protobuf.Struct metadata = 11;\n")
	w("  // Time to live after deletion.\n  google.protobuf.Duration ttl = 12;\n")
	w("  // Optional revision counter.\n  google.protobuf.Int64Value revision = 13;\n")
	w("  // Extension payload.\n  repeated google.protobuf.Any extensions = 14;\n")
	w("  // Opaque checksum for optimistic concurrency.\n  string etag = 15;\n")
	w("  // Per-part annotations.\n  map<string, Part> annotations = 16;\n")
	if k > 0 {
		prev := nouns[((k-1)*2)%len(nouns)]
		w("  // The related %s in this package.\n  %s related = 17;\n", strings.ToLower(prev), prev)
	}
	if pkg > 0 {
		w("  // The upstream resource in the previous package.\n  synth.p%d.v1.%s upstream = 18;\n", pkg-1, nouns[0])
		w("  // State of the upstream resource.\n  synth.p%d.v1.%s.State upstream_state = 19;\n", pkg-1, nouns[0])
	}
	w("}\n\n")
}

// service writes service j of file i and its request and response messages.
func service(b *strings.Builder, i, j int, noun string) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	lower := strings.ToLower(noun)
	n := methodsIn(i, j)
	svc := noun + "Service"
	w("// %s manages %ss.\n//\n", svc, lower)
	w("// It is service %d of file %d of the synthetic API set. Every method\n", j, i)
	w("// returns a status error with a machine-readable reason on failure.\n")
	w("service %s {\n", svc)
	if (i+j)%40 == 7 {
		w("  option deprecated = true;\n\n")
	}
	for m := 0; m < n; m++ {
		v := verbs[m%len(verbs)]
		name := v.name + noun
		if m >= len(verbs) {
			name += fmt.Sprint(m)
		}
		in, out := name+"Request", name+"Response"
		w("  // %s %ss.\n", v.name, lower)
		w("  //\n  // The caller needs the `%s.%s` permission. This method is\n", lower, strings.ToLower(v.name))
		switch {
		case v.client && v.server:
			w("  // a bidirectional stream: each request is answered as it is applied.\n")
		case v.client:
			w("  // a client stream: the response comes once the stream is closed.\n")
		case v.server:
			w("  // a server stream: it sends changes until cancelled.\n")
		default:
			w("  // unary.\n")
		}
		w("  rpc %s(%s%s) returns (%s%s) {\n", name, stream(v.client), in, stream(v.server), out)
		switch {
		case v.readOnly && !v.server:
			w("    option idempotency_level = NO_SIDE_EFFECTS;\n")
			w("    option (synth.api.http) = {get: \"/v1/{name=projects/*/%ss/*}:%s\"};\n", lower, strings.ToLower(v.name))
		case !v.client && !v.server:
			w("    option (synth.api.http) = {post: \"/v1/{parent=projects/*}/%ss:%s\" body: \"*\"};\n", lower, strings.ToLower(v.name))
		}
		if (i+j+m)%50 == 3 {
			w("    option deprecated = true;\n")
		}
		w("  }\n\n")
	}
	w("}\n\n")
	for m := 0; m < n; m++ {
		v := verbs[m%len(verbs)]
		name := v.name + noun
		if m >= len(verbs) {
			name += fmt.Sprint(m)
		}
		request(b, name, noun, v.name)
		response(b, name, noun, v.name)
	}
}

func stream(s bool) string {
	if s {
		return "stream "
	}
	return ""
}

func request(b *strings.Builder, name, noun, verb string) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	lower := strings.ToLower(noun)
	w("// Request message for %s.\n", name)
	w("message %sRequest {\n", name)
	switch verb {
	case "Get", "Delete":
		w("  // Required. Name of the %s.\n  string name = 1;\n", lower)
		w("  // Fields to return; all when empty.\n  google.protobuf.FieldMask read_mask = 2;\n")
		w("  // Only act when the etag matches.\n  string etag = 3;\n")
	case "List", "Search", "Export", "Watch":
		w("  // Required. The parent, `projects/{project}`.\n  string parent = 1;\n")
		w("  // Maximum number of results; at most 1000.\n  int32 page_size = 2;\n")
		w("  // Page token from a previous call.\n  string page_token = 3;\n")
		w("  // Filter expression, e.g. `state = ACTIVE`.\n  string filter = 4;\n")
		w("  // Sort order, e.g. `create_time desc`.\n  string order_by = 5;\n")
		w("  // Show deleted %ss too.\n  bool show_deleted = 6;\n", lower)
	default:
		w("  // Required. The parent, `projects/{project}`.\n  string parent = 1;\n")
		w("  // The %s to write.\n  %s %s = 2;\n", lower, noun, lower)
		w("  // Fields to update.\n  google.protobuf.FieldMask update_mask = 3;\n")
		w("  // Validate only; do not write.\n  bool validate_only = 4;\n")
		w("  // Idempotency key.\n  string request_id = 5;\n")
	}
	w("}\n\n")
}

func response(b *strings.Builder, name, noun, verb string) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	lower := strings.ToLower(noun)
	w("// Response message for %s.\n", name)
	w("message %sResponse {\n", name)
	switch verb {
	case "Delete":
		w("  // Empty on success.\n  google.protobuf.Empty result = 1;\n")
	case "List", "Search", "Export":
		w("  // The %ss found.\n  repeated %s %ss = 1;\n", lower, noun, lower)
		w("  // Token for the next page; empty on the last.\n  string next_page_token = 2;\n")
		w("  // Locations that could not be reached.\n  repeated string unreachable = 3;\n")
	case "Watch":
		w("  // What changed.\n  enum Kind {\n    // Not specified.\n    KIND_UNSPECIFIED = 0;\n")
		w("    // Added.\n    ADDED = 1;\n    // Changed.\n    MODIFIED = 2;\n    // Removed.\n    REMOVED = 3;\n  }\n")
		w("  // The kind of change.\n  Kind kind = 1;\n")
		w("  // The %s after the change.\n  %s %s = 2;\n", lower, noun, lower)
		w("  // When the change happened.\n  google.protobuf.Timestamp time = 3;\n")
	default:
		w("  // The %s.\n  %s %s = 1;\n", lower, noun, lower)
		w("  // Server-side processing time.\n  google.protobuf.Duration latency = 2;\n")
	}
	w("}\n\n")
}
