// Package invokeapi is the Lambda Invoke API front of the emulator: what `aws lambda invoke
// --endpoint-url` and the SDKs' Lambda clients call. It serves Invoke (RequestResponse, Event,
// DryRun), ListFunctions, GetFunction and GetFunctionConfiguration over the route model, with the
// status codes, headers and error documents of the restJson1 protocol the clients parse.
package invokeapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/devserver/devserver/emulator/invocation"
	"github.com/devserver/devserver/project"
)

// front names this front on an invocation.Exchange.
const front = "lambda"

// Header names of the Invoke API, as the Lambda model spells them.
const (
	HeaderInvocationType  = "X-Amz-Invocation-Type"
	HeaderLogType         = "X-Amz-Log-Type"
	HeaderClientContext   = "X-Amz-Client-Context"
	HeaderFunctionError   = "X-Amz-Function-Error"
	HeaderLogResult       = "X-Amz-Log-Result"
	HeaderExecutedVersion = "X-Amz-Executed-Version"
	HeaderRequestID       = "x-amzn-RequestId"
	HeaderErrorType       = "x-amzn-ErrorType"
	HeaderTraceID         = "X-Amzn-Trace-Id"
)

// Invocation types and log types.
const (
	RequestResponse = "RequestResponse"
	Event           = "Event"
	DryRun          = "DryRun"
	LogTail         = "Tail"
	LogNone         = "None"
)

// Latest is the only version devserver serves.
const Latest = "$LATEST"

// MaxEventPayload is the payload limit of an Event (asynchronous) invoke: 1 MB since October
// 2025 (256 KB before). *(unverified byte count: 1 MiB is assumed.)*
const MaxEventPayload = 1 << 20

// logTailSize is how much of the log X-Amz-Log-Result carries: its last 4 KB.
const logTailSize = 4096

// Config holds what the Invoke API needs.
type Config struct {
	Invoker invocation.Invoker
	// Model returns the route model served now; it changes when config.yaml is reloaded.
	Model func() *project.Project
	Log   *slog.Logger
	// Region and AccountID make the functions' ARNs.
	Region, AccountID string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// API serves the Lambda Invoke API. It is an http.Handler; Close ends the Event invocations it
// runs in the background.
type API struct {
	cfg     Config
	mux     *http.ServeMux
	started time.Time

	// bg is the context of Event invocations: not the request's, which ends with the 202.
	bg   context.Context
	stop context.CancelFunc

	mu     sync.Mutex
	closed bool
	events sync.WaitGroup
}

// New returns the Invoke API over cfg.Model.
func New(cfg Config) *API {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	a := &API{cfg: cfg, mux: http.NewServeMux(), started: cfg.Now()}
	a.bg, a.stop = context.WithCancel(context.Background())
	// The routes of the Lambda model (2015-03-31) that devserver serves; anything else is an
	// operation it does not know.
	a.mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", a.invoke)
	// ListFunctions: the Go SDK asks with the trailing slash, the AWS CLI (botocore) without.
	a.mux.HandleFunc("GET /2015-03-31/functions/{$}", a.listFunctions)
	a.mux.HandleFunc("GET /2015-03-31/functions", a.listFunctions)
	a.mux.HandleFunc("GET /2015-03-31/functions/{name}", a.getFunction)
	a.mux.HandleFunc("GET /2015-03-31/functions/{name}/configuration", a.getFunctionConfiguration)
	a.mux.HandleFunc("/", a.unknownOperation)
	return a
}

// ServeHTTP answers one request as the Lambda service would.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// Close stops waiting for the Event invocations still running and waits for their goroutines:
// shutdown never hangs on a function. The functions themselves run on until the emulator stops
// their instances. Events that arrive after Close are refused.
func (a *API) Close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.stop()
	a.events.Wait()
}

// arn is the ARN of function name.
func (a *API) arn(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", a.cfg.Region, a.cfg.AccountID, name)
}

// apiError is an error the Lambda service raises itself: its status, its code (the
// x-amzn-ErrorType header and the SDKs' typed error) and its JSON document.
type apiError struct {
	status int
	code   string
	doc    any
}

// userError is the document of most of Lambda's client errors. The Lambda model spells the
// message member "message" for most exceptions and "Message" for a few (capitalError); the
// documents follow the model, member for member, as the SDKs' deserializers are generated from it.
type userError struct {
	Type    string `json:"Type"`
	Message string `json:"message"`
}

// capitalError is the document of the exceptions whose model member is "Message":
// ResourceNotFoundException and ServiceException.
type capitalError struct {
	Type    string `json:"Type"`
	Message string `json:"Message"`
}

// throttleError is TooManyRequestsException's document.
type throttleError struct {
	Reason  string `json:"Reason"`
	Type    string `json:"Type"`
	Message string `json:"message"`
}

func notFound(arn string) *apiError {
	return &apiError{http.StatusNotFound, "ResourceNotFoundException", capitalError{"User", "Function not found: " + arn}}
}

func invalidParameter(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameterValueException", userError{"User", msg}}
}

func validation(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "ValidationException", struct {
		Message string `json:"message"`
	}{msg}}
}

func serviceError(msg string) *apiError {
	return &apiError{http.StatusInternalServerError, "ServiceException", capitalError{"Service", msg}}
}

func (e *apiError) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h[HeaderErrorType] = []string{e.code}
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(e.doc) //nolint:errcheck // client gone.
}

// unknownOperation answers a route of the Lambda API that devserver does not serve (or not a
// Lambda route at all). *(unverified: the shape AWS gives an unknown operation.)*
func (a *API) unknownOperation(w http.ResponseWriter, r *http.Request) {
	a.routed(w, r, "")
	(&apiError{http.StatusNotFound, "UnknownOperationException", userError{"User",
		"devserver does not serve " + r.Method + " " + r.URL.Path + ": it serves Invoke, ListFunctions, GetFunction and GetFunctionConfiguration"}}).write(w)
}
