package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// page serves, on its own local origin, an HTML page that calls api with fetch the way a web
// app would: with credentials and an Authorization header, so the browser sends a preflight.
func page(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><title>cors</title><script>
async function call(url) {
  try {
    const r = await fetch(url, {method: "POST", credentials: "include",
      headers: {"Authorization": "Bearer x", "Content-Type": "application/json"}, body: "{}"});
    return r.status + " " + (await r.text()) + " x-total=" + r.headers.get("x-total") + " x-hidden=" + r.headers.get("x-hidden");
  } catch (e) {
    return "refused: " + e;
  }
}
</script>`)
	}))
	t.Cleanup(s.Close)
	return s
}

// fetchFrom loads pageURL in headless Chromium and returns what the page's script sees when it
// calls apiURL.
func fetchFrom(t *testing.T, browser context.Context, pageURL, apiURL string) string {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("load %s in Chromium: %v", pageURL, err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf("call(%q)", apiURL), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run the page's script: %v", err)
	}
	return got
}

// TestBrowserCORS checks CORS in a real browser: a page from an allowed origin calls the HTTP
// API with credentials and reads the answer and the exposed header (not the other); a page from
// another origin is refused by the browser itself, as it would be in the cloud.
func TestBrowserCORS(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("Debian's chromium is required for the browser tests (.ci/run installs it): %v", err)
	}
	allowed, refused := page(t), page(t)
	dir := app(t, fmt.Sprintf(`
app_name: browser
api:
  kind: http
  cors:
    allow_origins: [%s]
    allow_methods: [GET, POST]
    allow_headers: [Authorization, Content-Type]
    expose_headers: [X-Total]
    allow_credentials: true
functions:
  V2: {source: ./v2}
routes:
  - {method: POST, path: "/{action}", function: V2}
`, allowed.URL), "v2")
	r := startRun(t, dir)

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Headless)
	browser, cancelBrowser := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelBrowser()
	browser, cancelTab := chromedp.NewContext(browser)
	defer cancelTab()
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}

	if got, want := fetchFrom(t, browser, allowed.URL, r.url+"/exposed"), `200 {"method":"POST","cookies":0} x-total=42 x-hidden=null`; got != want {
		t.Errorf("page from the allowed origin saw %q, want %q", got, want)
	}
	if got := fetchFrom(t, browser, refused.URL, r.url+"/exposed"); !strings.HasPrefix(got, "refused: TypeError") {
		t.Errorf("page from another origin saw %q, want the browser to refuse the call", got)
	}
	// The refused page's preflight reached devserver and was answered without CORS headers; the
	// POST itself never came.
	if n := strings.Count(r.output.String(), "msg=request method=POST path=/exposed"); n != 1 {
		t.Errorf("devserver served %d POSTs, want 1 (the allowed page's):\n%s", n, r.output.String())
	}
}
