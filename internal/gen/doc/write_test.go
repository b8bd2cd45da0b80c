package doc

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
)

// TestPieces checks that documents larger than chunkSize come in pieces
// that join into exactly the document written in one piece.
func TestPieces(t *testing.T) {
	in, err := proto.Marshal(compileRequest(t, "format=html,markdown,json,layout=package", goldenFiles...))
	if err != nil {
		t.Fatal(err)
	}
	type piece struct{ name, content string }
	run := func(size, procs int) []piece {
		defer func(old int) { chunkSize = old }(chunkSize)
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		chunkSize = size
		var out []piece
		if err := Run(bytes.NewReader(in), func(name string, b []byte) error {
			if name == "" && len(out) == 0 {
				return fmt.Errorf("first piece has no name")
			}
			out = append(out, piece{name, string(b)})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	join := func(ps []piece) map[string]string {
		files := map[string]string{}
		var last string
		for _, p := range ps {
			if p.name != "" {
				if _, dup := files[p.name]; dup {
					t.Fatalf("%s written twice", p.name)
				}
				last = p.name
			}
			files[last] += p.content
		}
		return files
	}
	whole := run(1<<30, 2)
	for _, p := range whole {
		if p.name == "" {
			t.Fatal("a piece without a name at the default size")
		}
	}
	for _, procs := range []int{1, 2, 4} {
		pieces := run(4096, procs)
		if len(pieces) <= len(whole) {
			t.Fatalf("GOMAXPROCS=%d: %d pieces for %d documents", procs, len(pieces), len(whole))
		}
		for i, p := range pieces {
			// Every piece but a document's last holds at least chunkSize bytes.
			if len(p.content) < 4096 && i+1 < len(pieces) && pieces[i+1].name == "" {
				t.Errorf("GOMAXPROCS=%d: piece %d of %d bytes is not a document's last", procs, i, len(p.content))
			}
		}
		// The search index comes in pieces too.
		n := 0
		for i, p := range pieces {
			if p.name == "index.search.js" {
				for n = 1; i+n < len(pieces) && pieces[i+n].name == ""; n++ {
				}
			}
		}
		if whole := join(whole)["index.search.js"]; len(whole) < 4096+1000 || n < 2 {
			t.Errorf("GOMAXPROCS=%d: search index of %d bytes in %d pieces", procs, len(whole), n)
		}
		if diff := cmp.Diff(join(whole), join(pieces)); diff != "" {
			t.Errorf("GOMAXPROCS=%d: pieces join into other documents (-whole +pieces):\n%s", procs, diff)
		}
	}
	// Generate joins the pieces too.
	defer func(old int) { chunkSize = old }(chunkSize)
	chunkSize = 4096
	got := generate(t, compileRequest(t, "format=html,markdown,json,layout=package", goldenFiles...))
	if diff := cmp.Diff(join(whole), got); diff != "" {
		t.Errorf("Generate (-whole +got):\n%s", diff)
	}
	for name, body := range got {
		if strings.HasSuffix(name, ".html") && !strings.HasSuffix(body, "</html>\n") {
			t.Errorf("%s is cut short", name)
		}
	}
}
