package invokeapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/devserver/devserver/emulator/invocation"
)

// invoke serves Invoke: POST /2015-03-31/functions/{name}/invocations.
func (a *API) invoke(w http.ResponseWriter, r *http.Request) {
	id := invocation.NewRequestID()
	h := w.Header()
	h[HeaderRequestID] = []string{id}
	label := r.PathValue("name")
	ex := invocation.ExchangeFrom(r.Context())
	ex.Routed(front, id, label)

	kind := r.Header.Get(HeaderInvocationType)
	switch kind {
	case "":
		kind = RequestResponse
	case RequestResponse, Event, DryRun:
	default:
		validation("1 validation error detected: Value '" + kind + "' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]").write(w)
		return
	}
	logType := r.Header.Get(HeaderLogType)
	if logType != "" && logType != LogNone && logType != LogTail {
		validation("1 validation error detected: Value '" + logType + "' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [Tail, None]").write(w)
		return
	}
	t, aerr := a.resolve(a.cfg.Model(), label, r.URL.Query().Get("Qualifier"))
	if aerr != nil {
		aerr.write(w)
		return
	}
	ex.Routed(front, id, t.fn.Name)

	limit, op := int64(invocation.MaxPayload), "InvokeFunction"
	if kind == Event {
		limit, op = MaxEventPayload, "InvokeAsync"
	}
	tooLarge := &apiError{http.StatusRequestEntityTooLarge, "RequestTooLargeException",
		userError{"User", fmt.Sprintf("Request must be smaller than %d bytes for the %s operation", limit, op)}}
	if r.ContentLength > limit {
		tooLarge.write(w)
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	switch {
	case err != nil:
		return // the client went away mid-body
	case int64(len(payload)) > limit:
		tooLarge.write(w)
		return
	case len(payload) == 0:
		// Lambda hands a function invoked without a payload an empty object. *(unverified)*
		payload = []byte("{}")
	}
	if err := checkJSON(payload); err != nil {
		(&apiError{http.StatusBadRequest, "InvalidRequestContentException",
			userError{"User", "Could not parse request body into json: Could not parse payload into json: " + err.Error()}}).write(w)
		return
	}
	req := invocation.Request{RequestID: id, Payload: payload, TraceID: r.Header.Get(HeaderTraceID)}
	if cc := r.Header.Get(HeaderClientContext); cc != "" {
		b, err := base64.StdEncoding.DecodeString(cc)
		if err != nil || !json.Valid(b) {
			invalidParameter("Client context must be a valid Base64-encoded JSON object.").write(w)
			return
		}
		req.ClientContext = string(b)
	}

	switch kind {
	case DryRun:
		w.WriteHeader(http.StatusNoContent)
	case Event:
		if !a.runEvent(t.fn.Name, req) {
			serviceError("devserver is shutting down").write(w)
			return
		}
		// Accepted under this id: the access log names it, as the function's START line will.
		ex.Invoked(t.fn.Name, &invocation.Response{RequestID: id}, nil)
		w.WriteHeader(http.StatusAccepted)
	default:
		a.runSync(w, r, t, req, logType == LogTail)
	}
}

// checkJSON reports why payload is not one JSON value.
func checkJSON(payload []byte) error {
	if json.Valid(payload) {
		return nil
	}
	var v any
	return json.Unmarshal(payload, &v) // fails too, and says where
}

// runSync invokes and answers with the function's result, or its error document and
// X-Amz-Function-Error: Unhandled (Lambda's word for an error the runtime reported), status 200
// both ways: a function error is not an error of the Invoke API.
func (a *API) runSync(w http.ResponseWriter, r *http.Request, t target, req invocation.Request, tail bool) {
	resp, err := a.cfg.Invoker.Invoke(r.Context(), t.fn.Name, req)
	if err != nil {
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			return // the client went away: nobody to answer
		}
		invokeError(err, t.arn).write(w)
		if !errors.As(err, new(*invocation.BuildError)) && !errors.Is(err, invocation.ErrThrottled) {
			a.cfg.Log.Warn("invoke failed", "function", t.fn.Name, "err", err)
		}
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set(HeaderExecutedVersion, Latest)
	if resp.FunctionError != "" {
		h.Set(HeaderFunctionError, "Unhandled")
	}
	if tail {
		h.Set(HeaderLogResult, logTail(resp.Log))
	}
	w.WriteHeader(http.StatusOK)
	w.Write(resp.Payload) //nolint:errcheck // client gone.
}

// logTail is X-Amz-Log-Result: the base64 of the last 4 KB of the invocation's log.
func logTail(log string) string {
	if len(log) > logTailSize {
		log = log[len(log)-logTailSize:]
	}
	return base64.StdEncoding.EncodeToString([]byte(log))
}

// invokeError is the Invoke API's answer to an invoke the function did not run.
func invokeError(err error, arn string) *apiError {
	var be *invocation.BuildError
	switch {
	case errors.Is(err, invocation.ErrUnknownFunction):
		return notFound(arn)
	case errors.Is(err, invocation.ErrThrottled):
		return &apiError{http.StatusTooManyRequests, "TooManyRequestsException",
			throttleError{"ReservedFunctionConcurrentInvocationLimitExceeded", "User", "Rate Exceeded."}}
	case errors.Is(err, invocation.ErrRequestTooLarge):
		return &apiError{http.StatusRequestEntityTooLarge, "RequestTooLargeException",
			userError{"User", fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", invocation.MaxPayload)}}
	case errors.As(err, &be):
		// The dev loop answers this one with the compiler's output; served bare, say as much.
		return &apiError{http.StatusBadGateway, "ServiceException", capitalError{"Service", be.Error()}}
	default:
		return serviceError(err.Error())
	}
}

// runEvent starts an Event invocation on the front's own context, so that it outlives the 202;
// false when the front is closed. Its output reaches the terminal as any invocation's does; how
// it ended is logged, since nobody waits for its answer.
func (a *API) runEvent(function string, req invocation.Request) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return false
	}
	a.events.Go(func() {
		resp, err := a.cfg.Invoker.Invoke(a.bg, function, req)
		var be *invocation.BuildError
		switch {
		case a.bg.Err() != nil:
			// devserver is stopping: the instance is being stopped too.
		case errors.As(err, &be):
			a.cfg.Log.Warn("event invocation not run: the function has no good build", "function", function, "requestId", req.RequestID)
		case err != nil:
			a.cfg.Log.Warn("event invocation failed", "function", function, "requestId", req.RequestID, "err", err)
		case resp.FunctionError != "":
			a.cfg.Log.Warn("event invocation failed", "function", function, "requestId", req.RequestID, "errorType", resp.FunctionError)
		}
	})
	return true
}
