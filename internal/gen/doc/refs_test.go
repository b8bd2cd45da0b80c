package doc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/polyrpc/polyrpc/internal/gen/doc/comment"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// relSources hold references written relative to the comment's scope, to
// an imported file that the run does not document, and to nothing.
var relSources = map[string]string{
	"rt/type/v1/date.proto": `syntax = "proto3";
package rt.type.v1;
// A calendar date.
message Date {
  int32 year = 1;
  // Month of a year.
  enum Month {
    MONTH_UNSPECIFIED = 0;
    JANUARY = 1;
  }
  Month month = 2;
  Zone zone = 3;
}
message Zone {
  string id = 1;
}
message Unused {
  string x = 1;
}
`,
	"rr/v1/tasks.proto": `syntax = "proto3";
package rr.v1;
import "rt/type/v1/date.proto";
// A task; see [Task.status][] and [its queue][Queue], the [State][] it is
// in and [RUNNING][State.RUNNING]. Due on a [Date][rt.type.v1.Date] in
// [JANUARY][rt.type.v1.Date.Month.JANUARY]; [Queue.Pause][] pauses it.
// [Gone][NoSuchThing] is nothing; [word] stays; [text][] too; see
// [AIP-160][https://google.aip.dev/160].
message Task {
  // Relative to the message: [status][Task.status], [Queue.name][].
  string status = 1;
  rt.type.v1.Date due = 2;
  // Wrong service name, right method: [Queues.Pause][].
  string note = 3;
}
enum State {
  STATE_UNSPECIFIED = 0;
  RUNNING = 1;
}
message Queue {
  string name = 1;
}
service QueueService {
  // Pauses a [Task][] queue.
  rpc Pause(Queue) returns (Queue);
}
`,
}

func mdHrefs(md string) map[string]bool {
	out := map[string]bool{}
	for _, m := range mdLink.FindAllStringSubmatch(md, -1) {
		out[m[1]] = true
	}
	return out
}

// TestRelativeReferences: references resolve relative to the comment's
// scope as protoc resolves type names, and failing that to the one
// element of the package (or of an imported one) whose name matches.
func TestRelativeReferences(t *testing.T) {
	comment.ResetUnresolved()
	var stderr bytes.Buffer
	resp := generateTo(compileSources(t, relSources, "format=markdown", "rr/v1/tasks.proto"), &stderr)
	if resp.Error != nil {
		t.Fatal(resp.GetError())
	}
	md := resp.File[0].GetContent()
	hrefs := mdHrefs(md)
	for _, want := range []string{"https://google.aip.dev/160", "#rr.v1.Task.status", "#rr.v1.Queue", "#rr.v1.State", "#rr.v1.State.RUNNING", "#rr.v1.Queue.name", "#rr.v1.QueueService.Pause", "#rr.v1.Task"} {
		if !hrefs[want] {
			t.Errorf("no link to %s", want)
		}
	}
	for _, s := range []string{"[word] stays", "; text too", "Gone is nothing"} {
		if !strings.Contains(md, s) {
			t.Errorf("Markdown lacks %q", s)
		}
	}
	// Date and JANUARY are in the request but not documented,
	// NoSuchThing and text are nowhere: four references shown as text,
	// each reported.
	if n := comment.Unresolved(); n != 4 {
		t.Errorf("%d unresolved, want 4", n)
	}
	report := stderr.String()
	for _, s := range []string{
		"protoc-gen-rpcdoc: 4 cross-references in comments name no documented element",
		"rr/v1/tasks.proto: rr.v1.Task: [text] (in no file of the request)",
		"rr/v1/tasks.proto: rr.v1.Task: [NoSuchThing] (in no file of the request)",
		"rr/v1/tasks.proto: rr.v1.Task: [rt.type.v1.Date] (not documented in this run)",
		"rr/v1/tasks.proto: rr.v1.Task: [rt.type.v1.Date.Month.JANUARY] (not documented in this run)",
	} {
		if !strings.Contains(report, s) {
			t.Errorf("stderr lacks %q:\n%s", s, report)
		}
	}
	stderr.Reset()
	generateTo(compileSources(t, relSources, "format=markdown,warn_unresolved=false", "rr/v1/tasks.proto"), &stderr)
	if stderr.Len() != 0 {
		t.Errorf("warn_unresolved=false still reports:\n%s", stderr.String())
	}
}

// TestExternURL: extern_url links references and field types of a package
// the run does not document.
func TestExternURL(t *testing.T) {
	comment.ResetUnresolved()
	out := generate(t, compileSources(t, relSources, "format=markdown,format=json,extern_url=rt=https://docs.example.com/rt/,extern_url=rt.type.v1=https://docs.example.com/type", "rr/v1/tasks.proto"))
	hrefs := mdHrefs(out["index.md"])
	for _, want := range []string{"https://docs.example.com/type#rt.type.v1.Date", "https://docs.example.com/type#rt.type.v1.Date.Month.JANUARY"} {
		if !hrefs[want] {
			t.Errorf("no link to %s in %v", want, hrefs)
		}
	}
	if n := comment.Unresolved(); n != 2 {
		t.Errorf("%d unresolved, want 2 (NoSuchThing and text)", n)
	}
	doc := new(model.Document)
	if err := json.Unmarshal([]byte(out["index.json"]), doc); err != nil {
		t.Fatal(err)
	}
	if u := doc.Files[0].Messages[0].Fields[1].Type.URL; u != "https://docs.example.com/type#rt.type.v1.Date" {
		t.Errorf("field type URL %q", u)
	}
	for _, bad := range []string{"extern_url=rt", "extern_url=rt=ftp://x", "extern_url=.rt=https://x", "extern_url=r t=https://x", "extern_url=rt=https://x/\"y", "referenced_types=maybe", "warn_unresolved=2"} {
		if resp := Generate(compileSources(t, relSources, bad, "rr/v1/tasks.proto")); resp.Error == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestReferencedTypes: with referenced_types=true, the elements that
// documented files refer to and that no documented file defines are
// listed, in a file of their own, and references and types link to them.
func TestReferencedTypes(t *testing.T) {
	for _, c := range []struct{ layout, value, want string }{
		{"single", "true", "rt.type.v1.Date rt.type.v1.Date.Month"},
		{"package", "true", "rt.type.v1.Date rt.type.v1.Date.Month"},
		{"file", "true", "rt.type.v1.Date rt.type.v1.Date.Month"},
		{"single", "all", "rt.type.v1.Date rt.type.v1.Zone rt.type.v1.Date.Month"},
		{"file", "all", "rt.type.v1.Date rt.type.v1.Zone rt.type.v1.Date.Month"},
	} {
		layout := c.layout
		t.Run(layout+"/"+c.value, func(t *testing.T) {
			comment.ResetUnresolved()
			var stderr bytes.Buffer
			resp := generateTo(compileSources(t, relSources, "format=html,markdown,json,referenced_types="+c.value+",layout="+layout, "rr/v1/tasks.proto"), &stderr)
			if resp.Error != nil {
				t.Fatal(resp.GetError())
			}
			files := map[string]string{}
			for _, f := range resp.File {
				files[f.GetName()] = f.GetContent()
			}
			checkHTMLSet(t, files)
			checkMarkdownSet(t, files)
			if n := comment.Unresolved(); n != 4 {
				t.Errorf("%d unresolved, want 4 (NoSuchThing and text in HTML and Markdown)", n)
			}
			var listed *model.File
			for name, out := range files {
				if !strings.HasSuffix(name, ".json") {
					continue
				}
				doc := new(model.Document)
				if err := json.Unmarshal([]byte(out), doc); err != nil {
					t.Fatal(err)
				}
				for _, f := range doc.Files {
					if f.Referenced {
						listed = f
					}
				}
			}
			if listed == nil {
				t.Fatal("no file of referenced types")
			}
			var names []string
			for _, m := range listed.Messages {
				names = append(names, m.FullName)
			}
			for _, e := range listed.Enums {
				names = append(names, e.FullName)
			}
			if got := strings.Join(names, " "); listed.Name != "rt/type/v1/date.proto" || got != c.want {
				t.Errorf("listed %s: %s", listed.Name, got)
			}
			if listed.Messages[0].Description != "A calendar date." || listed.Enums[0].Description != "Month of a year." {
				t.Errorf("listed without their comments: %q, %q", listed.Messages[0].Description, listed.Enums[0].Description)
			}
			if !strings.Contains(stderr.String(), "2 cross-references in comments name no documented element") {
				t.Errorf("stderr: %s", stderr.String())
			}
		})
	}
}

// TestManyBadReferences: a comment of many references to nothing, in a
// package of many elements, is rendered fast and reported in bounded
// lines.
func TestManyBadReferences(t *testing.T) {
	var src strings.Builder
	src.WriteString("syntax = \"proto3\";\npackage big.v1;\n")
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&src, "message M%d { string f%d = 1; }\n", i, i)
	}
	src.WriteString("// ")
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&src, "[x][Nope%d] [Nope%d.y][] ", i, i)
	}
	src.WriteString("\nmessage Doc {}\n")
	var stderr bytes.Buffer
	start := time.Now()
	resp := generateTo(compileSources(t, map[string]string{"big/v1/big.proto": src.String()}, "format=markdown", "big/v1/big.proto"), &stderr)
	if resp.Error != nil {
		t.Fatal(resp.GetError())
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
	if lines := strings.Count(stderr.String(), "\n"); lines != maxUnresolvedLines+2 {
		t.Errorf("%d lines on stderr, want %d", lines, maxUnresolvedLines+2)
	}
	if !strings.Contains(stderr.String(), "40000 cross-references") {
		t.Errorf("stderr: %.300s", stderr.String())
	}
}
