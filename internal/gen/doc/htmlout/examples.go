package htmlout

import (
	"bytes"

	"github.com/polyrpc/polyrpc/internal/gen/doc/htmlesc"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// writeExamples writes the call examples of a method, one block per
// protocol, and its sample response. The first block's id is "ex:" and
// the anchor, the others' "ex-PROTOCOL:" and the anchor, the response's
// "resp:" and the anchor.
func writeExamples(b *bytes.Buffer, m *model.Method) {
	example, examples := m.CallExamples()
	if len(examples) == 0 {
		writeExample(b, "Example", "ex:", m.Anchor, example)
	}
	for i, e := range examples {
		id := "ex:"
		if i > 0 {
			id = "ex-" + e.Protocol + ":"
		}
		writeExample(b, e.Title, id, m.Anchor, e.Command)
	}
	if m.SampleResponse != "" {
		writeExample(b, "Sample response", "resp:", m.Anchor, m.SampleResponse)
	}
}

func writeExample(b *bytes.Buffer, title, idPrefix, anchor, text string) {
	b.WriteString("\n<div class=\"example\"><div class=\"example-head\"><span>")
	htmlesc.Text(b, title)
	b.WriteString("</span><button class=\"copy\" type=\"button\" data-target=\"")
	htmlesc.Text(b, idPrefix)
	htmlesc.Text(b, anchor)
	b.WriteString(`">Copy</button></div><pre id="`)
	htmlesc.Text(b, idPrefix)
	htmlesc.Text(b, anchor)
	b.WriteString(`"><code>`)
	htmlesc.Text(b, text)
	b.WriteString("</code></pre></div>")
}
