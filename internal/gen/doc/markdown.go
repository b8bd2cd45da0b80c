package doc

import "bytes"

// The built-in Markdown page: its head (up to the first file section), one
// section per file, and its tail.

func writeMDHead(w *bytes.Buffer, v *view) error {
	return v.r.md.ExecuteTemplate(w, "md-head", v)
}

func writeMDFile(w *bytes.Buffer, v *view, f *File) error {
	return v.r.md.ExecuteTemplate(w, "md-file", &fileView{view: v, File: f})
}

func writeMDTail(w *bytes.Buffer, v *view) error {
	return v.r.md.ExecuteTemplate(w, "md-tail", v)
}
