package doc

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// googleAPISources are the parts of google/api that the call examples
// read: field behaviours, resources and the default host.
var googleAPISources = map[string]string{
	"google/api/field_behavior.proto": `syntax = "proto3";
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
`,
	"google/api/resource.proto": `syntax = "proto3";
package google.api;
import "google/protobuf/descriptor.proto";
extend google.protobuf.FieldOptions {
  google.api.ResourceReference resource_reference = 1055;
}
extend google.protobuf.FileOptions {
  repeated google.api.ResourceDescriptor resource_definition = 1053;
}
extend google.protobuf.MessageOptions {
  google.api.ResourceDescriptor resource = 1053;
}
message ResourceDescriptor {
  string type = 1;
  repeated string pattern = 2;
  string name_field = 3;
}
message ResourceReference {
  string type = 1;
  string child_type = 2;
}
`,
	"google/api/client.proto": `syntax = "proto3";
package google.api;
import "google/protobuf/descriptor.proto";
extend google.protobuf.ServiceOptions {
  string default_host = 1049;
  string oauth_scopes = 1050;
}
`,
	"ex/v1/topics.proto": `syntax = "proto3";
package ex.v1;
import "buf/validate/validate.proto";
import "google/api/annotations.proto";
import "google/api/client.proto";
import "google/api/field_behavior.proto";
import "google/api/resource.proto";

option (google.api.resource_definition) = {type: "ex.example.com/Project" pattern: "projects/{project}"};

service Topics {
  option (google.api.default_host) = "topics.example.com";
  rpc CreateTopic(Topic) returns (Topic) {
    option (google.api.http) = {put: "/v1/{name=projects/*/topics/*}" body: "*"};
  }
  rpc ListTopics(ListTopicsRequest) returns (ListTopicsResponse) {
    option (google.api.http) = {get: "/v1/{project=projects/*}/topics"};
  }
  rpc Pull(PullRequest) returns (PullResponse) {
    option (google.api.http) = {post: "/v1/{subscription=projects/*/subscriptions/*}:pull" body: "*"};
  }
  rpc Watch(PullRequest) returns (stream PullResponse);
}

message Topic {
  option (google.api.resource) = {type: "ex.example.com/Topic" pattern: "projects/{project}/topics/{topic}"};
  string name = 1 [(google.api.field_behavior) = REQUIRED, (google.api.field_behavior) = IDENTIFIER];
  State state = 2 [(google.api.field_behavior) = OUTPUT_ONLY];
  string secret = 3 [(google.api.field_behavior) = INPUT_ONLY];
  string old = 4 [deprecated = true];
  string owner_email = 5;
  string kms_key = 6 [(google.api.resource_reference).type = "cloudkms.example.com/CryptoKey"];
  enum State {
    STATE_UNSPECIFIED = 0;
    OLD = 1 [deprecated = true];
    ACTIVE = 2;
  }
}

message ListTopicsRequest {
  string project = 1 [(google.api.field_behavior) = REQUIRED, (google.api.resource_reference).type = "ex.example.com/Project"];
  int32 page_size = 2 [(buf.validate.field).int32 = {gte: 1, lte: 5}];
  string page_token = 3;
  string code = 4 [(buf.validate.field).string.len = 4];
  string kind = 5 [(buf.validate.field).string = {in: ["b", "a"]}];
  string parent = 6 [(google.api.resource_reference).child_type = "ex.example.com/Topic"];
  repeated string tags = 7 [(buf.validate.field).repeated = {min_items: 2}];
  oneof which {
    string a = 8 [deprecated = true];
    string b = 9;
  }
  string note = 10 [(buf.validate.field).string.const = "it's ` + "```" + `"];
  string site = 11 [(buf.validate.field).string.uri = true];
}

message ListTopicsResponse {
  repeated Topic topics = 1;
}

message PullRequest {
  string subscription = 1 [(google.api.field_behavior) = REQUIRED];
  bool return_immediately = 2 [deprecated = true];
  int32 max_messages = 3 [(google.api.field_behavior) = REQUIRED];
  int32 count = 4 [(google.api.field_behavior) = REQUIRED];
}

message PullResponse {
  repeated string ids = 1;
}
`,
}

// exampleSources are googleAPISources with the golden copies of
// google/api/annotations.proto, http.proto and buf/validate.
func exampleSources(t *testing.T) map[string]string {
	srcs := map[string]string{}
	for k, v := range googleAPISources {
		srcs[k] = v
	}
	for _, p := range []string{"google/api/annotations.proto", "google/api/http.proto", "buf/validate/validate.proto"} {
		b, err := os.ReadFile(filepath.Join(goldenDir(t), "protos", filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		srcs[p] = string(b)
	}
	return srcs
}

func exampleDoc(t *testing.T, param string) (*model.Document, map[string]string) {
	t.Helper()
	out := generate(t, compileSources(t, exampleSources(t), "format=html,markdown,json"+param, "ex/v1/topics.proto"))
	doc := new(model.Document)
	if err := json.Unmarshal([]byte(out["index.json"]), doc); err != nil {
		t.Fatal(err)
	}
	return doc, out
}

func methodsByName(doc *model.Document) map[string]*model.Method {
	out := map[string]*model.Method{}
	for _, f := range doc.Files {
		for _, s := range f.Services {
			for _, m := range s.Methods {
				out[m.Name] = m
			}
		}
	}
	return out
}

func decodeSample(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("sample %q: %v", s, err)
	}
	return m
}

func exampleFor(m *model.Method, protocol string) string {
	for _, e := range m.Examples {
		if e.Protocol == protocol {
			return e.Command
		}
	}
	return ""
}

// TestCallExamples: samples leave out output-only and deprecated fields
// (input-only ones in responses), take values from resource patterns, HTTP
// path templates, field names and protovalidate rules, and the method is
// called over Connect, gRPC and, where bound, REST.
func TestCallExamples(t *testing.T) {
	doc, out := exampleDoc(t, "")
	ms := methodsByName(doc)

	create := ms["CreateTopic"]
	req := decodeSample(t, create.SampleRequest)
	want := map[string]any{
		"name":       "projects/my-project/topics/my-topic",
		"secret":     "string",
		"ownerEmail": "user@example.com",
		"kmsKey":     "cryptoKeys/my-crypto-key",
	}
	if diff := cmp.Diff(want, req); diff != "" {
		t.Errorf("CreateTopic request (-want +got):\n%s", diff)
	}
	resp := decodeSample(t, create.SampleResponse)
	if resp["state"] != "ACTIVE" || resp["secret"] != nil || resp["old"] != nil {
		t.Errorf("CreateTopic response: %v", resp)
	}
	var protocols []string
	for _, e := range create.Examples {
		protocols = append(protocols, e.Protocol)
	}
	if diff := cmp.Diff([]string{"connect", "grpc", "rest"}, protocols); diff != "" {
		t.Errorf("protocols: %s", diff)
	}
	if create.Example != exampleFor(create, "connect") || !strings.HasPrefix(create.Example, "curl \\\n  --header 'Content-Type: application/json'") {
		t.Errorf("connect example: %s", create.Example)
	}
	if g := exampleFor(create, "grpc"); !strings.HasPrefix(g, "buf curl --schema . --protocol grpc --http2-prior-knowledge \\\n") ||
		!strings.HasSuffix(g, "\n  http://localhost:8080/ex.v1.Topics/CreateTopic") {
		t.Errorf("gRPC example: %s", g)
	}
	wantREST := "curl -X PUT \\\n  --header 'Content-Type: application/json' \\\n  --data '{\n  \"secret\": \"string\",\n" +
		"  \"ownerEmail\": \"user@example.com\",\n  \"kmsKey\": \"cryptoKeys/my-crypto-key\"\n}' \\\n" +
		"  'http://localhost:8080/v1/projects/my-project/topics/my-topic'"
	if diff := cmp.Diff(wantREST, exampleFor(create, "rest")); diff != "" {
		t.Errorf("REST example (-want +got):\n%s", diff)
	}

	list := ms["ListTopics"]
	req = decodeSample(t, list.SampleRequest)
	want = map[string]any{
		"project":   "projects/my-project",
		"pageSize":  float64(5),
		"pageToken": "next-page-token",
		"code":      "stri",
		"kind":      "b",
		"parent":    "projects/my-project",
		"tags":      []any{"string", "string"},
		"b":         "string",
		"note":      "it's ```",
		"site":      "https://example.com/",
	}
	if diff := cmp.Diff(want, req); diff != "" {
		t.Errorf("ListTopics request (-want +got):\n%s", diff)
	}
	wantREST = "curl \\\n  'http://localhost:8080/v1/projects/my-project/topics?pageSize=5&pageToken=next-page-token&code=stri&kind=b&" +
		"parent=projects%2Fmy-project&tags=string&tags=string&b=string&note=it%27s+%60%60%60&site=https%3A%2F%2Fexample.com%2F'"
	if diff := cmp.Diff(wantREST, exampleFor(list, "rest")); diff != "" {
		t.Errorf("REST GET example (-want +got):\n%s", diff)
	}
	if !strings.Contains(list.Example, `"note": "it'\''s `+"```"+`"`) {
		t.Errorf("quote not escaped for the shell: %s", list.Example)
	}

	pull := ms["Pull"]
	req = decodeSample(t, pull.SampleRequest)
	want = map[string]any{"subscription": "projects/my-project/subscriptions/my-subscription", "maxMessages": float64(10), "count": float64(1)}
	if diff := cmp.Diff(want, req); diff != "" {
		t.Errorf("Pull request (-want +got):\n%s", diff)
	}
	if r := exampleFor(pull, "rest"); !strings.HasSuffix(r, "'http://localhost:8080/v1/projects/my-project/subscriptions/my-subscription:pull'") ||
		strings.Contains(r, "subscription\"") {
		t.Errorf("Pull REST example: %s", r)
	}

	watch := ms["Watch"]
	if exampleFor(watch, "rest") != "" || !strings.HasPrefix(exampleFor(watch, "connect"), "buf curl --schema . --protocol connect \\\n") ||
		exampleFor(watch, "grpc") == "" {
		t.Errorf("server stream examples: %+v", watch.Examples)
	}

	md := out["index.md"]
	for _, s := range []string{"\n\nConnect:\n\n```sh\ncurl", "\n\ngRPC:\n\n```sh\nbuf curl", "\n\nREST:\n\n```sh\ncurl -X PUT", "\n\nSample response:\n\n```json\n{", "\n\n````sh\ncurl \\\n"} {
		if !strings.Contains(md, s) {
			t.Errorf("Markdown lacks %q", s)
		}
	}
	html := out["index.html"]
	for _, s := range []string{`<pre id="ex:ex.v1.Topics.CreateTopic">`, `<pre id="ex-grpc:ex.v1.Topics.CreateTopic">`,
		`<pre id="ex-rest:ex.v1.Topics.CreateTopic">`, `<pre id="resp:ex.v1.Topics.CreateTopic">`, `data-target="ex-rest:ex.v1.Topics.CreateTopic"`} {
		if !strings.Contains(html, s) {
			t.Errorf("HTML lacks %q", s)
		}
	}
	checkHTMLSet(t, map[string]string{"index.html": html})
}

// TestExampleHost: example_host=default_host calls the service's
// google.api.default_host over https.
func TestExampleHost(t *testing.T) {
	doc, _ := exampleDoc(t, ",example_host=default_host")
	create := methodsByName(doc)["CreateTopic"]
	if !strings.HasSuffix(create.Example, "\n  https://topics.example.com/ex.v1.Topics/CreateTopic") {
		t.Errorf("connect: %s", create.Example)
	}
	if g := exampleFor(create, "grpc"); strings.Contains(g, "--http2-prior-knowledge") || !strings.HasSuffix(g, "https://topics.example.com/ex.v1.Topics/CreateTopic") {
		t.Errorf("gRPC: %s", g)
	}
	if r := exampleFor(create, "rest"); !strings.HasSuffix(r, "'https://topics.example.com/v1/projects/my-project/topics/my-topic'") {
		t.Errorf("REST: %s", r)
	}
	// Services without a default host keep base_url.
	doc = jsonDoc(t, "format=json,example_host=default_host,base_url=https://api.acme.test", "acme/shop/v1/shop.proto")
	if m := methodsByName(doc)["GetProduct"]; !strings.HasSuffix(m.Example, "\n  https://api.acme.test/acme.shop.v1.Shop/GetProduct") {
		t.Errorf("no default host: %s", m.Example)
	}
	resp := Generate(compileRequest(t, "example_host=localhost", "acme/shop/v1/shop.proto"))
	if want := `option example_host: "localhost" is not base_url or default_host`; resp.GetError() != want {
		t.Errorf("error %q, want %q", resp.GetError(), want)
	}
}

// TestSampleBounds: required fields go past the field budget, but a
// schema of many required fields nested deep gives a bounded sample.
func TestSampleBounds(t *testing.T) {
	var b strings.Builder
	b.WriteString("syntax = \"proto3\";\npackage wide.v1;\nimport \"google/api/field_behavior.proto\";\n")
	for level := 0; level < 5; level++ {
		fmt.Fprintf(&b, "message L%d {\n", level)
		for i := 1; i <= 300; i++ {
			typ := "string"
			if level < 4 {
				typ = fmt.Sprintf("L%d", level+1)
			}
			fmt.Fprintf(&b, "  %s f%d = %d [(google.api.field_behavior) = REQUIRED];\n", typ, i, i)
		}
		b.WriteString("}\n")
	}
	b.WriteString("service S { rpc Call(L0) returns (L0); }\n")
	srcs := exampleSources(t)
	srcs["wide/v1/wide.proto"] = b.String()
	start := time.Now()
	out := generate(t, compileSources(t, srcs, "format=json", "wide/v1/wide.proto"))
	doc := new(model.Document)
	if err := json.Unmarshal([]byte(out["index.json"]), doc); err != nil {
		t.Fatal(err)
	}
	m := methodsByName(doc)["Call"]
	if n := strings.Count(m.SampleRequest, "\"f"); n > maxSampleFieldsTotal {
		t.Errorf("%d fields in the sample, want at most %d", n, maxSampleFieldsTotal)
	}
	if len(out["index.json"]) > 4<<20 || time.Since(start) > 20*time.Second {
		t.Errorf("%d bytes in %v", len(out["index.json"]), time.Since(start))
	}
}

// maxSampleFieldsTotal is the bound on a sample's fields: build's
// maxSampleFields plus maxRequiredOver, plus the message fields that hold
// the last ones (one per level).
const maxSampleFieldsTotal = 260 + 4
