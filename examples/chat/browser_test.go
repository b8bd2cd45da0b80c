package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// findChromium returns the browser to drive. Without one the test is
// skipped, except in CI, where .ci/run installs Chromium and the test must run.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found; CI must run the browser test (.ci/run installs it)")
	}
	t.Skip("chromium not found; install it (apt-get install chromium) to run the browser test")
	return ""
}

// artifactDir is where screenshots go: $POLYRPC_ARTIFACTS, or a temporary
// directory of the test.
func artifactDir(t *testing.T) string {
	if dir := os.Getenv("POLYRPC_ARTIFACTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// TestBrowser drives the chat page in headless Chromium: two tabs join one
// room, a note sent in one shows up in the other within a second, history
// comes back on reload, and closing a tab ends its stream on the server.
func TestBrowser(t *testing.T) {
	exe := findChromium(t)

	hub := NewHub(100, 64)
	var historyGETs atomic.Int32
	api := newHandler(hub)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/chat.v1.ChatService/History" {
			historyGETs.Add(1)
		}
		api.ServeHTTP(w, r)
	}))
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(800, 600),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()

	// A tab per person. The first one starts the browser.
	alice, closeAlice := chromedp.NewContext(allocCtx)
	defer closeAlice()
	if err := chromedp.Do(alice); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	bob, closeBob := chromedp.NewContext(alice)
	defer closeBob()

	// Any console error or uncaught exception in the page fails the test.
	var mu sync.Mutex
	var consoleErrors []string
	for name, tab := range map[string]context.Context{"alice": alice, "bob": bob} {
		if err := chromedp.Do(tab); err != nil { // opens the tab
			t.Fatal(err)
		}
		messages := chromedp.Console(tab)
		go func() {
			for m, err := range messages {
				if err != nil {
					return
				}
				if m.Type == chromedp.ConsoleError || m.IsException() {
					mu.Lock()
					consoleErrors = append(consoleErrors, fmt.Sprintf("%s: %s", name, m))
					mu.Unlock()
				}
			}
		}()
	}

	do := func(tab context.Context, what string, timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(tab, timeout)
		defer cancel()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	following := chromedp.Poll[chromedp.Void](
		`document.getElementById("status").textContent === "following #test"`,
		chromedp.WithPollingInterval(20*time.Millisecond))
	shows := func(text string, timeout time.Duration) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](
			fmt.Sprintf(`[...document.querySelectorAll("#notes li")].some(li => li.textContent.includes(%q))`, text),
			chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(timeout))
	}

	do(alice, "alice joins", 10*time.Second, chromedp.Navigate(srv.URL+"/?room=test&name=alice"), following)
	do(bob, "bob joins", 10*time.Second, chromedp.Navigate(srv.URL+"/?room=test&name=bob"), following)
	waitFor(t, "two subscribers", func() bool { return hub.Subscribers("test") == 2 })

	// Alice sends; Bob sees it within a second.
	do(alice, "alice sends", 5*time.Second,
		chromedp.SendKeys(chromedp.ID("text"), "hello from alice"),
		chromedp.Click(chromedp.CSS("#send button")),
	)
	start := time.Now()
	do(bob, "bob sees alice's note within a second", 5*time.Second, shows("hello from alice", time.Second))
	t.Logf("the note reached the other tab in %v", time.Since(start).Round(time.Millisecond))

	// And the other way round.
	do(bob, "bob replies", 5*time.Second,
		chromedp.SendKeys(chromedp.ID("text"), "hi alice <script>alert(1)</script>"),
		chromedp.Click(chromedp.CSS("#send button")),
	)
	do(alice, "alice sees bob's reply within a second", 5*time.Second, shows("hi alice <script>alert(1)</script>", time.Second))

	// Bob reloads: the page fetches the history with a GET and shows each
	// note once.
	before := historyGETs.Load()
	do(bob, "bob reloads", 10*time.Second, chromedp.Reload(), following, shows("hello from alice", time.Second), shows("hi alice", time.Second))
	if historyGETs.Load() == before {
		t.Error("the reloaded page did not GET the history")
	}
	count, err := chromedp.Run(bob, chromedp.Evaluate[int](`document.querySelectorAll("#notes li").length`))
	if err != nil {
		t.Fatal(err)
	}
	if count != 2 {
		t.Errorf("after reload the page shows %d notes, want 2", count)
	}
	// The stream of the page before the reload has ended.
	waitFor(t, "two subscribers after the reload", func() bool { return hub.Subscribers("test") == 2 })

	shot, err := chromedp.Run(alice, chromedp.FullScreenshot(100)) // quality 100 makes a PNG
	if err != nil {
		t.Fatal(err)
	}
	artifacts := artifactDir(t)
	path := filepath.Join(artifacts, "chat.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)

	// Closing Bob's tab ends his stream on the server.
	closeBob()
	waitFor(t, "the closed tab's stream to end", func() bool { return hub.Subscribers("test") == 1 })

	// The API docs are served next to the page; leaving the page ends the
	// last stream.
	do(alice, "alice opens the API docs", 10*time.Second,
		chromedp.Navigate(srv.URL+"/docs/"),
		chromedp.Poll[chromedp.Void](`document.title.includes("Chat API") && document.getElementById("chat.v1.ChatService") !== null`,
			chromedp.WithPollingInterval(20*time.Millisecond)),
	)
	waitFor(t, "the stream of the page left behind to end", func() bool { return hub.Subscribers("test") == 0 })
	shot, err = chromedp.Run(alice, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifacts, "chat-docs.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(consoleErrors) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(consoleErrors, "\n"))
	}
}
