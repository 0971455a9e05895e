package runtimeapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// routes lists every endpoint of the Runtime API, with the two extension endpoints that
// aws-lambda-go's lambda.WithEnableSIGTERM uses.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", s.handleNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", s.handleResponse)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", s.handleError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", s.handleInitError)
	mux.HandleFunc("POST /2020-01-01/extension/register", s.handleExtensionRegister)
	mux.HandleFunc("GET /2020-01-01/extension/event/next", s.handleExtensionNext)
	return mux
}

func (s *Server) handleNext(w http.ResponseWriter, r *http.Request) {
	inv, ok := s.next(r.Context())
	if !ok {
		return
	}
	h := w.Header()
	h[HeaderRequestID] = []string{inv.RequestID}
	h[HeaderDeadlineMS] = []string{strconv.FormatInt(inv.Deadline.UnixMilli(), 10)}
	h[HeaderFunctionARN] = []string{inv.FunctionARN}
	h[HeaderTraceID] = []string{inv.TraceID}
	if inv.ClientContext != "" {
		h[HeaderClientContext] = []string{inv.ClientContext}
	}
	if inv.CognitoIdentity != "" {
		h[HeaderCognitoIdentity] = []string{inv.CognitoIdentity}
	}
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(inv.Payload))}
	w.WriteHeader(http.StatusOK)
	w.Write(inv.Payload) //nolint:errcheck // a runtime that hung up is seen by its process exit.
}

// readResult reads a /response or /error body and claims the invocation it answers; on failure
// it has answered the runtime already.
func (s *Server) readResult(w http.ResponseWriter, r *http.Request) (body []byte, n int, c *call, ok bool) {
	body, n, err := readLimited(r.Body, MaxPayload)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Runtime.ReadError", err.Error())
		return nil, 0, nil, false
	}
	if c, ok = s.take(r.PathValue("id")); !ok {
		writeError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
	}
	return body, n, c, ok
}

func (s *Server) handleResponse(w http.ResponseWriter, r *http.Request) {
	body, n, c, ok := s.readResult(w, r)
	if !ok {
		return
	}
	if n > MaxPayload {
		msg := fmt.Sprintf("Response payload size (%d bytes) exceeded maximum allowed payload size (%d bytes).", n, MaxPayload)
		writeError(w, http.StatusRequestEntityTooLarge, "Function.ResponseSizeTooLarge", msg)
		c.done(Result{Payload: errorDoc("Function.ResponseSizeTooLarge", msg), ErrorType: "Function.ResponseSizeTooLarge"})
		return
	}
	accepted(w)
	c.done(Result{Payload: body})
}

func (s *Server) handleError(w http.ResponseWriter, r *http.Request) {
	body, _, c, ok := s.readResult(w, r)
	if !ok {
		return
	}
	accepted(w)
	c.done(functionError(body, r.Header.Get(HeaderFunctionErrorType)))
}

func (s *Server) handleInitError(w http.ResponseWriter, r *http.Request) {
	body, _, err := readLimited(r.Body, MaxPayload)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Runtime.ReadError", err.Error())
		return
	}
	s.setInitError(functionError(body, r.Header.Get(HeaderFunctionErrorType)))
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) handleExtensionRegister(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body) //nolint:errcheck // the body only names events we do not send.
	w.Header().Set(HeaderExtensionID, "devserver-"+r.Header.Get(HeaderExtensionName))
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{ //nolint:errcheck // see above.
		"functionName":    s.function,
		"functionVersion": "$LATEST",
		"handler":         "bootstrap",
	})
}

// handleExtensionNext blocks until the instance is shut down: we only ever send SHUTDOWN, by
// signalling the process, which is what lambda.WithEnableSIGTERM listens for.
func (s *Server) handleExtensionNext(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-s.closed:
	}
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
	return Result{Payload: errorDoc(t, string(bytes.TrimSpace(body))), ErrorType: t}
}

func errorDoc(errorType, msg string) []byte {
	b, _ := json.Marshal(struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}{msg, errorType})
	return b
}

// ErrorDoc is the error document Lambda returns for errors it raises itself (timeouts, crashes).
func ErrorDoc(errorType, msg string) []byte { return errorDoc(errorType, msg) }

// accepted sends 202 at once, so that the runtime loops back to /next while the result is
// handed on.
func accepted(w http.ResponseWriter) {
	w.Header()["Content-Length"] = []string{"0"}
	w.WriteHeader(http.StatusAccepted)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

func writeError(w http.ResponseWriter, status int, errorType, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(errorDoc(errorType, msg)) //nolint:errcheck // nothing to do for a runtime that hung up.
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
