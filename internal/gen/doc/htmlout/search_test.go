package htmlout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// TestSearchIndex: the index is a script whose value is JSON, with every
// element of the run in page order, document paths escaped for URLs, JSON
// names where they differ, and comments cut to one plain line.
func TestSearchIndex(t *testing.T) {
	long := strings.Repeat("word ", 100)
	docs := []*model.Document{
		{Path: "a b/index", Files: []*model.File{{
			Name: "a.proto", Anchor: "file:a.proto", Description: "File.\n\nMore.",
			Services: []*model.Service{{Anchor: "a.S", Description: "See [Msg][a.Msg] and [the guide](https://x.test/g).",
				Methods: []*model.Method{{Anchor: "a.S.Get", Description: "`Get` **it**\u2028</script>"}}}},
			Messages: []*model.Message{{Anchor: "a.Msg", Description: long,
				Oneofs: []*model.Oneof{{Anchor: "a.Msg.choice"}},
				Fields: []*model.Field{{Anchor: "a.Msg.ack_ids", Name: "ack_ids", JSONName: "ackIds"}, {Anchor: "a.Msg.name", Name: "name", JSONName: "name"}}}},
		}}},
		{Path: "b/index", Files: []*model.File{{
			Name: "b.proto", Anchor: "file:b.proto",
			Enums:      []*model.Enum{{Anchor: "b.E", Values: []*model.EnumValue{{Anchor: "b.E.X"}}}},
			Extensions: []*model.Field{{Anchor: "b.ext", Name: "ext", JSONName: "[b.ext]"}},
		}}},
	}
	var b bytes.Buffer
	if err := WriteSearchIndex(&b, docs, ".html"); err != nil {
		t.Fatal(err)
	}
	src := b.String()
	body, ok := strings.CutPrefix(src, "window.rpcdocIndex=")
	if !ok || !strings.HasSuffix(body, ";\n") {
		t.Fatalf("not a script that sets window.rpcdocIndex:\n%s", src)
	}
	if strings.ContainsAny(src, "\u2028\u2029") {
		t.Error("a line separator is left raw")
	}
	var idx struct {
		V     int
		Docs  []string
		Items [][]any
	}
	if err := json.Unmarshal([]byte(strings.TrimSuffix(body, ";\n")), &idx); err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	if idx.V != 1 || strings.Join(idx.Docs, " ") != "a%20b/index.html b/index.html" {
		t.Errorf("version %d, docs %q", idx.V, idx.Docs)
	}
	var got []string
	for _, it := range idx.Items {
		got = append(got, fmt.Sprintf("%v %v %v %v %v", it...))
	}
	want := []string{
		"p file:a.proto 0  File.",
		"s a.S 0  See Msg and the guide.",
		"r .Get 0  Get it </script>", // a line separator is a space
		"m a.Msg 0  " + strings.TrimSpace(long[:searchTextMax-1]),
		"o .choice 0  ",
		"f .ack_ids 0 ackIds ",
		"f .name 0  ",
		"p file:b.proto 1  ",
		"e b.E 1  ",
		"v .X 1  ",
		"x b.ext 1  ",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
}
