package runtimeapi

import (
	"bufio"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/devserver/devserver/emulator/invocation"
)

// serve accepts runtime connections until Close. Like net/http's server, it waits and tries
// again after an error such as running out of file descriptors.
func (s *Server) serve() {
	var backoff time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) { // Close
				return
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if !s.track(c) {
			c.Close()
			return
		}
		go s.serveConn(c)
	}
}

// track records an open connection so that Close can end it; false once closed.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closed:
		return false
	default:
	}
	s.conns[c] = struct{}{}
	return true
}

// serveConn reads requests off one connection, one after the other: the Runtime API is strictly
// request/response, and aws-lambda-go keeps one connection alive for all of them. Requests are
// parsed by net/http; answers are written here without a server's per-request machinery
// (background reads, contexts), which is most of the cost of a round trip this small. The loop
// reads on while a /next waits for its event, which is how a runtime that hangs up is noticed.
// Read deadlines (ReadTimeout, IdleTimeout) bound how long a client that sends half a request,
// or nothing, holds the connection; never a runtime that waits for its event.
func (s *Server) serveConn(c net.Conn) {
	// Header bytes are bounded, as net/http's server bounds them, so that a runtime gone wrong
	// cannot grow devserver without end; bodies are bounded by their handlers.
	lr := &io.LimitedReader{R: c}
	rw := &conn{c: c, br: bufio.NewReader(lr), bw: bufio.NewWriter(c)}
	defer s.hungUp(rw)
	// The first request is due as soon as the connection opens.
	c.SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout)) //nolint:errcheck // a closed connection fails the read.
	for first := true; ; first = false {
		if !first && !s.awaitRequest(rw) {
			return
		}
		lr.N = http.DefaultMaxHeaderBytes
		req, err := http.ReadRequest(rw.br)
		tooLong := lr.N == 0
		lr.N = math.MaxInt64
		switch {
		case err != nil && tooLong:
			s.refuse(rw, http.StatusRequestHeaderFieldsTooLarge, "request headers over 1 MB")
			return
		case err != nil:
			if malformed(err) {
				s.refuse(rw, http.StatusBadRequest, err.Error())
			}
			return
		case s.arrived(rw):
			// A new request while our answer to its /next (or extension /event/next) is still
			// owed: the runtime gave up on it. Answers go out in order, so this connection
			// cannot go on.
			return
		}
		rw.owed.Wait() // an event being written now goes out before the answer to this request
		rw.setClose(req.Close)
		if req.ProtoAtLeast(1, 1) && strings.EqualFold(req.Header.Get("Expect"), "100-continue") && !rw.write([]byte("HTTP/1.1 100 Continue\r\n\r\n")) {
			return
		}
		// After a Connection: close, respond closes the connection once it has answered, which
		// ends this loop; until then it reads on, as for any /next that waits.
		if !s.dispatch(rw, req) {
			return
		}
		// Whatever the handler left of the body, for the next request to start where it should.
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return
		}
	}
}

// awaitRequest waits for the next request on rw to begin, and then gives it ReadTimeout to
// arrive. It reports false when the connection ended, or sat idle too long.
func (s *Server) awaitRequest(rw *conn) bool {
	s.idle(rw, true)
	_, err := rw.br.Peek(1)
	s.idle(rw, false)
	return err == nil
}

// malformed reports a request that could not be parsed, as opposed to a connection that ended
// or went quiet, which gets no answer.
func malformed(err error) bool {
	var netErr net.Error
	return !errors.As(err, &netErr) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF)
}

// refuse answers a request that ends the connection. The write is bounded too, so that a
// client that does not read cannot hold the connection instead.
func (s *Server) refuse(rw *conn, status int, msg string) {
	rw.c.SetWriteDeadline(time.Now().Add(s.cfg.ReadTimeout)) //nolint:errcheck // the write reports a closed connection.
	rw.fail(status, "InvalidRequest", msg)
}

// conn writes HTTP/1.1 answers on one runtime connection. The event for a waiting /next is
// written from the goroutine that queued it, so writes hold mu.
type conn struct {
	c  net.Conn
	br *bufio.Reader

	owed sync.WaitGroup // an event offer is writing for this connection's /next

	// Guarded by Server.mu.
	nextAt         uint64 // Server.nexts when it last asked /next
	awaitsShutdown bool   // its extension /event/next waits
	idle           bool   // between requests

	mu    sync.Mutex
	bw    *bufio.Writer
	head  []byte
	close bool // the runtime asked to close after this answer
}

func (rw *conn) setClose(close bool) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.close = close
}

// respond writes a complete answer, headers given as name, value pairs, and reports whether the
// connection took it.
func (rw *conn) respond(status int, body []byte, header ...string) bool {
	return rw.respondHolding(status, body, nil, header...)
}

// respondHolding is respond, except that, when held is set, the answer's final byte goes out
// only once the rest has and held has returned. A client cannot act on an answer it has not
// read whole, so held runs before anything the answer sets off.
func (rw *conn) respondHolding(status int, body []byte, held func(), header ...string) bool {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	b := append(rw.head[:0], "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(status)...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	if rw.close {
		b = append(b, "\r\nConnection: close"...)
	}
	for i := 0; i+1 < len(header); i += 2 {
		b = append(append(append(append(b, "\r\n"...), header[i]...), ": "...), header[i+1]...)
	}
	b = append(b, "\r\n\r\n"...)
	rw.head = b
	var last []byte
	if held != nil {
		if len(body) > 0 {
			body, last = body[:len(body)-1], body[len(body)-1:]
		} else {
			b, last = b[:len(b)-1], b[len(b)-1:]
		}
	}
	rw.bw.Write(b)    //nolint:errcheck // a failed write fails the flush too.
	rw.bw.Write(body) //nolint:errcheck // see above.
	ok := rw.bw.Flush() == nil
	if ok && held != nil {
		held()
		rw.bw.Write(last) //nolint:errcheck // see above.
		ok = rw.bw.Flush() == nil
	}
	if rw.close {
		// Only our side: the loop reads on to the runtime's close (and past any body it left),
		// so that unread bytes do not turn the close into a reset.
		if cw, isTCP := rw.c.(interface{ CloseWrite() error }); isTCP {
			cw.CloseWrite() //nolint:errcheck // the loop ends on the runtime's close either way.
		} else {
			rw.c.Close()
		}
	}
	return ok
}

// write sends raw bytes, for an interim answer.
func (rw *conn) write(p []byte) bool {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.bw.Write(p) //nolint:errcheck // a failed write fails the flush too.
	return rw.bw.Flush() == nil
}

// fail answers with the Runtime API's error document.
func (rw *conn) fail(status int, errorType, msg string) bool {
	return rw.respond(status, invocation.ErrorDoc(errorType, msg), "Content-Type", contentJSON)
}

// accepted answers 202 with the Runtime API's StatusResponse.
func (rw *conn) accepted() bool {
	return rw.respond(http.StatusAccepted, []byte(`{"status":"OK"}`), "Content-Type", contentJSON)
}

const contentJSON = "application/json"
