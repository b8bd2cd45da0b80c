package doc

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// chromium finds the browser. In CI (CI=true) it must be present.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("POLYRPC_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found; CI must install it (apt-get install chromium)")
	}
	t.Skip("chromium not found (set CI=true to make this a failure)")
	return ""
}

func artifactsDir(t *testing.T) string {
	if d := os.Getenv("POLYRPC_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// browser starts a headless Chromium with a fresh profile and collects
// console errors and uncaught exceptions.
func browser(t *testing.T, width, height int) (context.Context, func() []string) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	var mu sync.Mutex
	var problems []string
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				problems = append(problems, m.String()+" "+m.URL)
				mu.Unlock()
			}
		}
	}()
	return ctx, func() []string {
		// Let late messages arrive.
		_ = chromedp.Do(ctx, chromedp.Sleep(100*time.Millisecond))
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), problems...)
	}
}

func writeOutputs(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx, problems := browser(t, 1280, 900)
	dir := writeOutputs(t, generate(t, compileRequest(t, "", goldenFiles...)))
	page := "file://" + filepath.ToSlash(filepath.Join(dir, "index.html"))

	if err := chromedp.Do(ctx,
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.ID("rpcdoc-search")),
	); err != nil {
		t.Fatalf("loading %s: %v", page, err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil || title != "API Reference" {
		t.Errorf("title %q (err %v)", title, err)
	}

	clearSearch := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`document.getElementById("rpcdoc-search").value = ""; true`)(ctx, t)
		return err
	})
	// Search narrows as more words are typed.
	count := func(q string) int {
		t.Helper()
		if err := chromedp.Do(ctx,
			clearSearch,
			chromedp.SendKeys(chromedp.ID("rpcdoc-search"), q),
		); err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.getElementById("rpcdoc-toc").hidden ? document.querySelectorAll("#rpcdoc-results li:not(.none)").length : -1`))
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		return n
	}
	broad := count("product")
	narrow := count("product kind")
	none := count("zzzz-no-such-thing")
	if broad <= 0 || narrow <= 0 || narrow >= broad || none != 0 {
		t.Errorf("search results: product=%d, product kind=%d, nonsense=%d; want 0 < narrow < broad and none", broad, narrow, none)
	}
	// Comments are searched too, not only names.
	if n := count("warehouse code"); n <= 0 {
		t.Errorf("search over comment text found %d results", n)
	}
	// A single page indexes itself, ranked as the run's index is: the
	// exact name first, the message before fields of the same name.
	count("product")
	firstResult, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function () {
  var a = document.querySelector("#rpcdoc-results li[role=option] a");
  return a ? a.querySelector(".k").title + " " + a.getAttribute("href") : "";
})()`))
	if err != nil || firstResult != "message #acme.shop.v1.Product" {
		t.Errorf("search product: first result %q (err %v), want the message", firstResult, err)
	}
	// Clearing the search brings the table of contents back.
	if err := chromedp.Do(ctx,
		clearSearch,
		chromedp.SendKeys(chromedp.ID("rpcdoc-search"), "x\b"),
	); err != nil {
		t.Fatal(err)
	}
	tocVisible, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.getElementById("rpcdoc-toc").hidden && document.getElementById("rpcdoc-results").hidden`))
	if err != nil || !tocVisible {
		t.Errorf("table of contents not restored after clearing search (err %v)", err)
	}

	// Following a type link moves to the definition.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#acme\.shop\.v1\.Shop\.GetProduct .sig a[href="#acme.shop.v1.Product"]`)),
		chromedp.Sleep(200*time.Millisecond),
	); err != nil {
		t.Fatalf("following a type link: %v", err)
	}
	hash, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.hash`))
	if err != nil {
		t.Fatal(err)
	}
	top, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById("acme.shop.v1.Product").getBoundingClientRect().top`))
	if err != nil {
		t.Fatal(err)
	}
	if hash != "#acme.shop.v1.Product" || top < 0 || top > 300 {
		t.Errorf("after clicking the Product link: hash %q, target top %.0fpx", hash, top)
	}

	// The copy button works without errors (the clipboard may be refused).
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button.copy`)), chromedp.Sleep(100*time.Millisecond)); err != nil {
		t.Errorf("copy button: %v", err)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(page+"#rpcdoc-top")); err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	out := filepath.Join(artifactsDir(t), "rpcdoc-browser.png")
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", out)
	// A method with its call details, as the README shows it.
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("acme.shop.v1.Shop").scrollIntoView(); true`)); err != nil {
		t.Fatal(err)
	}
	if shot, err = chromedp.Run(ctx, chromedp.CaptureScreenshot()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifactsDir(t), "rpcdoc-browser-method.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("acme.shop.v1.Product").scrollIntoView(); true`)); err != nil {
		t.Fatal(err)
	}
	if shot, err = chromedp.Run(ctx, chromedp.CaptureScreenshot()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifactsDir(t), "rpcdoc-browser-message.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}

	// Dark mode follows the system setting.
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
		})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
	if err != nil || bg != "rgb(13, 17, 23)" {
		t.Errorf("dark mode background %q (err %v)", bg, err)
	}
	if shot, err = chromedp.Run(ctx, chromedp.CaptureScreenshot()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifactsDir(t), "rpcdoc-browser-dark.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}

	if p := problems(); len(p) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(p, "\n"))
	}
}

// TestBrowserNarrowScreen checks the phone layout: the table of contents
// hides behind the menu button, and cross-document links work.
func TestBrowserNarrowScreen(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx, problems := browser(t, 390, 800)
	dir := writeOutputs(t, generate(t, compileRequest(t, "layout=package", goldenFiles...)))
	page := "file://" + filepath.ToSlash(filepath.Join(dir, "acme/shop/v1/index.html"))
	navDisplay := chromedp.Evaluate[string](`getComputedStyle(document.getElementById("rpcdoc-nav")).display`)
	if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("rpcdoc-menu"))); err != nil {
		t.Fatal(err)
	}
	navBefore, err := chromedp.Run(ctx, navDisplay)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("rpcdoc-menu"))); err != nil {
		t.Fatal(err)
	}
	navAfter, err := chromedp.Run(ctx, navDisplay)
	if err != nil {
		t.Fatal(err)
	}
	if navBefore != "none" || navAfter != "block" {
		t.Errorf("menu: nav display %q before and %q after opening", navBefore, navAfter)
	}
	// A link into another package's document.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("rpcdoc-menu")),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			// The row may be scrolled sideways on a phone; follow the link as a tap would.
			_, err := chromedp.Evaluate[bool](`document.querySelector("#acme\\.shop\\.v1\\.Product\\.price a.type").click(); true`)(ctx, t)
			return err
		}),
	); err != nil {
		t.Fatalf("cross-document link: %v", err)
	}
	var href string
	for i := 0; i < 50; i++ { // the new document loads asynchronously
		href, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState === "complete" && document.getElementById("acme.common.v1.Money") ? location.pathname.replace(/^.*\/acme\//, "acme/") + location.hash : ""`))
		if err == nil && href != "" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if href != "acme/common/v1/index.html#acme.common.v1.Money" {
		t.Errorf("cross-document link led to %q", href)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifactsDir(t), "rpcdoc-browser-narrow.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(p, "\n"))
	}
}
