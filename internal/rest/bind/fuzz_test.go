package bind_test

import (
	"testing"

	restpb "github.com/polyrpc/polyrpc/golden/rpc/rest"
	"github.com/polyrpc/polyrpc/internal/rest/bind"
)

// FuzzRequest binds any query string and body: no panic, and every error
// is a *bind.Error.
func FuzzRequest(f *testing.F) {
	f.Add("single_nested.name=x&repeated_string_value=a&mapped_string_value[k]=v&enum_value=ONE", `{"stringValue":"x"}`)
	f.Add("timestamp_value=2021-01-01T00:00:00Z&duration_value=1s&field_mask_value=a.b", `{"recursive":{"recursive":{}}}`)
	f.Add("oneof_string=a&oneof_empty=&bytes_value=%zz", `[`)
	f.Fuzz(func(t *testing.T, query, body string) {
		m := &restpb.ABitOfEverything{}
		md := m.ProtoReflect().Descriptor()
		check := func(err error) {
			if _, ok := err.(*bind.Error); err != nil && !ok {
				t.Fatalf("error %T: %v", err, err)
			}
		}
		check(bind.Body(m.ProtoReflect(), nil, []byte(body), "application/json"))
		check(bind.Body(m.ProtoReflect(), md.Fields().ByName("single_nested"), []byte(body), "application/json"))
		check(bind.Body(m.ProtoReflect(), md.Fields().ByName("repeated_string_value"), []byte(body), "application/json"))
		check(bind.Query(m.ProtoReflect(), query, nil))
		_, err := bind.MaskPaths([]byte(body), md)
		check(err)
	})
}
