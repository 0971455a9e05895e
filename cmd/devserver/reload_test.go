package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sampleWith is the sample's source answering text.
func sampleWith(text string) string {
	return `package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handler(_ context.Context, _ events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: "` + text + `"}, nil
}

func main() {
	lambda.Start(handler)
}
`
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func getWithHeader(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String(), resp.Header
}

// waitOutput waits until the server's output holds want.
func (r *running) waitOutput(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(r.output.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("output never showed %q:\n%s", want, r.output.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// saved waits until the server has seen the n-th change since it started. Read-your-writes holds
// for requests that arrive after the change was seen; on a loaded machine the watcher can lag a
// write by a few milliseconds, so the tests wait for that signal (logged with --verbose) before
// they send the request that must see the new code. The rebuild itself is not waited for.
func (r *running) saved(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(r.output.String(), "change seen") < n {
		if time.Now().After(deadline) {
			t.Fatalf("server never saw change %d:\n%s", n, r.output.String())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestReload(t *testing.T) {
	dir := copySample(t)
	src := filepath.Join(dir, "sample", "main.go")
	writeFile(t, src, sampleWith("one"))
	r := startRun(t, dir, "--verbose")
	changes := 0
	save := func(path, content string) {
		t.Helper()
		writeFile(t, path, content)
		changes++
		r.saved(t, changes)
	}
	expect := func(path string, status int, body string, buildErr bool) {
		t.Helper()
		got, b, h := getWithHeader(t, r.url+path)
		if got != status || b != body {
			t.Errorf("GET %s = %d %q, want %d %q", path, got, b, status, body)
		}
		if hv := h.Get("X-Devserver-Build-Error"); (hv != "") != buildErr {
			t.Errorf("X-Devserver-Build-Error = %q, want set: %v", hv, buildErr)
		}
	}
	expect("/", 200, "one", false)

	// Read-your-writes: the request right after the save waits for the rebuild.
	save(src, sampleWith("two"))
	expect("/", 200, "two", false)

	save(src, sampleWith("three")+"\nfunc broken() { return 1 }\n")
	expect("/", 200, "two", true)
	r.waitOutput(t, "main.go:18:24: too many return values")
	r.waitOutput(t, "build failed: APIHandler; nothing swapped: still serving the last good build")

	save(src, sampleWith("four"))
	expect("/", 200, "four", false)

	cfg := filepath.Join(dir, "config.yaml")
	orig, _ := os.ReadFile(cfg)
	save(cfg, string(orig)+"  - method: POST\n    path: /two\n    function: APIHandler\n")
	resp, err := http.Post(r.url+"/two", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("POST /two after adding the route = %d", resp.StatusCode)
	}
	save(cfg, string(orig)+"  - method: POST\n    path: /two\n    function: Nobody\n")
	r.waitOutput(t, `config.yaml:17:15: routes[1].function: no function "Nobody"`)
	expect("/", 200, "four", false)
	save(cfg, string(orig))
	resp, err = http.Post(r.url+"/two", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("POST /two after removing the route = %d, want 403", resp.StatusCode)
	}

	// A burst of 30 saves within 300 ms gives at most 2 builds.
	before := strings.Count(r.output.String(), "building APIHandler")
	for i := range 30 {
		writeFile(t, src, sampleWith("burst"+string(rune('a'+i%26))))
		time.Sleep(10 * time.Millisecond)
	}
	changes++
	r.saved(t, changes)
	expect("/", 200, "burstd", false)
	if n := strings.Count(r.output.String(), "building APIHandler") - before; n > 2 {
		t.Errorf("30 saves gave %d builds, want at most 2", n)
	}
	if !strings.Contains(r.output.String(), "reload: sample/main.go changed; rebuilt APIHandler in ") {
		t.Errorf("no reload line in the output:\n%s", r.output.String())
	}
}

// TestBrokenNewFunction checks a function added with a compile error: no good build exists,
// so its requests get 502 with the compiler output, through either front.
func TestBrokenNewFunction(t *testing.T) {
	dir := copySample(t)
	r := startRun(t, dir, "--verbose")
	os.MkdirAll(filepath.Join(dir, "second"), 0o755)
	writeFile(t, filepath.Join(dir, "second", "main.go"), "package main\n\nfunc main() { nope() }\n")
	cfg := filepath.Join(dir, "config.yaml")
	orig, _ := os.ReadFile(cfg)
	added := strings.Replace(string(orig), "routes:\n", "  Second:\n    source: ./second\nroutes:\n  - {method: GET, path: /second, function: Second}\n", 1)
	writeFile(t, cfg, added)
	r.saved(t, 1)
	status, body, h := getWithHeader(t, r.url+"/second")
	if status != 502 || !strings.Contains(body, "main.go:3:15: undefined: nope") || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Errorf("GET /second = %d %q (%s), want 502 with the compiler output\n%s", status, body, h.Get("Content-Type"), r.output.String())
	}
	if h.Get("X-Devserver-Build-Error") != "Second" {
		t.Errorf("X-Devserver-Build-Error = %q", h.Get("X-Devserver-Build-Error"))
	}
	// The dev loop wraps the Invoke API too: the same 502, and read-your-writes after the fix.
	invokeSecond := func() (int, string, http.Header) {
		t.Helper()
		resp, err := http.Post(r.lambdaURL+"/2015-03-31/functions/Second/invocations", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	status, body, h = invokeSecond()
	if status != 502 || !strings.Contains(body, "main.go:3:15: undefined: nope") || h.Get("X-Devserver-Build-Error") != "Second" || h.Get("x-amzn-ErrorType") != "" {
		t.Errorf("Invoke Second = %d %q (build error header %q, error type %q), want 502 with the compiler output", status, body, h.Get("X-Devserver-Build-Error"), h.Get("x-amzn-ErrorType"))
	}
	writeFile(t, filepath.Join(dir, "second", "main.go"), sampleWith("second"))
	r.saved(t, 2)
	if status, body, _ := invokeSecond(); status != 200 || !strings.Contains(body, `"body":"second"`) {
		t.Errorf("after the fix Invoke Second = %d %q, want the fixed function's answer", status, body)
	}
	if status, body, _ := getWithHeader(t, r.url+"/second"); status != 200 || body != "second" {
		t.Errorf("after the fix GET /second = %d %q", status, body)
	}
}

func TestNoReload(t *testing.T) {
	dir := copySample(t)
	r := startRun(t, dir, "--no-reload")
	writeFile(t, filepath.Join(dir, "sample", "main.go"), sampleWith("changed"))
	time.Sleep(500 * time.Millisecond) // nothing to wait for: this checks that nothing happens
	if status, body, _ := getWithHeader(t, r.url+"/"); status != 200 || body != `{"hello":"world"}` {
		t.Errorf("with --no-reload GET / = %d %q", status, body)
	}
}
