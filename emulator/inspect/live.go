package inspect

import (
	"strconv"
	"strings"
	"time"
)

// Summary is an entry as the list shows it.
type Summary struct {
	ID       uint64    `json:"id"`
	Time     time.Time `json:"time"`
	Front    string    `json:"front,omitempty"`
	ReplayOf uint64    `json:"replayOf,omitempty"`
	Pending  bool      `json:"pending,omitempty"`
	Method   string    `json:"method,omitempty"`
	// Path is the path and query as sent.
	Path     string `json:"path,omitempty"`
	Route    string `json:"route,omitempty"`
	Function string `json:"function,omitempty"`
	Status   int    `json:"status,omitempty"`
	// DurationMS is the front's time to answer, or the invocation's without an HTTP request.
	DurationMS float64 `json:"durationMs"`
	// Start is "cold" when an invocation started an instance, "warm" when none did, "" without
	// invocations.
	Start string `json:"start,omitempty"`
	// Error names what went wrong: the function's errorType, the invoke's error, or the status.
	Error string `json:"error,omitempty"`
}

// summary is e as the list shows it.
func (e *Entry) summary() Summary {
	s := Summary{ID: e.ID, Time: e.Time, Front: e.Front, ReplayOf: e.ReplayOf, Pending: e.Pending,
		Route: e.Route, Function: e.Function, DurationMS: float64(e.Duration.Microseconds()) / 1000}
	if q := e.Request; q != nil {
		s.Method, s.Path = q.Method, q.URI
	}
	if p := e.Response; p != nil {
		s.Status = p.Status
	}
	for _, inv := range e.Invocations {
		switch {
		case inv.Cold:
			s.Start = "cold"
		case s.Start == "" && inv.RequestID != "":
			s.Start = "warm"
		}
		if s.Error == "" && inv.FunctionError != "" {
			s.Error = inv.FunctionError
		}
		if s.Error == "" && inv.Error != "" {
			s.Error, _, _ = strings.Cut(inv.Error, "\n")
		}
	}
	if s.Error == "" && s.Status >= 500 {
		s.Error = "HTTP " + strconv.Itoa(s.Status)
	}
	return s
}

// message is one change the page is told of.
type message struct {
	entry   *Entry // a new or changed entry; summarised when published
	sum     *Summary
	build   *Build
	cleared bool
}

// subscriberBuffer is how many changes a page may fall behind before its stream is cut (it
// reconnects and starts again from a snapshot).
const subscriberBuffer = 512

// subscriber is one open page's stream.
type subscriber struct {
	ch chan message
	// lagged is closed when the page fell behind: its stream ends rather than hold anyone up.
	lagged chan struct{}
}

// snapshot is what a page starts from.
type snapshot struct {
	Entries   []Summary `json:"entries"`
	Builds    []Build   `json:"builds"`
	Size      int       `json:"size"`
	BodyLimit int       `json:"bodyLimit"`
}

// subscribe returns the state now and a stream of the changes after it, with nothing lost
// between the two.
func (r *Recorder) subscribe() (snapshot, *subscriber) {
	r.mu.Lock()
	defer r.mu.Unlock()
	snap := snapshot{Entries: make([]Summary, 0, len(r.ring)), Builds: r.buildsLocked(), Size: r.size, BodyLimit: r.limit}
	r.eachNewest(func(e *Entry) { snap.Entries = append(snap.Entries, e.summary()) })
	s := &subscriber{ch: make(chan message, subscriberBuffer), lagged: make(chan struct{})}
	r.subs[s] = struct{}{}
	return snap, s
}

func (r *Recorder) unsubscribe(s *subscriber) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.subs, s)
}

// publish tells every open page of m, without waiting for any. Called with mu held.
func (r *Recorder) publish(m message) {
	if len(r.subs) == 0 {
		return
	}
	if m.entry != nil {
		sum := m.entry.summary()
		m.entry, m.sum = nil, &sum
	}
	for s := range r.subs {
		select {
		case s.ch <- m:
		default:
			close(s.lagged)
			delete(r.subs, s)
		}
	}
}
