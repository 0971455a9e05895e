// Package invocation is the contract every front of the emulator uses to run a function: the
// request and response of one invocation, the Invoker that runs it, the error kinds an invoke can
// end in, the ids Lambda and API Gateway hand out, Lambda's error document and payload limit.
// It is a leaf: the fronts (API Gateway, the Invoke API, the inspector) depend on it and never on
// the process pool, the Runtime API, the builder or the watcher.
package invocation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// MaxPayload is the synchronous invoke payload limit, each way (6 MB as Lambda counts it).
const MaxPayload = 6291556

// Request is one synchronous invocation.
type Request struct {
	// RequestID is the id to run under; "" gives a new one. A front that must name the
	// invocation before it runs (the Invoke API's 202 for an Event) chooses it.
	RequestID       string
	Payload         []byte
	TraceID         string
	ClientContext   string
	CognitoIdentity string
}

// Response is the outcome of an invocation the function ran (or failed to run).
type Response struct {
	RequestID string
	Payload   []byte
	// FunctionError is the errorType when the function failed ("Runtime.ExitError", "Sandbox.Timedout", ...).
	FunctionError string
	// Log is this invocation's log: START, the function's output, END, REPORT.
	Log string
	// Report holds the figures of the REPORT line.
	Report Report
}

// Report holds the figures of Lambda's REPORT line for one invocation.
type Report struct {
	Duration     time.Duration
	BilledMS     int
	MemoryMB     int
	MaxMemoryMB  int
	InitDuration time.Duration // non-zero on a cold start only
}

// Invoker runs a function synchronously. When ctx ends first, Invoke returns ctx.Err() while the
// function runs on to its own end, as on Lambda.
type Invoker interface {
	Invoke(ctx context.Context, function string, req Request) (*Response, error)
}

// InvokerFunc adapts a function to an Invoker.
type InvokerFunc func(ctx context.Context, function string, req Request) (*Response, error)

// Invoke calls f.
func (f InvokerFunc) Invoke(ctx context.Context, function string, req Request) (*Response, error) {
	return f(ctx, function, req)
}

// Errors an invoke can end in before the function ran. Lambda's Invoke API answers them with
// TooManyRequestsException (429), RequestTooLargeException (413) and ResourceNotFoundException
// (404); API Gateway with 500.
var (
	ErrThrottled       = errors.New("invoke: rate exceeded (reserved concurrency reached)")
	ErrRequestTooLarge = fmt.Errorf("invoke: request payload larger than %d bytes", MaxPayload)
	ErrUnknownFunction = errors.New("invoke: function not found")
)

// BuildError is an invoke of a function that has no good build to run: it carries the
// compiler's output, which the dev loop shows on the response.
type BuildError struct {
	Function string
	Output   string
}

func (e *BuildError) Error() string { return "build " + e.Function + ": " + e.Output }

// ErrorDoc is the error document Lambda returns for errors it raises itself (timeouts, crashes).
func ErrorDoc(errorType, msg string) []byte {
	b, _ := json.Marshal(struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}{msg, errorType})
	return b
}

// NewRequestID returns a random UUID, the shape of Lambda and API Gateway request ids.
func NewRequestID() string {
	var b [16]byte
	rand.Read(b[:]) //nolint:errcheck // crypto/rand.Read never fails.
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// NewTraceID returns an X-Ray trace header value, as Lambda passes in Lambda-Runtime-Trace-Id.
func NewTraceID(now time.Time) string {
	var b [20]byte
	rand.Read(b[:]) //nolint:errcheck // crypto/rand.Read never fails.
	return fmt.Sprintf("Root=1-%08x-%x;Parent=%x;Sampled=0", now.Unix(), b[:12], b[12:])
}
