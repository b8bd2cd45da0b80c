// Command protoc-gen-rpcdoc is a protoc and buf plugin that writes API
// documentation for protobuf files as HTML, Markdown or JSON.
//
// With no options it writes one self-contained index.html documenting every
// file in the request:
//
//	protoc --rpcdoc_out=doc acme/v1/*.proto
//	protoc --rpcdoc_out=doc --rpcdoc_opt=format=html,markdown,layout=package acme/v1/*.proto
//
// With buf, in buf.gen.yaml:
//
//	version: v2
//	plugins:
//	  - local: protoc-gen-rpcdoc
//	    out: doc
//	    strategy: all
//	    opt:
//	      - format=html,markdown,json
//	      - layout=package
//	      - exclude=google/**
//
// Use strategy: all so that one request holds every file and links between
// files and packages resolve.
//
// Options (see --help for the full list): format, layout, name, title,
// exclude, order, template, require_comments (with lint_format, lint_ignore,
// lint_out and lint_path_prefix) and base_url.
package main

import (
	"os"

	"github.com/polyrpc/polyrpc/internal/gen/doc"
	"github.com/polyrpc/polyrpc/internal/plugin"
)

const version = "v0.1.0"

func main() {
	os.Exit(plugin.MainStream("protoc-gen-rpcdoc", version, doc.Usage, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, doc.Run))
}
