// Command genbench times protoc plugins as processes on large
// CodeGeneratorRequests: `plugin < request.bin > /dev/null`, several
// alternating runs, median wall time and peak RSS from /usr/bin/time -v.
//
// It is run by internal/bench/gen/run.sh, which builds the plugins; see
// BENCHMARKS.md.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/bench/gen"
)

// synthVersion names the cached synthetic requests; bump it when the
// generator changes.
const synthVersion = 1

// A tool is a plugin and the parameter it runs with.
type tool struct {
	name, bin, param string
	group            string // tools of one group are compared with each other
}

type input struct {
	name string
	file string // encoded request, parameter empty
	st   gen.Stats
}

type sample struct {
	wall time.Duration
	cpu  time.Duration // user + system
	rss  int64         // KiB
}

func main() {
	cache := flag.String("cache", "", "cache directory for requests (required)")
	bin := flag.String("bin", "", "directory holding the plugin binaries (required)")
	runs := flag.Int("runs", 5, "runs per plugin and input")
	scales := flag.String("scales", "1,2,4", "scales of the synthetic request")
	real := flag.String("real", "", "comma-separated name=path.bin of real requests")
	only := flag.String("only", "", "comma-separated tool names to run (default all)")
	flag.Parse()
	if *cache == "" || *bin == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*cache, *bin, *runs, *scales, *real, *only); err != nil {
		fmt.Fprintln(os.Stderr, "genbench:", err)
		os.Exit(1)
	}
}

func run(cache, bin string, runs int, scales, real, only string) error {
	timeBin, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		return fmt.Errorf("GNU time is needed at /usr/bin/time (apt-get install time): %v", err)
	}
	tools := []tool{
		{name: "protoc-gen-rpc", group: "go"},
		{name: "protoc-gen-go-grpc", group: "go"},
		{name: "protoc-gen-connect-go", group: "go"},
		{name: "protoc-gen-rpcdoc", param: "format=html,layout=package", group: "doc"},
		{name: "protoc-gen-doc", param: "html,index.html", group: "doc"},
	}
	if only != "" {
		keep := strings.Split(only, ",")
		tools = slices.DeleteFunc(tools, func(t tool) bool { return !slices.Contains(keep, t.name) })
	}
	for i := range tools {
		tools[i].bin = filepath.Join(bin, tools[i].name)
		if _, err := os.Stat(tools[i].bin); err != nil {
			return err
		}
	}
	var inputs []input
	for _, s := range strings.Split(scales, ",") {
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("scale %q: %v", s, err)
		}
		in, err := synthetic(cache, n)
		if err != nil {
			return err
		}
		inputs = append(inputs, in)
	}
	for _, r := range strings.Split(real, ",") {
		if r == "" {
			continue
		}
		name, file, ok := strings.Cut(r, "=")
		if !ok {
			return fmt.Errorf("-real %q: want name=path", r)
		}
		req, err := readRequest(file)
		if err != nil {
			return err
		}
		inputs = append(inputs, input{name: name, file: file, st: gen.RequestStats(req)})
	}

	fmt.Printf("# genbench %s, %d CPUs, %s/%s, %s, %d runs\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"),
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), runs)
	for _, in := range inputs {
		fmt.Printf("## %s: %v\n\n", in.name, in.st)
		files := map[string]string{}
		out := map[string]string{}
		for _, t := range tools {
			f, err := withParam(cache, in, t.param)
			if err != nil {
				return err
			}
			files[t.name] = f
			// One checked run first: the plugin must succeed.
			n, size, err := check(t, f)
			if err != nil {
				return fmt.Errorf("%s on %s: %v", t.name, in.name, err)
			}
			out[t.name] = fmt.Sprintf("%d files, %.1f MB", n, float64(size)/1e6)
		}
		samples := map[string][]sample{}
		for r := 0; r < runs; r++ {
			// Alternate the order so that drift in machine load hits all alike.
			order := slices.Clone(tools)
			if r%2 == 1 {
				slices.Reverse(order)
			}
			for _, t := range order {
				s, err := measure(timeBin, t, files[t.name])
				if err != nil {
					return fmt.Errorf("%s on %s: %v", t.name, in.name, err)
				}
				samples[t.name] = append(samples[t.name], s)
			}
		}
		fmt.Println("| plugin | output | median wall | median CPU | median peak RSS | wall vs peer | CPU vs peer | RSS vs peer |")
		fmt.Println("|---|---|---:|---:|---:|---|---|---|")
		for _, t := range tools {
			w, m := medians(samples[t.name])
			var rw, rc, rm []string
			for _, p := range tools {
				if p.group != t.group || p.name == t.name || strings.HasPrefix(p.name, "protoc-gen-rpc") {
					continue
				}
				if !strings.HasPrefix(t.name, "protoc-gen-rpc") {
					continue
				}
				pw, pm := medians(samples[p.name])
				rw = append(rw, fmt.Sprintf("%.2f× %s", w.Seconds()/pw.Seconds(), p.name))
				rc = append(rc, fmt.Sprintf("%.2f× %s", medianCPU(samples[t.name]).Seconds()/medianCPU(samples[p.name]).Seconds(), p.name))
				rm = append(rm, fmt.Sprintf("%.2f× %s", float64(m)/float64(pm), p.name))
			}
			fmt.Printf("| %s | %s | %.2f s | %.2f s | %.0f MB | %s | %s | %s |\n", t.name, out[t.name], w.Seconds(),
				medianCPU(samples[t.name]).Seconds(), float64(m)/1024,
				strings.Join(rw, ", "), strings.Join(rc, ", "), strings.Join(rm, ", "))
		}
		fmt.Println()
		fmt.Print("raw (wall s / CPU s / RSS MB):")
		for _, t := range tools {
			fmt.Printf(" %s", t.name)
			for _, s := range samples[t.name] {
				fmt.Printf(" %.2f/%.2f/%.0f", s.wall.Seconds(), s.cpu.Seconds(), float64(s.rss)/1024)
			}
			fmt.Print(";")
		}
		fmt.Print("\n\n")
	}
	return nil
}

func synthetic(cache string, scale int) (input, error) {
	name := fmt.Sprintf("synthetic %d×", scale)
	file := filepath.Join(cache, fmt.Sprintf("synth-v%d-%dx.bin", synthVersion, scale))
	if req, err := readRequest(file); err == nil {
		return input{name: name, file: file, st: gen.RequestStats(req)}, nil
	}
	fmt.Fprintf(os.Stderr, "genbench: building the synthetic request at scale %d\n", scale)
	req, err := gen.Synthetic(scale)
	if err != nil {
		return input{}, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return input{}, err
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return input{}, err
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		return input{}, err
	}
	return input{name: name, file: file, st: gen.RequestStats(req)}, nil
}

func readRequest(file string) (*pluginpb.CodeGeneratorRequest, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	req := &pluginpb.CodeGeneratorRequest{}
	if err := proto.Unmarshal(b, req); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return req, nil
}

// withParam returns the file of the input's request with the parameter set.
func withParam(cache string, in input, param string) (string, error) {
	if param == "" {
		return in.file, nil
	}
	out := strings.TrimSuffix(in.file, ".bin") + "." + regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(param, "_") + ".bin"
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	req, err := readRequest(in.file)
	if err != nil {
		return "", err
	}
	req.Parameter = proto.String(param)
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return "", err
	}
	return out, os.WriteFile(out, b, 0o644)
}

// check runs the plugin once and decodes its response.
func check(t tool, file string) (files, size int, err error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(t.bin)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = f, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("%v: %s", err, stderr.String())
	}
	resp := &pluginpb.CodeGeneratorResponse{}
	if err := proto.Unmarshal(stdout.Bytes(), resp); err != nil {
		return 0, 0, err
	}
	if resp.Error != nil {
		return 0, 0, errors.New(resp.GetError())
	}
	for _, f := range resp.File {
		size += len(f.GetContent())
	}
	return len(resp.File), size, nil
}

var (
	wallRE = regexp.MustCompile(`Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)`)
	rssRE  = regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`)
	userRE = regexp.MustCompile(`User time \(seconds\): ([\d.]+)`)
	sysRE  = regexp.MustCompile(`System time \(seconds\): ([\d.]+)`)
)

// measure runs `/usr/bin/time -v plugin < file > /dev/null`. The wall time
// is measured here (GNU time rounds to 10 ms); the peak RSS is time's.
func measure(timeBin string, t tool, file string) (sample, error) {
	f, err := os.Open(file)
	if err != nil {
		return sample{}, err
	}
	defer f.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(timeBin, "-v", t.bin)
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return sample{}, err
	}
	defer devnull.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = f, devnull, &stderr
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%v: %s", err, stderr.String())
	}
	m := rssRE.FindStringSubmatch(stderr.String())
	if m == nil || !wallRE.MatchString(stderr.String()) {
		return sample{}, fmt.Errorf("no figures in the output of %s -v: %s", timeBin, stderr.String())
	}
	rss, _ := strconv.ParseInt(m[1], 10, 64)
	var cpu float64
	for _, re := range []*regexp.Regexp{userRE, sysRE} {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			f, _ := strconv.ParseFloat(m[1], 64)
			cpu += f
		}
	}
	return sample{wall: wall, cpu: time.Duration(cpu * float64(time.Second)), rss: rss}, nil
}

func medianCPU(s []sample) time.Duration {
	c := make([]time.Duration, len(s))
	for i, x := range s {
		c[i] = x.cpu
	}
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func medians(s []sample) (time.Duration, int64) {
	w := make([]time.Duration, len(s))
	m := make([]int64, len(s))
	for i, x := range s {
		w[i], m[i] = x.wall, x.rss
	}
	slices.Sort(w)
	slices.Sort(m)
	if len(s)%2 == 1 {
		return w[len(s)/2], m[len(s)/2]
	}
	return (w[len(s)/2-1] + w[len(s)/2]) / 2, (m[len(s)/2-1] + m[len(s)/2]) / 2
}
