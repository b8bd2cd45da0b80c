package model

import (
	"strings"
	"testing"
)

func TestCallExamples(t *testing.T) {
	m := &Method{Procedure: "/p.S/M", Streaming: "unary", SampleRequest: `{"a": "it's"}`,
		ExampleURL: "http://localhost:8080", RESTExample: "curl 'http://localhost:8080/v1/m'"}
	ex, exs := m.CallExamples()
	wantConnect := "curl \\\n  --header 'Content-Type: application/json' \\\n  --data '{\"a\": \"it'\\''s\"}' \\\n  http://localhost:8080/p.S/M"
	if ex != wantConnect {
		t.Errorf("connect:\n%s\nwant\n%s", ex, wantConnect)
	}
	if len(exs) != 3 || exs[0].Command != ex || exs[0].Protocol != "connect" || exs[2].Command != m.RESTExample ||
		!strings.HasPrefix(exs[1].Command, "buf curl --schema . --protocol grpc --http2-prior-knowledge \\\n  --data ") {
		t.Errorf("examples: %+v", exs)
	}
	bidi := &Method{Procedure: "/p.S/B", Streaming: "bidi_streaming", SampleRequest: "{}", ExampleURL: "https://h"}
	if ex, exs := bidi.CallExamples(); !strings.HasPrefix(ex, "buf curl --schema . --protocol connect \\\n") || len(exs) != 2 ||
		strings.Contains(exs[1].Command, "prior-knowledge") {
		t.Errorf("bidi: %s %+v", ex, exs)
	}
	if ex, exs := (&Method{Procedure: "/p.S/M"}).CallExamples(); ex != "" || exs != nil {
		t.Errorf("no sample: %q %+v", ex, exs)
	}
	// Set fields win, and FillExamples sets them from CallExamples.
	set := &Method{SampleRequest: "{}", Example: "mine"}
	if ex, exs := set.CallExamples(); ex != "mine" || exs != nil {
		t.Errorf("set: %q %+v", ex, exs)
	}
	docs := []*Document{{Files: []*File{nil, {Services: []*Service{nil, {Methods: []*Method{nil, m}}}}}}}
	FillExamples(docs)
	if m.Example != wantConnect || len(m.Examples) != 3 || m.Examples[1].Command != exs[1].Command {
		t.Errorf("filled: %q %+v", m.Example, m.Examples)
	}
}
