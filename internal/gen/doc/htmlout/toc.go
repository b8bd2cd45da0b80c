package htmlout

import (
	"bytes"
	"strings"

	"github.com/polyrpc/polyrpc/internal/gen/doc/htmlesc"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// tocType is a message or enum in the table of contents, with the types
// nested in it.
type tocType struct {
	msg      *model.Message
	enum     *model.Enum
	children []*tocType
}

// writeTOCTypes writes the messages and enums of a file in the table of
// contents, nested types under their parents: a message's nested messages
// in file order, then its nested enums.
func writeTOCTypes(b *bytes.Buffer, f *model.File) {
	byName := make(map[string]*tocType, len(f.Messages))
	var top []*tocType
	add := func(t *tocType, parent string) {
		if p := byName[parent]; parent != "" && p != nil {
			p.children = append(p.children, t)
		} else {
			top = append(top, t)
		}
	}
	for _, m := range f.Messages {
		t := &tocType{msg: m}
		byName[m.FullName] = t
		add(t, m.Parent)
	}
	// Top-level enums follow the top-level messages, as in the page.
	var topEnums []*tocType
	for _, e := range f.Enums {
		t := &tocType{enum: e}
		if p := byName[e.Parent]; e.Parent != "" && p != nil {
			p.children = append(p.children, t)
		} else {
			topEnums = append(topEnums, t)
		}
	}
	top = append(top, topEnums...)
	for _, t := range top {
		writeTOCType(b, t)
	}
}

func writeTOCType(b *bytes.Buffer, t *tocType) {
	if t.msg != nil {
		tocEntry(b, "\n<li class=\"k-message\">", t.msg.Anchor, "m", shortName(t.msg.Name), t.msg.FullName)
	} else {
		tocEntry(b, "\n<li class=\"k-enum\">", t.enum.Anchor, "E", shortName(t.enum.Name), t.enum.FullName)
	}
	if len(t.children) > 0 {
		b.WriteString("<ul>")
		for _, c := range t.children {
			writeTOCType(b, c)
		}
		b.WriteString("</ul>")
	}
	b.WriteString("</li>")
}

// shortName is the last element of a dotted name.
func shortName(name string) string {
	return name[strings.LastIndexByte(name, '.')+1:]
}

// breakAfter is the length from which a name in the table of contents
// gets line break opportunities.
const breakAfter = 20

// writeBreakable writes a name, escaped, with a <wbr> where a long one may
// break: before an upper-case letter that follows a lower-case one or a
// digit, and after '_', '.' and '/', so that the narrow column breaks
// "AnalyticsHubSubscriptionInfo" between its words, not inside them.
func writeBreakable(b *bytes.Buffer, name string) {
	if len(name) < breakAfter {
		htmlesc.Text(b, name)
		return
	}
	start := 0
	for i := 1; i < len(name); i++ {
		c, prev := name[i], name[i-1]
		if (c >= 'A' && c <= 'Z' && (prev >= 'a' && prev <= 'z' || prev >= '0' && prev <= '9')) || (prev == '_' || prev == '.' || prev == '/') && i-start > 2 {
			htmlesc.Text(b, name[start:i])
			b.WriteString("<wbr>")
			start = i
		}
	}
	htmlesc.Text(b, name[start:])
}
