package doc

import (
	"fmt"
	"io"

	"github.com/polyrpc/polyrpc/internal/gen/doc/build"
)

// maxUnresolvedLines bounds the references reportUnresolved lists.
const maxUnresolvedLines = 20

// reportUnresolved writes to stderr, which protoc and buf show, the
// cross-references of the run's comments whose target no document holds:
// the documents show their text with a note. It is the run's one warning
// outside the lint; warn_unresolved=false turns it off.
func reportUnresolved(stderr io.Writer, refs []build.UnresolvedRef) {
	if len(refs) == 0 {
		return
	}
	// stderr is protoc's or buf's to show; a failure to write it is
	// theirs too.
	fmt.Fprintf(stderr, "protoc-gen-rpcdoc: %d cross-reference%s in comments name%s no documented element (shown as text; warn_unresolved=false hides this):\n",
		len(refs), plural(len(refs), "", "s"), plural(len(refs), "s", ""))
	for i, r := range refs {
		if i == maxUnresolvedLines {
			fmt.Fprintf(stderr, "  ... and %d more\n", len(refs)-i)
			break
		}
		where := "in no file of the request"
		if r.Known {
			where = "not documented in this run"
		}
		fmt.Fprintf(stderr, "  %s: %s: [%s] (%s)\n", r.File, r.Element, r.Target, where)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
