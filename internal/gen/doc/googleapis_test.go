package doc

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	_ "google.golang.org/protobuf/types/known/emptypb" // the Any samples' type

	"github.com/polyrpc/polyrpc/internal/gen/doc/build"
	"github.com/polyrpc/polyrpc/internal/gen/doc/comment"
	"github.com/polyrpc/polyrpc/internal/gen/doc/doctest"
	"github.com/polyrpc/polyrpc/internal/gen/doc/model"
	"github.com/polyrpc/polyrpc/internal/gen/doc/request"
)

// googleapisFull is the request protoc sends for every googleapis file
// that declares a service, comments included (BENCHMARKS.md): the one
// internal/bench/gen/googleapis.sh leaves in the benchmarks' cache, or
// RPCDOC_GOOGLEAPIS_FULL, or else compiled here from the same pinned
// sources.
func googleapisFull(t *testing.T) []byte {
	t.Helper()
	if testing.Short() {
		t.Skip("documents all of googleapis")
	}
	path := os.Getenv("RPCDOC_GOOGLEAPIS_FULL")
	if path == "" {
		cache := os.Getenv("GENBENCH_CACHE")
		if cache == "" {
			if dir, err := os.UserCacheDir(); err == nil {
				cache = filepath.Join(dir, "polyrpc-genbench")
			}
		}
		path = filepath.Join(cache, "requests", "real-googleapis-full.bin")
	}
	if b, err := os.ReadFile(path); err == nil {
		return b
	}
	if googleapisCompiled == nil {
		googleapisCompiled = doctest.GoogleAPIsFull(t)
	}
	return googleapisCompiled
}

// googleapisCompiled keeps the request compiled by the first test that
// needs it (tests of this package do not run in parallel).
var googleapisCompiled []byte

// googleapisRun is the model of googleapis-full and the descriptors of
// its request.
type googleapisRun struct {
	files    []*model.File
	messages map[string]protoreflect.MessageDescriptor
}

func loadGoogleapis(t *testing.T, cfg build.Config) *googleapisRun {
	t.Helper()
	req, err := request.Read(bytes.NewReader(googleapisFull(t)))
	if err != nil {
		t.Fatal(err)
	}
	wanted := map[string]bool{}
	for _, n := range req.ToGenerate {
		wanted[n] = true
	}
	loaded, err := request.Load(req, func(n string) bool { return wanted[n] }, false)
	if err != nil {
		t.Fatal(err)
	}
	run := &googleapisRun{messages: map[string]protoreflect.MessageDescriptor{}}
	var all []protoreflect.FileDescriptor
	var selected []*request.File
	var add func(ms protoreflect.MessageDescriptors)
	add = func(ms protoreflect.MessageDescriptors) {
		for i := 0; i < ms.Len(); i++ {
			run.messages[string(ms.Get(i).FullName())] = ms.Get(i)
			add(ms.Get(i).Messages())
		}
	}
	for _, f := range loaded {
		all = append(all, f.Desc)
		add(f.Desc.Messages())
		if f.File != nil {
			selected = append(selected, f.File)
		}
	}
	sort.SliceStable(selected, func(i, j int) bool { return selected[i].Desc.Path() < selected[j].Desc.Path() })
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	run.files, _, err = build.Files(cfg, all, selected)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// fieldBehaviors reads google.api.field_behavior from a field's options
// as protoc sends them: an extension the plugin does not link, so unknown
// fields (number 1052, packed or not).
func fieldBehaviors(fd protoreflect.FieldDescriptor) map[uint64]bool {
	opts, _ := fd.Options().(*descriptorpb.FieldOptions)
	if opts == nil {
		return nil
	}
	out := map[uint64]bool{}
	for b := opts.ProtoReflect().GetUnknown(); len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			break
		}
		b = b[n:]
		if num == 1052 && typ == protowire.VarintType {
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				break
			}
			out[v] = true
		}
		if num == 1052 && typ == protowire.BytesType {
			p, m := protowire.ConsumeBytes(b)
			if m < 0 {
				break
			}
			for len(p) > 0 {
				v, k := protowire.ConsumeVarint(p)
				if k < 0 {
					break
				}
				out[v] = true
				p = p[k:]
			}
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			break
		}
		b = b[m:]
	}
	return out
}

const (
	behaviorRequired   = 2
	behaviorOutputOnly = 3
	behaviorInputOnly  = 4
)

// badFields lists the set fields of m, at any depth, that a sample must
// not set: output-only (or, in a response, input-only) and deprecated ones.
func badFields(m protoreflect.Message, response bool, path string, out *[]string) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		p := path + "." + string(fd.Name())
		bh := fieldBehaviors(fd)
		switch {
		case fd.Options().(*descriptorpb.FieldOptions).GetDeprecated():
			*out = append(*out, p+" (deprecated)")
		case !response && bh[behaviorOutputOnly]:
			*out = append(*out, p+" (output only)")
		case response && bh[behaviorInputOnly]:
			*out = append(*out, p+" (input only)")
		}
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					badFields(mv.Message(), response, p+"[]", out)
					return true
				})
			}
		case fd.IsList():
			if fd.Message() != nil {
				for i := 0; i < v.List().Len(); i++ {
					badFields(v.List().Get(i).Message(), response, p+"[]", out)
				}
			}
		case fd.Message() != nil:
			badFields(v.Message(), response, p, out)
		}
		return true
	})
}

// missingRequired lists the REQUIRED fields of the request message that
// the sample leaves out (a oneof counts as set when one member is).
func missingRequired(m protoreflect.Message) []string {
	var out []string
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		bh := fieldBehaviors(fd)
		if !bh[behaviorRequired] || bh[behaviorOutputOnly] || fd.Options().(*descriptorpb.FieldOptions).GetDeprecated() || m.Has(fd) {
			continue
		}
		if o := fd.ContainingOneof(); o != nil && m.WhichOneof(o) != nil {
			continue
		}
		if fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
			// An empty message is its zero value: present, but not
			// set in JSON terms. The sample writes {} for it.
			continue
		}
		out = append(out, string(fd.Name()))
	}
	return out
}

// TestGoogleapisSamples: on all of googleapis, every sample request parses
// with protojson into its request type, sets no output-only or deprecated
// field and fills the required ones; every sample response parses into
// its response type and sets no input-only or deprecated field; REST
// examples have no variable left in their path.
func TestGoogleapisSamples(t *testing.T) {
	run := loadGoogleapis(t, build.Config{})
	var methods, rest, bad int
	report := func(format string, args ...any) {
		if bad++; bad <= 40 {
			t.Errorf(format, args...)
		}
	}
	for _, f := range run.files {
		for _, s := range f.Services {
			for _, m := range s.Methods {
				methods++
				for _, side := range []struct {
					typ      string
					sample   string
					response bool
				}{{m.Request.FullName, m.SampleRequest, false}, {m.Response.FullName, m.SampleResponse, true}} {
					md := run.messages[side.typ]
					if md == nil {
						report("%s: type %s not in the request", m.FullName, side.typ)
						continue
					}
					msg := dynamicpb.NewMessage(md)
					if err := protojson.Unmarshal([]byte(side.sample), msg); err != nil {
						report("%s: sample %s does not parse: %v\n%s", m.FullName, side.typ, err, side.sample)
						continue
					}
					var out []string
					badFields(msg, side.response, "", &out)
					if len(out) > 0 {
						report("%s: sample %s sets %s", m.FullName, side.typ, strings.Join(out, ", "))
					}
					if !side.response {
						if miss := missingRequired(msg); len(miss) > 0 {
							report("%s: sample request leaves out required %s", m.FullName, strings.Join(miss, ", "))
						}
					}
				}
				for _, e := range m.Examples {
					if e.Protocol != "rest" {
						continue
					}
					rest++
					target := e.Command[strings.LastIndex(e.Command, "\n")+1:]
					target = strings.Trim(strings.TrimSpace(target), "'")
					if p, _, _ := strings.Cut(target, "?"); strings.ContainsAny(p, "{}*") || !strings.HasPrefix(p, DefaultBaseURL+"/") {
						report("%s: REST path not filled: %s", m.FullName, target)
					}
				}
			}
		}
	}
	t.Logf("%d methods, %d REST examples, %d problems", methods, rest, bad)
	if methods < 10000 {
		t.Errorf("only %d methods documented", methods)
	}
}

// TestGoogleapisReferences: on all of googleapis, with referenced_types,
// every cross-reference whose target exists in the request is a link. The
// references left as text are those whose target is in no file of the
// request (misspelt or stale names: googleapis-full has 285 of them among
// more than 4,000), each shown with a note and reported on stderr.
func TestGoogleapisReferences(t *testing.T) {
	var refs []build.UnresolvedRef
	gm := loadGoogleapis(t, build.Config{Referenced: true, Unresolved: &refs})
	documented := map[string]bool{}
	for _, f := range gm.files {
		documented[f.Name] = !f.Referenced
	}
	fromListed := 0
	for _, r := range refs {
		switch {
		case r.Known && documented[r.File]:
			t.Errorf("%s: %s: [%s] exists in the request but is not linked", r.File, r.Element, r.Target)
		case !documented[r.File]:
			fromListed++ // in the comment of a listed element, to one not listed
		}
	}
	const maxUnknown = 285 // as of google-proto-files 6.0.1
	if n := len(refs) - fromListed; n > maxUnknown {
		t.Errorf("%d references of documented files to no element of the request, want at most %d", n, maxUnknown)
	}

	b := googleapisFull(t)
	b = protowire.AppendTag(b, 2, protowire.BytesType) // CodeGeneratorRequest.parameter
	b = protowire.AppendString(b, "format=html,format=markdown,layout=package,referenced_types=true")
	comment.ResetUnresolved()
	var stderr bytes.Buffer
	var raw, docs int
	err := run(bytes.NewReader(b), &stderr, func(name string, content []byte) error {
		if name != "" {
			docs++
		}
		if strings.HasSuffix(name, ".md") {
			raw += len(rawReference.FindAll(content, -1))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each reference is shown as text once per format, and reported; the
	// run also lists the comments of listed elements. Two references are
	// read differently by the renderers' Markdown parser (a label split
	// from its text over lines, and one followed by a colon) and counted
	// once more.
	var reported int
	if _, err := fmt.Sscanf(stderr.String(), "protoc-gen-rpcdoc: %d cross-references", &reported); err != nil {
		t.Fatalf("stderr: %v\n%.300s", err, stderr.String())
	}
	n := comment.Unresolved()
	if n < int64(2*reported) || n > int64(2*reported+4) {
		t.Errorf("%d references shown as text, want about twice the %d reported", n, reported)
	}
	t.Logf("%d documents; %d references of documented files to no element; %d reported with the listed elements' comments, %d shown as text; %d [x][y] left in Markdown (regular expressions in prose, mostly)",
		docs, len(refs)-fromListed, reported, n, raw)
}
