package comment

import (
	"fmt"
	"strings"
	"testing"
)

// benchComments is a mix of comments in the proportions of a large API
// (googleapis): mostly plain sentences, then code spans and reference-style
// names in brackets, then links, lists and emphasis.
func benchComments() []string {
	plain := []string{
		"The resource name of the instance.",
		"Output only. The time when the job was created.",
		"Required. The parent resource where this instance will be created.\nFormat: projects/{project}/locations/{location}",
		"The maximum number of items to return. The service may return fewer than\nthis value. If unspecified, at most 50 items will be returned.",
		"A token identifying a page of results the server should return.",
		"Default value. This value is unused.",
		"Request message for listing instances.\n\nThe results are ordered by creation time, newest first. Instances that\nwere deleted are not listed.",
		"Whether the instance can be reached from the internet. If true, a public\nIP address is assigned; if false, only private access is possible.",
		"Optional. Labels as key value pairs; for example, env: prod or team: data.",
		"The state is unknown (e.g. the instance was just created).",
	}
	code := []string{
		"The name of the `Instance` to delete, of the form\n`projects/{project}/locations/{location}/instances/{instance}`.",
		"If `validate_only` is set, the request is checked and nothing is changed.",
		"Use `*` as the location to list instances in all locations.",
		"A page token, received from a previous `ListInstances` call.\nProvide this to retrieve the subsequent page.",
	}
	refs := []string{
		"The [Instance][google.cloud.example.v1.Instance] to create.",
		"See [Operation][google.longrunning.Operation] and\n[Status][google.rpc.Status] for the errors it can hold.",
	}
	rich := []string{
		"Returns the [instance](#acme.v1.Instance) with the given name; see\n[the guide](https://example.com/guide) for details.",
		"Supported values:\n\n* `ASC`: ascending order.\n* `DESC`: descending order.",
		"**Note**: this field is *deprecated*; use `name` instead.",
		"Filter expression, for example:\n\n    state = ACTIVE AND labels.env:*\n\nSee <https://google.aip.dev/160>.",
	}
	var out []string
	for i := 0; i < 7; i++ {
		out = append(out, plain...) // 70
	}
	for i := 0; i < 4; i++ {
		out = append(out, code...) // 16
	}
	for i := 0; i < 4; i++ {
		out = append(out, refs...) // 8
	}
	out = append(out, rich...)
	out = append(out, rich[:2]...) // 6
	// Distinct texts, as in a real request.
	for i := range out {
		out[i] += fmt.Sprintf(" Revision %d.", i)
	}
	return out
}

func benchResolve(anchor string) string {
	if strings.HasPrefix(anchor, "acme.") {
		return "#" + anchor
	}
	return ""
}

// BenchmarkComment renders 100 comments in each output form. The HTML of
// comments is cached, so html renders each comment once, as if new, and
// html-cached shows what repeating them costs.
func BenchmarkComment(b *testing.B) {
	comments := benchComments()
	b.Run("html", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			renderedComments.reset()
			for _, c := range comments {
				HTML(c, benchResolve)
			}
		}
	})
	b.Run("html-cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, c := range comments {
				HTML(c, benchResolve)
			}
		}
	})
	b.Run("mdblock", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, c := range comments {
				MDBlock(c, benchResolve)
			}
		}
	})
	b.Run("mdcell", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, c := range comments {
				MDCell(c, benchResolve)
			}
		}
	})
}
