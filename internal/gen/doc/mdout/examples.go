package mdout

import (
	"bytes"
	"strings"

	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// writeMDExamples writes the call examples of a method, one fenced block
// per protocol under its name, and the sample response.
func writeMDExamples(w *bytes.Buffer, m *model.Method) {
	example, examples := m.CallExamples()
	if len(examples) == 0 {
		writeFence(w, "sh", example)
	}
	for _, e := range examples {
		w.WriteString("\n\n")
		w.WriteString(Escape(e.Title))
		w.WriteString(":")
		writeFence(w, "sh", e.Command)
	}
	if m.SampleResponse != "" {
		w.WriteString("\n\nSample response:")
		writeFence(w, "json", m.SampleResponse)
	}
}

// writeFence writes text as a fenced code block, its fence longer than
// any run of backticks in the text.
func writeFence(w *bytes.Buffer, lang, text string) {
	n, run := 3, 0
	for i := 0; i < len(text); i++ {
		if text[i] == '`' {
			run++
			n = max(n, run+1)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", n)
	w.WriteString("\n\n" + fence + lang + "\n")
	w.WriteString(text)
	w.WriteString("\n" + fence)
}
