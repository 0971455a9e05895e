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

// TestBrowserCORS checks CORS in a real browser, headless Chromium, as a web app meets it. On an
// HTTP API a page from an allowed origin calls with credentials and reads the answer and the
// exposed header (not the other); a page from another origin is refused by the browser itself.
// On a REST API the preflight passes for the allowed origin, but the call succeeds only where the
// function sets the CORS headers itself, as in the cloud; another origin is refused.
func TestBrowserCORS(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("Debian's chromium is required for the browser tests (.ci/run installs it): %v", err)
	}
	allowed, refused := page(t), page(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Headless)
	browser, cancelBrowser := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelBrowser()
	browser, cancelTab := chromedp.NewContext(browser)
	defer cancelTab()
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}

	t.Run("HTTP API", func(t *testing.T) {
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
		if got, want := fetchFrom(t, browser, allowed.URL, r.url+"/exposed"), `200 {"method":"POST","cookies":0} x-total=42 x-hidden=null`; got != want {
			t.Errorf("page from the allowed origin saw %q, want %q", got, want)
		}
		if got := fetchFrom(t, browser, refused.URL, r.url+"/exposed"); !strings.HasPrefix(got, "refused: TypeError") {
			t.Errorf("page from another origin saw %q, want the browser to refuse the call", got)
		}
		// The refused page's preflight reached devserver and was answered without CORS headers;
		// the POST itself never came. Its access line is the last one: once it is out, so are
		// the earlier ones.
		r.waitCount(t, "msg=request method=OPTIONS path=/exposed", 2)
		if n := strings.Count(r.output.String(), "msg=request method=POST path=/exposed"); n != 1 {
			t.Errorf("devserver served %d POSTs, want 1 (the allowed page's):\n%s", n, r.output.String())
		}
	})
	t.Run("REST API", func(t *testing.T) {
		dir := app(t, fmt.Sprintf(`
app_name: browser-rest
api:
  kind: rest
  cors:
    allow_origins: %[1]s
    allow_headers: [Authorization, Content-Type]
    allow_credentials: true
functions:
  Fault: {source: ./fault, environment: {CORS_ORIGIN: "%[1]s"}}
routes:
  - {method: POST, path: "/{action}", function: Fault}
`, allowed.URL), "fault")
		r := startRun(t, dir)
		if got, want := fetchFrom(t, browser, allowed.URL, r.url+"/cors"), "200 cors x-total=null x-hidden=null"; got != want {
			t.Errorf("page from the allowed origin, function with CORS headers, saw %q, want %q", got, want)
		}
		if got := fetchFrom(t, browser, allowed.URL, r.url+"/ok"); !strings.HasPrefix(got, "refused: TypeError") {
			t.Errorf("page from the allowed origin, function without CORS headers, saw %q, want a refusal", got)
		}
		if got := fetchFrom(t, browser, refused.URL, r.url+"/cors"); !strings.HasPrefix(got, "refused: TypeError") {
			t.Errorf("page from another origin saw %q, want the browser to refuse the call", got)
		}
		// The allowed page's two POSTs came (the second answered without CORS headers, so its
		// script saw nothing); the other page's never did: only its preflight, the last request.
		r.waitCount(t, "msg=request method=OPTIONS", 3)
		if n := strings.Count(r.output.String(), "msg=request method=POST"); n != 2 {
			t.Errorf("devserver served %d POSTs, want 2:\n%s", n, r.output.String())
		}
	})
}
