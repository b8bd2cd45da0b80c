package doc

import (
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/polyrpc/polyrpc/internal/gen/doc/comment"
)

// xrefSources reference each other's elements, across files and packages,
// in every form Google's protos use.
var xrefSources = map[string]string{
	"xa/v1/queue.proto": `syntax = "proto3";
package xa.v1;
// A queue; its [state][xa.v1.Queue.state] is one of
// [Queue.State][.xa.v1.Queue.State], for example
// [RUNNING][xa.v1.Queue.State.RUNNING]. Policies: [xb.v1.Policy][].
message Queue {
  // Set by [Tasks.Pause][xa.v1.Tasks.Pause].
  State state = 1;
  // States of a [xa.v1.Queue].
  enum State {
    STATE_UNSPECIFIED = 0;
    // Tasks run; see [the guide]
    // (https://example.com/guide).
    RUNNING = 1;
  }
}
// Runs queues; see https://example.com/tasks?x=1&y=2.
service Tasks {
  // Pauses a [Queue][xa.v1.Queue] of [xa.v1.Tasks][] until
  // [Resume][xa.v1.Tasks.Resume]; fails with a [Status][google.rpc.Status].
  rpc Pause(Queue) returns (Queue);
  // Resumes it.
  rpc Resume(Queue) returns (Queue);
}
`,
	"xb/v1/policy.proto": `syntax = "proto3";
package xb.v1;
import "xa/v1/queue.proto";
// Applies to [Queue.state][xa.v1.Queue.state] and the
// [RUNNING][.xa.v1.Queue.State.RUNNING] value, as [Pause][xa.v1.Tasks.Pause]
// sets; an [IAM policy][google.iam.v1.Policy] is not documented here.
message Policy {
  // The [queue][xa.v1.Queue] and its [Policy.queue][xb.v1.Policy.queue].
  xa.v1.Queue queue = 1;
}
`,
}

// rawReference is a reference link left as written: "[text][target]" or
// "[target][]".
var rawReference = regexp.MustCompile(`\[[^\[\]\n]+\]\[[^\[\]\n]*\]`)

// mdLink is the target of a Markdown link.
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestCrossReferencesResolve: Google-style references in comments become
// links that reach the element's anchor in whichever document holds it,
// in HTML and Markdown, in every layout; unknown targets are text, with a
// note in HTML, and are counted.
func TestCrossReferencesResolve(t *testing.T) {
	wantFragments := []string{
		"xa.v1.Queue.state", "xa.v1.Queue.State", "xa.v1.Queue.State.RUNNING", "xb.v1.Policy", "xa.v1.Tasks.Pause",
		"xa.v1.Queue", "xa.v1.Tasks", "xa.v1.Tasks.Resume", "xb.v1.Policy.queue",
	}
	for _, param := range []string{"format=html,markdown", "format=html,markdown,layout=package", "format=html,markdown,layout=file"} {
		t.Run(param, func(t *testing.T) {
			comment.ResetUnresolved()
			files := generate(t, compileSources(t, xrefSources, param, "xa/v1/queue.proto", "xb/v1/policy.proto"))
			// Two unknown targets, each in HTML and Markdown.
			if n := comment.Unresolved(); n != 4 {
				t.Errorf("%d unresolved references, want 4", n)
			}
			checkHTMLSet(t, files)
			checkMarkdownSet(t, files)
			linked := map[string]bool{}
			var names []string
			for name := range files {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				out := files[name]
				if m := rawReference.FindString(out); m != "" {
					t.Errorf("%s: reference left as text: %q", name, m)
				}
				for _, m := range regexp.MustCompile(`(?:href="|\]\()[^"#)]*#([^")]+)`).FindAllStringSubmatch(out, -1) {
					linked[name[strings.LastIndex(name, ".")+1:]+" "+m[1]] = true
				}
				if strings.HasSuffix(name, ".html") && strings.Contains(out, "Applies to") &&
					!strings.Contains(out, `an <span class="link-removed" title="not documented here: google.iam.v1.Policy">IAM policy</span>`) {
					t.Errorf("%s: unknown target not text with a note", name)
				}
				if strings.HasSuffix(name, ".md") && strings.Contains(out, "Applies to") && !strings.Contains(out, "an IAM policy is") {
					t.Errorf("%s: unknown target not text", name)
				}
				if strings.HasSuffix(name, ".html") && strings.Contains(out, "Runs queues") &&
					!strings.Contains(out, `<a href="https://example.com/tasks?x=1&amp;y=2" rel="nofollow noopener">`) {
					t.Errorf("%s: bare URL not linked", name)
				}
				if strings.Contains(out, "Tasks run") && !strings.Contains(out, "https://example.com/guide") {
					t.Errorf("%s: split link lost", name)
				}
			}
			for _, ext := range []string{"html", "md"} {
				for _, f := range wantFragments {
					if !linked[ext+" "+f] {
						t.Errorf("no %s link to #%s", ext, f)
					}
				}
				for _, f := range []string{"google.iam.v1.Policy", "google.rpc.Status"} {
					if linked[ext+" "+f] {
						t.Errorf("%s link to undocumented #%s", ext, f)
					}
				}
			}
		})
	}
}

// checkMarkdownSet checks that every link of the Markdown documents to an
// anchor reaches an element with that id.
func checkMarkdownSet(t *testing.T, files map[string]string) {
	t.Helper()
	for name, src := range files {
		if !strings.HasSuffix(name, ".md") {
			continue
		}
		for _, m := range mdLink.FindAllStringSubmatch(src, -1) {
			l := m[1]
			if strings.Contains(l, "://") {
				continue
			}
			p, frag, _ := strings.Cut(l, "#")
			target := name
			if p != "" {
				target = path.Join(path.Dir(name), p)
			}
			doc, ok := files[target]
			if !ok {
				t.Errorf("%s: link %q points at %s, which was not generated", name, l, target)
				continue
			}
			if frag != "" && !strings.Contains(doc, `id="`+frag+`"`) {
				t.Errorf("%s: link %q: no element with id %q in %s", name, l, frag, target)
			}
		}
	}
}

// TestGoldenNoRawReferences: no reference link of the golden protos is left
// as written in the HTML or Markdown pages of any golden case, and the
// Markdown links to anchors reach them.
func TestGoldenNoRawReferences(t *testing.T) {
	for _, tc := range goldenCases {
		files := generate(t, compileRequest(t, tc.param, goldenFiles...))
		for name, out := range files {
			if strings.HasSuffix(name, ".json") {
				continue // the model keeps comments as written
			}
			for _, m := range rawReference.FindAllString(out, -1) {
				t.Errorf("%s %s: reference left as text: %q", tc.name, name, m)
			}
		}
		if len(files) == 0 {
			t.Errorf("%s: nothing generated", tc.name)
		}
		checkMarkdownSet(t, files)
	}
}
