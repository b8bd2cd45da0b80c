package polyrpc

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestTextCodec(t *testing.T) {
	c := textCodec{}
	data, err := c.Marshal(&legacyMessage{Name: "old"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"old"`)) {
		t.Errorf("Marshal = %q, not text", data)
	}
	got := new(legacyMessage)
	if err := c.Unmarshal(data, got); err != nil || got.Name != "old" {
		t.Fatalf("legacy round trip = %q, %v", got.Name, err)
	}

	// A received message is kept and decoded later into any type.
	in := new(inMessage)
	if err := c.Unmarshal(data, in); err != nil {
		t.Fatal(err)
	}
	copy(data, "XXXXXXXX") // the codec's buffer is reused by connect
	got = new(legacyMessage)
	if err := in.decode(got); err != nil || got.Name != "old" {
		t.Fatalf("deferred decode = %q, %v", got.Name, err)
	}

	// The stable form is the same for the same message.
	msg := &outMessage{msg: &errdetails.ErrorInfo{Reason: "r", Domain: "d", Metadata: map[string]string{"b": "2", "a": "1", "c": "3"}}}
	first, err := c.MarshalStable(msg)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		again, err := c.MarshalStable(msg)
		if err != nil || !bytes.Equal(again, first) {
			t.Fatalf("MarshalStable = %q, then %q, %v", first, again, err)
		}
	}
	info := new(errdetails.ErrorInfo)
	if err := c.unmarshal(first, info); err != nil || info.GetReason() != "r" || info.GetMetadata()["c"] != "3" {
		t.Fatalf("stable round trip = %v, %v", info, err)
	}
	appended, err := c.MarshalAppend([]byte("prefix:"), msg)
	if err != nil || !bytes.HasPrefix(appended, []byte("prefix:")) {
		t.Fatalf("MarshalAppend = %q, %v", appended, err)
	}

	if _, err := c.Marshal("not a message"); err == nil {
		t.Error("Marshal of a string succeeded")
	}
	if c.IsBinary() || c.Name() != "text" {
		t.Errorf("IsBinary %v, Name %q", c.IsBinary(), c.Name())
	}

	// Empty input is the empty message, as for binary protobuf.
	if err := (&inMessage{codec: c, set: true}).decode(new(legacyMessage)); err != nil {
		t.Errorf("empty text: %v", err)
	}
}

// TestTextCodecNesting checks that nesting beyond protobuf-go's recursion
// limit is an error, not a stack overflow.
func TestTextCodecNesting(t *testing.T) {
	const depth = 100_000
	data := strings.Repeat("list_value { values { ", depth) + strings.Repeat("} } ", depth)
	err := textCodec{}.unmarshal([]byte(data), new(structpb.Value))
	if err == nil || !strings.Contains(err.Error(), "recursion") {
		t.Fatalf("unmarshal of %d levels: %v, want a recursion error", depth, err)
	}
	// Within the limit, nesting is fine.
	data = strings.Repeat("list_value { values { ", 100) + strings.Repeat("} } ", 100)
	if err := (textCodec{}).unmarshal([]byte(data), new(structpb.Value)); err != nil {
		t.Fatal(err)
	}
}
