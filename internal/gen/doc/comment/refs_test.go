package comment

import (
	"strings"
	"testing"
)

func TestRewriteRefs(t *testing.T) {
	upper := func(r Ref) (string, string, bool) {
		switch {
		case r.Label == "ext":
			return "", "https://example.com/x", true
		case r.Label == "keep" || r.Label == "a.b.Keep":
			return "", "", false
		}
		return strings.ToUpper(r.Label), "", true
	}
	for _, c := range []struct{ in, want string }{
		{"see [Task.status][] now", "see [Task.status][TASK.STATUS] now"},
		{"see [the task][Task] now", "see [the task][TASK] now"},
		{"[x.Y]", "[x.Y][X.Y]"},
		{"[out][ext] and [keep][]", "[out](https://example.com/x) and [keep][]"},
		{"code `[Task][]` and [inline](https://x) and ![img][Task]", "code `[Task][]` and [inline](https://x) and ![img][Task]"},
		{"```\n[Task][]\n```\n[Task][]", "```\n[Task][]\n```\n[Task][TASK]"},
		{"[text with `code]`][a.b.C]", "[text with `code]`][A.B.C]"},
		{"[wraps\nover lines][a.B]", "[wraps\nover lines][A.B]"},
		{"[service\nperimeters] [a.b.Keep] and [levels]\n[a.b.Keep]", "[service\nperimeters][a.b.Keep] and [levels][a.b.Keep]"},
		{"[two] [a.b.C](https://x)", "[two][TWO] [a.b.C](https://x)"},
		{"[para\n\nbreak][a.B]", "[para\n\nbreak][a.B]"},
		{"[unclosed and ] [[nested]][x]", "[unclosed and ][UNCLOSED AND ] [[nested][NESTED]][x]"},
		{"no refs", "no refs"},
		{"def: [a.b]: https://x", "def: [a.b]: https://x"},
	} {
		if got := RewriteRefs(c.in, upper); got != c.want {
			t.Errorf("RewriteRefs(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

// FuzzRewriteRefs: any input is rewritten without a panic, and text
// without brackets comes back unchanged.
func FuzzRewriteRefs(f *testing.F) {
	for _, s := range []string{"[a][b]", "[a] [b.c]", "```\n[a][]", "[`x]`][y]", "[\\]][]", "[a\n\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := RewriteRefs(s, func(r Ref) (string, string, bool) { return "l", "", true })
		if !strings.ContainsAny(s, "[]") && out != s {
			t.Errorf("%q changed to %q", s, out)
		}
	})
}
