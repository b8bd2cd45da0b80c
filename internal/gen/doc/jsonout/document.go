// Package jsonout writes the JSON format: a Document of the model as
// encoding/json encodes it, indented. A document with files is written in
// parts (a head, one part per file, a tail) that join into the same bytes.
// The files are written by WriteFile, which gives encoding/json's bytes
// without reflection, only for speed (writer.go).
package jsonout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// A JSON document is encoding/json's indented encoding of the Document.
// In parts, it is the encoding of the Document without files, cut where
// its empty files list is, and each file encoded on its own, indented as
// the list's elements are: the same bytes.

// filesKey is where the files list of an indented Document begins.
const filesKey = "\n  \"files\": ["

// Frame is the encoding of a document without its files, cut where its
// files list is: the head and tail parts of the document, made once. The
// zero value is ready; a Frame serves one document.
type Frame struct {
	once       sync.Once
	head, tail []byte
	err        error
}

func (fr *Frame) get(doc *model.Document) ([]byte, []byte, error) {
	fr.once.Do(func() {
		d := *doc
		d.Files = []*model.File{}
		var buf bytes.Buffer
		if fr.err = Encode(&buf, &d, ""); fr.err != nil {
			return
		}
		b := buf.Bytes()
		i := bytes.Index(b, []byte(filesKey+"]"))
		if i < 0 || bytes.Count(b, []byte(filesKey)) != 1 {
			fr.err = fmt.Errorf("no files list in the encoded document")
			return
		}
		i += len(filesKey)
		fr.head, fr.tail = b[:i], b[i+1:]
	})
	return fr.head, fr.tail, fr.err
}

// Head writes the part of document d before its first file.
func (fr *Frame) Head(b *bytes.Buffer, d *model.Document) error {
	head, _, err := fr.get(d)
	b.Write(head)
	return err
}

// Tail writes the part of document d after its last file.
func (fr *Frame) Tail(b *bytes.Buffer, d *model.Document) error {
	_, tail, err := fr.get(d)
	b.WriteString("\n  ]")
	b.Write(tail)
	return err
}

// File writes file i of document d as an element of the files list.
func File(b *bytes.Buffer, d *model.Document, i int) {
	b.WriteString("\n    ")
	WriteFile(b, d.Files[i], "    ")
	// The encoding ends with a newline, which the list does not have.
	b.Truncate(b.Len() - 1)
	if i < len(d.Files)-1 {
		b.WriteByte(',')
	}
}

// Encode writes the indented JSON of x as the JSON format does.
func Encode(b *bytes.Buffer, x any, prefix string) error {
	// An encoder keeps its indentation buffer: pooled, the buffer grows
	// once instead of once per file.
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	e.to = b
	defer func() { e.to = nil }()
	e.enc.SetIndent(prefix, "  ")
	return e.enc.Encode(x)
}

// encoder is an encoder whose output can be redirected.
type encoder struct {
	enc *json.Encoder
	to  *bytes.Buffer
}

func (e *encoder) Write(p []byte) (int, error) { return e.to.Write(p) }

var encoders = sync.Pool{New: func() any {
	e := &encoder{}
	e.enc = json.NewEncoder(e)
	e.enc.SetEscapeHTML(false)
	return e
}}
