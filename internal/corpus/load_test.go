package corpus

import (
	"strings"
	"testing"
)

func TestRequest(t *testing.T) {
	for _, s := range Sets {
		req, err := Request(s.Name)
		if err != nil {
			t.Errorf("%s: %v", s.Name, err)
			continue
		}
		if len(req.FileToGenerate) == 0 {
			t.Errorf("%s: no files to generate", s.Name)
		}
		have := map[string]bool{}
		for _, f := range req.ProtoFile {
			if !s.Compiled && f.GetSourceCodeInfo() == nil && !strings.HasPrefix(f.GetName(), "google/protobuf/") {
				t.Errorf("%s: %s has no source info", s.Name, f.GetName())
			}
			have[f.GetName()] = true
		}
		for _, f := range req.FileToGenerate {
			if !have[f] {
				t.Errorf("%s: %s is to be generated but not in the request", s.Name, f)
			}
		}
	}
	if _, err := Request("nope"); err == nil || !strings.Contains(err.Error(), `no set "nope"`) {
		t.Errorf("Request(nope) = %v", err)
	}
}
