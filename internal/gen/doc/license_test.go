package doc

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
)

// TestLicenseHeaderIsNotDocumentation: the comment block before the syntax
// statement (a license header, separated by a blank line) and a license
// attached to the syntax or package statement are not the file's
// documentation; other comments on those statements still are.
func TestLicenseHeaderIsNotDocumentation(t *testing.T) {
	const license = "// Copyright 2025 Google LLC\n//\n// Licensed under the Apache License, Version 2.0 (the \"License\");\n// you may not use this file except in compliance with the License.\n"
	srcs := map[string]string{
		// Detached before syntax: the googleapis layout.
		"a.proto": license + "\nsyntax = \"proto3\";\n\n// Package a is documented.\npackage a;\n\nmessage M {}\n",
		// Attached to syntax.
		"b.proto": license + "syntax = \"proto3\";\n\npackage b;\n\nmessage M {}\n",
		// A header that is not a license, detached before syntax, and a
		// note detached before package.
		"c.proto": "// Generated from the c schema.\n\n// The c API.\nsyntax = \"proto3\";\n\n// A note between syntax and package.\n\n// Package c.\npackage c;\n\nmessage M {}\n",
		// No syntax statement: the license is detached before package.
		"d.proto": license + "\n// Package d, proto2.\npackage d;\n\nmessage M {}\n",
	}
	files := generate(t, compileSources(t, srcs, "format=json,layout=file", "a.proto", "b.proto", "c.proto", "d.proto"))
	want := map[string]struct {
		desc     string
		detached []string
	}{
		"a.json": {desc: "Package a is documented."},
		"b.json": {},
		"c.json": {desc: "The c API.\n\nPackage c.", detached: []string{"A note between syntax and package."}},
		"d.json": {desc: "Package d, proto2."},
	}
	for name, w := range want {
		var doc model.Document
		if err := json.Unmarshal([]byte(files[name]), &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f := doc.Files[0]
		if f.Description != w.desc || strings.Join(f.DetachedComments, "|") != strings.Join(w.detached, "|") {
			t.Errorf("%s: description %q, detached %q; want %q, %q", name, f.Description, f.DetachedComments, w.desc, w.detached)
		}
		if strings.Contains(files[strings.TrimSuffix(name, ".json")+".json"], "Licensed under") {
			t.Errorf("%s: the license is in the output", name)
		}
	}
}
