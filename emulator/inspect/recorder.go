// Package inspect records what reaches the functions, and serves the inspector: a web page, on a
// listener of its own, that lists the last requests and invocations as they happen, opens one
// (the HTTP request as received, the event, the function's result, the HTTP response, its log
// and REPORT figures), replays it as is or edited through the same front, and shows the history
// of builds and reloads. Recording is bounded: a ring of the last entries, each body cut at a
// limit. It is a front: it knows the invocation contract, never the machinery behind it.
package inspect

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/devserver/devserver/emulator/console"
	"github.com/devserver/devserver/emulator/invocation"
)

// Defaults of Options.
const (
	DefaultSize      = 500
	DefaultBodyLimit = 256 << 10
	DefaultMaxBytes  = 64 << 20
)

// maxInvocations bounds the invocations kept on one entry (an authorizer's and the function's
// make two); more are counted, not kept.
const maxInvocations = 4

// maxBuilds is how many builds and reloads the history keeps.
const maxBuilds = 100

// Rough fixed costs of an entry and of an invocation besides the bytes they hold, so that the
// recorder's accounting tracks the heap it really takes.
const (
	entryOverhead      = 1024
	invocationOverhead = 512
)

// Options tune a Recorder.
type Options struct {
	// Size is how many entries are kept (DefaultSize when 0).
	Size int
	// BodyLimit is how much of each body, event, result, log and header set is kept
	// (DefaultBodyLimit when 0); what goes past it is cut and marked.
	BodyLimit int
	// MaxBytes bounds what the entries hold together, as the recorder counts it
	// (DefaultMaxBytes when 0): past it the oldest go first, even when fewer than Size are kept.
	// Size entries at their largest would hold several times BodyLimit each.
	MaxBytes int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Recorder records HTTP requests to the fronts it wraps and the invocations of the invoker it
// wraps, linking the two through the invocation.Exchange of the request. Every method of a nil
// *Recorder but Handler passes through or does nothing, so that the emulator wires it the same
// way whether the inspector is on or off.
type Recorder struct {
	size, limit int
	maxBytes    int64
	now         func() time.Time

	mu    sync.Mutex
	seq   uint64
	ring  []*Entry // oldest first
	byEx  map[*invocation.Exchange]*Entry
	bytes int64
	// builds is the build and reload history, oldest first, at most maxBuilds.
	builds   []Build
	buildSeq uint64
	subs     map[*subscriber]struct{}
	// fronts are the handler chains replays go through, by front name.
	fronts map[string]http.Handler
}

// New returns a recorder.
func New(opts Options) *Recorder {
	if opts.Size <= 0 {
		opts.Size = DefaultSize
	}
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = DefaultBodyLimit
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Recorder{
		size: opts.Size, limit: opts.BodyLimit, maxBytes: opts.MaxBytes, now: opts.Now,
		byEx: map[*invocation.Exchange]*Entry{}, subs: map[*subscriber]struct{}{}, fronts: map[string]http.Handler{},
	}
}

// Entry is one recorded exchange: an HTTP request to a front and the invocations it led to, or
// invocations that came without an HTTP request (Request is nil then). A published Entry's
// fields are replaced, never changed in place, so copies handed out stay valid.
type Entry struct {
	ID   uint64    `json:"id"`
	Time time.Time `json:"time"`
	// Front names the front that served it ("apigateway", "lambda").
	Front string `json:"front,omitempty"`
	// ReplayOf is the entry this one replays, 0 for none.
	ReplayOf uint64 `json:"replayOf,omitempty"`
	// Pending is set until the front has answered.
	Pending bool `json:"pending,omitempty"`
	// Route is the route key the front matched; RequestID is the front's own id.
	Route     string `json:"route,omitempty"`
	RequestID string `json:"requestId,omitempty"`
	Function  string `json:"function,omitempty"`
	// Duration is how long the front took to answer.
	Duration           time.Duration `json:"duration"`
	Request            *Request      `json:"request,omitempty"`
	Response           *Response     `json:"response,omitempty"`
	Invocations        []Invocation  `json:"invocations"`
	DroppedInvocations int           `json:"droppedInvocations,omitempty"`

	size    int
	evicted bool
	ex      *invocation.Exchange // the Exchange later invocations of this request come under
}

// Request is an HTTP request as the front received it.
type Request struct {
	Method string `json:"method"`
	// URI is the path and query as sent.
	URI             string      `json:"uri"`
	Proto           string      `json:"proto"`
	Host            string      `json:"host"`
	RemoteAddr      string      `json:"remoteAddr"`
	Header          http.Header `json:"header"`
	HeaderTruncated bool        `json:"headerTruncated,omitempty"`
	Body            Body        `json:"body"`
}

// Response is the HTTP response the front sent.
type Response struct {
	// Status is 0 when nothing was sent and the client went away first.
	Status          int         `json:"status"`
	Header          http.Header `json:"header"`
	HeaderTruncated bool        `json:"headerTruncated,omitempty"`
	Body            Body        `json:"body"`
}

// Invocation is one invoke of a function and how it ended.
type Invocation struct {
	Function  string    `json:"function"`
	RequestID string    `json:"requestId,omitempty"`
	Time      time.Time `json:"time"`
	// Duration is how long the caller waited for it.
	Duration time.Duration `json:"duration"`
	// Event is the payload the function was sent.
	Event Body `json:"event"`
	// Result is the function's raw result, or the error document when it failed.
	Result Body `json:"result"`
	// FunctionError is the errorType when the function failed.
	FunctionError string `json:"functionError,omitempty"`
	// Error is set when the invoke itself failed: throttled, no good build, the caller gave up.
	Error  string            `json:"error,omitempty"`
	Log    Body              `json:"log"`
	Report invocation.Report `json:"report"`
	// Cold is set when the invocation started a new instance (Report.InitDuration > 0).
	Cold bool `json:"cold"`
}

// Stats is what a recorder holds.
type Stats struct {
	Entries int
	// Bytes is the recorder's own count of the memory its entries take.
	Bytes  int64
	Builds int
}

// Stats returns what r holds now.
func (r *Recorder) Stats() Stats {
	if r == nil {
		return Stats{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return Stats{Entries: len(r.ring), Bytes: r.bytes, Builds: len(r.builds)}
}

// replayKey marks the context of a replayed request with the entry it replays.
type replayKey struct{}

type replayMark struct {
	of uint64
	id uint64 // the new entry, set by Record
}

// Record wraps a front so that each HTTP request it serves is recorded with its response, under
// the invocation.Exchange of its context (made here when the front is served bare). Wrap it
// inside the wrapper that makes the Exchange and outside anything that changes the response, so
// that what is recorded is what the client got.
func (r *Recorder) Record(front string, h http.Handler) http.Handler {
	if r == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		began := r.now()
		ctx, ex := req.Context(), invocation.ExchangeFrom(req.Context())
		if ex == nil {
			ctx, ex = invocation.WithExchange(ctx)
		}
		// The body is recorded as the front reads it, never ahead of it: the API Gateway front
		// reads the spelling of the header names from what the connection read last, before
		// the body.
		body := req.Body
		if body == nil {
			body = http.NoBody
		}
		tee := &teeReader{r: body, c: capture{limit: r.limit}}
		hdr, hcut := cutHeader(req.Header, r.limit)
		e := &Entry{Time: began, Front: front, Pending: true, Request: &Request{
			Method: req.Method, URI: req.RequestURI, Proto: req.Proto, Host: req.Host, RemoteAddr: req.RemoteAddr,
			Header: hdr, HeaderTruncated: hcut,
		}}
		if m, ok := ctx.Value(replayKey{}).(*replayMark); ok {
			e.ReplayOf = m.of
			defer func() { m.id = e.ID }()
		}
		r.begin(ex, e)

		rw := &responseRecorder{ResponseWriter: w, limit: r.limit, body: capture{limit: r.limit}}
		req2 := req.WithContext(ctx)
		req2.Body = &requestBody{Reader: tee, closer: body}
		h.ServeHTTP(rw, req2)

		// A front that answered without reading the body (a request with no route) leaves the
		// rest of it for the record, up to the limit, as net/http would read it to reuse the
		// connection; not when the client waits for a 100 Continue that will not come now.
		if !tee.done && tee.c.n < int64(r.limit) && !strings.EqualFold(req.Header.Get("Expect"), "100-continue") {
			io.Copy(io.Discard, io.LimitReader(tee, int64(r.limit)-tee.c.n+1)) //nolint:errcheck // a body that fails is recorded as far as it went.
		}
		got := tee.c.body()
		switch {
		case tee.done:
		case req.ContentLength >= 0:
			got.Size, got.Truncated = req.ContentLength, req.ContentLength > int64(len(got.Data))
		default:
			got.Size, got.Truncated = -1, true
		}
		resp := rw.response()
		if resp.Status == 0 && req.Context().Err() == nil {
			resp.Status = http.StatusOK // net/http sends 200 for a handler that wrote nothing
		} else if resp.Status == 0 {
			resp.Status = console.StatusClientGone
		}
		sum := ex.Summary()
		r.change(e, func() {
			reqCopy := *e.Request
			reqCopy.Body = got
			e.Request, e.Response = &reqCopy, resp
			e.Pending, e.Duration = false, r.now().Sub(began)
			e.Route, e.RequestID = sum.Route, sum.RequestID
			if sum.Function != "" {
				e.Function = sum.Function
			}
		})
	})
}

// ReplayTo names the handler chain that replays of front's requests go through: the whole chain,
// outermost wrapper included, so that a replay is served exactly as a request from outside.
func (r *Recorder) ReplayTo(front string, h http.Handler) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fronts[front] = h
}

// Invoker wraps inv so that each invoke is recorded: on the entry of its Exchange's HTTP request
// when there is one, on an entry of its own otherwise.
func (r *Recorder) Invoker(inv invocation.Invoker) invocation.Invoker {
	if r == nil {
		return inv
	}
	return invocation.InvokerFunc(func(ctx context.Context, function string, req invocation.Request) (*invocation.Response, error) {
		began := r.now()
		resp, err := inv.Invoke(ctx, function, req)
		rec := Invocation{Function: function, Time: began, Duration: r.now().Sub(began), Event: cut(req.Payload, r.limit)}
		if resp != nil {
			rec.RequestID = resp.RequestID
			rec.Result = cut(resp.Payload, r.limit)
			rec.FunctionError = resp.FunctionError
			rec.Log = Body{Data: []byte(resp.Log[:min(len(resp.Log), r.limit)]), Size: int64(len(resp.Log)), Truncated: len(resp.Log) > r.limit}
			rec.Report = resp.Report
			rec.Cold = resp.Report.InitDuration > 0
		}
		if err != nil {
			msg := err.Error()
			var be *invocation.BuildError
			if errors.As(err, &be) {
				msg = "no good build of " + be.Function + ":\n" + be.Output
			}
			rec.Error = strings.Clone(msg[:min(len(msg), r.limit)])
		}
		r.invoked(invocation.ExchangeFrom(ctx), rec)
		return resp, err
	})
}

// begin publishes a new entry for ex.
func (r *Recorder) begin(ex *invocation.Exchange, e *Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.add(e, ex)
	r.publish(message{entry: e})
}

// invoked records inv on ex's entry, or on a new one.
func (r *Recorder) invoked(ex *invocation.Exchange, inv Invocation) {
	var frontName string
	if ex != nil {
		frontName = ex.Summary().Front
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.byEx[ex]
	if e == nil {
		e = &Entry{Time: inv.Time, Front: frontName, Duration: inv.Duration}
		r.add(e, ex)
	}
	r.changeLocked(e, func() {
		if len(e.Invocations) < maxInvocations {
			e.Invocations = append(slices.Clip(e.Invocations), inv)
		} else {
			e.DroppedInvocations++
		}
		if e.Function == "" {
			e.Function = inv.Function
		}
	})
}

// add puts e, made for ex (nil for none), in the ring, evicting the oldest entries when it is
// full. Called with mu held.
func (r *Recorder) add(e *Entry, ex *invocation.Exchange) {
	if ex != nil {
		e.ex = ex
		r.byEx[ex] = e
	}
	r.seq++
	e.ID = r.seq
	e.size = e.account()
	r.bytes += int64(e.size)
	if len(r.ring) == r.size {
		r.evictOldest()
	}
	r.ring = append(r.ring, e)
	r.trim()
}

// trim evicts the oldest entries while they hold more than maxBytes; the newest one stays.
// Called with mu held.
func (r *Recorder) trim() {
	for r.bytes > r.maxBytes && len(r.ring) > 1 {
		r.evictOldest()
	}
}

// evictOldest forgets the oldest entry. Called with mu held.
func (r *Recorder) evictOldest() {
	old := r.ring[0]
	r.ring[0] = nil // the backing array must not keep it alive
	r.ring = r.ring[1:]
	old.evicted = true
	r.bytes -= int64(old.size)
	if old.ex != nil {
		delete(r.byEx, old.ex)
	}
}

// change applies f to e and publishes it, unless e was evicted or cleared meanwhile.
func (r *Recorder) change(e *Entry, f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changeLocked(e, f)
}

func (r *Recorder) changeLocked(e *Entry, f func()) {
	if e.evicted {
		return
	}
	f()
	size := e.account()
	r.bytes += int64(size - e.size)
	e.size = size
	r.publish(message{entry: e})
	r.trim()
}

// account is what e holds, in bytes, as the recorder counts it.
func (e *Entry) account() int {
	n := entryOverhead + len(e.Front) + len(e.Route) + len(e.RequestID) + len(e.Function)
	if q := e.Request; q != nil {
		n += len(q.Method) + len(q.URI) + len(q.Proto) + len(q.Host) + len(q.RemoteAddr) + headerBytes(q.Header) + cap(q.Body.Data)
	}
	if p := e.Response; p != nil {
		n += headerBytes(p.Header) + cap(p.Body.Data)
	}
	for _, inv := range e.Invocations {
		n += invocationOverhead + len(inv.Function) + len(inv.RequestID) + cap(inv.Event.Data) + cap(inv.Result.Data) +
			len(inv.FunctionError) + len(inv.Error) + cap(inv.Log.Data)
	}
	return n
}

// Entries returns copies of the entries held, newest first.
func (r *Recorder) Entries() []Entry {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Entry, 0, len(r.ring))
	r.eachNewest(func(e *Entry) { out = append(out, e.copy()) })
	return out
}

// eachNewest calls f on every entry, newest first. Called with mu held.
func (r *Recorder) eachNewest(f func(*Entry)) {
	for i := len(r.ring) - 1; i >= 0; i-- {
		f(r.ring[i])
	}
}

// Entry returns a copy of the entry with id.
func (r *Recorder) Entry(id uint64) (Entry, bool) {
	if r == nil {
		return Entry{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.ring {
		if e.ID == id {
			return e.copy(), true
		}
	}
	return Entry{}, false
}

// copy is a copy of e that later changes to e do not reach. Called with mu held.
func (e *Entry) copy() Entry {
	c := *e
	c.Invocations = slices.Clone(e.Invocations)
	return c
}

// Clear forgets every entry; the build history stays.
func (r *Recorder) Clear() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.ring {
		e.evicted = true
	}
	r.ring, r.bytes = nil, 0
	clear(r.byEx)
	r.publish(message{cleared: true})
}

// teeReader captures what is read through it and notes when it reached the end.
type teeReader struct {
	r    io.Reader
	c    capture
	done bool
}

func (t *teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.c.Write(p[:n]) //nolint:errcheck // a capture never fails.
	if err != nil {
		t.done = t.done || errors.Is(err, io.EOF)
	}
	return n, err
}

// responseRecorder passes a response on and records it: the status and headers as first
// written, and the head of the body.
type responseRecorder struct {
	http.ResponseWriter
	limit  int
	status int
	header http.Header
	cut    bool
	body   capture
}

func (w *responseRecorder) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
		w.header, w.cut = cutHeader(w.Header(), w.limit)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.body.Write(b) //nolint:errcheck // a capture never fails.
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *responseRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *responseRecorder) response() *Response {
	if w.header == nil {
		w.header, w.cut = cutHeader(w.Header(), w.limit)
	}
	return &Response{Status: w.status, Header: w.header, HeaderTruncated: w.cut, Body: w.body.body()}
}
