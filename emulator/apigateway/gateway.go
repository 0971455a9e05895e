// Package apigateway is the API Gateway front of the emulator: it routes HTTP requests as API
// Gateway does, turns them into proxy integration events, invokes the function, and turns its
// answer (or its failure) into the HTTP response API Gateway would send.
package apigateway

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/devserver/devserver/emulator/invocation"
	"github.com/devserver/devserver/project"
)

// front names this front on an invocation.Exchange.
const front = "apigateway"

// MaxRequestBody is API Gateway's payload limit (10 MB).
const MaxRequestBody = 10 << 20

// Config holds what the gateway needs besides the route model.
type Config struct {
	Invoker invocation.Invoker
	Log     *slog.Logger
	// AccountID goes into requestContext.accountId.
	AccountID string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Gateway serves one API. It is an http.Handler.
type Gateway struct {
	cfg   Config
	table atomic.Pointer[table]
}

// table is the part of the gateway that a config reload replaces.
type table struct {
	proj   *project.Project
	router *router
	apiID  string
}

// New returns a gateway serving p.
func New(cfg Config, p *project.Project) *Gateway {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	g := &Gateway{cfg: cfg}
	g.SetProject(p)
	return g
}

// SetProject swaps in a new route model; requests already routed finish as they were.
func (g *Gateway) SetProject(p *project.Project) {
	g.table.Store(&table{proj: p, router: newRouter(p.Routes), apiID: apiID(p.AppName)})
}

// apiID is a stable 10-character id shaped like API Gateway's.
func apiID(app string) string {
	h := fnv.New64a()
	io.WriteString(h, app) //nolint:errcheck // hashes never fail.
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	n := h.Sum64()
	b := make([]byte, 10)
	for i := range b {
		b[i] = alphabet[n%36]
		n /= 36
	}
	return string(b)
}

// ServeHTTP answers one request as API Gateway would.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := g.cfg.Now()
	t := g.table.Load()
	rec := &record{requestID: invocation.NewRequestID(), ex: invocation.ExchangeFrom(r.Context()), proto: r.Proto}
	if p, ok := r.Context().Value(protoKey{}).(string); ok {
		rec.proto = p
	}
	rec.traceID = traceRoot(start, rec.requestID)
	g.restHeaders(w, rec)
	g.serveREST(w, r, t, rec, start)
}

// record is what the gateway knows about one request as it goes.
type record struct {
	requestID, traceID string
	// proto is the protocol the request came in (requestContext.protocol).
	proto string
	ex    *invocation.Exchange
}

type protoKey struct{}

// AnswerHTTP11 wraps the whole handler chain of the gateway so that the answer to an HTTP/1.0
// request has an HTTP/1.1 status line, as API Gateway's has: net/http answers in the request's
// version, read from the *http.Request it passed in, which only the outermost handler holds. The
// connection still closes after the answer unless the client asked to keep it alive, as HTTP/1.0
// expects; every gateway answer has a Content-Length, so no chunked body reaches such a client.
func AnswerHTTP11(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 && r.ProtoMinor == 0 {
			if !strings.EqualFold(r.Header.Get("Connection"), "keep-alive") {
				w.Header().Set("Connection", "close")
			}
			orig := r.Proto
			r.Proto, r.ProtoMinor = "HTTP/1.1", 1
			r = r.WithContext(context.WithValue(r.Context(), protoKey{}, orig))
		}
		h.ServeHTTP(w, r)
	})
}

// errorBody writes an API Gateway error response.
func errorBody(w http.ResponseWriter, status int, errorType, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if errorType != "" {
		h["x-amzn-ErrorType"] = []string{errorType}
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q}`, msg)
}

// invoke calls the function and waits at most timeout: like API Gateway, it stops waiting at the
// integration timeout (timedOut) while the function itself runs on to its own end.
func (g *Gateway) invoke(r *http.Request, function string, req invocation.Request, timeout time.Duration) (resp *invocation.Response, timedOut bool, err error) {
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	resp, err = g.cfg.Invoker.Invoke(ctx, function, req)
	return resp, errors.Is(err, context.DeadlineExceeded), err
}
