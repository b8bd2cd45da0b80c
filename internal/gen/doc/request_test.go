package doc

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/plugin"
)

// requestBytes encodes a request whose files are given as descriptors.
func requestBytes(t *testing.T, toGenerate []string, files ...*descriptorpb.FileDescriptorProto) []byte {
	t.Helper()
	b, err := proto.Marshal(&pluginpb.CodeGeneratorRequest{FileToGenerate: toGenerate, ProtoFile: files})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fileProto(name string, deps []string, msgs ...string) *descriptorpb.FileDescriptorProto {
	fp := &descriptorpb.FileDescriptorProto{Name: proto.String(name), Package: proto.String("p"), Syntax: proto.String("proto3"), Dependency: deps}
	for _, m := range msgs {
		fp.MessageType = append(fp.MessageType, &descriptorpb.DescriptorProto{Name: proto.String(m)})
	}
	return fp
}

func TestRunErrors(t *testing.T) {
	noEmit := func(name string, _ []byte) error { return fmt.Errorf("emitted %s", name) }
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"garbage", []byte("not a request"), plugin.ErrNotRequest.Error()},
		{"truncated", requestBytes(t, []string{"a.proto"}, fileProto("a.proto", nil, "A"))[:20], plugin.ErrNotRequest.Error()},
		// Field 15 is proto_file.
		{"huge length", append(protowire.AppendVarint(protowire.AppendTag(nil, 15, protowire.BytesType), 1<<31-1), "abc"...), plugin.ErrNotRequest.Error()},
		{"group", protowire.AppendTag(nil, 5, protowire.StartGroupType), plugin.ErrNotRequest.Error()},
		{"field zero", []byte{0x02, 0x00}, plugin.ErrNotRequest.Error()},
		{"missing file", requestBytes(t, []string{"b.proto"}, fileProto("a.proto", nil, "A")), `file_to_generate "b.proto" is not among the request's files`},
		{"missing import", requestBytes(t, []string{"a.proto"}, fileProto("a.proto", []string{"z.proto"}, "A")), `file "a.proto" imports "z.proto", which is not in the request`},
		{"cycle", requestBytes(t, []string{"a.proto"}, fileProto("a.proto", []string{"b.proto"}, "A"), fileProto("b.proto", []string{"a.proto"}, "B")), `import cycle in file "a.proto"`},
		{"twice", requestBytes(t, []string{"a.proto"}, fileProto("a.proto", nil, "A"), fileProto("a.proto", nil, "B")), `file "a.proto" appears more than once`},
		{"same name in two files", requestBytes(t, []string{"b.proto"}, fileProto("a.proto", nil, "A"), fileProto("b.proto", []string{"a.proto"}, "A")), `"p.A" is declared in both "a.proto" and "b.proto"`},
		{"bad type", requestBytes(t, []string{"a.proto"}, &descriptorpb.FileDescriptorProto{
			Name: proto.String("a.proto"), Syntax: proto.String("proto3"),
			MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("A"), Field: []*descriptorpb.FieldDescriptorProto{{
				Name: proto.String("f"), Number: proto.Int32(1), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
				Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), TypeName: proto.String(".nowhere.B"),
			}}}},
		}), `invalid descriptors in the request`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Run(bytes.NewReader(tc.in), noEmit)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(tc.want, "CodeGeneratorRequest") {
				if !errors.Is(err, plugin.ErrNotRequest) {
					t.Errorf("%v does not wrap ErrNotRequest", err)
				}
			}
		})
	}
	// An error of emit stops the run and is returned as it is.
	stop := errors.New("disk full")
	n := 0
	in, _ := proto.Marshal(compileRequest(t, "format=html,markdown,json,layout=file", goldenFiles...))
	if err := Run(bytes.NewReader(in), func(string, []byte) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("emit error: got %v after %d files, want %v after 1", err, n, stop)
	}
}

// TestWorkersDeterministic checks that the number of workers that decode,
// build and render changes nothing in the output, its order included.
func TestWorkersDeterministic(t *testing.T) {
	in, err := proto.Marshal(compileRequest(t, "format=html,markdown,json,layout=file", goldenFiles...))
	if err != nil {
		t.Fatal(err)
	}
	run := func(procs int) []string {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		var out []string
		if err := Run(bytes.NewReader(in), func(name string, b []byte) error {
			out = append(out, name, string(b))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	one := run(1)
	if len(one) != 2*(3*len(goldenFiles)+1) { // and the search index
		t.Fatalf("%d files, want %d", len(one)/2, 3*len(goldenFiles)+1)
	}
	for _, procs := range []int{2, 3, 8} {
		if diff := cmp.Diff(one, run(procs)); diff != "" {
			t.Errorf("GOMAXPROCS=%d differs from 1 (-1 +%d):\n%s", procs, procs, diff)
		}
	}
}

// TestUnknownRequestFields checks that fields the generator does not use
// (compiler_version, source_file_descriptors, fields of later versions)
// are skipped whatever their wire type.
func TestUnknownRequestFields(t *testing.T) {
	req := compileRequest(t, "format=markdown", "acme/shop/v1/shop.proto")
	want := generate(t, req)
	req.CompilerVersion = &pluginpb.Version{Major: proto.Int32(29), Minor: proto.Int32(3)}
	req.SourceFileDescriptors = req.ProtoFile[len(req.ProtoFile)-1:]
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	b = protowire.AppendTag(b, 1000, protowire.Fixed32Type)
	b = protowire.AppendFixed32(b, 7)
	b = protowire.AppendTag(b, 1001, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, 7)
	b = protowire.AppendTag(b, 1002, protowire.VarintType)
	b = protowire.AppendVarint(b, 1<<40)
	got := map[string]string{}
	if err := Run(bytes.NewReader(b), func(name string, c []byte) error { got[name] += string(c); return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}

// TestMemoryLimitRestored checks that the soft memory limit set while
// rendering does not outlive the run, and that a lower limit set by the
// user is kept.
func TestMemoryLimitRestored(t *testing.T) {
	req := compileRequest(t, "format=html", goldenFiles...)
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	for _, limit := range []int64{math.MaxInt64, 1 << 40, 64 << 10} {
		debug.SetMemoryLimit(limit)
		generate(t, req)
		if got := debug.SetMemoryLimit(-1); got != limit {
			t.Errorf("limit %d before the run, %d after", limit, got)
		}
	}
}

// TestMemoryLimitConcurrentRuns checks that runs at the same time leave
// the limit as they found it.
func TestMemoryLimitConcurrentRuns(t *testing.T) {
	req := compileRequest(t, "format=html,markdown,json,layout=file", goldenFiles...)
	old := debug.SetMemoryLimit(-1)
	oldPercent := debug.SetGCPercent(-1)
	debug.SetGCPercent(oldPercent)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp := Generate(req); resp.Error != nil {
				t.Error(resp.GetError())
			}
		}()
	}
	wg.Wait()
	if got := debug.SetMemoryLimit(-1); got != old {
		t.Errorf("limit %d before the runs, %d after", old, got)
	}
	if got := debug.SetGCPercent(-1); got != oldPercent {
		t.Errorf("GOGC %d before the runs, %d after", oldPercent, got)
	}
	debug.SetGCPercent(oldPercent)
}

func TestCollectOften(t *testing.T) {
	t.Setenv("GOGC", "")
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	release := collectOften()
	inner := collectOften() // a second run at the same time
	if got := debug.SetGCPercent(-1); got != gcPercentWhileBuilding {
		t.Errorf("GOGC while building: %d", got)
	}
	debug.SetGCPercent(gcPercentWhileBuilding)
	release()
	release() // idempotent
	if got := debug.SetGCPercent(-1); got != gcPercentWhileBuilding {
		t.Errorf("GOGC after the first run released: %d", got)
	}
	debug.SetGCPercent(gcPercentWhileBuilding)
	inner()
	if got := debug.SetGCPercent(-1); got != 100 {
		t.Errorf("GOGC after both released: %d", got)
	}
	debug.SetGCPercent(100)
	// A GOGC set by the user is left alone.
	t.Setenv("GOGC", "300")
	release = collectOften()
	if got := debug.SetGCPercent(-1); got != 100 {
		t.Errorf("GOGC with GOGC set: %d", got)
	}
	debug.SetGCPercent(100)
	release()
}
