package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/devserver/devserver/internal/testkit"
)

// screenshots, when set, is a folder the inspector test copies its screenshots to (they are
// written under the test's temporary folder either way). The README's is docs/inspector.png.
var screenshots = flag.String("screenshots", "", "copy the inspector test's screenshots to this folder")

// inspectedSource is a function that prints a line, fails on /fail, and answers "<version> echo: <body>".
func inspectedSource(version string) string {
	return `package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handler(_ context.Context, e events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	fmt.Println("echo handling", e.HTTPMethod, e.Path)
	if e.Path == "/fail" {
		return events.APIGatewayProxyResponse{}, errors.New("the function failed on purpose")
	}
	return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "text/plain"}, Body: "` + version + ` echo: " + e.Body}, nil
}

func main() {
	lambda.Start(handler)
}
`
}

const echoConfig = `app_name: inspector-e2e
api:
  kind: rest
  stage: api
functions:
  Echo:
    source: ./echo
    memory: 128
    timeout: 3
routes:
  - method: ANY
    path: /{proxy+}
    function: Echo
`

// chromium finds Debian's chromium; the test fails rather than skips without it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed: the inspector's tests drive a real browser (apt-get install -y chromium; .ci/run installs it)")
	return ""
}

// browser starts headless Chromium for the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // the tests run as root in CI
		chromedp.WindowSize(1440, 1000),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first run starts the browser, under a context without a deadline: it lives as long.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// within runs actions, failing the test if they do not finish within d.
func within(t *testing.T, ctx context.Context, d time.Duration, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	bounded, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(bounded, steps...); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("%s: %v\npage text:\n%s", what, err, page)
	}
}

// until waits for a JavaScript expression to be true.
func until(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(20*time.Millisecond))
}

// change sets a select's value as a person would, so that its change handler runs.
func change(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](fmt.Sprintf(`(e => { e.value = %q; return e.dispatchEvent(new Event("change")); })(document.querySelector(%q))`, value, sel))(ctx, t)
		return err
	})
}

func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }

// textHas is a JavaScript expression: the element's text contains s.
func textHas(sel, s string) string {
	return fmt.Sprintf(`(document.querySelector(%q)?.textContent ?? "").includes(%q)`, sel, s)
}

// shooter writes screenshots of the page under dir, and to -screenshots too when set.
type shooter struct {
	t   *testing.T
	ctx context.Context
	dir string
}

func (s *shooter) shot(name string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	for _, dir := range []string{s.dir, *screenshots} {
		if dir == "" {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			s.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
}

// inspectorURL is the inspector's address from the banner.
func (r *running) inspectorURL(t *testing.T) string {
	t.Helper()
	r.waitOutput(t, "Inspector on ")
	m := regexp.MustCompile(`(?m)^Inspector on (http://\S+)$`).FindStringSubmatch(r.output.String())
	if m == nil {
		t.Fatalf("no inspector URL in the banner:\n%s", r.output.String())
	}
	return m[1]
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestInspectorInBrowser drives the inspector's page in headless Chromium against the real
// binary: requests show up live, an entry opens with its event and log, a replay with an edited
// body shows the new answer beside the old, a function error is marked, filters work, and
// reloads (a good one and a broken one) appear in the history.
func TestInspectorInBrowser(t *testing.T) {
	dir := testkit.Module(t, map[string]string{"config.yaml": echoConfig, "echo/main.go": inspectedSource("v1")})
	r := startRun(t, dir, "--verbose")
	inspector := r.inspectorURL(t)
	ctx := browser(t)
	shots := &shooter{t: t, ctx: ctx, dir: filepath.Join(t.TempDir(), "screenshots")}
	t.Logf("screenshots in %s", shots.dir)

	within(t, ctx, 30*time.Second, "open the inspector", chromedp.Navigate(inspector), until(`document.querySelector("#conn.live") !== null`))
	within(t, ctx, 5*time.Second, "the initial build in the history", until(`document.querySelector('#builds li.build[data-kind="initial"]') !== null`))

	// A request made outside the browser appears in the list without a reload.
	if status, body := post(t, r.url+"/echo", "hello inspector"); status != 200 || body != "v1 echo: hello inspector" {
		t.Fatalf("POST /echo = %d %q", status, body)
	}
	row := `#entries tbody tr[data-path="/echo"]`
	within(t, ctx, time.Second, "the request in the list within a second", chromedp.WaitVisible(chromedp.CSS(row)))
	within(t, ctx, 10*time.Second, "the request answered in the list", until(textHas(row+" td.status", "200")))
	// Later requests to /echo come above it: from here on the row is named by its id.
	id, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).dataset.id`, row)))
	if err != nil {
		t.Fatal(err)
	}
	row = fmt.Sprintf(`#entries tbody tr[data-id="%s"]`, id)
	for i := range 3 {
		httpGet(t, fmt.Sprintf("%s/items/%d?page=%d", r.url, i, i))
	}
	within(t, ctx, 10*time.Second, "more requests in the list", until(`document.querySelectorAll("#entries tbody tr").length === 4`))

	// Opening it shows the event and the function's log line.
	within(t, ctx, 10*time.Second, "open the entry",
		click(row),
		until(textHas("#detail-event", `"body": "hello inspector"`)),
		until(textHas("#detail-log", "echo handling POST /echo")),
		until(textHas("#detail-log", "REPORT RequestId:")),
		until(textHas("#detail-response", "v1 echo: hello inspector")),
		until(textHas("#detail-curl", "--data-binary 'hello inspector'")))
	shots.shot("entry")

	// The event downloads as a JSON file.
	link, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#save-event"), "href"))
	if err != nil || !link.Exists {
		t.Fatalf("the save-event link: %v %+v", err, link)
	}
	status, event := httpGet(t, inspector+link.Value)
	var ev struct{ Body string }
	if err := json.Unmarshal([]byte(event), &ev); status != 200 || err != nil || ev.Body != "hello inspector" {
		t.Errorf("saved event: %d %v %.200s", status, err, event)
	}

	// A replay with an edited body shows the new answer beside the old.
	within(t, ctx, 20*time.Second, "replay with an edited body",
		chromedp.SetValue(chromedp.CSS("#replay-body"), "edited body"),
		click("#replay-send"),
		until(textHas("#replay-result", "v1 echo: edited body")),
		until(textHas("#replay-result", "v1 echo: hello inspector")))
	within(t, ctx, 5*time.Second, "the replay in the list", until(`[...document.querySelectorAll("#entries tbody tr .badge.replay")].length === 1`))
	within(t, ctx, 5*time.Second, "scroll to the replay", chromedp.ScrollIntoView(chromedp.CSS("#replay-result")))
	shots.shot("replay")

	// A function error is marked.
	if status, _ := post(t, r.url+"/fail", "x"); status != 502 {
		t.Errorf("POST /fail = %d, want 502", status)
	}
	failRow := `#entries tbody tr[data-path="/fail"]`
	within(t, ctx, 10*time.Second, "the failed request marked",
		until(fmt.Sprintf(`document.querySelector('%s')?.classList.contains("error") === true`, failRow)),
		until(textHas(failRow, "errorString")))
	within(t, ctx, 10*time.Second, "open the failure",
		click(failRow),
		until(textHas("#detail-result", "the function failed on purpose")))
	shots.shot("list")

	// The status filter keeps the errors only.
	within(t, ctx, 5*time.Second, "filter on errors",
		change("#f-status", "error"),
		until(`[...document.querySelectorAll("#entries tbody tr")].filter(r => !r.hidden).map(r => r.dataset.path).join() === "/fail"`))
	within(t, ctx, 5*time.Second, "clear the filter",
		change("#f-status", ""),
		until(`[...document.querySelectorAll("#entries tbody tr")].every(r => !r.hidden)`))

	// Reloads appear in the history: a good one, then a broken one with the compiler's output.
	src := filepath.Join(dir, "echo", "main.go")
	writeFile(t, src, inspectedSource("v2"))
	r.saved(t, 1)
	if _, body := post(t, r.url+"/echo", "again"); body != "v2 echo: again" {
		t.Errorf("after the reload: %q", body)
	}
	writeFile(t, src, inspectedSource("v3")+"\nfunc broken() { return 1 }\n")
	r.saved(t, 2)
	r.waitOutput(t, "too many return values")
	within(t, ctx, 10*time.Second, "the reloads in the history",
		click("#tab-builds"),
		until(textHas(`#builds li.build[data-kind="reload"].ok`, "rebuilt Echo")),
		until(textHas(`#builds li.build[data-kind="reload"].failed`, "too many return values")))
	shots.shot("builds")

	// The list view, for the README: back to the requests, one opened.
	within(t, ctx, 10*time.Second, "back to the list",
		click("#tab-requests"),
		click(row),
		until(textHas("#detail-event", `"body": "hello inspector"`)))
	shots.shot("inspector")
}

// TestNoInspector: --no-inspector serves no inspector and says nothing of one.
func TestNoInspector(t *testing.T) {
	r := startRun(t, repoRoot(t), "--no-inspector")
	if status, _ := httpGet(t, r.url+"/"); status != 200 {
		t.Fatalf("GET / = %d", status)
	}
	r.waitOutput(t, "msg=request")
	if strings.Contains(r.output.String(), "Inspector on") {
		t.Errorf("the banner names an inspector with --no-inspector:\n%s", r.output.String())
	}
}
