// Package lint owns the findings of require_comments (the elements without
// a comment, collected by package build) and writes them in the formats a
// CI reads: text for people, GitHub Actions workflow commands, a JSON list,
// and SARIF 2.1.0 for code-scanning tools.
package lint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
)

// Rule is the id of the only rule: every element has a comment.
const Rule = "require_comments"

// Finding is an element without a comment.
type Finding struct {
	File    string // proto path, with the lint_path_prefix if any
	Line    int    // 1-based; 0 when the request has no source info for it
	Column  int    // 1-based; 0 when Line is 0
	Element string // full proto name (enum values are in the enum's scope, as in protobuf)
	Kind    string // service, method, message, field, extension, enum, enum value
}

// Message is the finding as a sentence.
func (f Finding) Message() string {
	return f.Kind + " " + f.Element + " has no comment"
}

// Format is a way of writing findings.
type Format string

// The formats.
const (
	Text   Format = "text"
	GitHub Format = "github"
	JSON   Format = "json"
	SARIF  Format = "sarif"
)

// ParseFormat reads a lint_format value.
func ParseFormat(s string) (Format, bool) {
	switch f := Format(s); f {
	case Text, GitHub, JSON, SARIF:
		return f, true
	}
	return "", false
}

// Level is how serious the findings are: LevelError fails the run,
// LevelWarning does not.
type Level string

// The levels, spelled as in SARIF.
const (
	LevelError   Level = "error"
	LevelWarning Level = "warning"
)

// Summary is the one-line count of findings, as the text format starts.
func Summary(n int) string {
	noun := "elements have"
	if n == 1 {
		noun = "element has"
	}
	return fmt.Sprintf("%s: %d %s no comment", Rule, n, noun)
}

// Write writes findings in a format. Text is the summary and one
// "file:line:col: kind name" line per finding; GitHub one workflow command
// per line (::error or ::warning); JSON and SARIF one document.
func Write(w io.Writer, format Format, level Level, findings []Finding) error {
	var b bytes.Buffer
	switch format {
	case GitHub:
		writeGitHub(&b, level, findings)
	case JSON:
		if err := writeJSON(&b, level, findings); err != nil {
			return err
		}
	case SARIF:
		if err := writeSARIF(&b, level, findings); err != nil {
			return err
		}
	default:
		writeText(&b, findings)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func writeText(b *bytes.Buffer, findings []Finding) {
	if len(findings) == 0 {
		b.WriteString(Rule + ": every element has a comment\n")
		return
	}
	b.WriteString(Summary(len(findings)) + ":\n")
	for _, f := range findings {
		line, col := f.Line, f.Column
		if line == 0 {
			line, col = 1, 1
		}
		fmt.Fprintf(b, "  %s:%d:%d: %s %s\n", f.File, line, col, f.Kind, f.Element)
	}
}

// writeGitHub writes workflow commands, escaped as the Actions runner
// unescapes them.
func writeGitHub(b *bytes.Buffer, level Level, findings []Finding) {
	for _, f := range findings {
		b.WriteString("::" + string(level) + " file=" + ghProperty(f.File))
		if f.Line > 0 {
			b.WriteString(",line=" + strconv.Itoa(f.Line) + ",col=" + strconv.Itoa(f.Column))
		}
		b.WriteString(",title=" + Rule + "::" + ghData(f.Message()) + "\n")
	}
}

var (
	ghDataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	ghPropertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func ghData(s string) string     { return ghDataEscaper.Replace(s) }
func ghProperty(s string) string { return ghPropertyEscaper.Replace(s) }

// jsonFinding is one entry of the JSON format. Its fields are stable:
// new ones may be added, none removed or changed in meaning.
type jsonFinding struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Element string `json:"element"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Rule    string `json:"rule"`
	Level   Level  `json:"level"`
}

func writeJSON(b *bytes.Buffer, level Level, findings []Finding) error {
	out := make([]jsonFinding, len(findings))
	for i, f := range findings {
		out[i] = jsonFinding{f.File, f.Line, f.Column, f.Element, f.Kind, f.Message(), Rule, level}
	}
	return encode(b, out)
}

func encode(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// The SARIF 2.1.0 log: only the properties rpcdoc fills.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool    sarifTool     `json:"tool"`
		Results []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string       `json:"id"`
		Name                 string       `json:"name"`
		ShortDescription     sarifMessage `json:"shortDescription"`
		FullDescription      sarifMessage `json:"fullDescription"`
		DefaultConfiguration struct {
			Level Level `json:"level"`
		} `json:"defaultConfiguration"`
	}
	sarifMessage struct {
		Text string `json:"text"`
	}
	sarifResult struct {
		RuleID    string          `json:"ruleId"`
		RuleIndex int             `json:"ruleIndex"`
		Level     Level           `json:"level"`
		Message   sarifMessage    `json:"message"`
		Locations []sarifLocation `json:"locations"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical  `json:"physicalLocation"`
		LogicalLocations []sarifLogical `json:"logicalLocations"`
	}
	sarifPhysical struct {
		ArtifactLocation struct {
			URI string `json:"uri"`
		} `json:"artifactLocation"`
		Region *sarifRegion `json:"region,omitempty"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn"`
	}
	sarifLogical struct {
		FullyQualifiedName string `json:"fullyQualifiedName"`
	}
)

func writeSARIF(b *bytes.Buffer, level Level, findings []Finding) error {
	rule := sarifRule{
		ID:               Rule,
		Name:             "RequireComments",
		ShortDescription: sarifMessage{"Every documented element has a comment."},
		FullDescription: sarifMessage{"Every service, method, message, field, extension, enum and enum value " +
			"that protoc-gen-rpcdoc documents has a leading or trailing comment."},
	}
	rule.DefaultConfiguration.Level = level
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           "protoc-gen-rpcdoc",
			Version:        Version(),
			InformationURI: "https://github.com/polyrpc/polyrpc",
			Rules:          []sarifRule{rule},
		}},
		Results: make([]sarifResult, len(findings)),
	}
	for i, f := range findings {
		loc := sarifLocation{LogicalLocations: []sarifLogical{{f.Element}}}
		loc.PhysicalLocation.ArtifactLocation.URI = uriPath(f.File)
		if f.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Line, StartColumn: f.Column}
		}
		run.Results[i] = sarifResult{
			RuleID:    Rule,
			Level:     level,
			Message:   sarifMessage{f.Message()},
			Locations: []sarifLocation{loc},
		}
	}
	return encode(b, sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{run},
	})
}

// uriPath makes a relative URI reference of a slash-separated path.
func uriPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// Version is the plugin's module version, or "(devel)" when it was not
// built from a tagged module.
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path == "github.com/polyrpc/polyrpc" && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
