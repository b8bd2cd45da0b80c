package request

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/polyrpc/polyrpc/internal/gen/doc/doctest"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// indexFromProto is the comment index made from a decoded SourceCodeInfo:
// the meaning that indexSourceInfo implements on the wire format.
func indexFromProto(info *descriptorpb.SourceCodeInfo) map[string]Location {
	idx := map[string]Location{}
	for _, loc := range info.GetLocation() {
		p := loc.GetPath()
		if len(p)%2 == 1 && len(p) != 1 {
			continue
		}
		k := pathKey(p)
		if _, dup := idx[k]; dup {
			continue
		}
		l := Location{leading: loc.GetLeadingComments(), trailing: loc.GetTrailingComments(), detached: loc.GetLeadingDetachedComments()}
		if span := loc.GetSpan(); len(span) >= 2 {
			l.Line, l.Col = span[0], span[1]
		}
		idx[k] = l
	}
	return idx
}

func derefIndex(idx map[string]*Location) map[string]Location {
	out := map[string]Location{}
	for k, l := range idx {
		out[k] = *l
	}
	return out
}

func TestIndexSourceInfo(t *testing.T) {
	check := func(t *testing.T, name string, info *descriptorpb.SourceCodeInfo) {
		t.Helper()
		b, err := proto.Marshal(info)
		if err != nil {
			t.Fatal(err)
		}
		want := indexFromProto(info)
		got := map[string]*Location{}
		if err := indexSourceInfo(b, got, true); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(want, derefIndex(got), cmp.AllowUnexported(Location{})); diff != "" {
			t.Errorf("%s: index differs (-proto +wire):\n%s", name, diff)
		}
		// Without positions, the same paths, those without comments nil.
		got = map[string]*Location{}
		if err := indexSourceInfo(b, got, false); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for k, l := range want {
			if l.leading == "" && l.trailing == "" && len(l.detached) == 0 {
				if g, ok := got[k]; !ok || g != nil {
					t.Errorf("%s: location %x without comments: %v, %v", name, k, g, ok)
				}
			} else if g := got[k]; g == nil || !cmp.Equal(l, *g, cmp.AllowUnexported(Location{})) {
				t.Errorf("%s: location %x: %+v, want %+v", name, k, g, l)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d locations without positions, %d with", name, len(got), len(want))
		}
	}
	req := doctest.Request(t, "", doctest.GoldenFiles...)
	n := 0
	for _, fp := range req.GetProtoFile() {
		if len(fp.GetSourceCodeInfo().GetLocation()) > 0 {
			check(t, fp.GetName(), fp.GetSourceCodeInfo())
			n++
		}
	}
	if n < len(doctest.GoldenFiles) {
		t.Fatalf("only %d files with source info", n)
	}
	// Encodings protoc does not use but the format allows: unpacked paths
	// and spans, a short span, duplicates (the first wins), path elements
	// above 127, and unknown fields.
	loc := func(path, span []int32, leading string) *descriptorpb.SourceCodeInfo_Location {
		return &descriptorpb.SourceCodeInfo_Location{Path: path, Span: span, LeadingComments: proto.String(leading)}
	}
	odd := &descriptorpb.SourceCodeInfo{Location: []*descriptorpb.SourceCodeInfo_Location{
		loc([]int32{4, 300}, []int32{1, 2, 3}, "big index"),
		loc([]int32{4, 0}, []int32{7}, "short span"),
		loc([]int32{4, 0}, []int32{8, 9, 10}, "duplicate"),
		loc([]int32{4, 0, 2}, []int32{1, 1, 1}, "part of an element"),
		loc([]int32{12}, []int32{0, 0, 9}, "syntax"),
		loc(nil, []int32{0, 0, 9}, "file"),
	}}
	check(t, "odd", odd)
	b, _ := proto.Marshal(odd)
	b = protowire.AppendTag(b, 99, protowire.VarintType)
	b = protowire.AppendVarint(b, 1)
	// Unpacked path and span for one more location.
	var l []byte
	for _, v := range []int32{6, 1} {
		l = protowire.AppendTag(l, locPath, protowire.VarintType)
		l = protowire.AppendVarint(l, uint64(v))
	}
	for _, v := range []int32{5, 6, 7} {
		l = protowire.AppendTag(l, locSpan, protowire.VarintType)
		l = protowire.AppendVarint(l, uint64(v))
	}
	l = protowire.AppendTag(l, locTrailing, protowire.BytesType)
	l = protowire.AppendString(l, "unpacked")
	b = protowire.AppendTag(b, sciLocation, protowire.BytesType)
	b = protowire.AppendBytes(b, l)
	got := map[string]*Location{}
	if err := indexSourceInfo(b, got, true); err != nil {
		t.Fatal(err)
	}
	if l := got[pathKey([]int32{6, 1})]; l == nil || l.trailing != "unpacked" || l.Line != 5 || l.Col != 6 {
		t.Errorf("unpacked location: %+v", l)
	}
	if err := indexSourceInfo([]byte{0x0a, 0x05, 0x0a}, map[string]*Location{}, true); err == nil {
		t.Error("truncated source info: no error")
	}
}

// TestElementComments checks that the element trees find each element's
// comments where descPath, the path of a descriptor, says they are.
func TestElementComments(t *testing.T) {
	in, err := proto.Marshal(doctest.Request(t, "", doctest.GoldenFiles...))
	if err != nil {
		t.Fatal(err)
	}
	req, err := Read(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	files, err := Load(req, func(string) bool { return true }, true)
	if err != nil {
		t.Fatal(err)
	}
	n, withComments := 0, 0
	check := func(d protoreflect.Descriptor, got Comments) {
		t.Helper()
		n++
		want := Sources{d.ParentFile().Path(): files[req.ByName[d.ParentFile().Path()]].File.Src}.Comments(d)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-descPath +tree):\n%s", d.FullName(), diff)
		}
		if got.Leading != "" || got.Trailing != "" {
			withComments++
		}
	}
	var msg func(m *Message)
	enum := func(e *Enum) {
		check(e.Desc, e.Comments)
		for _, v := range e.Values {
			check(v.Desc, v.Comments)
		}
	}
	msg = func(m *Message) {
		check(m.Desc, m.Comments)
		for _, f := range m.Fields {
			check(f.Desc, f.Comments)
		}
		for _, o := range m.Oneofs {
			check(o.Desc, o.Comments)
		}
		for _, x := range m.Extensions {
			check(x.Desc, x.Comments)
		}
		for _, e := range m.Enums {
			enum(e)
		}
		for _, nm := range m.Messages {
			msg(nm)
		}
	}
	for _, lf := range files {
		f := lf.File
		for _, s := range f.Services {
			check(s.Desc, s.Comments)
			for _, m := range s.Methods {
				check(m.Desc, m.Comments)
			}
		}
		for _, m := range f.Messages {
			msg(m)
		}
		for _, e := range f.Enums {
			enum(e)
		}
		for _, x := range f.Extensions {
			check(x.Desc, x.Comments)
		}
	}
	if n < 100 || withComments < 50 {
		t.Fatalf("checked %d elements, %d with comments", n, withComments)
	}
}
