package runtimeapi_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/devserver/devserver/emulator/runtimeapi"
)

// FuzzConn sends arbitrary bytes to the Runtime API on one connection, with an invocation queued
// for them to take, then hangs up. Whatever the bytes, the API must answer with well-formed
// HTTP/1.1 only, close the connection once the client has hung up, and then serve a runtime on a
// new connection a whole invocation. The seeds are in testdata/fuzz/FuzzConn:
//
//	go test ./emulator/runtimeapi -run XXX -fuzz FuzzConn -fuzztime 1m
func FuzzConn(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := runtimeapi.Listen(runtimeapi.Config{Function: "Fuzz"})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		// Something for the bytes to take, answer or drop: its id is the one the seeds use.
		s.Start(event("fuzz", `{"n":1}`), func(runtimeapi.Result) {})

		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Not a measure of speed: only a hang fails this.
		c.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			c.Write(in)
			c.(*net.TCPConn).CloseWrite()
		}()
		br := bufio.NewReader(c)
		for {
			_, err := br.Peek(1)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal("the API kept the connection open after the client hung up")
			}
			if errors.Is(err, io.EOF) || isReset(err) {
				break
			}
			resp, err := http.ReadResponse(br, nil)
			if isReset(err) {
				break
			}
			if err != nil {
				t.Fatalf("the API sent a malformed answer: %v", err)
			}
			if _, err := io.Copy(io.Discard, resp.Body); err != nil && !isReset(err) {
				t.Fatalf("read an answer's body: %v", err)
			}
		}

		// Whatever became of "fuzz", a well-behaved runtime is served from scratch.
		s.Abort("")
		results := make(chan runtimeapi.Result, 1)
		if err := s.Start(event("good", `{"n":2}`), func(r runtimeapi.Result) { results <- r }); err != nil {
			t.Fatalf("start after the bytes: %v", err)
		}
		rc := dialRaw(t, s)
		rc.send(getNext)
		if resp, body := rc.read(); resp.Header.Get(runtimeapi.HeaderRequestID) != "good" || body != `{"n":2}` {
			t.Fatalf("event after the bytes = %d %v %q", resp.StatusCode, resp.Header, body)
		}
		rc.send("POST /2018-06-01/runtime/invocation/good/response HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")
		if resp, _ := rc.read(); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("response after the bytes = %d", resp.StatusCode)
		}
		if r := <-results; string(r.Payload) != "ok" {
			t.Fatalf("result after the bytes = %q", r.Payload)
		}
	})
}

// isReset reports a connection reset: the API closed with bytes of ours unread, which it does
// once it has given up on a connection.
func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }
