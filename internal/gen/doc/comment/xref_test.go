package comment

import (
	"strings"
	"testing"
	"time"
)

// xrefResolve documents the elements of a small run: a message, a field,
// an enum value and a method, held by another document.
func xrefResolve(anchor string) string {
	switch anchor {
	case "google.cloud.tasks.v2.Queue", "google.cloud.tasks.v2.Queue.state",
		"google.cloud.tasks.v2.Queue.State.RUNNING", "google.cloud.tasks.v2.CloudTasks.CreateQueue",
		"google.cloud.tasks.v2.CloudTasks":
		return "../tasks.html#" + anchor
	}
	return ""
}

func TestCrossReferenceHTML(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"See [Queue.state][google.cloud.tasks.v2.Queue.state].",
			`<p>See <a href="../tasks.html#google.cloud.tasks.v2.Queue.state" rel="nofollow noopener">Queue.state</a>.</p>`},
		{"A leading dot: [Queue][.google.cloud.tasks.v2.Queue].",
			`<p>A leading dot: <a href="../tasks.html#google.cloud.tasks.v2.Queue" rel="nofollow noopener">Queue</a>.</p>`},
		{"Collapsed: [google.cloud.tasks.v2.Queue][].",
			`<p>Collapsed: <a href="../tasks.html#google.cloud.tasks.v2.Queue" rel="nofollow noopener">google.cloud.tasks.v2.Queue</a>.</p>`},
		{"Shortcut: [google.cloud.tasks.v2.CloudTasks].",
			`<p>Shortcut: <a href="../tasks.html#google.cloud.tasks.v2.CloudTasks" rel="nofollow noopener">google.cloud.tasks.v2.CloudTasks</a>.</p>`},
		{"Value [RUNNING][google.cloud.tasks.v2.Queue.State.RUNNING], method\n[CreateQueue][google.cloud.tasks.v2.CloudTasks.CreateQueue].",
			`<p>Value <a href="../tasks.html#google.cloud.tasks.v2.Queue.State.RUNNING" rel="nofollow noopener">RUNNING</a>, method
<a href="../tasks.html#google.cloud.tasks.v2.CloudTasks.CreateQueue" rel="nofollow noopener">CreateQueue</a>.</p>`},
		// Case matters: the enum Queue.State is not the field Queue.state.
		{"[State][google.cloud.tasks.v2.Queue.State]",
			`<p><span class="link-removed" title="not documented here: google.cloud.tasks.v2.Queue.State">State</span></p>`},
		{"Unknown: [Policy][google.iam.v1.Policy].",
			`<p>Unknown: <span class="link-removed" title="not documented here: google.iam.v1.Policy">Policy</span>.</p>`},
		{"A shortcut to nothing stays: [google.type.Date], as does [REQUIRED] and [0, 1].",
			`<p>A shortcut to nothing stays: [google.type.Date], as does [REQUIRED] and [0, 1].</p>`},
		{"Not a name: [x][not a name] and [y][a..b].", `<p>Not a name: [x][not a name] and [y][a..b].</p>`},
		{"A definition wins: [x][a.b].\n\n[a.b]: https://example.com/ab",
			`<p>A definition wins: <a href="https://example.com/ab" rel="nofollow noopener">x</a>.</p>`},
		{"Code stays code: `[Queue][google.cloud.tasks.v2.Queue]`.",
			`<p>Code stays code: <code>[Queue][google.cloud.tasks.v2.Queue]</code>.</p>`},
		{"Split [the guide]\n  (https://example.com/guide) link.",
			`<p>Split <a href="https://example.com/guide" rel="nofollow noopener">the guide</a> link.</p>`},
		{"Bare https://example.com/a?b=1&c=2. and http://x.example.",
			`<p>Bare <a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener">https://example.com/a?b=1&amp;c=2</a>. and <a href="http://x.example" rel="nofollow noopener">http://x.example</a>.</p>`},
		{"No other scheme: javascript://x%0aalert(1), www.example.com, a@b.example, ftp://f.example.",
			`<p>No other scheme: javascript://x%0aalert(1), www.example.com, a@b.example, ftp://f.example.</p>`},
		{"Not split: [x]\n(javascript:alert(1))", "<p>Not split: [x]\n(javascript:alert(1))</p>"},
		{"Hostile text: [<img src=x onerror=alert(1)>][google.cloud.tasks.v2.Queue]",
			`<p>Hostile text: <a href="../tasks.html#google.cloud.tasks.v2.Queue" rel="nofollow noopener">&lt;img src=x onerror=alert(1)&gt;</a></p>`},
		{"Nested: [[Queue][google.cloud.tasks.v2.Queue]][google.cloud.tasks.v2.Queue.state]",
			`<p>Nested: [<a href="../tasks.html#google.cloud.tasks.v2.Queue" rel="nofollow noopener">Queue</a>]<a href="../tasks.html#google.cloud.tasks.v2.Queue.state" rel="nofollow noopener">google.cloud.tasks.v2.Queue.state</a></p>`},
		{"Unbalanced: [Queue][google.cloud.tasks.v2.Queue and ]] [[ [x][", `<p>Unbalanced: [Queue][google.cloud.tasks.v2.Queue and ]] [[ [x][</p>`},
	} {
		got := strings.TrimSuffix(string(HTML(c.src, xrefResolve)), "\n")
		if got != c.want {
			t.Errorf("%q:\ngot  %q\nwant %q", c.src, got, c.want)
		}
		if strings.Contains(got, `href="javascript`) {
			t.Errorf("%q: javascript link %q", c.src, got)
		}
	}
}

func TestCrossReferenceMarkdown(t *testing.T) {
	for _, c := range []struct{ src, block, cell string }{
		{"See [Queue.state][google.cloud.tasks.v2.Queue.state].",
			"See [Queue.state](../tasks.html#google.cloud.tasks.v2.Queue.state).", ""},
		{"[google.cloud.tasks.v2.Queue][] and [.google.cloud.tasks.v2.CloudTasks]",
			"[google.cloud.tasks.v2.Queue](../tasks.html#google.cloud.tasks.v2.Queue) and [.google.cloud.tasks.v2.CloudTasks](../tasks.html#google.cloud.tasks.v2.CloudTasks)", ""},
		{"Unknown [Policy][google.iam.v1.Policy], shortcut [google.type.Date].",
			"Unknown Policy, shortcut [google.type.Date].", ""},
		{"Code `[Queue][google.cloud.tasks.v2.Queue]` stays.", "Code `[Queue][google.cloud.tasks.v2.Queue]` stays.", ""},
		{"Split [guide]\n(https://example.com/g) and\n[x]\n(javascript:y)",
			"Split [guide](https://example.com/g) and\n[x]\n(javascript:y)", "Split [guide](https://example.com/g) and [x] (javascript:y)"},
		{"A | [<b>Queue|x</b>][google.cloud.tasks.v2.Queue]",
			"A | [&lt;b>Queue|x&lt;/b>](../tasks.html#google.cloud.tasks.v2.Queue)", `A \| [&lt;b&gt;Queue\|x&lt;/b&gt;](../tasks.html#google.cloud.tasks.v2.Queue)`},
		{"Unbalanced [x][google.a.B and ]] [[ [y][", "Unbalanced [x][google.a.B and ]] [[ [y][", ""},
		// A definition whose label spans lines is neutralised like one on
		// one line (found by fuzzing).
		{"[\n0\n]:110\n[0]", "\\[\n0\n]:110\n[0]", "[ 0 ]:110 [0]"},
		{"[a\nb]: https://e.com\n[a b]", "\\[a\nb]: https://e.com\n[a b]", "[a b]: https://e.com [a b]"},
		{"[a\n\nb]: /x", "[a\n\nb]: /x", "[a<br>b]: /x"},
		{"Use [`Queue` | `a]b`][google.cloud.tasks.v2.Queue] or [`x][google.cloud.tasks.v2.Queue]",
			"Use [`Queue` | `a]b`](../tasks.html#google.cloud.tasks.v2.Queue) or [`x][google.cloud.tasks.v2.Queue]",
			"Use [`Queue` \\| `a]b`](../tasks.html#google.cloud.tasks.v2.Queue) or [`x][google.cloud.tasks.v2.Queue]"},
		// Link text that wraps.
		{"Overrides for [task-level\n  app_engine_routing][google.cloud.tasks.v2.Queue.state]. Then\n[a\n- b][google.cloud.tasks.v2.Queue]",
			"Overrides for [task-level app_engine_routing](../tasks.html#google.cloud.tasks.v2.Queue.state). Then\n[a\n- b][google.cloud.tasks.v2.Queue]",
			"Overrides for [task-level app_engine_routing](../tasks.html#google.cloud.tasks.v2.Queue.state). Then [a - b](../tasks.html#google.cloud.tasks.v2.Queue)"},
		// An image stays an image, which the sanitizer or GitHub handles;
		// it must not become one.
		{"![google.cloud.tasks.v2.Queue] ![x][google.cloud.tasks.v2.Queue]", "![google.cloud.tasks.v2.Queue] ![x][google.cloud.tasks.v2.Queue]", ""},
	} {
		if got := MDBlock(c.src, xrefResolve); got != c.block {
			t.Errorf("MDBlock(%q):\ngot  %q\nwant %q", c.src, got, c.block)
		}
		want := c.cell
		if want == "" {
			want = c.block
		}
		if got := MDCell(c.src, xrefResolve); got != want {
			t.Errorf("MDCell(%q):\ngot  %q\nwant %q", c.src, got, want)
		}
	}
}

func TestCrossReferenceCounted(t *testing.T) {
	ResetUnresolved()
	HTML("[A][google.iam.v1.Policy] [B][google.rpc.Status] [google.type.Date] [C][google.cloud.tasks.v2.Queue]", xrefResolve)
	if n := Unresolved(); n != 2 {
		t.Errorf("HTML: %d unresolved, want 2", n)
	}
	ResetUnresolved()
	MDBlock("[A][google.iam.v1.Policy] [google.type.Date] [C][google.cloud.tasks.v2.Queue]", xrefResolve)
	if n := Unresolved(); n != 1 {
		t.Errorf("Markdown: %d unresolved, want 1", n)
	}
	ResetUnresolved()
}

// Comments without brackets or URLs keep the fast path; cross-references
// and URLs take the parser.
func TestCrossReferencePaths(t *testing.T) {
	if _, ok := plainParagraphs("The queue, in [0, 100], of `x`."); !ok {
		t.Errorf("plain comment left the fast path")
	}
	for _, src := range []string{"[a][b.c]", "[a.b][]", "[a.b]", "x [y]\n(https://e.com)", "see https://e.com"} {
		if _, ok := plainParagraphs(src); ok {
			t.Errorf("%q took the fast path", src)
		}
	}
}

// Hostile sizes: many brackets, long labels and deep nesting render in
// linear time.
func TestCrossReferenceHostileSize(t *testing.T) {
	for _, src := range []string{
		strings.Repeat("[", 200000),
		strings.Repeat("[a][", 50000),
		strings.Repeat("[x][google.cloud.tasks.v2.Queue]", 20000),
		"[x][" + strings.Repeat("a.", 100000) + "b]",
		strings.Repeat("[[", 20000) + strings.Repeat("]]", 20000),
		strings.Repeat("https://e.com/", 20000),
		strings.Repeat("]\n(https://e.com)\n", 20000),
	} {
		start := time.Now()
		h := HTML(src, xrefResolve)
		MDBlock(src, xrefResolve)
		MDCell(src, xrefResolve)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%.20q...: %v", src, d)
		}
		if strings.Contains(string(h), "<script") {
			t.Errorf("%.20q: script in output", src)
		}
	}
}
