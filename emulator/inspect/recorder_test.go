package inspect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devserver/devserver/emulator/console"
	"github.com/devserver/devserver/emulator/inspect"
	"github.com/devserver/devserver/emulator/invocation"
)

// fakeInvoker answers every invoke with a result that echoes the event, after the log the
// test asks for; an event "fail" makes a function error, "throttle" an invoke that fails.
type fakeInvoker struct {
	calls  atomic.Int64
	result func(event []byte) []byte
	log    string
	cold   bool
}

func (f *fakeInvoker) Invoke(_ context.Context, function string, req invocation.Request) (*invocation.Response, error) {
	n := f.calls.Add(1)
	switch string(req.Payload) {
	case `"throttle"`:
		return nil, fmt.Errorf("invoke %s: %w", function, invocation.ErrThrottled)
	case `"fail"`:
		return &invocation.Response{RequestID: fmt.Sprintf("req-%d", n), Payload: invocation.ErrorDoc("Runtime.ExitError", "boom"),
			FunctionError: "Runtime.ExitError", Log: "START\npanic: boom\nEND\nREPORT\n"}, nil
	}
	resp := &invocation.Response{RequestID: fmt.Sprintf("req-%d", n), Payload: req.Payload, Log: f.log,
		Report: invocation.Report{Duration: time.Millisecond, BilledMS: 1, MemoryMB: 128, MaxMemoryMB: 20}}
	if f.result != nil {
		resp.Payload = f.result(req.Payload)
	}
	if f.cold {
		resp.Report.InitDuration = 5 * time.Millisecond
	}
	return resp, nil
}

// fakeFront routes every request to "fn" (and first to "auth" when the path starts with
// /auth), sends the body as the event and answers with the function's result.
type fakeFront struct {
	inv invocation.Invoker
	// answer, when set, is written instead of the result.
	answer []byte
}

func (f *fakeFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ex := invocation.ExchangeFrom(r.Context())
	route := r.Method + " " + r.URL.Path
	ex.Routed("fake", "apigw-1", route)
	body, _ := io.ReadAll(r.Body)
	if strings.HasPrefix(r.URL.Path, "/auth") {
		f.inv.Invoke(r.Context(), "auth", invocation.Request{Payload: []byte(`"authorize"`)}) //nolint:errcheck // test.
	}
	resp, err := f.inv.Invoke(r.Context(), "fn", invocation.Request{Payload: body})
	ex.Invoked("fn", resp, err)
	switch {
	case err != nil:
		w.WriteHeader(http.StatusInternalServerError)
	case resp.FunctionError != "":
		w.WriteHeader(http.StatusBadGateway)
	default:
		w.Header().Set("X-Answer", "yes")
		if f.answer != nil {
			w.Write(f.answer)
		} else {
			w.Write(resp.Payload)
		}
	}
}

// rig is a recorder wired as the emulator wires it: access log outside, recorder inside it,
// the front within, the invoker wrapped.
type rig struct {
	rec   *inspect.Recorder
	inv   *fakeInvoker
	front *fakeFront
	h     http.Handler
}

func newRig(opts inspect.Options) *rig {
	rec := inspect.New(opts)
	inv := &fakeInvoker{}
	front := &fakeFront{inv: rec.Invoker(inv)}
	h := console.AccessLog(discardLog(), rec.Record("fake", front))
	rec.ReplayTo("fake", h)
	return &rig{rec: rec, inv: inv, front: front, h: h}
}

func (g *rig) do(method, target string, body []byte, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	for k, vs := range header {
		req.Header[k] = vs
	}
	w := httptest.NewRecorder()
	g.h.ServeHTTP(w, req)
	return w
}

func TestRingKeepsTheLastN(t *testing.T) {
	for _, tc := range []struct{ size, requests int }{{1, 3}, {5, 4}, {5, 5}, {5, 12}, {50, 1000}} {
		t.Run(fmt.Sprintf("size %d, %d requests", tc.size, tc.requests), func(t *testing.T) {
			g := newRig(inspect.Options{Size: tc.size})
			for i := 1; i <= tc.requests; i++ {
				g.do("POST", fmt.Sprintf("/r/%d", i), []byte(`"x"`), nil)
			}
			es := g.rec.Entries()
			want := min(tc.size, tc.requests)
			if len(es) != want || g.rec.Stats().Entries != want {
				t.Fatalf("kept %d entries (stats %d), want %d", len(es), g.rec.Stats().Entries, want)
			}
			for i, e := range es {
				if wantURI := fmt.Sprintf("/r/%d", tc.requests-i); e.Request.URI != wantURI {
					t.Errorf("entry %d is %s, want %s (newest first)", i, e.Request.URI, wantURI)
				}
			}
			if _, ok := g.rec.Entry(es[len(es)-1].ID - 1); ok && tc.requests > tc.size {
				t.Errorf("entry %d was pushed out but can still be opened", es[len(es)-1].ID-1)
			}
		})
	}
}

// TestByteBudget: past MaxBytes the oldest entries go, however few are left, but never the newest.
func TestByteBudget(t *testing.T) {
	const limit, budget = 1 << 10, 20 << 10
	for _, tc := range []struct {
		name     string
		bodySize int
		maxKept  int
	}{
		{"small entries fill the ring", 10, 100},
		{"large entries stop at the budget", 4 << 10, 10},
		{"one entry over the budget stays alone", 4 << 10, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := inspect.Options{Size: 100, BodyLimit: limit, MaxBytes: budget}
			if tc.maxKept == 1 {
				opts.MaxBytes = 100 // less than any entry
			}
			g := newRig(opts)
			body := bytes.Repeat([]byte("x"), tc.bodySize)
			for i := range 300 {
				g.do("POST", fmt.Sprintf("/r/%d", i), body, nil)
			}
			st, es := g.rec.Stats(), g.rec.Entries()
			if st.Entries > tc.maxKept || st.Entries == 0 || es[0].Request.URI != "/r/299" {
				t.Errorf("%d entries kept (newest %s), want 1 to %d with the newest", st.Entries, es[0].Request.URI, tc.maxKept)
			}
			if st.Entries > 1 && st.Bytes > opts.MaxBytes {
				t.Errorf("%d bytes held, over the budget of %d", st.Bytes, opts.MaxBytes)
			}
		})
	}
}

func TestBodiesAreCut(t *testing.T) {
	const limit = 64
	big := bytes.Repeat([]byte("a"), 200)
	for _, tc := range []struct {
		name        string
		body        []byte
		answer      []byte
		wantReqCut  bool
		wantRespCut bool
	}{
		{"both small", []byte(`"small"`), []byte("ok"), false, false},
		{"exactly the limit", bytes.Repeat([]byte("b"), limit), nil, false, false},
		{"request over", big, []byte("ok"), true, false},
		{"response over", []byte(`"x"`), big, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newRig(inspect.Options{BodyLimit: limit})
			g.front.answer = tc.answer
			g.inv.log = strings.Repeat("log line\n", 20)
			var got []byte
			g.inv.result = func(ev []byte) []byte { got = ev; return ev }
			w := g.do("POST", "/", tc.body, nil)
			if !bytes.Equal(got, tc.body) {
				t.Fatalf("the function got %d bytes, want all %d: recording must not cut what is sent", len(got), len(tc.body))
			}
			e := g.rec.Entries()[0]
			checkBody(t, "request body", e.Request.Body, tc.body, limit, tc.wantReqCut)
			checkBody(t, "event", e.Invocations[0].Event, tc.body, limit, tc.wantReqCut)
			checkBody(t, "response body", e.Response.Body, w.Body.Bytes(), limit, tc.wantRespCut)
			checkBody(t, "log", e.Invocations[0].Log, []byte(g.inv.log), limit, true)
		})
	}
}

func checkBody(t *testing.T, what string, b inspect.Body, whole []byte, limit int, wantCut bool) {
	t.Helper()
	if b.Truncated != wantCut || b.Size != int64(len(whole)) {
		t.Errorf("%s: truncated %v size %d, want %v and %d", what, b.Truncated, b.Size, wantCut, len(whole))
	}
	if want := whole[:min(len(whole), limit)]; !bytes.Equal(b.Data, want) {
		t.Errorf("%s: kept %q, want %q", what, b.Data, want)
	}
}

// TestUnreadBodyIsRecorded: a front that answers without reading the body (no route) still
// leaves the body as it was sent on the record.
func TestUnreadBodyIsRecorded(t *testing.T) {
	rec := inspect.New(inspect.Options{BodyLimit: 8})
	h := rec.Record("fake", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) }))
	for _, tc := range []struct {
		body     string
		wantSize int64
		wantCut  bool
	}{{"short", 5, false}, {"longer than eight", 17, true}} {
		t.Run(tc.body, func(t *testing.T) {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/x", strings.NewReader(tc.body)))
			b := rec.Entries()[0].Request.Body
			if b.Size != tc.wantSize || b.Truncated != tc.wantCut || string(b.Data) != tc.body[:min(8, len(tc.body))] {
				t.Errorf("recorded %q size %d cut %v", b.Data, b.Size, b.Truncated)
			}
		})
	}
}

func TestHeadersAreCut(t *testing.T) {
	g := newRig(inspect.Options{BodyLimit: 100})
	g.do("GET", "/", nil, http.Header{"A-Small": {"1"}, "B-Large": {strings.Repeat("v", 200)}, "C-Small": {"3"}})
	q := g.rec.Entries()[0].Request
	if !q.HeaderTruncated || q.Header.Get("A-Small") != "1" || q.Header.Get("B-Large") != "" {
		t.Errorf("headers %v, truncated %v: want the large one dropped and marked", q.Header, q.HeaderTruncated)
	}
}

// TestLinking: the invocations of one HTTP request land on its entry, in order, with the route
// and ids of its Exchange; an invocation with no HTTP request gets an entry of its own.
func TestLinking(t *testing.T) {
	g := newRig(inspect.Options{})
	g.inv.cold = true
	g.inv.log = "START\nhello from fn\nEND\nREPORT\n"
	g.do("POST", "/auth/x?q=1", []byte(`"payload"`), http.Header{"X-Test": {"1"}})
	bare := g.rec.Invoker(g.inv)
	if _, err := bare.Invoke(context.Background(), "direct", invocation.Request{Payload: []byte(`{"k":1}`)}); err != nil {
		t.Fatal(err)
	}
	g.do("POST", "/fails", []byte(`"fail"`), nil)
	g.do("POST", "/throttled", []byte(`"throttle"`), nil)

	es := g.rec.Entries()
	if len(es) != 4 {
		t.Fatalf("%d entries, want 4", len(es))
	}
	httpEntry, direct, failed, throttled := es[3], es[2], es[1], es[0]
	t.Run("http request and its invocations", func(t *testing.T) {
		e := httpEntry
		if e.Request == nil || e.Request.Method != "POST" || e.Request.URI != "/auth/x?q=1" || e.Request.Header.Get("X-Test") != "1" {
			t.Errorf("request %+v", e.Request)
		}
		if e.Response == nil || e.Response.Status != 200 || e.Response.Header.Get("X-Answer") != "yes" || string(e.Response.Body.Data) != `"payload"` {
			t.Errorf("response %+v", e.Response)
		}
		if e.Route != "POST /auth/x" || e.RequestID != "apigw-1" || e.Function != "fn" || e.Front != "fake" || e.Pending {
			t.Errorf("route %q, request id %q, function %q, front %q, pending %v", e.Route, e.RequestID, e.Function, e.Front, e.Pending)
		}
		if len(e.Invocations) != 2 || e.Invocations[0].Function != "auth" || e.Invocations[1].Function != "fn" {
			t.Fatalf("invocations %+v, want auth then fn", e.Invocations)
		}
		fn := e.Invocations[1]
		if string(fn.Event.Data) != `"payload"` || string(fn.Result.Data) != `"payload"` || fn.RequestID == "" ||
			!fn.Cold || fn.Report.MaxMemoryMB != 20 || !strings.Contains(string(fn.Log.Data), "hello from fn") {
			t.Errorf("invocation %+v", fn)
		}
	})
	t.Run("invocation without an HTTP request", func(t *testing.T) {
		if direct.Request != nil || direct.Response != nil || len(direct.Invocations) != 1 || direct.Function != "direct" {
			t.Errorf("entry %+v", direct)
		}
	})
	t.Run("function error", func(t *testing.T) {
		if s := summary(t, g.rec, failed.ID); s.Error != "Runtime.ExitError" || s.Status != 502 {
			t.Errorf("summary %+v, want the errorType and 502", s)
		}
		if !strings.Contains(string(failed.Invocations[0].Result.Data), `"errorType":"Runtime.ExitError"`) {
			t.Errorf("result %s, want the error document", failed.Invocations[0].Result.Data)
		}
	})
	t.Run("failed invoke", func(t *testing.T) {
		if inv := throttled.Invocations[0]; !strings.Contains(inv.Error, "rate exceeded") || throttled.Response.Status != 500 {
			t.Errorf("invocation error %q, status %d", inv.Error, throttled.Response.Status)
		}
	})
}

// summary is the list's view of entry id, read from the inspector's API.
func summary(t *testing.T, rec *inspect.Recorder, id uint64) inspect.Summary {
	t.Helper()
	var d inspect.Detail
	getJSON(t, rec.Handler(t.Context()), fmt.Sprintf("/api/entries/%d", id), &d)
	return d.Summary
}

func getJSON(t *testing.T, h http.Handler, path string, v any) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, inspectorRequest("GET", path, nil))
	if w.Code != 200 {
		t.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, w.Body)
	}
}

// TestNilRecorder: with the inspector off the wrappers pass through and record nothing.
func TestNilRecorder(t *testing.T) {
	var rec *inspect.Recorder
	inv := &fakeInvoker{}
	h := rec.Record("fake", &fakeFront{inv: rec.Invoker(inv)})
	rec.ReplayTo("fake", h)
	rec.Built(inspect.Build{Initial: true})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/", strings.NewReader(`"x"`)))
	if w.Code != 200 || w.Body.String() != `"x"` || inv.calls.Load() != 1 {
		t.Errorf("passed through: %d %q, %d invokes", w.Code, w.Body, inv.calls.Load())
	}
	if rec.Stats() != (inspect.Stats{}) || rec.Entries() != nil {
		t.Errorf("a nil recorder holds %+v", rec.Stats())
	}
}

func TestBuildHistory(t *testing.T) {
	rec := inspect.New(inspect.Options{BodyLimit: 10})
	errs := map[string]string{"fn": "main.go:4:2: undefined: x and a long tail"}
	rec.Built(inspect.Build{Initial: true, Rebuilt: []string{"fn"}})
	for i := range 150 {
		rec.Built(inspect.Build{Changed: []string{fmt.Sprintf("f%d.go", i)}, Failed: []string{"fn"}, Errors: errs})
	}
	bs := rec.Builds()
	if len(bs) != 100 || bs[0].Changed[0] != "f149.go" || bs[99].Changed[0] != "f50.go" {
		t.Fatalf("%d builds, newest %v, oldest %v: want the last 100, newest first", len(bs), bs[0].Changed, bs[len(bs)-1].Changed)
	}
	if got := bs[0].Errors["fn"]; !strings.HasPrefix(got, "main.go:4:") || !strings.Contains(got, "cut") || len(got) > 100 {
		t.Errorf("compiler output %q: want it cut at the limit and marked", got)
	}
	if errs["fn"] != "main.go:4:2: undefined: x and a long tail" {
		t.Errorf("Built changed the caller's map: %q", errs["fn"])
	}
}
