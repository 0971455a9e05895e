package runtimeapi_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/devserver/devserver/emulator/invocation"
	"github.com/devserver/devserver/emulator/runtimeapi"
)

// rawConn speaks HTTP/1.1 by hand on one connection, to check what a client library would hide.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, s *runtimeapi.Server) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (r *rawConn) send(s string) {
	r.t.Helper()
	if _, err := io.WriteString(r.c, s); err != nil {
		r.t.Fatal(err)
	}
}

// read returns the next response, its body read.
func (r *rawConn) read() (*http.Response, string) {
	r.t.Helper()
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp, string(b)
}

// getNext is a runtime's GET /next, as sent on the wire.
const getNext = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"

// event is an invocation with a second to run.
func event(id, payload string) *runtimeapi.Invocation {
	return &runtimeapi.Invocation{RequestID: id, Deadline: time.Now().Add(time.Second), Payload: []byte(payload)}
}

func listen(t *testing.T) *runtimeapi.Server {
	t.Helper()
	s, err := runtimeapi.Listen(runtimeapi.Config{Function: "Raw"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestOneConnection drives a whole invocation, an unknown path and the next /next over one
// kept-alive connection, with the Expect: 100-continue that curl sends for large bodies.
func TestOneConnection(t *testing.T) {
	s := listen(t)
	results := make(chan runtimeapi.Result, 1)
	if err := s.Start(event("r1", `{"n":1}`),
		func(r runtimeapi.Result) { results <- r }); err != nil {
		t.Fatal(err)
	}
	rc := dialRaw(t, s)
	rc.send(getNext)
	resp, body := rc.read()
	if resp.StatusCode != 200 || body != `{"n":1}` || resp.Header.Get(runtimeapi.HeaderRequestID) != "r1" {
		t.Fatalf("next = %d %q %v", resp.StatusCode, body, resp.Header)
	}

	rc.send("POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n")
	if resp, _ := rc.read(); resp.StatusCode != http.StatusContinue {
		t.Fatalf("status before the body = %d, want 100", resp.StatusCode)
	}
	rc.send(`{"ok":true}`)
	resp, body = rc.read()
	if resp.StatusCode != 202 || body != `{"status":"OK"}` {
		t.Fatalf("response = %d %q", resp.StatusCode, body)
	}
	if r := <-results; string(r.Payload) != `{"ok":true}` || r.ErrorType != "" {
		t.Fatalf("result = %s %q", r.Payload, r.ErrorType)
	}

	rc.send("GET /2018-06-01/runtime/nope HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := rc.read(); resp.StatusCode != 404 || !strings.Contains(body, `"errorType":"InvalidRequest"`) {
		t.Fatalf("unknown path = %d %q", resp.StatusCode, body)
	}
	rc.send("DELETE /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, _ := rc.read(); resp.StatusCode != 404 {
		t.Fatalf("wrong method = %d", resp.StatusCode)
	}

	// Still the same connection: the next event arrives on it.
	rc.send(getNext)
	time.AfterFunc(10*time.Millisecond, func() {
		s.Start(event("r2", `{}`), func(runtimeapi.Result) {})
	})
	if resp, _ := rc.read(); resp.Header.Get(runtimeapi.HeaderRequestID) != "r2" {
		t.Fatalf("second event = %v", resp.Header)
	}
}

// TestHeaderLimit: a runtime that sends headers without end gets 431 and its connection closed;
// the API goes on serving others.
func TestHeaderLimit(t *testing.T) {
	s := listen(t)
	rc := dialRaw(t, s)
	go func() {
		io.WriteString(rc.c, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n")
		line := "X-Filler: " + strings.Repeat("a", 1000) + "\r\n"
		for range 2000 {
			if _, err := io.WriteString(rc.c, line); err != nil {
				return
			}
		}
	}()
	if resp, _ := rc.read(); resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status = %d, want 431", resp.StatusCode)
	}
	other := dialRaw(t, s)
	other.send("POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
	if resp, _ := other.read(); resp.StatusCode != 202 {
		t.Fatalf("another connection = %d, want 202", resp.StatusCode)
	}
}

// TestGoneNextGetsNoEvent: a runtime connection that hangs up while its /next waits (a curl
// with --max-time, say) is taken out of line and does not swallow the event; the /next that is
// still there gets it.
func TestGoneNextGetsNoEvent(t *testing.T) {
	for _, tt := range []struct {
		name   string
		hangUp func(t *testing.T, rc *rawConn)
	}{
		{"closed", func(t *testing.T, rc *rawConn) {
			// Close our side only, and wait until the API has seen it and closed its own.
			rc.c.(*net.TCPConn).CloseWrite()
			if n, err := rc.br.Read(make([]byte, 1)); err != io.EOF {
				t.Fatalf("read after hanging up: %d bytes, %v; want the API to close", n, err)
			}
		}},
		{"reset", func(t *testing.T, rc *rawConn) {
			rc.c.(*net.TCPConn).SetLinger(0) // a reset: a write to it fails at once
			rc.c.Close()
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := listen(t)
			gone := dialRaw(t, s)
			gone.send(getNext)
			<-s.Ready() // gone is first in line
			tt.hangUp(t, gone)
			live := dialRaw(t, s)
			live.send(getNext)
			s.Start(event("r1", `{}`), func(runtimeapi.Result) {})
			if resp, _ := live.read(); resp.Header.Get(runtimeapi.HeaderRequestID) != "r1" {
				t.Fatalf("live connection got %v", resp.Header)
			}
		})
	}
}

// TestConnectionClose: a runtime that asks to close after each request (Python's urllib does)
// still gets its event when /next had to wait for it, then the connection ends; its answer on a
// new connection settles the invocation.
func TestConnectionClose(t *testing.T) {
	s := listen(t)
	rc := dialRaw(t, s)
	rc.send("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	<-s.Ready()
	results := make(chan runtimeapi.Result, 1)
	s.Start(event("r1", `{"n":1}`),
		func(r runtimeapi.Result) { results <- r })
	resp, body := rc.read()
	if resp.Header.Get(runtimeapi.HeaderRequestID) != "r1" || body != `{"n":1}` || !resp.Close {
		t.Fatalf("event = %v %q, close %v", resp.Header, body, resp.Close)
	}
	if n, err := rc.br.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after the answer: %d bytes, %v; want the connection closed", n, err)
	}
	post := dialRaw(t, s)
	post.send("POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
	if resp, _ := post.read(); resp.StatusCode != 202 {
		t.Fatalf("response on a new connection = %d, want 202", resp.StatusCode)
	}
	if r := <-results; string(r.Payload) != "ok" {
		t.Fatalf("result = %q", r.Payload)
	}
}

// TestLargeEventSlowReader: a 6 MB event for a /next whose runtime does not read yet (paused in
// a debugger, say) does not hold up Start, and arrives whole once the runtime reads.
func TestLargeEventSlowReader(t *testing.T) {
	s := listen(t)
	rc := dialRaw(t, s)
	rc.send(getNext)
	<-s.Ready()
	payload := []byte(`"` + strings.Repeat("a", invocation.MaxPayload-2) + `"`)
	started := make(chan error, 1)
	go func() {
		started <- s.Start(&runtimeapi.Invocation{RequestID: "big", Deadline: time.Now().Add(time.Minute), Payload: payload}, func(runtimeapi.Result) {})
	}()
	select {
	case err := <-started:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Start waits for the runtime to read the event")
	}
	if resp, body := rc.read(); resp.Header.Get(runtimeapi.HeaderRequestID) != "big" || body != string(payload) {
		t.Fatalf("event: id %q, %d bytes; want big, %d bytes", resp.Header.Get(runtimeapi.HeaderRequestID), len(body), len(payload))
	}
}

// TestAnswersInOrder: a request that arrives while the event for the same connection's /next is
// being written is answered after the event.
func TestAnswersInOrder(t *testing.T) {
	s := listen(t)
	rc := dialRaw(t, s)
	rc.send(getNext)
	<-s.Ready()
	hold := make(chan struct{})
	runtimeapi.SetBeforeEvent(s, func() { <-hold })
	go s.Start(event("r1", `{}`), func(runtimeapi.Result) {})
	// A pipelined request while the event is on its way.
	rc.send("GET /2018-06-01/runtime/nope HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(50 * time.Millisecond) // give the loop time to read it: without the ordering it would answer now
	close(hold)
	if resp, _ := rc.read(); resp.Header.Get(runtimeapi.HeaderRequestID) != "r1" {
		t.Fatalf("first answer = %d %v, want the event", resp.StatusCode, resp.Header)
	}
	if resp, _ := rc.read(); resp.StatusCode != 404 {
		t.Fatalf("second answer = %d, want 404", resp.StatusCode)
	}
}

// TestLostEvent: a runtime that hangs up on the connection that carried its event, having sent
// nothing more on it, and then asks /next again without answering, never had the event (its
// /next was given up just as the event went out): the new /next gets the same event, which the
// runtime can then answer. The event counts as delivered once, when it was first written.
func TestLostEvent(t *testing.T) {
	large := `"` + strings.Repeat("a", invocation.MaxPayload-2) + `"`
	for _, tt := range []struct {
		name    string
		payload string
		hangUp  func(t *testing.T, rc *rawConn, written <-chan struct{})
	}{
		{"closed after the head", `{"n":1}`, func(t *testing.T, rc *rawConn, _ <-chan struct{}) {
			if _, err := http.ReadResponse(rc.br, nil); err != nil {
				t.Fatal(err)
			}
			rc.c.Close()
		}},
		{"reset after the head", `{"n":1}`, func(t *testing.T, rc *rawConn, _ <-chan struct{}) {
			if _, err := http.ReadResponse(rc.br, nil); err != nil {
				t.Fatal(err)
			}
			rc.c.(*net.TCPConn).SetLinger(0)
			rc.c.Close()
		}},
		{"closed unread", `{"n":1}`, func(t *testing.T, rc *rawConn, written <-chan struct{}) {
			<-written
			rc.c.Close()
		}},
		{"closed partway through a large event", large, func(t *testing.T, rc *rawConn, _ <-chan struct{}) {
			resp, err := http.ReadResponse(rc.br, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(resp.Body, make([]byte, 64<<10)); err != nil {
				t.Fatal(err)
			}
			rc.c.Close()
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := listen(t)
			first := dialRaw(t, s)
			first.send(getNext)
			<-s.Ready()
			var delivered atomic.Int32
			written := make(chan struct{}, 1)
			results := make(chan runtimeapi.Result, 1)
			s.Start(&runtimeapi.Invocation{RequestID: "r1", Deadline: time.Now().Add(time.Minute), Payload: []byte(tt.payload),
				Delivered: func() {
					if delivered.Add(1) == 1 {
						close(written)
					}
				}},
				func(r runtimeapi.Result) { results <- r })
			tt.hangUp(t, first, written)

			again := dialRaw(t, s)
			again.send(getNext)
			resp, body := again.read()
			if id := resp.Header.Get(runtimeapi.HeaderRequestID); id != "r1" || body != tt.payload {
				t.Fatalf("the /next asked again got %q, %d bytes; want r1, %d bytes", id, len(body), len(tt.payload))
			}
			again.send("POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")
			if resp, _ := again.read(); resp.StatusCode != http.StatusAccepted {
				t.Fatalf("answer = %d, want 202", resp.StatusCode)
			}
			if r := <-results; string(r.Payload) != "ok" {
				t.Fatalf("result = %q", r.Payload)
			}
			if open, _ := s.Abort("r1"); open {
				t.Error("the invocation is still open after its answer")
			}
			if n := delivered.Load(); n != 1 {
				t.Errorf("Delivered called %d times, want once", n)
			}
		})
	}
}

// TestLostEventSkipsOlderNext: a lost event goes to a /next asked since it was sent, not to one
// that was waiting already (one the runtime gave up on without closing it).
func TestLostEventSkipsOlderNext(t *testing.T) {
	s := listen(t)
	inLine := make(chan struct{}, 2)
	runtimeapi.SetOnWait(s, func() { inLine <- struct{}{} })
	older := dialRaw(t, s)
	older.send(getNext)
	<-inLine
	carrier := dialRaw(t, s)
	carrier.send(getNext)
	<-inLine
	s.Start(event("r1", `{}`), func(runtimeapi.Result) {})
	if resp, _ := carrier.read(); resp.Header.Get(runtimeapi.HeaderRequestID) != "r1" {
		t.Fatalf("newest /next got %v", resp.Header)
	}
	// Hang up, and wait for the API to have seen it.
	carrier.c.(*net.TCPConn).CloseWrite()
	if _, err := carrier.br.ReadByte(); err != io.EOF {
		t.Fatalf("after hanging up: %v, want the API to close", err)
	}
	again := dialRaw(t, s)
	again.send(getNext)
	if resp, _ := again.read(); resp.Header.Get(runtimeapi.HeaderRequestID) != "r1" {
		t.Fatalf("the /next asked again got %v", resp.Header)
	}
	again.send("POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")
	again.read()
	// The older /next is still in line, and its first answer is the next event.
	s.Start(event("r2", `{}`), func(runtimeapi.Result) {})
	if resp, _ := older.read(); resp.Header.Get(runtimeapi.HeaderRequestID) != "r2" {
		t.Fatalf("older /next got %v first, want r2", resp.Header)
	}
}

// TestSlowClients: a client that sends half a request (or nothing) is disconnected once the
// read timeout passes, and one that sits idle between requests once the idle timeout passes,
// while a runtime on another connection is served throughout: its connection stays open while
// it works on an event, and while its /next waits, for longer than either timeout.
func TestSlowClients(t *testing.T) {
	s, err := runtimeapi.Listen(runtimeapi.Config{Function: "Raw", ReadTimeout: 250 * time.Millisecond, IdleTimeout: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	inLine := make(chan struct{}, 1)
	runtimeapi.SetOnWait(s, func() { inLine <- struct{}{} })
	good := dialRaw(t, s)
	good.send(getNext)
	<-inLine

	slow := []struct{ name, sent string }{
		{"silent", ""},
		{"half a request line", "GET /2018-06-01/runtime/invoc"},
		{"half the headers", "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\nUser-Ag"},
		{"half an init error", "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{\"er"},
		{"half an answer to no invocation", "POST /2018-06-01/runtime/invocation/nope/response HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{\"o"},
	}
	slowConns := make([]*rawConn, len(slow))
	for i, sc := range slow {
		slowConns[i] = dialRaw(t, s)
		slowConns[i].send(sc.sent)
	}

	// A whole invocation while they stall. Its answer goes with the next /next in one write,
	// so that the connection never sits idle with nothing to wait for, and queues the next
	// event before that /next is read, so that the /next takes it at once.
	results := make(chan runtimeapi.Result, 1)
	s.Start(event("r1", `{}`), func(runtimeapi.Result) {
		s.Start(event("r2", `{}`), func(r runtimeapi.Result) { results <- r })
	})
	if resp, _ := good.read(); resp.Header.Get(runtimeapi.HeaderRequestID) != "r1" {
		t.Fatalf("event = %v", resp.Header)
	}
	good.send("POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok" + getNext)
	if resp, _ := good.read(); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("answer = %d, want 202", resp.StatusCode)
	}
	if resp, _ := good.read(); resp.Header.Get(runtimeapi.HeaderRequestID) != "r2" {
		t.Fatalf("second event = %v", resp.Header)
	}

	// While the runtime works on r2, the others are cut off, one of them idle from now on.
	idle := idleClient(t, s)
	for i, sc := range slow {
		if !slowConns[i].closedByAPI() {
			t.Errorf("%s: still connected", sc.name)
		}
	}
	if !idle.closedByAPI() {
		t.Fatal("idle client: still connected")
	}

	// The runtime worked for longer than the idle timeout and answers on the same connection;
	// then its /next waits for longer than that too, and gets its event.
	good.send("POST /2018-06-01/runtime/invocation/r2/response HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok" + getNext)
	if resp, _ := good.read(); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("answer after working = %d, want 202", resp.StatusCode)
	}
	if r := <-results; string(r.Payload) != "ok" {
		t.Fatalf("result = %q", r.Payload)
	}
	<-inLine
	if idle := idleClient(t, s); !idle.closedByAPI() {
		t.Fatal("idle client: still connected")
	}
	s.Start(event("r3", `{}`), func(runtimeapi.Result) {})
	if resp, _ := good.read(); resp.Header.Get(runtimeapi.HeaderRequestID) != "r3" {
		t.Fatalf("event after waiting = %v", resp.Header)
	}
}

// idleClient makes a request, reads its answer and sends nothing more.
func idleClient(t *testing.T, s *runtimeapi.Server) *rawConn {
	t.Helper()
	rc := dialRaw(t, s)
	rc.send("GET /2018-06-01/runtime/nope HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, _ := rc.read(); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("idle client's request = %d, want 404", resp.StatusCode)
	}
	return rc
}

// closedByAPI reads to the end of the connection and reports whether the API closed it, as
// opposed to the test's own deadline ending the read.
func (r *rawConn) closedByAPI() bool {
	_, err := io.Copy(io.Discard, r.br)
	return err == nil || errors.Is(err, syscall.ECONNRESET)
}

// TestCarrierIdleOnceAnswered: the connection that carried an event is let sit idle only while
// the event is out; once the runtime answered it on another connection, the idle timeout applies.
func TestCarrierIdleOnceAnswered(t *testing.T) {
	s, err := runtimeapi.Listen(runtimeapi.Config{Function: "Raw", IdleTimeout: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Start(event("r1", `{}`), func(runtimeapi.Result) {})
	carrier := dialRaw(t, s)
	carrier.send(getNext)
	if resp, _ := carrier.read(); resp.Header.Get(runtimeapi.HeaderRequestID) != "r1" {
		t.Fatalf("event = %v", resp.Header)
	}
	other := dialRaw(t, s)
	other.send("POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")
	if resp, _ := other.read(); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("answer = %d, want 202", resp.StatusCode)
	}
	if !carrier.closedByAPI() {
		t.Fatal("the carrier is still connected")
	}
}

// TestDeliveredFirst: the runtime has its event whole only once Delivered has returned, so that
// the START line the pool writes then comes before anything the function prints.
func TestDeliveredFirst(t *testing.T) {
	s := listen(t)
	rc := dialRaw(t, s)
	rc.send(getNext)
	<-s.Ready()
	const payload = `{"n":1}`
	var early []byte
	s.Start(&runtimeapi.Invocation{RequestID: "r1", Deadline: time.Now().Add(time.Minute), Payload: []byte(payload),
		Delivered: func() {
			// Whatever the runtime can read by now, given time to: no sign of speed, only of
			// what has been sent.
			rc.c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			early, _ = rc.br.Peek(4096)
			early = slices.Clone(early)
		}}, func(runtimeapi.Result) {})
	if bytes.HasSuffix(early, []byte(payload)) {
		t.Fatalf("the runtime could read the whole event while Delivered ran:\n%s", early)
	}
	rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if resp, body := rc.read(); resp.Header.Get(runtimeapi.HeaderRequestID) != "r1" || body != payload {
		t.Fatalf("event = %v %q", resp.Header, body)
	}
}
