package doc

import (
	"strings"
	"testing"
)

// TestLinksToOddFileNames: links between documents percent-escape the path,
// so files whose names hold '#', '?', '%' or spaces are still reached.
func TestLinksToOddFileNames(t *testing.T) {
	srcs := map[string]string{
		"a b/c#d?e.proto": `syntax = "proto3";
package odd.one;
// Thing is used from another file.
message Thing { string id = 1; }
`,
		"%41/y.proto": `syntax = "proto3";
package odd.two;
import "a b/c#d?e.proto";
// Holder refers to Thing in another document.
message Holder { odd.one.Thing thing = 1; }
`,
	}
	for _, param := range []string{"layout=file", "layout=package", "layout=package,name=a#b"} {
		t.Run(param, func(t *testing.T) {
			req := compileSources(t, srcs, param, "a b/c#d?e.proto", "%41/y.proto")
			files := generate(t, req)
			checkHTMLSet(t, files)
		})
	}
}

// TestCommentLinkMustParse: a comment link whose target is not a URL a
// browser can follow stays text (found by fuzzing: [](http://")).
func TestCommentLinkMustParse(t *testing.T) {
	srcs := map[string]string{
		"x.proto": "syntax=\"proto2\";\n// See [here](http://\") and [there](https://example.com/ok).\nmessage M {}\n",
	}
	files := generate(t, compileSources(t, srcs, "", "x.proto"))
	checkHTMLSet(t, files)
	page := files["index.html"]
	if strings.Contains(page, `href="http://%22"`) || strings.Contains(page, `href="http://&#34;"`) {
		t.Errorf("unparsable comment link became a link")
	}
	if !strings.Contains(page, `href="https://example.com/ok"`) {
		t.Errorf("valid comment link was dropped")
	}
}
