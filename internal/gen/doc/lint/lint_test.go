package lint

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestGitHubEscaping(t *testing.T) {
	// A path may hold the characters that end a property (, and :), and
	// % and newlines are escaped everywhere, as the runner unescapes them.
	findings := []Finding{
		{File: "a,b/c:d%.proto", Line: 3, Column: 5, Element: "a.B", Kind: "message"},
		{File: "x.proto", Element: "x.Y", Kind: "message"}, // no source info
	}
	var b bytes.Buffer
	if err := Write(&b, GitHub, LevelWarning, findings); err != nil {
		t.Fatal(err)
	}
	want := "::warning file=a%2Cb/c%3Ad%25.proto,line=3,col=5,title=require_comments::message a.B has no comment\n" +
		"::warning file=x.proto,title=require_comments::message x.Y has no comment\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if got := ghData("50% done\r\nnext"); got != "50%25 done%0D%0Anext" {
		t.Errorf("ghData = %q", got)
	}
}

func TestUnknownPosition(t *testing.T) {
	findings := []Finding{{File: "dir with space/x.proto", Element: "x.Y", Kind: "message"}}
	var b bytes.Buffer
	if err := Write(&b, Text, LevelError, findings); err != nil {
		t.Fatal(err)
	}
	if want := "require_comments: 1 element has no comment:\n  dir with space/x.proto:1:1: message x.Y\n"; b.String() != want {
		t.Errorf("text = %q, want %q", b.String(), want)
	}
	b.Reset()
	if err := Write(&b, SARIF, LevelError, findings); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				Locations []struct {
					PhysicalLocation map[string]json.RawMessage `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	pl := log.Runs[0].Results[0].Locations[0].PhysicalLocation
	if _, ok := pl["region"]; ok {
		t.Errorf("a finding without a position has a region: %s", b.String())
	}
	if got := string(pl["artifactLocation"]); !strings.Contains(got, `"dir%20with%20space/x.proto"`) {
		t.Errorf("artifactLocation = %s, want the path as a URI reference", got)
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"text", "github", "json", "sarif"} {
		if f, ok := ParseFormat(s); !ok || string(f) != s {
			t.Errorf("ParseFormat(%q) = %q, %v", s, f, ok)
		}
	}
	for _, s := range []string{"", "JSON", "xml", "sarif2"} {
		if _, ok := ParseFormat(s); ok {
			t.Errorf("ParseFormat(%q) accepted", s)
		}
	}
}
