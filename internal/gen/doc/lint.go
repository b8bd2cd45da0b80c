package doc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/polyrpc/polyrpc/internal/gen/doc/lint"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// The doc lint (require_comments) reports the elements without comments
// in opts.LintFormat. A plugin can answer only with files and an error
// text, and protoc and buf write no files when there is an error, so:
//
//   - require_comments=true: findings fail the run; the error text is the
//     summary line, then the findings in the format (protoc prints the
//     error after "--rpcdoc_out: ", which is why the findings start on
//     the second line: a GitHub workflow command must start a line).
//   - require_comments=warn: the documents are written; the findings go
//     to stderr, which protoc and buf pass on, and, with lint_out, into
//     that extra file too (always written, even with no findings, so that
//     CI can upload it). With lint_out, stderr gets the summary line only.

// reportFindings returns the error that fails the run, or in warn mode
// writes the findings to stderr and returns the content of lint_out.
func reportFindings(opts *Options, findings []lint.Finding, stderr io.Writer) (lintOut []byte, err error) {
	if opts.LintPathPrefix != "" {
		for i := range findings {
			findings[i].File = opts.LintPathPrefix + findings[i].File
		}
	}
	if !opts.LintWarn {
		if len(findings) == 0 {
			return nil, nil
		}
		var b bytes.Buffer
		if opts.LintFormat != lint.Text {
			b.WriteString(lint.Summary(len(findings)) + ":\n")
		}
		if err := lint.Write(&b, opts.LintFormat, lint.LevelError, findings); err != nil {
			return nil, err
		}
		return nil, errors.New(strings.TrimRight(b.String(), "\n"))
	}
	if opts.LintOut != "" {
		var b bytes.Buffer
		if err := lint.Write(&b, opts.LintFormat, lint.LevelWarning, findings); err != nil {
			return nil, err
		}
		if len(findings) > 0 {
			fmt.Fprintf(stderr, "%s (listed in %s)\n", lint.Summary(len(findings)), opts.LintOut)
		}
		return b.Bytes(), nil
	}
	if len(findings) > 0 {
		// stderr is protoc's or buf's to show; a failure to write it is
		// not the documents' failure.
		_ = lint.Write(stderr, opts.LintFormat, lint.LevelWarning, findings)
	}
	return nil, nil
}

// checkLintOut fails when lint_out names a document of the run.
func checkLintOut(opts *Options, docs []*model.Document) error {
	for _, f := range opts.Formats {
		for _, d := range docs {
			if d.Path+f.ext() == opts.LintOut {
				return fmt.Errorf("option lint_out=%s: a document of this run has that name", opts.LintOut)
			}
		}
	}
	if searchIndexFile(opts, docs) == opts.LintOut {
		return fmt.Errorf("option lint_out=%s: the search index of this run has that name", opts.LintOut)
	}
	return nil
}
