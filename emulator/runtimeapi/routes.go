package runtimeapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/devserver/devserver/emulator/invocation"
)

// Paths of the Runtime API.
const (
	pathNext              = "/2018-06-01/runtime/invocation/next"
	pathInvocation        = "/2018-06-01/runtime/invocation/" // + {id}/response or {id}/error
	pathInitError         = "/2018-06-01/runtime/init/error"
	pathExtensionRegister = "/2020-01-01/extension/register"
	pathExtensionNext     = "/2020-01-01/extension/event/next"
)

// dispatch routes one request to its handler: every endpoint of the Runtime API, with the two
// extension endpoints that aws-lambda-go's lambda.WithEnableSIGTERM uses. It reports whether the
// connection can carry another request.
func (s *Server) dispatch(rw *conn, req *http.Request) bool {
	path, get, post := req.URL.Path, req.Method == http.MethodGet, req.Method == http.MethodPost
	switch {
	case path == pathNext && get:
		return s.handleNext(rw)
	case strings.HasPrefix(path, pathInvocation) && post:
		switch id, kind, _ := strings.Cut(path[len(pathInvocation):], "/"); kind {
		case "response":
			return s.handleResponse(rw, req, id)
		case "error":
			return s.handleError(rw, req, id)
		}
	case path == pathInitError && post:
		return s.handleInitError(rw, req)
	case path == pathExtensionRegister && post:
		return s.handleExtensionRegister(rw, req)
	case path == pathExtensionNext && get:
		return s.handleExtensionNext(rw)
	}
	return rw.fail(http.StatusNotFound, "InvalidRequest", req.Method+" "+path+" is not part of the Runtime API")
}

// handleNext answers at once when an invocation is queued. Otherwise the answer is written by
// whoever queues the next one (offer), while the connection's loop reads on, so that a runtime
// that hangs up or gives up on /next is taken out of line rather than handed an event.
func (s *Server) handleNext(rw *conn) bool {
	c := s.takeOrWait(rw)
	s.readyOnce.Do(func() { close(s.ready) })
	if c != nil {
		return s.deliver(rw, c)
	}
	if s.onWait != nil {
		s.onWait()
	}
	return true
}

// deliver writes the event of c as the answer to rw's /next.
func (s *Server) deliver(rw *conn, c *call) bool {
	inv := c.inv
	h := []string{
		HeaderRequestID, inv.RequestID,
		HeaderDeadlineMS, strconv.FormatInt(inv.Deadline.UnixMilli(), 10),
		HeaderFunctionARN, inv.FunctionARN,
		HeaderTraceID, inv.TraceID,
		"Content-Type", contentJSON,
	}
	if inv.ClientContext != "" {
		h = append(h, HeaderClientContext, inv.ClientContext)
	}
	if inv.CognitoIdentity != "" {
		h = append(h, HeaderCognitoIdentity, inv.CognitoIdentity)
	}
	if s.beforeEvent != nil {
		s.beforeEvent()
	}
	// Delivered (the pool's START line) comes before anything the function prints: the
	// runtime has the event whole only after it.
	delivered := func() {
		if s.wrote(c) && inv.Delivered != nil {
			inv.Delivered()
		}
	}
	if !rw.respondHolding(http.StatusOK, inv.Payload, delivered, h...) {
		// The runtime is gone before it got the event: another /next may take it. This
		// connection cannot carry another answer, and closing it ends its loop.
		s.requeue(rw, c)
		rw.c.Close()
		return false
	}
	return true
}

func (s *Server) handleResponse(rw *conn, req *http.Request, id string) bool {
	body, n, c, ok := s.readResult(rw, req, id)
	if c == nil {
		return ok
	}
	if n > invocation.MaxPayload {
		msg := fmt.Sprintf("Response payload size (%d bytes) exceeded maximum allowed payload size (%d bytes).", n, invocation.MaxPayload)
		ok = rw.fail(http.StatusRequestEntityTooLarge, "Function.ResponseSizeTooLarge", msg)
		c.done(Result{Payload: invocation.ErrorDoc("Function.ResponseSizeTooLarge", msg), ErrorType: "Function.ResponseSizeTooLarge"})
		return ok
	}
	if t := req.Trailer.Get(HeaderFunctionErrorType); t != "" {
		// aws-lambda-go ends a streamed response that failed midway with the error in trailers:
		// what was sent is not the function's answer.
		doc, _ := base64.StdEncoding.DecodeString(req.Trailer.Get(HeaderFunctionErrorBody))
		return s.accepted(rw, c, functionError(doc, t))
	}
	return s.accepted(rw, c, Result{Payload: body})
}

func (s *Server) handleError(rw *conn, req *http.Request, id string) bool {
	body, _, c, ok := s.readResult(rw, req, id)
	if c == nil {
		return ok
	}
	return s.accepted(rw, c, functionError(body, req.Header.Get(HeaderFunctionErrorType)))
}

// readResult reads a /response or /error body and claims the invocation id. Without a call to
// settle it has answered the runtime already, and ok says whether the connection lives on.
func (s *Server) readResult(rw *conn, req *http.Request, id string) (body []byte, n int, c *call, ok bool) {
	if !s.expects(id) {
		return nil, 0, nil, rw.fail(http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
	}
	// The function may stream its answer for as long as it runs; its own timeout bounds that.
	rw.c.SetReadDeadline(time.Time{}) //nolint:errcheck // a closed connection fails the read below.
	body, n, err := readLimited(req.Body, invocation.MaxPayload)
	if err != nil {
		return nil, 0, nil, rw.fail(http.StatusInternalServerError, "Runtime.ReadError", err.Error())
	}
	if c, ok = s.take(id); !ok { // it timed out meanwhile
		return nil, 0, nil, rw.fail(http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
	}
	return body, n, c, true
}

// accepted answers 202 first, so that the runtime loops back to /next while r is handed on.
func (s *Server) accepted(rw *conn, c *call, r Result) bool {
	ok := rw.accepted()
	c.done(r)
	return ok
}

func (s *Server) handleInitError(rw *conn, req *http.Request) bool {
	body, _, err := readLimited(req.Body, invocation.MaxPayload)
	if err != nil {
		return rw.fail(http.StatusInternalServerError, "Runtime.ReadError", err.Error())
	}
	s.setInitError(functionError(body, req.Header.Get(HeaderFunctionErrorType)))
	return rw.accepted()
}

// handleExtensionRegister answers the registration that aws-lambda-go's lambda.WithEnableSIGTERM
// makes.
func (s *Server) handleExtensionRegister(rw *conn, req *http.Request) bool {
	io.Copy(io.Discard, req.Body) //nolint:errcheck // the body only names events we do not send.
	body, _ := json.Marshal(map[string]string{
		"functionName":    s.cfg.Function,
		"functionVersion": "$LATEST",
		"handler":         "bootstrap",
	})
	return rw.respond(http.StatusOK, body,
		HeaderExtensionID, "devserver-"+req.Header.Get(HeaderExtensionName),
		"Content-Type", contentJSON)
}

// handleExtensionNext leaves the request unanswered until the instance is shut down: we only
// ever send SHUTDOWN, by signalling the process, which is what lambda.WithEnableSIGTERM listens
// for. As for a /next that waits, the loop reads on, so that a client that hangs up is let go.
func (s *Server) handleExtensionNext(rw *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	rw.awaitsShutdown = true
	return true
}

// functionError normalises an /error body into the error document Lambda returns to callers.
func functionError(body []byte, headerType string) Result {
	var doc struct {
		ErrorType string `json:"errorType"`
	}
	if json.Unmarshal(body, &doc) == nil && doc.ErrorType != "" {
		return Result{Payload: body, ErrorType: doc.ErrorType}
	}
	t := headerType
	if t == "" {
		t = "Unhandled"
	}
	return Result{Payload: invocation.ErrorDoc(t, string(bytes.TrimSpace(body))), ErrorType: t}
}

// readLimited reads up to limit bytes and counts (without keeping) the rest, so that an oversized
// response can be reported with its size. Chunked bodies and trailers are handled by net/http.
func readLimited(r io.Reader, limit int) ([]byte, int, error) {
	body, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, 0, err
	}
	if len(body) <= limit {
		return body, len(body), nil
	}
	rest, err := io.Copy(io.Discard, r)
	return nil, len(body) + int(rest), err
}
