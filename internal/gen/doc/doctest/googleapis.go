package doctest

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"
)

// The googleapis-full input of BENCHMARKS.md is compiled from the .proto
// sources of the npm package google-proto-files, pinned here as in
// internal/bench/gen/googleapis.sh, which keeps them in the same cache.
const (
	googleAPIsPackage = "google-proto-files"
	googleAPIsVersion = "6.0.1"
	googleAPIsSHA512  = "7dbbd4595361deb286955156c2550d17b4a4d536a1d1af3dab4dab2d35ec5a36ca28719eb944406bcb65f6bbeee53c969f2d58892228e5e0ea176eb44da8babd"
)

// GoogleAPIsFiles are files of googleapis-full that real readers look up:
// the pubsub v1, storage v2 and cloud tasks v2 packages.
var GoogleAPIsFiles = []string{
	"google/cloud/tasks/v2/cloudtasks.proto",
	"google/cloud/tasks/v2/queue.proto",
	"google/cloud/tasks/v2/target.proto",
	"google/cloud/tasks/v2/task.proto",
	"google/pubsub/v1/pubsub.proto",
	"google/pubsub/v1/schema.proto",
	"google/storage/v2/storage.proto",
}

var googleAPIsDir = sync.OnceValues(func() (string, error) {
	if d := os.Getenv("POLYRPC_GOOGLEAPIS"); d != "" {
		return d, nil
	}
	cache := os.Getenv("GENBENCH_CACHE")
	if cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		cache = filepath.Join(base, "polyrpc-genbench")
	}
	src := filepath.Join(cache, googleAPIsPackage+"-"+googleAPIsVersion)
	if _, err := os.Stat(filepath.Join(src, ".complete")); err == nil {
		return filepath.Join(src, "package"), nil
	}
	if err := fetchGoogleAPIs(src); err != nil {
		return "", err
	}
	return filepath.Join(src, "package"), nil
})

// fetchGoogleAPIs unpacks the pinned package into dir with npm pack and
// tar, checking its SHA-512.
func fetchGoogleAPIs(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cmd := exec.Command("npm", "pack", "--silent", googleAPIsPackage+"@"+googleAPIsVersion)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return err
	}
	lines := strings.Fields(string(out))
	if len(lines) == 0 {
		return os.ErrNotExist
	}
	tgz := filepath.Join(dir, lines[len(lines)-1])
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	h := sha512.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != googleAPIsSHA512 {
		return &os.PathError{Op: "check sha512", Path: tgz, Err: os.ErrInvalid}
	}
	if out, err := exec.Command("tar", "-xzf", tgz, "-C", dir).CombinedOutput(); err != nil {
		return &os.PathError{Op: "tar: " + string(out), Path: tgz, Err: err}
	}
	if err := os.Remove(tgz); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ".complete"), nil, 0o644)
}

// GoogleAPIs compiles files of googleapis-full (by default
// GoogleAPIsFiles) from the pinned sources and returns the request protoc
// would send, comments included. The sources come from POLYRPC_GOOGLEAPIS
// (the package directory), the genbench cache, or npm; without them the
// test is skipped, or fails in CI (CI=true).
func GoogleAPIs(t testing.TB, param string, files ...string) *pluginpb.CodeGeneratorRequest {
	t.Helper()
	dir, err := googleAPIsDir()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("googleapis sources (%s@%s): %v", googleAPIsPackage, googleAPIsVersion, err)
		}
		t.Skipf("googleapis sources (%s@%s) not available: %v", googleAPIsPackage, googleAPIsVersion, err)
	}
	if len(files) == 0 {
		files = GoogleAPIsFiles
	}
	return compile(t, &protocompile.SourceResolver{ImportPaths: []string{dir}}, param, files...)
}

// GoogleAPIsFull returns the googleapis-full request of BENCHMARKS.md, in
// the wire format: every file of the pinned sources under google/ and
// grafeas/ that declares a service (as internal/bench/gen/googleapis.sh
// selects them for protoc), compiled with comments. Without the sources
// the test is skipped, or fails in CI (CI=true).
func GoogleAPIsFull(t testing.TB) []byte {
	t.Helper()
	dir, err := googleAPIsDir()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("googleapis sources (%s@%s): %v", googleAPIsPackage, googleAPIsVersion, err)
		}
		t.Skipf("googleapis sources (%s@%s) not available: %v", googleAPIsPackage, googleAPIsVersion, err)
	}
	var files []string
	for _, root := range []string{"google", "grafeas"} {
		err := filepath.WalkDir(filepath.Join(dir, root), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".proto") {
				return err
			}
			rel, err := filepath.Rel(dir, path)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			if strings.HasPrefix(rel, "google/protobuf/") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if bytes.HasPrefix(src, []byte("service ")) || bytes.Contains(src, []byte("\nservice ")) {
				files = append(files, rel)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(files)
	b, err := proto.Marshal(compile(t, &protocompile.SourceResolver{ImportPaths: []string{dir}}, "", files...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
