package corpus

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/polyrpc/polyrpc/internal/gen/doc"
	"github.com/polyrpc/polyrpc/internal/gen/rpc"
	"github.com/polyrpc/polyrpc/internal/gen/rpc/rpctest"
)

// tempModule is the module path of the generated code.
const tempModule = "corpus.test"

// TestCorpus generates every set with both plugins. The Go output of
// protoc-gen-go and protoc-gen-rpc goes into one temporary module (the
// protos' Go packages mapped under it with M options and module=), which
// must build and pass go vet; the documents must pass the HTML structure
// checks and be valid JSON.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and vets the generated code of every set")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	var total counts
	type named struct {
		name     string
		req      *pluginpb.CodeGeneratorRequest
		compiled bool
		rpcParam string
	}
	var reqs []named
	for _, s := range Sets {
		req, err := s.Request()
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, named{s.Name, req, s.Compiled, ""})
		if s.Name == "containerd" {
			// The services in sub-packages that import the messages.
			reqs = append(reqs, named{s.Name + "-suffix", req, false, "package_suffix=rpc,use_generic_streams_experimental=false,require_unimplemented_servers=false"})
		}
	}
	// Not published, but every syntax and edition in one request.
	reqs = append(reqs, named{"editions", editionsRequest(t, ""), false, ""})
	for _, n := range reqs {
		c := count(n.req)
		if n.name != "editions" && n.rpcParam == "" {
			total.add(c)
		}
		t.Logf("%-18s %4d files, %3d with services, %3d services, %4d methods", n.name, c.files, c.serviceFiles, c.services, c.methods)
		goFiles, rpcFiles := generateGo(t, n.name, n.req, n.rpcParam)
		if rpcFiles != c.serviceFiles {
			t.Errorf("%s: protoc-gen-rpc wrote %d files, want one per file with services (%d)", n.name, rpcFiles, c.serviceFiles)
		}
		for name, content := range goFiles {
			p := filepath.Join(tmp, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		params := docParams
		if n.compiled {
			params = params[:1] // the other layouts take long on a large set
		}
		if n.rpcParam == "" {
			checkDocs(t, n.name, n.req, params)
		}
	}
	t.Logf("%-18s %4d files, %3d with services, %3d services, %4d methods", "total (published)", total.files, total.serviceFiles, total.services, total.methods)
	writeGoMod(t, root, tmp)
	cmd := exec.Command("go", "vet", "./...")
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go vet of the generated code: %v\n%s", err, out)
	}
}

type counts struct{ files, serviceFiles, services, methods int }

func (c *counts) add(o counts) {
	c.files += o.files
	c.serviceFiles += o.serviceFiles
	c.services += o.services
	c.methods += o.methods
}

func count(req *pluginpb.CodeGeneratorRequest) counts {
	gen := map[string]bool{}
	for _, f := range req.FileToGenerate {
		gen[f] = true
	}
	var c counts
	for _, f := range req.ProtoFile {
		if !gen[f.GetName()] {
			continue
		}
		c.files++
		if len(f.Service) > 0 {
			c.serviceFiles++
		}
		c.services += len(f.Service)
		for _, s := range f.Service {
			c.methods += len(s.Method)
		}
	}
	return c
}

// goParam maps every file of the request (but the well-known types) to a
// Go package under tempModule/set, keeping its go_package path below that
// (or its proto directory when it has none or only a package name), and writes paths relative to
// tempModule.
func goParam(set string, req *pluginpb.CodeGeneratorRequest) string {
	params := []string{"module=" + tempModule}
	for _, f := range req.ProtoFile {
		if strings.HasPrefix(f.GetName(), "google/protobuf/") {
			continue
		}
		imp, _, _ := strings.Cut(f.GetOptions().GetGoPackage(), ";")
		if !strings.Contains(imp, "/") {
			imp = "nogo/" + path.Dir(f.GetName())
		}
		// Internal packages of the original module stay importable.
		imp = strings.ReplaceAll("/"+imp+"/", "/internal/", "/internal_/")
		params = append(params, "M"+f.GetName()+"="+path.Join(tempModule, set, imp))
	}
	return strings.Join(params, ",")
}

// generateGo runs protoc-gen-go on every file of the request (dependencies
// included, as they are mapped into the temporary module) and
// protoc-gen-rpc on the files to generate, with rpcParam added to its
// parameter.
func generateGo(t *testing.T, set string, req *pluginpb.CodeGeneratorRequest, rpcParam string) (files map[string]string, rpcFiles int) {
	t.Helper()
	param := goParam(set, req)
	all := proto.Clone(req).(*pluginpb.CodeGeneratorRequest)
	all.Parameter = proto.String(param)
	all.FileToGenerate = nil
	for _, f := range req.ProtoFile {
		if !strings.HasPrefix(f.GetName(), "google/protobuf/") {
			all.FileToGenerate = append(all.FileToGenerate, f.GetName())
		}
	}
	goResp, err := rpctest.ProtocGenGo(all)
	if err != nil {
		t.Fatalf("%s: %v", set, err)
	}
	r := proto.Clone(req).(*pluginpb.CodeGeneratorRequest)
	r.Parameter = proto.String(param)
	if rpcParam != "" {
		r.Parameter = proto.String(param + "," + rpcParam)
	}
	rpcResp := rpc.Generate(r)
	if rpcResp.Error != nil {
		t.Fatalf("%s: protoc-gen-rpc: %s", set, rpcResp.GetError())
	}
	files = map[string]string{}
	for _, resp := range []*pluginpb.CodeGeneratorResponse{goResp, rpcResp} {
		for _, f := range resp.File {
			if _, dup := files[f.GetName()]; dup {
				t.Errorf("%s: %s generated twice", set, f.GetName())
			}
			files[f.GetName()] = f.GetContent()
		}
	}
	return files, len(rpcResp.File)
}

// writeGoMod makes dir a module that requires what polyrpc requires and
// replaces polyrpc with the working tree.
func writeGoMod(t *testing.T, root, dir string) {
	t.Helper()
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	mod = regexp.MustCompile(`(?m)^module .*$`).ReplaceAll(mod, []byte("module "+tempModule))
	mod = fmt.Appendf(mod, "\nrequire github.com/polyrpc/polyrpc v0.0.0\n\nreplace github.com/polyrpc/polyrpc => %s\n", root)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), mod, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkDocs documents the set with each of params (every format and
// layout), and checks the HTML structure and the JSON.
func checkDocs(t *testing.T, set string, req *pluginpb.CodeGeneratorRequest, params []string) {
	t.Helper()
	for _, param := range params {
		r := proto.Clone(req).(*pluginpb.CodeGeneratorRequest)
		r.Parameter = proto.String(param)
		resp := doc.Generate(r)
		if resp.Error != nil {
			t.Errorf("%s: protoc-gen-rpcdoc %s: %s", set, param, resp.GetError())
			continue
		}
		files := map[string]string{}
		for _, f := range resp.File {
			files[f.GetName()] = f.GetContent()
		}
		for _, err := range checkHTML(files) {
			t.Errorf("%s (%s): %v", set, param, err)
		}
		for name, src := range files {
			if strings.HasSuffix(name, ".md") {
				for _, err := range checkMarkdownTables(name, src) {
					t.Errorf("%s (%s): %v", set, param, err)
				}
			}
		}
	}
}

var dangerousScheme = regexp.MustCompile(`(?i)^\s*(javascript|vbscript|data|file):`)

// checkHTML checks the HTML documents of one run: ids are unique, every
// link into a document of the run resolves to an element, the page has its
// one inline script and nothing else that could run.
func checkHTML(files map[string]string) []error {
	type page struct {
		ids   map[string]int
		links []string
	}
	var errs []error
	pages := map[string]*page{}
	for name, src := range files {
		if !strings.HasSuffix(name, ".html") {
			continue
		}
		root, err := html.Parse(strings.NewReader(src))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", name, err))
			continue
		}
		p := &page{ids: map[string]int{}}
		pages[name] = p
		scripts := 0
		var walk func(n *html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode {
				switch n.DataAtom {
				case atom.Script:
					scripts++
				case atom.Iframe, atom.Object, atom.Embed, atom.Img, atom.Svg, atom.Math, atom.Form, atom.Base:
					errs = append(errs, fmt.Errorf("%s: unexpected <%s>", name, n.Data))
				}
				for _, a := range n.Attr {
					switch {
					case a.Key == "id":
						p.ids[a.Val]++
					case a.Key == "href" && n.DataAtom == atom.A:
						p.links = append(p.links, a.Val)
					}
					if strings.HasPrefix(a.Key, "on") {
						errs = append(errs, fmt.Errorf("%s: event handler %s on <%s>", name, a.Key, n.Data))
					}
					if (a.Key == "href" || a.Key == "src") && dangerousScheme.MatchString(a.Val) {
						errs = append(errs, fmt.Errorf("%s: dangerous URL %q", name, a.Val))
					}
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(root)
		if scripts != 1 {
			errs = append(errs, fmt.Errorf("%s: %d scripts, want the page's own one", name, scripts))
		}
	}
	if len(pages) == 0 {
		errs = append(errs, fmt.Errorf("no HTML generated"))
	}
	for name, p := range pages {
		for id, n := range p.ids {
			if n > 1 {
				errs = append(errs, fmt.Errorf("%s: id %q used %d times", name, id, n))
			}
		}
		for _, l := range p.links {
			if strings.Contains(l, "://") || strings.HasPrefix(l, "mailto:") {
				continue
			}
			target, frag, _ := strings.Cut(l, "#")
			tp := p
			if target != "" {
				tp = pages[path.Join(path.Dir(name), target)]
				if tp == nil {
					errs = append(errs, fmt.Errorf("%s: link %q to a document not generated", name, l))
					continue
				}
			}
			if frag != "" && tp.ids[unescapeFragment(frag)] == 0 {
				errs = append(errs, fmt.Errorf("%s: link %q resolves to no element", name, l))
			}
		}
	}
	return errs
}

func unescapeFragment(s string) string {
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+3], "%02x", &c); err == nil {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestCheckHTML(t *testing.T) {
	good := `<!DOCTYPE html><html><head><script>1</script></head><body><h1 id="a">A</h1><a href="#a">a</a><a href="b.html#b">b</a></body></html>`
	other := `<html><body><p id="b"><script>2</script></p></body></html>`
	if errs := checkHTML(map[string]string{"x/a.html": good, "x/b.html": other}); len(errs) != 0 {
		t.Errorf("good pages: %v", errs)
	}
	for _, bad := range []string{
		`<script>1</script><p id="a"></p><p id="a"></p>`,
		`<script>1</script><a href="#nowhere">x</a>`,
		`<script>1</script><a href="c.html#a">x</a>`,
		`<script>1</script><p onclick="x()"></p>`,
		`<script>1</script><a href="javascript:x()">x</a>`,
		`<script>1</script><script>2</script>`,
		`<script>1</script><img src=x>`,
	} {
		if errs := checkHTML(map[string]string{"x/a.html": bad}); len(errs) == 0 {
			t.Errorf("no error for %s", bad)
		}
	}
}

// checkMarkdownTables checks that every row of every table in a Markdown
// document has as many cells as the table's header: cell text must escape
// | and hold no line breaks.
func checkMarkdownTables(name, src string) []error {
	var errs []error
	cols := 0
	inFence := false
	for i, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
			continue
		}
		if inFence || !strings.HasPrefix(line, "|") {
			cols = 0
			continue
		}
		n := cells(line)
		if cols == 0 {
			cols = n
			continue
		}
		if n != cols {
			errs = append(errs, fmt.Errorf("%s:%d: table row with %d cells, header has %d: %s", name, i+1, n, cols, line))
		}
	}
	return errs
}

// cells counts the cells of a table row: the unescaped | separators, less
// one.
func cells(line string) int {
	n := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n - 1
}

func TestCheckMarkdownTables(t *testing.T) {
	good := "# T\n\n| a | b |\n|---|---|\n| `x\\|y` | z |\n\n```\n| not | a | table |\n```\n| c |\n|---|\n| d |\n"
	if errs := checkMarkdownTables("good.md", good); len(errs) != 0 {
		t.Errorf("good table: %v", errs)
	}
	for _, bad := range []string{
		"| a | b |\n|---|---|\n| x | y | z |\n",
		"| a | b |\n|---|---|\n| `x|y` | z |\n",
		"| a | b |\n|---|---|\n| x\n| y |\n",
	} {
		if errs := checkMarkdownTables("bad.md", bad); len(errs) == 0 {
			t.Errorf("no error for %q", bad)
		}
	}
}
