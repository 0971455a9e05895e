package emulator_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devserver/devserver/emulator"
	"github.com/devserver/devserver/emulator/apigateway"
	"github.com/devserver/devserver/emulator/console"
	"github.com/devserver/devserver/internal/testkit"
	"github.com/devserver/devserver/project"
)

// syncBuffer collects the terminal output of a test server. String flushes the terminal first,
// so that a test sees every line written before it looks.
type syncBuffer struct {
	term *console.Terminal
	testkit.Buffer
}

func newSyncBuffer() *syncBuffer {
	b := &syncBuffer{}
	b.term = console.NewTerminal(&b.Buffer)
	return b
}

func (b *syncBuffer) String() string {
	b.term.Flush()
	return b.Buffer.String()
}

type testServer struct {
	*emulator.Server
	// URL is the API Gateway front's, LambdaURL the Invoke API's.
	URL, LambdaURL string
	Term           *syncBuffer
}

// start builds the functions of a config written in the test and serves them; configure, when
// given, changes the emulator's settings first.
func start(t *testing.T, config string, maxInstances int, configure ...func(*emulator.Config)) *testServer {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	p, err := project.Parse([]byte(config), "config.yaml", dir, filepath.Join(dir, "config.yaml"), "")
	if err != nil {
		t.Fatalf("parse config: %v", err)
	}
	term := newSyncBuffer()
	cfg := emulator.Config{
		Project:      p,
		CacheDir:     t.TempDir(),
		MaxInstances: maxInstances,
		Terminal:     term.term,
		Log:          slog.New(slog.NewTextHandler(term.term, nil)),
		Environ:      []string{"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "HOME=/root", "SECRET_OF_THE_SHELL=1"},
	}
	for _, c := range configure {
		c(&cfg)
	}
	s := emulator.New(cfg)
	if err := s.Build(context.Background()); err != nil {
		t.Fatalf("build: %v", err)
	}
	// Served as Run serves it: the listener that keeps header names as the client spelled them.
	hs := httptest.NewUnstartedServer(s.Handler())
	hs.Listener = apigateway.Listener(hs.Listener)
	hs.Config.ConnContext = apigateway.ConnContext
	hs.Start()
	ls := httptest.NewServer(s.LambdaHandler())
	t.Cleanup(func() {
		hs.Close()
		ls.Close()
		s.Close()
	})
	return &testServer{Server: s, URL: hs.URL, LambdaURL: ls.URL, Term: term}
}

const faultConfig = `
app_name: faults
api:
  stage: api
  timeout_ms: %d
functions:
  Fault:
    source: ./testdata/fault
    timeout: 1
    environment:
      GREETING: hello
  Early:
    source: ./testdata/exitearly
routes:
  - {method: GET, path: "/{action}", function: Fault}
  - {method: POST, path: "/{action}", function: Fault}
  - {method: GET, path: /early, function: Early}
`

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// TestErrorRows checks each way a function can fail gives API Gateway's answer, and that the
// next request is served normally.
func TestErrorRows(t *testing.T) {
	s := start(t, fmt.Sprintf(faultConfig, 29000), 0)
	const badGateway = `{"message":"Internal server error"}`
	tests := []struct {
		name, path string
		status     int
		body       string
		logs       []string
	}{
		{"ok", "/ok", 200, "ok", []string{"START RequestId:", "END RequestId:", "Init Duration:"}},
		{"returned error", "/error", 502, badGateway, nil},
		{"panic", "/panic", 502, badGateway, []string{"handler panicked"}},
		{"timeout", "/sleep?ms=1500", 502, badGateway, []string{"Task timed out after 1.00 seconds"}},
		{"exit mid-request", "/exit", 502, badGateway, []string{"[Fault] exiting mid-request"}},
		{"exit before next", "/early", 502, badGateway, []string{"[Early] missing DATABASE_URL: cannot start"}},
		{"malformed response", "/malformed", 502, badGateway, []string{"malformed"}},
		{"non-string body", "/nonstring", 502, badGateway, nil},
		{"bare string", "/raw", 502, badGateway, nil},
		{"7 MB response", "/big", 502, badGateway, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := get(t, s.URL+tt.path)
			if status != tt.status || body != tt.body {
				t.Errorf("GET %s = %d %s, want %d %s", tt.path, status, body, tt.status, tt.body)
			}
			if h.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", h.Get("Content-Type"))
			}
			for _, k := range []string{"x-amzn-RequestId", "x-amz-apigw-id", "X-Amzn-Trace-Id"} {
				if h.Get(k) == "" {
					t.Errorf("response lacks %s", k)
				}
			}
			if !regexp.MustCompile(`REPORT RequestId: \S+\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: [1-9]\d* MB`).MatchString(s.Term.String()) {
				t.Errorf("no REPORT line with a real peak memory:\n%s", s.Term.String())
			}
			for _, want := range tt.logs {
				if !strings.Contains(s.Term.String(), want) {
					t.Errorf("terminal lacks %q:\n%s", want, s.Term.String())
				}
			}
			if status, _, body := get(t, s.URL+"/ok"); status != 200 || body != "ok" {
				t.Errorf("next request after %s = %d %s, want 200 ok", tt.name, status, body)
			}
		})
	}
}

// TestFunctionErrors checks the error documents Lambda itself writes.
func TestFunctionErrors(t *testing.T) {
	s := start(t, fmt.Sprintf(faultConfig, 29000), 0)
	tests := []struct {
		function, path, errorType, message string
	}{
		{"Fault", "/error", "errorString", "something went wrong"},
		{"Fault", "/sleep", "Sandbox.Timedout", "Error: Task timed out after 1.00 seconds"},
		{"Fault", "/exit", "Runtime.ExitError", "Error: Runtime exited with error: exit status 1"},
		{"Early", "/early", "Runtime.ExitError", "missing DATABASE_URL: cannot start"},
		{"Fault", "/big", "Function.ResponseSizeTooLarge", "exceeded maximum allowed payload size (6291556 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.errorType+tt.path, func(t *testing.T) {
			payload := fmt.Sprintf(`{"path":%q,"queryStringParameters":{"ms":"1500"}}`, tt.path)
			resp, err := s.Invoke(context.Background(), tt.function, poolRequest(payload))
			if err != nil {
				t.Fatalf("invoke: %v", err)
			}
			var doc struct{ ErrorType, ErrorMessage string }
			if err := json.Unmarshal(resp.Payload, &doc); err != nil {
				t.Fatalf("error document %s: %v", resp.Payload, err)
			}
			if resp.FunctionError != tt.errorType || doc.ErrorType != tt.errorType || !strings.Contains(doc.ErrorMessage, tt.message) {
				t.Errorf("got %s %s, want errorType %s with message containing %q", resp.FunctionError, resp.Payload, tt.errorType, tt.message)
			}
			if !strings.Contains(resp.Log, "REPORT RequestId: "+resp.RequestID) && tt.function == "Fault" {
				t.Errorf("invocation log lacks its REPORT line:\n%s", resp.Log)
			}
		})
	}
}

// TestOutputBeforeEnd: what a function prints before it answers is part of its invocation, as on
// Lambda: between START and END in the terminal, and in the invocation's captured log (which the
// Invoke API's Tail returns). The child's output pipe is drained before END is written.
func TestOutputBeforeEnd(t *testing.T) {
	s := start(t, fmt.Sprintf(faultConfig, 29000), 0)
	for i := range 50 {
		resp, err := s.Invoke(context.Background(), "Fault", poolRequest(`{"path":"/print"}`))
		if err != nil || resp.FunctionError != "" {
			t.Fatalf("invoke %d: %v %s", i, err, resp.Payload)
		}
		id := resp.RequestID
		want := []string{"START RequestId: " + id, "printed 1 for " + id, "printed 3 for " + id, "stderr for " + id, "END RequestId: " + id}
		for _, logs := range []struct{ name, text string }{{"invocation log", resp.Log}, {"terminal", s.Term.String()}} {
			at := -1
			for _, w := range want {
				pos := strings.Index(logs.text, w)
				if pos < at {
					t.Fatalf("invoke %d: %s has %q out of order (want %q in this order):\n%s", i, logs.name, w, want, logs.text)
				}
				at = pos
			}
		}
	}
}

// TestMaxMemoryOfExitedInstance: an instance that exits mid-request reports its own peak memory,
// not devserver's (a child's rusage carries its parent's high-water mark across exec on Linux).
func TestMaxMemoryOfExitedInstance(t *testing.T) {
	s := start(t, fmt.Sprintf(faultConfig, 29000), 0)
	peak := func(path string) int {
		t.Helper()
		resp, err := s.Invoke(context.Background(), "Fault", poolRequest(`{"path":"`+path+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`Max Memory Used: (\d+) MB`).FindStringSubmatch(resp.Log)
		if m == nil {
			t.Fatalf("%s: no REPORT line in\n%s", path, resp.Log)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	exited := peak("/exit") // a cold instance: nothing read from it before it dies
	healthy := peak("/ok")
	var self runtime.MemStats
	runtime.ReadMemStats(&self)
	t.Logf("exited instance %d MB, healthy instance %d MB, this process %d MB from the OS", exited, healthy, self.Sys>>20)
	if exited == 0 || exited > 2*healthy {
		t.Errorf("the exited instance reports %d MB against %d MB for a healthy one: not its own peak", exited, healthy)
	}
}

// rawExchange sends request bytes on a fresh connection and returns the whole answer.
func rawExchange(t *testing.T, url, request string) string {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%s %d\n%s", resp.Proto, resp.StatusCode, body)
}

// TestHeaderNamesAsSent: header names reach the function as the client wrote them, in headers
// and multiValueHeaders, as on API Gateway (net/http would canonicalise them); with the
// inspector recording too, whose reading of the body must not hide the request's head.
func TestHeaderNamesAsSent(t *testing.T) {
	for _, tc := range []struct {
		name      string
		inspector bool
		body      string
	}{
		{"inspector off", false, "body"},
		{"inspector on", true, "body"},
		{"inspector on, a body larger than the head the front keeps", true, strings.Repeat("b", 100<<10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, fmt.Sprintf(faultConfig, 29000), 0, func(c *emulator.Config) {
				if tc.inspector {
					c.InspectorAddr = "127.0.0.1:0"
				}
			})
			headerNamesAsSent(t, s, tc.body)
		})
	}
}

func headerNamesAsSent(t *testing.T, s *testServer, reqBody string) {
	for i := range 2 { // twice: the second request reuses nothing of the first's head
		answer := rawExchange(t, s.URL, fmt.Sprintf("POST /echo HTTP/1.1\r\nhost: example\r\nx-lower-case: 1\r\ncontent-TYPE: text/plain\r\nX-Mixed-CASE: a\r\nx-mixed-case: b\r\nContent-Length: %d\r\n\r\n%s", len(reqBody), reqBody))
		_, body, _ := strings.Cut(answer, "\n")
		var ev struct {
			Headers           map[string]string
			MultiValueHeaders map[string][]string
		}
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			t.Fatalf("request %d: %v: %s", i, err, answer)
		}
		for name, want := range map[string]string{"x-lower-case": "1", "content-TYPE": "text/plain", "X-Mixed-CASE": "b", "host": "example"} {
			if got := ev.Headers[name]; got != want {
				t.Errorf("request %d: headers[%q] = %q, want %q (headers %v)", i, name, got, want, ev.Headers)
			}
		}
		if got := ev.MultiValueHeaders["X-Mixed-CASE"]; !slices.Equal(got, []string{"a", "b"}) {
			t.Errorf("request %d: multiValueHeaders[X-Mixed-CASE] = %q, want [a b]", i, got)
		}
		if _, ok := ev.Headers["X-Lower-Case"]; ok {
			t.Errorf("request %d: the canonical spelling reached the function too: %v", i, ev.Headers)
		}
	}
}

// TestHTTP10GetsHTTP11 checks that an HTTP/1.0 request is answered with an HTTP/1.1 status line,
// as API Gateway answers.
func TestHTTP10GetsHTTP11(t *testing.T) {
	s := start(t, fmt.Sprintf(faultConfig, 29000), 0)
	if got := rawExchange(t, s.URL, "GET /ok HTTP/1.0\r\n\r\n"); got != "HTTP/1.1 200\nok" {
		t.Errorf("HTTP/1.0 request answered %q, want HTTP/1.1 200 ok", got)
	}
	if got := rawExchange(t, s.URL, "GET /nope/nope HTTP/1.0\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 403\n") {
		t.Errorf("HTTP/1.0 request to no route answered %q, want HTTP/1.1 403", got)
	}
}

// TestSlowClientsOnTheGateway: a client that sends half a request head, and one that keeps a
// connection idle, are cut off after the configured timeouts, while a good client is served
// throughout.
func TestSlowClientsOnTheGateway(t *testing.T) {
	dir := testkit.Module(t, map[string]string{"config.yaml": "app_name: slow\nfunctions:\n  Fault: {source: ./fault}\nroutes:\n  - {method: GET, path: \"/{action}\", function: Fault}\n"})
	src, err := os.ReadFile("testdata/fault/main.go")
	if err != nil {
		t.Fatal(err)
	}
	testkit.WriteFiles(t, dir, map[string]string{"fault/main.go": string(src)})
	p, err := project.Load(project.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	s := emulator.New(emulator.Config{Project: p, Addr: "127.0.0.1:0", Ready: func(a emulator.Addrs) { ready <- a.API },
		HeaderTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	halfHead, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer halfHead.Close()
	io.WriteString(halfHead, "GET /ok HTTP/1.1\r\nHost: x\r\n")
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	io.WriteString(idle, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
	idleReader := bufio.NewReader(idle)
	if resp, err := http.ReadResponse(idleReader, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("first request on the idle connection: %v %v", resp, err)
	} else {
		io.Copy(io.Discard, resp.Body)
	}
	// Served while the slow ones hang on; each read below returns when the server hangs up.
	cut := make(chan string, 2)
	for name, r := range map[string]io.Reader{"half a head": halfHead, "idle": idleReader} {
		go func() {
			io.Copy(io.Discard, r)
			cut <- name
		}()
	}
	for range 3 {
		if status, _, body := get(t, "http://"+addr+"/ok"); status != 200 || body != "ok" {
			t.Errorf("good client = %d %q while slow clients hang on", status, body)
		}
	}
	for range 2 {
		select {
		case <-cut:
		case <-time.After(30 * time.Second):
			t.Fatal("a slow client was never cut off")
		}
	}
}
