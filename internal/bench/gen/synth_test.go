package gen

import (
	"testing"
)

func TestSyntheticShape(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles 1,500 files")
	}
	req, err := Synthetic(1)
	if err != nil {
		t.Fatal(err)
	}
	s := RequestStats(req)
	t.Log(s)
	if s.Generate != 1500 || s.Services < 1600 || s.Services > 1800 || s.Methods < 11500 || s.Methods > 12500 {
		t.Errorf("shape %v, want 1,500 files, about 1,700 services and 12,000 methods", s)
	}
	if s.Unary == 0 || s.ServerStream == 0 || s.ClientStream == 0 || s.Bidi == 0 {
		t.Errorf("shape %v, want every method kind", s)
	}
	a, names := SyntheticSources(1)
	b, _ := SyntheticSources(1)
	for _, n := range names {
		if a[n] != b[n] {
			t.Fatalf("two builds of %s differ", n)
		}
	}
	if len(req.GetProtoFile()) != len(a)+8 { // and the well-known types
		t.Errorf("request holds %d files, want the %d synthetic ones and the well-known types", len(req.GetProtoFile()), len(a))
	}
}
