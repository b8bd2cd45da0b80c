package doc

import "bytes"

// The built-in HTML page: its head (up to the first file section), one
// section per file, and its tail.

func writeHTMLHead(w *bytes.Buffer, v *view) error {
	return v.r.html.ExecuteTemplate(w, "page-head", v)
}

func writeHTMLFile(w *bytes.Buffer, v *view, f *File) error {
	return v.r.html.ExecuteTemplate(w, "file", &fileView{view: v, File: f})
}

func writeHTMLTail(w *bytes.Buffer, v *view) error {
	return v.r.html.ExecuteTemplate(w, "page-tail", v)
}
