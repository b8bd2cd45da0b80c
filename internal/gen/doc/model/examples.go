package model

import "strings"

// The Connect and gRPC commands of a method repeat its sample request
// around the server URL, so they are not kept in the model: the builder
// keeps the sample, the URL and the REST command (which needs the
// descriptors), and CallExamples makes the commands as a page is written.

// CallExamples returns the method's example command over Connect and its
// call examples, one per protocol: Example and Examples when they are set
// (by FillExamples, or in a model made by hand), else the commands made
// from SampleRequest, ExampleURL and RESTExample. A method without a
// sample request has none.
func (m *Method) CallExamples() (example string, examples []CallExample) {
	if m.Example != "" || m.Examples != nil || m.SampleRequest == "" {
		return m.Example, m.Examples
	}
	url := m.ExampleURL + m.Procedure
	data := " \\\n  --data " + shellQuote(m.SampleRequest) + " \\\n  "
	var connect string
	if m.Streaming == "unary" {
		connect = "curl \\\n  --header 'Content-Type: application/json'" + data + url
	} else {
		flags := "--protocol connect"
		if m.Streaming == "bidi_streaming" && strings.HasPrefix(m.ExampleURL, "http://") {
			flags += " --http2-prior-knowledge"
		}
		connect = "buf curl --schema . " + flags + data + url
	}
	grpc := "buf curl --schema . --protocol grpc"
	if strings.HasPrefix(m.ExampleURL, "http://") {
		grpc += " --http2-prior-knowledge"
	}
	n := 2
	if m.RESTExample != "" {
		n = 3
	}
	examples = make([]CallExample, 2, n)
	examples[0] = CallExample{Protocol: "connect", Title: "Connect", Command: connect}
	examples[1] = CallExample{Protocol: "grpc", Title: "gRPC", Command: grpc + data + url}
	if m.RESTExample != "" {
		examples = append(examples, CallExample{Protocol: "rest", Title: "REST", Command: m.RESTExample})
	}
	return connect, examples
}

// FillExamples sets Example and Examples of every method of the documents
// from CallExamples, for templates that read the model's fields. It must
// not run while the documents are being written.
func FillExamples(docs []*Document) {
	for _, d := range docs {
		for _, f := range d.Files {
			if f == nil {
				continue
			}
			for _, s := range f.Services {
				if s == nil {
					continue
				}
				for _, m := range s.Methods {
					if m != nil {
						m.Example, m.Examples = m.CallExamples()
					}
				}
			}
		}
	}
}

// shellQuote quotes s as one word for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
