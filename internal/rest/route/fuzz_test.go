package route

import "testing"

// FuzzRoute parses any template and matches any path against it: no
// panic, and a match's variables decode or fail with a *PathValueError.
func FuzzRoute(f *testing.F) {
	for _, s := range [][2]string{
		{"/v1/{name=projects/*/topics/*}:cancel", "/v1/projects/p/topics/t:cancel"},
		{"/v1/files/{name=**}", "/v1/files/a%2Fb/c%zz"},
		{"/foo%2Fbar/%2A/{starstar=%2A%2a/**}:%2c", "/foo%2fbar/*/**/x:,"},
		{"/{a}/{b.c}", "//"},
		{"/v1:watch", "/v1:watch:"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, tmpl, path string) {
		pt, err := Parse(tmpl)
		if err != nil {
			return
		}
		var r Router[int]
		if err := r.Add("GET", pt, 1); err != nil {
			t.Fatal(err)
		}
		m, res, _ := r.Lookup("GET", path)
		if res != Found {
			return
		}
		err = m.Vars(func(string, string) error { return nil })
		if _, ok := err.(*PathValueError); err != nil && !ok {
			t.Fatalf("Vars: %v", err)
		}
	})
}
