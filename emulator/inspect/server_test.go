package inspect_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/devserver/devserver/emulator/inspect"
)

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// inspectorRequest is a request to the inspector as the page sends it (httptest's default host
// name, example.com, is refused).
func inspectorRequest(method, path string, body io.Reader) *http.Request {
	req := httptest.NewRequest(method, path, body)
	req.Host = "127.0.0.1:8001"
	return req
}

// TestInspectorTrafficIsNotRecorded: the page, its assets, the API and the stream are served
// without a single entry or invoke.
func TestInspectorTrafficIsNotRecorded(t *testing.T) {
	g := newRig(inspect.Options{})
	srv := httptest.NewServer(g.rec.Handler(t.Context()))
	t.Cleanup(srv.Close) // after the stream closes (cleanups run last first)
	for _, path := range []string{"/", "/assets/app.js", "/assets/style.css", "/api/entries", "/api/builds", "/api/entries/1"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // test.
		resp.Body.Close()
		if want := map[string]int{"/api/entries/1": 404}[path]; want != 0 && resp.StatusCode != want || want == 0 && resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
	stream := openStream(t, srv.URL)
	stream.next(t, "snapshot")
	if s := g.rec.Stats(); s.Entries != 0 || g.inv.calls.Load() != 0 {
		t.Errorf("the inspector's own traffic made %d entries and %d invokes", s.Entries, g.inv.calls.Load())
	}
}

type stream struct {
	body io.Closer
	sc   *bufio.Scanner
}

func openStream(t *testing.T, url string) *stream {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", url+"/api/stream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("stream Content-Type %q", ct)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return &stream{body: resp.Body, sc: bufio.NewScanner(resp.Body)}
}

// next reads events until one of kind comes, and returns its data.
func (s *stream) next(t *testing.T, kind string) string {
	t.Helper()
	var event string
	for s.sc.Scan() {
		line := s.sc.Text()
		if e, ok := strings.CutPrefix(line, "event: "); ok {
			event = e
		}
		if d, ok := strings.CutPrefix(line, "data: "); ok && event == kind {
			return d
		}
	}
	t.Fatalf("stream ended before a %q event: %v", kind, s.sc.Err())
	return ""
}

// TestStream: a page gets what was there, then each request as it starts and as it ends, a
// build, and a clear.
func TestStream(t *testing.T) {
	g := newRig(inspect.Options{})
	g.do("GET", "/before", nil, nil)
	srv := httptest.NewServer(g.rec.Handler(t.Context()))
	t.Cleanup(srv.Close) // after the stream closes (cleanups run last first)
	s := openStream(t, srv.URL)
	var snap struct{ Entries []inspect.Summary }
	json.Unmarshal([]byte(s.next(t, "snapshot")), &snap) //nolint:errcheck // checked below.
	if len(snap.Entries) != 1 || snap.Entries[0].Path != "/before" {
		t.Fatalf("snapshot %+v", snap)
	}
	g.do("POST", "/live", []byte(`"fail"`), nil)
	var started, ended inspect.Summary
	json.Unmarshal([]byte(s.next(t, "entry")), &started) //nolint:errcheck // checked below.
	for ended.Pending || ended.ID == 0 {
		ended = inspect.Summary{}
		json.Unmarshal([]byte(s.next(t, "entry")), &ended) //nolint:errcheck // checked below.
	}
	if !started.Pending || started.Path != "/live" || ended.Status != 502 || ended.Error != "Runtime.ExitError" || ended.Function != "fn" {
		t.Errorf("started %+v, ended %+v", started, ended)
	}
	g.rec.Built(inspect.Build{Changed: []string{"main.go"}, Rebuilt: []string{"fn"}})
	if b := s.next(t, "build"); !strings.Contains(b, `"changed":["main.go"]`) {
		t.Errorf("build event %s", b)
	}
	del, _ := http.NewRequest("DELETE", srv.URL+"/api/entries", nil)
	if resp, err := http.DefaultClient.Do(del); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("clear: %v %v", resp, err)
	}
	s.next(t, "clear")
	if n := g.rec.Stats().Entries; n != 0 {
		t.Errorf("%d entries after clear", n)
	}
}

// TestStreamEndsWithItsContext: shutting the inspector down does not wait for open pages.
func TestStreamEndsWithItsContext(t *testing.T) {
	g := newRig(inspect.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	srv := httptest.NewServer(g.rec.Handler(ctx))
	t.Cleanup(srv.Close) // after the stream closes (cleanups run last first)
	s := openStream(t, srv.URL)
	s.next(t, "snapshot")
	cancel()
	for s.sc.Scan() {
	}
	// The scanner stopped: the server ended the stream (a test timeout would be the failure).
}

func postJSON(t *testing.T, h http.Handler, path, body string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := inspectorRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range header {
		req.Header[k] = vs
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestReplay(t *testing.T) {
	g := newRig(inspect.Options{BodyLimit: 32})
	var events []string
	g.inv.result = func(ev []byte) []byte { events = append(events, string(ev)); return append([]byte("got "), ev...) }
	g.do("POST", "/echo?x=1", []byte("original"), http.Header{"X-Keep": {"yes"}, "Content-Length": {"8"}})
	g.do("POST", "/echo", []byte(strings.Repeat("long ", 10)), nil)
	es := g.rec.Entries()
	orig, long := es[1], es[0]
	ui := g.rec.Handler(t.Context())
	for _, tc := range []struct {
		name       string
		id         uint64
		edit       string
		wantStatus int
		wantEvent  string
		wantURI    string
	}{
		{"as is", orig.ID, "", 200, "original", "/echo?x=1"},
		{"edited", orig.ID, `{"method":"PUT","uri":"/edited","header":{"X-Keep":["no"],"Content-Length":["8"]},"body":"a longer body"}`, 200, "a longer body", "/edited"},
		{"edited base64", orig.ID, `{"method":"POST","uri":"/b","header":{},"body":"aGk=","base64":true}`, 200, "hi", "/b"},
		{"cut body as is", long.ID, "", 422, "", ""},
		{"cut body edited", long.ID, `{"method":"POST","uri":"/echo","header":{},"body":"short"}`, 200, "short", "/echo"},
		{"unknown entry", 999, "", 404, "", ""},
		{"bad path", orig.ID, `{"method":"GET","uri":"nope","header":{}}`, 422, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(events)
			w := postJSON(t, ui, fmt.Sprintf("/api/entries/%d/replay", tc.id), tc.edit, nil)
			if w.Code != tc.wantStatus {
				t.Fatalf("replay: %d %s, want %d", w.Code, w.Body, tc.wantStatus)
			}
			if tc.wantStatus != 200 {
				if len(events) != before {
					t.Errorf("a refused replay reached the function")
				}
				return
			}
			var d inspect.Detail
			if err := json.Unmarshal(w.Body.Bytes(), &d); err != nil {
				t.Fatal(err)
			}
			if len(events) != before+1 || events[before] != tc.wantEvent {
				t.Fatalf("the function got %q, want %q", events[before:], tc.wantEvent)
			}
			if d.ReplayOf != tc.id || d.Request.URI != tc.wantURI || string(d.Response.Body.Data) != "got "+tc.wantEvent {
				t.Errorf("new entry: replay of %d, uri %q, response %q", d.ReplayOf, d.Request.URI, d.Response.Body.Data)
			}
			if cl := d.Request.Header.Get("Content-Length"); cl != "" && cl != fmt.Sprint(len(tc.wantEvent)) {
				t.Errorf("Content-Length %s for a %d-byte body", cl, len(tc.wantEvent))
			}
		})
	}
}

// TestCrossSiteRefused: another site's page cannot make the inspector replay or clear.
func TestCrossSiteRefused(t *testing.T) {
	g := newRig(inspect.Options{})
	g.do("GET", "/", nil, nil)
	ui := g.rec.Handler(t.Context())
	w := postJSON(t, ui, "/api/entries/1/replay", "", http.Header{"Sec-Fetch-Site": {"cross-site"}})
	if w.Code != http.StatusForbidden || g.inv.calls.Load() != 1 {
		t.Errorf("cross-site replay: %d, %d invokes", w.Code, g.inv.calls.Load())
	}
}

func TestEventDownload(t *testing.T) {
	g := newRig(inspect.Options{BodyLimit: 16})
	g.do("POST", "/", []byte(`{"a":1}`), nil)
	g.do("POST", "/", []byte(`{"a":"far too long to keep"}`), nil)
	ui := g.rec.Handler(t.Context())
	for _, tc := range []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{"/api/entries/1/invocations/0/event", 200, "{\n  \"a\": 1\n}\n"},
		{"/api/entries/2/invocations/0/event", 409, ""},
		{"/api/entries/1/invocations/1/event", 404, ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			ui.ServeHTTP(w, inspectorRequest("GET", tc.path, nil))
			if w.Code != tc.wantStatus {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			if tc.wantStatus == 200 {
				if w.Body.String() != tc.wantBody || w.Header().Get("Content-Disposition") != `attachment; filename="event-fn-1.json"` {
					t.Errorf("%q, %q", w.Body, w.Header().Get("Content-Disposition"))
				}
			}
		})
	}
}

func TestCurl(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  inspect.Request
		want string
	}{
		{"get", inspect.Request{Method: "GET", URI: "/a?b=1", Host: "127.0.0.1:8000", Header: http.Header{"Accept": {"*/*"}}},
			"curl \\\n  'http://127.0.0.1:8000/a?b=1' \\\n  -H 'Accept: */*'"},
		{"post with quotes", inspect.Request{Method: "POST", URI: "/", Host: "h", Header: http.Header{"Content-Length": {"9"}, "X-Two": {"1", "2"}},
			Body: inspect.Body{Data: []byte(`{"it's":1}`), Size: 10}},
			"curl \\\n  -X 'POST' \\\n  'http://h/' \\\n  -H 'X-Two: 1' \\\n  -H 'X-Two: 2' \\\n  --data-binary '{\"it'\\''s\":1}'"},
		{"cut body", inspect.Request{Method: "PUT", URI: "/", Host: "h", Body: inspect.Body{Data: []byte("abc"), Size: 10, Truncated: true}},
			"curl \\\n  -X 'PUT' \\\n  'http://h/' \\\n  --data-binary 'abc'\n# the body was cut at 3 of 10 bytes"},
		{"binary body", inspect.Request{Method: "POST", URI: "/", Host: "h", Body: inspect.Body{Data: []byte{0, 1, 2}, Size: 3}},
			"curl \\\n  -X 'POST' \\\n  'http://h/'\n# the body (3 bytes) is binary: save it to a file and add --data-binary @FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := inspect.Curl(&tc.req); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestHostNames: the inspector answers requests addressed to an IP address or localhost, and
// refuses other names (a rebound DNS name would let another site's page read the records).
func TestHostNames(t *testing.T) {
	ui := newRig(inspect.Options{}).rec.Handler(t.Context())
	for _, tc := range []struct {
		host string
		want int
	}{
		{"127.0.0.1:8001", 200}, {"localhost:8001", 200}, {"[::1]:8001", 200}, {"192.0.2.7:8001", 200},
		{"app.localhost", 200}, {"evil.example:8001", 403}, {"localhost.evil.example", 403},
	} {
		t.Run(tc.host, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/api/entries", nil)
			req.Host = tc.host
			w := httptest.NewRecorder()
			ui.ServeHTTP(w, req)
			if w.Code != tc.want {
				t.Errorf("Host %s: %d, want %d", tc.host, w.Code, tc.want)
			}
		})
	}
}
