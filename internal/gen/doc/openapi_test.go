package doc

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/polyrpc/polyrpc/internal/openapicheck"
)

// TestOpenAPIValidates checks that the OpenAPI documents of the golden
// inputs validate, in every layout.
func TestOpenAPIValidates(t *testing.T) {
	for _, param := range []string{"format=openapi", "format=openapi,layout=package", "format=openapi,layout=file,api_version=v2"} {
		got := generate(t, compileRequest(t, param, goldenFiles...))
		n := 0
		for name, content := range got {
			if !strings.HasSuffix(name, ".openapi.json") {
				t.Errorf("%s: unexpected file %s", param, name)
				continue
			}
			n++
			if _, err := openapicheck.Document([]byte(content)); err != nil {
				t.Errorf("%s: %s: %v", param, name, err)
			}
		}
		if n == 0 {
			t.Errorf("%s: no OpenAPI document", param)
		}
	}
}

// openAPISource has the cases of the JSON mapping and of HttpRule that the
// golden inputs lack.
const openAPISource = `syntax = "proto3";
package t.v1;
import "google/api/annotations.proto";
import "google/api/field_behavior.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

service Topics {
  // Gets a topic.
  rpc GetTopic(GetTopicRequest) returns (Topic) {
    option idempotency_level = NO_SIDE_EFFECTS;
    option (google.api.http) = {
      get: "/v1/{name=projects/*/topics/*}"
      additional_bindings { get: "/v1/topics/{name}" }
    };
  }
  rpc UpdateTopic(UpdateTopicRequest) returns (Topic) {
    option (google.api.http) = { patch: "/v1/{topic.name=projects/*/topics/*}" body: "topic" };
  }
  rpc CreateTopic(Topic) returns (Topic) {
    option (google.api.http) = { post: "/v1/{name=projects/*}/topics" body: "*" };
  }
  rpc Cancel(GetTopicRequest) returns (Topic) {
    option (google.api.http) = { post: "/v1/{name=projects/*/topics/*}:cancel" body: "*" response_body: "sub" };
  }
  rpc Watch(GetTopicRequest) returns (stream Topic) {
    option (google.api.http) = { get: "/v1/{name=projects/*/topics/*}:watch" };
  }
  rpc Upload(stream Topic) returns (Topic) {
    option (google.api.http) = { post: "/v1/upload" body: "*" };
  }
}

message GetTopicRequest {
  string name = 1 [(google.api.field_behavior) = REQUIRED];
  Filter filter = 2;
  repeated int64 ids = 3;
  google.protobuf.Timestamp since = 4;
  map<string, string> labels = 5;
}

message Filter {
  Kind kind = 1;
  google.protobuf.Int64Value limit = 2;
  Filter next = 3;
}

enum Kind {
  KIND_UNSPECIFIED = 0;
  // A big one.
  KIND_BIG = 1;
}

message UpdateTopicRequest {
  Topic topic = 1;
  bool validate_only = 2;
}

message Topic {
  string name = 1 [(google.api.field_behavior) = IDENTIFIER];
  int64 size = 2 [(google.api.field_behavior) = OUTPUT_ONLY];
  string secret = 3 [(google.api.field_behavior) = INPUT_ONLY, deprecated = true];
  string title = 4 [(google.api.field_behavior) = REQUIRED];
  oneof target {
    string url = 5;
    bytes blob = 6;
  }
  map<int32, Filter> filters = 7;
  Sub sub = 8;
  message Sub { double ratio = 1; }
}
`

const fieldBehaviorSource = `syntax = "proto3";
package google.api;
import "google/protobuf/descriptor.proto";
extend google.protobuf.FieldOptions {
  repeated google.api.FieldBehavior field_behavior = 1052 [packed = false];
}
enum FieldBehavior {
  FIELD_BEHAVIOR_UNSPECIFIED = 0;
  OPTIONAL = 1;
  REQUIRED = 2;
  OUTPUT_ONLY = 3;
  INPUT_ONLY = 4;
  IMMUTABLE = 5;
  UNORDERED_LIST = 6;
  NON_EMPTY_DEFAULT = 7;
  IDENTIFIER = 8;
}
`

// openAPIDoc generates the OpenAPI document of openAPISource.
func openAPIDoc(t *testing.T, param string) (string, map[string]any) {
	t.Helper()
	srcs := map[string]string{"t.proto": openAPISource, "google/api/field_behavior.proto": fieldBehaviorSource}
	for _, name := range []string{"google/api/annotations.proto", "google/api/http.proto"} {
		srcs[name] = readGoldenProto(t, name)
	}
	got := generate(t, compileSources(t, srcs, param, "t.proto"))
	out := got["index.openapi.json"]
	if out == "" {
		t.Fatalf("no index.openapi.json among %v", sortedKeys(got))
	}
	if _, err := openapicheck.Document([]byte(out)); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	return out, doc
}

// at follows a path of keys through decoded JSON.
func at(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("at %v: %T is not an object", keys, v)
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("at %v: no %q", keys, k)
		}
	}
	return v
}

func TestOpenAPIMapping(t *testing.T) {
	_, doc := openAPIDoc(t, "format=openapi,openapi_paths=template,api_version=3.4.5,base_url=https://api.example.com/,title=Topics API")
	if at(t, doc, "openapi") != "3.1.0" || at(t, doc, "info", "version") != "3.4.5" || at(t, doc, "info", "title") != "Topics API" {
		t.Errorf("header: %v %v", doc["openapi"], doc["info"])
	}
	if s := at(t, doc, "servers").([]any)[0]; at(t, s, "url") != "https://api.example.com" {
		t.Errorf("servers: %v", s)
	}
	paths := at(t, doc, "paths").(map[string]any)
	for _, p := range []string{"/v1/{name}", "/v1/topics/{name}", "/v1/{topic.name}", "/v1/{name}/topics", "/v1/{name}:cancel", "/v1/{name}:watch", "/t.v1.Topics/GetTopic", "/t.v1.Topics/Cancel"} {
		if _, ok := paths[p]; !ok {
			t.Errorf("no path %s (have %v)", p, sortedKeys(toStrings(paths)))
		}
	}
	// Streaming methods: no Connect path; client streaming not over REST.
	for _, p := range []string{"/t.v1.Topics/Watch", "/t.v1.Topics/Upload", "/v1/upload"} {
		if _, ok := paths[p]; ok {
			t.Errorf("path %s should be left out", p)
		}
	}
	if d := at(t, doc, "info", "description").(string); !strings.Contains(d, "/v1/upload") {
		t.Errorf("info.description does not note the left-out binding: %q", d)
	}
	// Connect GET only for NO_SIDE_EFFECTS.
	at(t, paths, "/t.v1.Topics/GetTopic", "get")
	if _, ok := paths["/t.v1.Topics/Cancel"].(map[string]any)["get"]; ok {
		t.Error("Connect GET for a method with side effects")
	}
	// The multi-segment variable: one {name} parameter with a pattern.
	get := at(t, paths, "/v1/{name}", "get").(map[string]any)
	var names []string
	for _, p := range get["parameters"].([]any) {
		p := p.(map[string]any)
		names = append(names, p["in"].(string)+":"+p["name"].(string))
		if p["name"] == "name" && at(t, p, "schema", "pattern") != "^projects/[^/]+/topics/[^/]+$" {
			t.Errorf("name pattern: %v", p["schema"])
		}
		if p["name"] == "ids" && at(t, p, "schema", "type") != "array" {
			t.Errorf("ids: %v", p["schema"])
		}
	}
	// Filter.next is a Filter again: recursion stops at the first repeat.
	want := "path:name query:filter.kind query:filter.limit query:ids query:since"
	if strings.Join(names, " ") != want {
		t.Errorf("GET /v1/{name} parameters:\n got %s\nwant %s", strings.Join(names, " "), want)
	}
	// body: "topic" -> the body is the Topic; validate_only is a query parameter.
	patch := at(t, paths, "/v1/{topic.name}", "patch")
	if at(t, patch, "requestBody", "content", "application/json", "schema", "$ref") != "#/components/schemas/t.v1.Topic" {
		t.Errorf("patch body: %v", at(t, patch, "requestBody"))
	}
	// body: "*" with a path variable: the body leaves the path field out.
	post := at(t, paths, "/v1/{name}/topics", "post")
	props := at(t, post, "requestBody", "content", "application/json", "schema", "properties").(map[string]any)
	if _, ok := props["name"]; ok {
		t.Error("body * keeps the path field name")
	}
	// response_body.
	if at(t, paths, "/v1/{name}:cancel", "post", "responses", "200", "content", "application/json", "schema", "$ref") != "#/components/schemas/t.v1.Topic.Sub" {
		t.Error("response_body not used")
	}
	// Server streaming over REST: newline-delimited JSON.
	at(t, paths, "/v1/{name}:watch", "get", "responses", "200", "content", "application/x-ndjson")
	// Errors.
	if at(t, paths, "/v1/{name}", "get", "responses", "default", "content", "application/json", "schema", "$ref") != "#/components/schemas/google.rpc.Status" {
		t.Error("REST default response is not google.rpc.Status")
	}
	if at(t, paths, "/t.v1.Topics/Cancel", "post", "responses", "default", "content", "application/json", "schema", "$ref") != "#/components/schemas/connect.Error" {
		t.Error("Connect default response is not connect.Error")
	}
	// Schemas.
	schemas := at(t, doc, "components", "schemas")
	topic := at(t, schemas, "t.v1.Topic")
	if r := at(t, topic, "required").([]any); len(r) != 1 || r[0] != "title" {
		t.Errorf("required: %v", r)
	}
	if at(t, topic, "properties", "size", "readOnly") != true || at(t, topic, "properties", "secret", "writeOnly") != true || at(t, topic, "properties", "secret", "deprecated") != true {
		t.Errorf("field behaviour: %v", at(t, topic, "properties"))
	}
	if tp := at(t, topic, "properties", "size", "type").([]any); len(tp) != 2 || tp[0] != "string" {
		t.Errorf("int64: %v", tp)
	}
	if at(t, topic, "properties", "blob", "contentEncoding") != "base64" {
		t.Error("bytes")
	}
	if at(t, topic, "properties", "filters", "additionalProperties", "$ref") != "#/components/schemas/t.v1.Filter" ||
		at(t, topic, "properties", "filters", "propertyNames", "pattern") != "^-?[0-9]+$" {
		t.Errorf("map: %v", at(t, topic, "properties", "filters"))
	}
	if len(at(t, topic, "allOf").([]any)) != 1 {
		t.Error("oneof constraint missing")
	}
	if e := at(t, schemas, "t.v1.Kind", "enum").([]any); len(e) != 2 || e[1] != "KIND_BIG" {
		t.Errorf("enum: %v", e)
	}
	if at(t, schemas, "google.protobuf.Timestamp", "format") != "date-time" {
		t.Error("Timestamp")
	}
	if tp := at(t, schemas, "google.protobuf.Int64Value", "type").([]any); len(tp) != 3 || tp[2] != "null" {
		t.Errorf("Int64Value: %v", tp)
	}
}

func toStrings(m map[string]any) map[string]string {
	out := map[string]string{}
	for k := range m {
		out[k] = ""
	}
	return out
}

func TestOpenAPIOptionErrors(t *testing.T) {
	for param, want := range map[string]string{
		"format=openapi,api_version=":               "option api_version",
		"format=openapi,template=x.tmpl":            "format openapi has no templates",
		"format=yaml":                               "use html, markdown, json or openapi",
		"format=openapi,base_url=ftp://example.com": "option base_url",
		"format=openapi,openapi_paths=expanded":     "option openapi_paths",
	} {
		resp := Generate(compileRequest(t, param, goldenFiles[0]))
		if !strings.Contains(resp.GetError(), want) {
			t.Errorf("%s: error %q, want it to mention %q", param, resp.GetError(), want)
		}
	}
}

func TestOpenAPIBadBinding(t *testing.T) {
	for _, rule := range []string{
		`get: "/v1/{nope}"`,
		`get: "/v1/{name=projects/*"`,
		`get: "v1/x"`,
		`post: "/v1/x" body: "nope"`,
		`get: "/v1/{filter}"`,
	} {
		src := strings.Replace(openAPISource, `get: "/v1/topics/{name}"`, rule, 1)
		srcs := map[string]string{"t.proto": src, "google/api/field_behavior.proto": fieldBehaviorSource}
		for _, name := range []string{"google/api/annotations.proto", "google/api/http.proto"} {
			srcs[name] = readGoldenProto(t, name)
		}
		resp := Generate(compileSources(t, srcs, "format=openapi", "t.proto"))
		if e := resp.GetError(); !strings.Contains(e, "method t.v1.Topics.GetTopic: google.api.http binding") {
			t.Errorf("%s: error %q, want one naming the method and binding", rule, e)
		}
	}
}

// readGoldenProto reads a proto of golden/doc/protos.
func readGoldenProto(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir(t), "protos", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOpenAPISegments(t *testing.T) {
	_, doc := openAPIDoc(t, "format=openapi,openapi_paths=segments")
	// segments is the default.
	if _, def := openAPIDoc(t, "format=openapi"); !reflect.DeepEqual(def, doc) {
		t.Error("format=openapi differs from format=openapi,openapi_paths=segments")
	}
	paths := at(t, doc, "paths").(map[string]any)
	for _, p := range []string{"/v1/projects/{project}/topics/{topic}", "/v1/projects/{project}/topics/{topic}:cancel", "/v1/projects/{project}/topics", "/v1/topics/{name}"} {
		if _, ok := paths[p]; !ok {
			t.Errorf("no path %s (have %v)", p, sortedKeys(toStrings(paths)))
		}
	}
	var names []string
	for _, p := range at(t, paths, "/v1/projects/{project}/topics/{topic}", "get", "parameters").([]any) {
		p := p.(map[string]any)
		names = append(names, p["in"].(string)+":"+p["name"].(string))
	}
	// name is bound by the path, so it is no query parameter.
	want := "path:project path:topic query:filter.kind query:filter.limit query:ids query:since"
	if strings.Join(names, " ") != want {
		t.Errorf("parameters:\n got %s\nwant %s", strings.Join(names, " "), want)
	}
}
