package htmlout

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/polyrpc/polyrpc/internal/gen/doc/htmlesc"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// The search of a page sees the whole run. A run of several documents
// (layout=package or file) has one search index, a script written next to
// the documents that sets window.rpcdocIndex; a page loads it when its
// search box is first used, from the relative path in the box's
// data-index attribute, so that search works from file:// where a page
// may not fetch JSON. A page of a single-document run indexes its own
// elements and stays self-contained.
//
// The index is JSON:
//
//	{"v":1,"docs":[PATH,...],"items":[[KIND,ANCHOR,DOC,JSON,TEXT],...]}
//
// PATH is a document's URL path from the index (escaped, with its
// extension); KIND one of s (service), r (method), m (message), e (enum),
// f (field), o (oneof), x (extension), v (enum value) and p (file);
// ANCHOR the element's anchor, or, for a member of the service, message or
// enum of the item before it, "." and the rest of its anchor after that
// one's; DOC the position of the element's document in docs; JSON the
// field's JSON name where it differs from its name; TEXT the start of its
// comment.

// SearchIndexName is the name of the search index of a run whose documents
// are named name (the name= option).
func SearchIndexName(name string) string { return name + ".search.js" }

// searchTextMax bounds the comment text of an index entry, in bytes.
const searchTextMax = 120

// WriteSearchIndex writes the search index of a run's documents, whose
// files end in ext.
func WriteSearchIndex(b *bytes.Buffer, docs []*model.Document, ext string) error {
	return WriteSearchIndexTo(b, docs, ext, nil)
}

// WriteSearchIndexTo is WriteSearchIndex calling flush, when it is not
// nil, after the items of each file: flush may pass b's content on and
// reset b, so that the index is never held whole.
func WriteSearchIndexTo(b *bytes.Buffer, docs []*model.Document, ext string, flush func() error) error {
	b.WriteString("window.rpcdocIndex={\"v\":1,\"docs\":[")
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	for i, d := range docs {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := enc.Encode(urlPath(d.Path + ext)); err != nil {
			return err
		}
	}
	b.WriteString("],\"items\":[\n")
	first := true
	container := "" // anchor of the last service, message or enum
	item := func(kind, anchor string, doc int, jsonName, text string) error {
		if !first {
			b.WriteByte(',')
		}
		first = false
		a := anchor
		switch kind {
		case "s", "m", "e":
			container = anchor
		case "p":
			container = ""
		default:
			if rest, ok := strings.CutPrefix(anchor, container); ok && container != "" && strings.HasPrefix(rest, ".") {
				a = rest
			}
		}
		return enc.Encode([]any{kind, a, doc, jsonName, searchText(text)})
	}
	for di, d := range docs {
		for _, f := range d.Files {
			if err := indexFile(item, di, f); err != nil {
				return err
			}
			if flush != nil {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	b.WriteString("]};\n")
	return nil
}

// indexFile adds the elements of one file to the index, in page order.
func indexFile(item func(kind, anchor string, doc int, jsonName, text string) error, doc int, f *model.File) error {
	if err := item("p", f.Anchor, doc, "", f.Description); err != nil {
		return err
	}
	for _, s := range f.Services {
		if err := item("s", s.Anchor, doc, "", s.Description); err != nil {
			return err
		}
		for _, m := range s.Methods {
			if err := item("r", m.Anchor, doc, "", m.Description); err != nil {
				return err
			}
		}
	}
	fields := func(kind string, fs []*model.Field) error {
		for _, fl := range fs {
			j := ""
			if kind == "f" && fl.JSONName != fl.Name {
				j = fl.JSONName
			}
			if err := item(kind, fl.Anchor, doc, j, fl.Description); err != nil {
				return err
			}
		}
		return nil
	}
	for _, m := range f.Messages {
		if err := item("m", m.Anchor, doc, "", m.Description); err != nil {
			return err
		}
		for _, o := range m.Oneofs {
			if err := item("o", o.Anchor, doc, "", o.Description); err != nil {
				return err
			}
		}
		if err := fields("f", m.Fields); err != nil {
			return err
		}
		if err := fields("x", m.Extensions); err != nil {
			return err
		}
	}
	for _, e := range f.Enums {
		if err := item("e", e.Anchor, doc, "", e.Description); err != nil {
			return err
		}
		for _, v := range e.Values {
			if err := item("v", v.Anchor, doc, "", v.Description); err != nil {
				return err
			}
		}
	}
	return fields("x", f.Extensions)
}

// searchText is the start of a comment for the index: its first
// paragraph, on one line, without code span and emphasis marks, cut at a
// word within searchTextMax bytes.
func searchText(s string) string {
	if i := strings.Index(s, "\n\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 4*searchTextMax {
		s = s[:4*searchTextMax]
	}
	s = mdLinks.ReplaceAllString(s, "$1")
	s = strings.Join(strings.Fields(searchMarks.Replace(s)), " ")
	if len(s) <= searchTextMax {
		return strings.ToValidUTF8(s, "")
	}
	cut := searchTextMax
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if sp := strings.LastIndexByte(s[:cut], ' '); sp > searchTextMax/2 {
		cut = sp
	}
	return strings.ToValidUTF8(s[:cut], "")
}

// searchMarks drops the code span and emphasis marks of a comment.
var searchMarks = strings.NewReplacer("`", "", "*", "")

// mdLinks are Markdown links and references, [text](url), [text][target]
// and [target][]: the index keeps their text.
var mdLinks = regexp.MustCompile(`\[([^\[\]\n]*)\](?:\([^()\s]*\)|\[[^\[\]\n]*\])`)

// urlPath escapes each element of a slash-separated path for a URL.
func urlPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// writeSearchAttrs writes the attributes of the search box that locate
// the run's index: its path from the page and the page's place in it.
func (v *Page) writeSearchAttrs(b *bytes.Buffer) {
	if v.run == nil || v.run.SearchIndex == "" {
		return
	}
	b.WriteString(` data-index="`)
	htmlesc.Text(b, model.RelPath(v.Path+v.Ext, v.run.SearchIndex))
	b.WriteString(`" data-doc="`)
	for i, d := range v.Documents {
		if d.Path == v.Path {
			b.WriteString(strconv.Itoa(i))
			break
		}
	}
	b.WriteString(`"`)
}
