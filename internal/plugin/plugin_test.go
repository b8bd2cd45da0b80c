package plugin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/pluginpb"
)

func file(name, content string) *pluginpb.CodeGeneratorResponse_File {
	return &pluginpb.CodeGeneratorResponse_File{Name: proto.String(name), Content: proto.String(content)}
}

func TestMainStream(t *testing.T) {
	req, _ := proto.Marshal(&pluginpb.CodeGeneratorRequest{FileToGenerate: []string{"a.proto"}})
	big := strings.Repeat("x", 300<<10) // larger than the write buffer
	for _, tc := range []struct {
		name string
		gen  StreamGenerator
		want *pluginpb.CodeGeneratorResponse
	}{
		{"files", func(in io.Reader, emit func(string, []byte) error) error {
			if b, err := io.ReadAll(in); err != nil || !bytes.Equal(b, req) {
				return fmt.Errorf("request differs")
			}
			for _, f := range []struct{ n, c string }{{"a.html", "<p>a</p>"}, {"empty.md", ""}, {"big.txt", big}, {"é/ü.json", "{}"}} {
				if err := emit(f.n, []byte(f.c)); err != nil {
					return err
				}
			}
			return nil
		}, &pluginpb.CodeGeneratorResponse{File: []*pluginpb.CodeGeneratorResponse_File{
			file("a.html", "<p>a</p>"), file("empty.md", ""), file("big.txt", big), file("é/ü.json", "{}"),
		}}},
		{"pieces", func(in io.Reader, emit func(string, []byte) error) error {
			for _, f := range []struct{ n, c string }{{"a.html", "<p>"}, {"", "a"}, {"", "</p>"}, {"b.md", "b"}} {
				if err := emit(f.n, []byte(f.c)); err != nil {
					return err
				}
			}
			return nil
		}, &pluginpb.CodeGeneratorResponse{File: []*pluginpb.CodeGeneratorResponse_File{
			file("a.html", "<p>"), {Content: proto.String("a")}, {Content: proto.String("</p>")}, file("b.md", "b"),
		}}},
		{"error after files", func(in io.Reader, emit func(string, []byte) error) error {
			if err := emit("a.html", []byte("a")); err != nil {
				return err
			}
			return errors.New("option x: bad")
		}, &pluginpb.CodeGeneratorResponse{Error: proto.String("option x: bad"), File: []*pluginpb.CodeGeneratorResponse_File{file("a.html", "a")}}},
		{"panic", func(in io.Reader, emit func(string, []byte) error) error {
			var m map[string]int
			m["x"]++
			return nil
		}, &pluginpb.CodeGeneratorResponse{Error: proto.String("internal error (please report it): assignment to entry in nil map")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := MainStream("protoc-gen-x", "v1", "usage", nil, bytes.NewReader(req), &stdout, &stderr, tc.gen); code != 0 {
				t.Fatalf("exit %d, stderr %q", code, stderr.String())
			}
			got := new(pluginpb.CodeGeneratorResponse)
			if err := proto.Unmarshal(stdout.Bytes(), got); err != nil {
				t.Fatal(err)
			}
			tc.want.SupportedFeatures = proto.Uint64(Features)
			tc.want.MinimumEdition = proto.Int32(int32(MinimumEdition))
			tc.want.MaximumEdition = proto.Int32(int32(MaximumEdition))
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMainStreamFailures(t *testing.T) {
	t.Run("not a request", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := MainStream("protoc-gen-x", "v1", "usage", nil, strings.NewReader("junk"), &stdout, &stderr,
			func(io.Reader, func(string, []byte) error) error { return fmt.Errorf("%w: bad tag", ErrNotRequest) })
		if code != 1 || stdout.Len() != 0 {
			t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
		}
		if !strings.Contains(stderr.String(), "protoc-gen-x: stdin is not a CodeGeneratorRequest (this program is run by protoc or buf): bad tag") {
			t.Errorf("stderr %q", stderr.String())
		}
	})
	t.Run("stdout fails", func(t *testing.T) {
		var stderr bytes.Buffer
		emitted := 0
		code := MainStream("protoc-gen-x", "v1", "usage", nil, strings.NewReader(""), failWriter{}, &stderr,
			func(_ io.Reader, emit func(string, []byte) error) error {
				for i := 0; i < 100; i++ {
					if err := emit("f", make([]byte, 100<<10)); err != nil {
						return err
					}
					emitted++
				}
				return nil
			})
		if code != 1 || !strings.Contains(stderr.String(), "writing response: pipe closed") {
			t.Errorf("exit %d, stderr %q", code, stderr.String())
		}
		if emitted > 1 {
			t.Errorf("generator went on for %d files after the write failed", emitted)
		}
	})
	t.Run("flags", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := MainStream("protoc-gen-x", "v1", "usage", []string{"--version"}, nil, &stdout, &stderr, nil); code != 0 || stdout.String() != "protoc-gen-x v1\n" {
			t.Errorf("--version: exit %d, %q", code, stdout.String())
		}
		stdout.Reset()
		if code := MainStream("protoc-gen-x", "v1", "usage", []string{"--bogus"}, nil, &stdout, &stderr, nil); code != 2 || !strings.Contains(stderr.String(), `unknown argument "--bogus"`) {
			t.Errorf("--bogus: exit %d, %q", code, stderr.String())
		}
	})
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("pipe closed") }

func TestReadAll(t *testing.T) {
	want := bytes.Repeat([]byte("request "), 100_000)
	// A regular file, empty or not, and a pipe.
	for _, data := range [][]byte{want, nil} {
		p := filepath.Join(t.TempDir(), "req.bin")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(f)
		f.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("file of %d bytes: got %d bytes, %v", len(data), len(got), err)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.Write(want)
		w.Close()
	}()
	got, err := readAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("pipe: got %d bytes, %v", len(got), err)
	}
}
