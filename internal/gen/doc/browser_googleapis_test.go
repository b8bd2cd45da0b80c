package doc

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/polyrpc/polyrpc/internal/gen/doc/doctest"
)

// The layout and search of real APIs nobody here wrote: googleapis-full's
// pubsub v1, storage v2 and cloud tasks v2, one document per package.

var googleAPIsPages = []string{"google/pubsub/v1", "google/storage/v2", "google/cloud/tasks/v2"}

// overflowJS lists what is wider than its room: field and value tables
// wider than their wrapper, and the page wider than the screen.
const overflowJS = `(function () {
  var out = {page: document.documentElement.scrollWidth, tables: 0, over: []};
  var ts = document.querySelectorAll("table.fields, table.values");
  out.tables = ts.length;
  for (var i = 0; i < ts.length; i++) {
    var w = ts[i].parentElement, r = ts[i].getBoundingClientRect(), wr = w.getBoundingClientRect();
    if (w.scrollWidth > w.clientWidth + 1 || r.right > wr.right + 1)
      out.over.push(ts[i].closest("section").id + " (" + w.scrollWidth + " > " + w.clientWidth + ")");
  }
  return JSON.stringify(out);
})()`

type overflow struct {
	Page   int      `json:"page"`
	Tables int      `json:"tables"`
	Over   []string `json:"over"`
}

// setViewport sets the size of the page as a device of that width would.
func setViewport(width, height int64) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: width, Height: height, DeviceScaleFactor: 1, Mobile: width < 600,
		})
		return err
	})
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(artifactsDir(t), name), shot, 0o644); err != nil {
		t.Fatal(err)
	}
}

func googleAPIsSite(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium(t)
	return writeOutputs(t, generate(t, doctest.GoogleAPIs(t, "layout=package")))
}

func pageURL(dir, doc string) string {
	return "file://" + filepath.ToSlash(filepath.Join(dir, filepath.FromSlash(doc), "index.html"))
}

// TestBrowserGoogleAPIs checks the layout, the search and the table of
// contents in one browser.
func TestBrowserGoogleAPIs(t *testing.T) {
	dir := googleAPIsSite(t)
	ctx, problems := browser(t, 1280, 900)
	t.Run("layout", func(t *testing.T) { checkGoogleAPIsLayout(t, ctx, dir) })
	t.Run("search", func(t *testing.T) { checkGoogleAPIsSearch(t, ctx, dir) })
	t.Run("contents", func(t *testing.T) { checkGoogleAPIsContents(t, ctx, dir) })
	if p := problems(); len(p) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(p, "\n"))
	}
}

// checkGoogleAPIsLayout: no field or value table is wider than the main
// column from 1280 px up, and on a 390 px phone the page is no wider than
// the screen.
func checkGoogleAPIsLayout(t *testing.T, ctx context.Context, dir string) {
	for _, width := range []int64{1280, 1920, 390} {
		for _, doc := range googleAPIsPages {
			if err := chromedp.Do(ctx, setViewport(width, 900), chromedp.Navigate(pageURL(dir, doc))); err != nil {
				t.Fatalf("%s at %d px: %v", doc, width, err)
			}
			s, err := chromedp.Run(ctx, chromedp.Evaluate[string](overflowJS))
			if err != nil {
				t.Fatal(err)
			}
			var o overflow
			if err := json.Unmarshal([]byte(s), &o); err != nil {
				t.Fatal(err)
			}
			if o.Tables < 20 {
				t.Errorf("%s: %d tables; the page is not the API's", doc, o.Tables)
			}
			if width >= 1280 && len(o.Over) > 0 {
				t.Errorf("%s at %d px: %d of %d tables overflow: %s", doc, width, len(o.Over), o.Tables, strings.Join(o.Over, ", "))
			}
			if width < 1280 && o.Page > int(width) {
				t.Errorf("%s at %d px: the page is %d px wide", doc, width, o.Page)
			}
			if doc == googleAPIsPages[0] || width == 390 {
				name := fmt.Sprintf("rpcdoc-%s-%d.png", strings.ReplaceAll(strings.TrimPrefix(doc, "google/"), "/", "-"), width)
				if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`var s = document.getElementById("google.pubsub.v1.Subscription"); if (s) s.scrollIntoView(); true`)); err != nil {
					t.Fatal(err)
				}
				screenshot(t, ctx, name)
			}
		}
	}
	if err := chromedp.Do(ctx, setViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
}

// searchResult is one row of the search results.
type searchResult struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	JSON string `json:"json"`
	Href string `json:"href"`
}

const resultsJS = `document.getElementById("rpcdoc-results").hasAttribute("aria-busy") ? "[]" : JSON.stringify(Array.prototype.map.call(document.querySelectorAll("#rpcdoc-results li[role=option] a"), function (a) {
  var j = a.querySelector(".j");
  return {kind: a.querySelector(".k").title, name: a.querySelector(".n").textContent, json: j ? j.textContent : "", href: a.href};
}))`

// checkGoogleAPIsSearch: one index for the run, ranked, JSON names
// included, driven from the keyboard.
func checkGoogleAPIsSearch(t *testing.T, ctx context.Context, dir string) {
	pubsub := pageURL(dir, "google/pubsub/v1")
	if err := chromedp.Do(ctx, chromedp.Navigate(pubsub), chromedp.WaitVisible(chromedp.ID("rpcdoc-search"))); err != nil {
		t.Fatal(err)
	}
	clear := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`var i = document.getElementById("rpcdoc-search"); i.value = ""; i.dispatchEvent(new Event("input")); true`)(ctx, t)
		return err
	})
	search := func(q string) []searchResult {
		t.Helper()
		if err := chromedp.Do(ctx, clear, chromedp.SendKeys(chromedp.ID("rpcdoc-search"), q)); err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		var got []searchResult
		for i := 0; i < 50; i++ { // the index loads on first use
			s, err := chromedp.Run(ctx, chromedp.Evaluate[string](resultsJS))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(s), &got); err != nil {
				t.Fatal(err)
			}
			if len(got) > 0 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if len(got) == 0 {
			t.Fatalf("search %q: no results", q)
		}
		return got
	}
	first := func(q string, want searchResult) {
		t.Helper()
		got := search(q)
		g := got[0]
		if g.Kind != want.Kind || g.Name != want.Name || !strings.HasSuffix(g.Href, want.Href) || (want.JSON != "" && g.JSON != want.JSON) {
			t.Errorf("search %q: first result %+v, want %+v", q, g, want)
		}
	}
	// An exact name ranks first; a message before a field of the same name.
	first("Subscription", searchResult{Kind: "message", Name: "Subscription", Href: "/google/pubsub/v1/index.html#google.pubsub.v1.Subscription"})
	first("subscription", searchResult{Kind: "message", Name: "Subscription", Href: "/google/pubsub/v1/index.html#google.pubsub.v1.Subscription"})
	// The index holds the whole run: messages of other packages.
	first("Queue", searchResult{Kind: "message", Name: "Queue", Href: "/google/cloud/tasks/v2/index.html#google.cloud.tasks.v2.Queue"})
	first("Bucket", searchResult{Kind: "message", Name: "Bucket", Href: "/google/storage/v2/index.html#google.storage.v2.Bucket"})
	// JSON names are indexed.
	first("ackDeadlineSeconds", searchResult{Kind: "field", Name: "ack_deadline_seconds", JSON: "ackDeadlineSeconds"})
	// Exact before prefix: the method, then the messages named after it.
	got := search("ListTopics")
	if got[0].Kind != "method" || got[0].Name != "ListTopics" || len(got) < 3 || !strings.HasPrefix(got[1].Name, "ListTopics") {
		t.Errorf("search ListTopics: %+v", got[:min(3, len(got))])
	}
	// Names before comments: once a result matches only by its comment,
	// no later one matches by name.
	got = search("deadline")
	commentOnly := -1
	for i, r := range got {
		byName := strings.Contains(strings.ToLower(r.Name+" "+r.JSON+" "+r.Href[strings.LastIndexByte(r.Href, '#'):]), "deadline")
		if !byName && commentOnly < 0 {
			commentOnly = i
		}
		if byName && commentOnly >= 0 {
			t.Errorf("search deadline: %s (#%d) matches by name after %s (#%d), which matches only by comment", r.Name, i, got[commentOnly].Name, commentOnly)
			break
		}
	}
	if commentOnly <= 0 {
		t.Errorf("search deadline: comment-only matches at %d; want name matches first, then comment ones", commentOnly)
	}
	// A distinct marker per kind.
	marks, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function () {
  var seen = {};
  document.querySelectorAll("#rpcdoc-results .k").forEach(function (k) { seen[k.title] = k.textContent + " " + getComputedStyle(k).backgroundColor; });
  return JSON.stringify(seen);
})()`))
	if err != nil {
		t.Fatal(err)
	}
	var seen map[string]string
	if err := json.Unmarshal([]byte(marks), &seen); err != nil {
		t.Fatal(err)
	}
	distinct := map[string]string{}
	for kind, mark := range seen {
		if other, dup := distinct[mark]; dup {
			t.Errorf("kinds %s and %s share the marker %q", kind, other, mark)
		}
		distinct[mark] = kind
	}
	if len(seen) < 3 {
		t.Errorf("search deadline shows kinds %v; want several", seen)
	}
	screenshot(t, ctx, "rpcdoc-googleapis-search.png")

	// Keyboard: arrows move, Enter opens, Esc closes.
	search("PushConfig")
	active := chromedp.Evaluate[string](`(document.getElementById("rpcdoc-search").getAttribute("aria-activedescendant") || "") + " " + (document.querySelector("#rpcdoc-results li.active .n") || {textContent: ""}).textContent`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("rpcdoc-search"), kb.ArrowDown+kb.ArrowDown)); err != nil {
		t.Fatal(err)
	}
	if a, err := chromedp.Run(ctx, active); err != nil || !strings.HasPrefix(a, "rpcdoc-r1 ") {
		t.Errorf("after two ArrowDowns the active result is %q (err %v), want the second", a, err)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("rpcdoc-search"), kb.ArrowUp)); err != nil {
		t.Fatal(err)
	}
	if a, err := chromedp.Run(ctx, active); err != nil || a != "rpcdoc-r0 PushConfig" {
		t.Errorf("after ArrowUp the active result is %q (err %v), want rpcdoc-r0 PushConfig", a, err)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("rpcdoc-search"), kb.Enter), chromedp.Sleep(200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	state := chromedp.Evaluate[string](`location.hash + " " + document.getElementById("rpcdoc-results").hidden + " " + document.getElementById("rpcdoc-toc").hidden + " " + JSON.stringify(document.getElementById("rpcdoc-search").value)`)
	if s, err := chromedp.Run(ctx, state); err != nil || s != `#google.pubsub.v1.PushConfig true false ""` {
		t.Errorf("after Enter: %q (err %v); want the PushConfig section and the table of contents back", s, err)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("rpcdoc-search"), "ack"), chromedp.SendKeys(chromedp.ID("rpcdoc-search"), kb.Escape)); err != nil {
		t.Fatal(err)
	}
	if s, err := chromedp.Run(ctx, state); err != nil || s != `#google.pubsub.v1.PushConfig true false ""` {
		t.Errorf("after Esc: %q (err %v); want the search closed and cleared", s, err)
	}
	// Enter on a result in another document opens it.
	search("CloudTasks")
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("rpcdoc-search"), kb.Enter)); err != nil {
		t.Fatal(err)
	}
	var where string
	for i := 0; i < 50; i++ {
		where, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState === "complete" ? location.pathname.replace(/^.*\/google\//, "google/") + location.hash : ""`))
		if err == nil && strings.HasPrefix(where, "google/cloud/") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if where != "google/cloud/tasks/v2/index.html#google.cloud.tasks.v2.CloudTasks" {
		t.Errorf("Enter on a result of another document led to %q", where)
	}
}

// checkGoogleAPIsContents: the table of contents nests types under their
// parents, shows every name whole, and marks the section being read.
func checkGoogleAPIsContents(t *testing.T, ctx context.Context, dir string) {
	pubsub := pageURL(dir, "google/pubsub/v1")

	if err := chromedp.Do(ctx, chromedp.Navigate(pubsub)); err != nil {
		t.Fatal(err)
	}
	toc, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function () {
  var a = document.querySelector('#rpcdoc-toc a[href="#google.pubsub.v1.Subscription.State"]');
  var parent = a && a.parentElement.parentElement.closest("li").querySelector("a").getAttribute("href");
  var cut = [];
  document.querySelectorAll("#rpcdoc-toc li a").forEach(function (l) {
    if (l.scrollWidth > l.clientWidth + 1 && !l.title) cut.push(l.textContent);
  });
  var untitled = document.querySelectorAll("#rpcdoc-toc li[class^=k-]:not(.k-ext) > a:not([title])").length;
  return parent + " " + cut.length + " " + untitled;
})()`))
	if err != nil || toc != "#google.pubsub.v1.Subscription 0 0" {
		t.Errorf("table of contents: %q (err %v); want Subscription.State under Subscription, no cut names, every entry titled", toc, err)
	}

	// The current section is marked as the page scrolls, and kept in view.
	current := func(id string) string {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById(`+jsString(id)+`).scrollIntoView(); true`)); err != nil {
			t.Fatal(err)
		}
		var got string
		for i := 0; i < 20; i++ {
			got, err = chromedp.Run(ctx, chromedp.Evaluate[string](`(function () {
  var a = document.querySelectorAll("#rpcdoc-toc a.current");
  if (a.length !== 1) return a.length + " marked";
  var r = a[0].getBoundingClientRect(), n = document.getElementById("rpcdoc-nav").getBoundingClientRect();
  return a[0].getAttribute("href") + (r.top >= n.top && r.bottom <= n.bottom ? "" : " (out of view)") + " " + a[0].getAttribute("aria-current");
})()`))
			if err == nil && strings.HasPrefix(got, "#"+id+" ") {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		return got
	}
	for _, id := range []string{"google.pubsub.v1.Subscription", "google.pubsub.v1.Publisher.Publish", "google.pubsub.v1.Topic.State", "google.pubsub.v1.Topic"} {
		if got := current(id); got != "#"+id+" location" {
			t.Errorf("scrolled to %s: marked %q", id, got)
		}
	}
	screenshot(t, ctx, "rpcdoc-googleapis-current.png")
}

// jsString quotes s for JavaScript.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
