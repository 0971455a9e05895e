// Package apigateway is the API Gateway front of the emulator: a REST API (payload 1.0), an HTTP
// API (payload 2.0, or 1.0 per route) and the functions' Lambda function URLs. Every request goes
// through one pipeline: it is routed as API Gateway routes, answered by the gateway itself when it
// is a CORS preflight, authorized by the route's Lambda authorizer, turned into the proxy
// integration event, handed to the function, and its answer (or its failure) turned into the
// HTTP response API Gateway would send.
package apigateway

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"regexp"
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
	// AccountID goes into requestContext.accountId and ARNs.
	AccountID string
	// Region goes into the ARNs authorizers see; "" means us-east-1.
	Region string
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
	api    door
	// urls are the doors of the function URLs, by function name.
	urls map[string]door
	// auth caches authorizer results; a reload starts it afresh, as a redeploy does.
	auth *authCache
	// validations are the TOKEN authorizers' validation expressions, by authorizer name.
	validations map[string]*regexp.Regexp
}

// New returns a gateway serving p.
func New(cfg Config, p *project.Project) *Gateway {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	g := &Gateway{cfg: cfg}
	g.SetProject(p)
	return g
}

// SetProject swaps in a new route model; requests already routed finish as they were.
func (g *Gateway) SetProject(p *project.Project) {
	t := &table{proj: p, router: newRouter(p.Routes), apiID: apiID(p.AppName), urls: map[string]door{}, auth: newAuthCache(),
		validations: map[string]*regexp.Regexp{}}
	for _, z := range p.API.Authorizers {
		if z.Validation != "" {
			// project.Load compiled it already; a model from elsewhere with a bad one validates nothing.
			if re, err := regexp.Compile(z.Validation); err == nil {
				t.validations[z.Name] = re
			}
		}
	}
	t.api = door{kind: p.API.Kind, errs: errorsOf(p.API.Kind), cors: p.API.CORS,
		timeout: time.Duration(p.API.TimeoutMS) * time.Millisecond, stage: p.API.Stage}
	for _, f := range p.Functions {
		if f.URL != nil {
			// A function URL waits as long as the function may run, and no API route can shadow it.
			t.urls[f.Name] = door{kind: kindURL, errs: errorsOf(kindURL), cors: f.URL.CORS,
				timeout: time.Duration(f.TimeoutSec)*time.Second + urlSlack, url: f}
		}
	}
	g.table.Store(t)
}

// URLPrefix is where function URLs are served, as URLPrefix + "<Function>/...": a path no API
// route can shadow, since the gateway looks at it before routing.
const URLPrefix = "/__url/"

// urlSlack is how much longer than the function's timeout a function URL waits, so that the
// function's own timeout (a function error) is what the client sees.
const urlSlack = 2 * time.Second

// door returns the door r came through: a function URL's, or the API's.
func (t *table) door(r *http.Request) door {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), URLPrefix)
	if !ok {
		return t.api
	}
	name, path, _ := strings.Cut(rest, "/")
	d, ok := t.urls[name]
	if !ok {
		// Under the prefix but no such function URL: there is nothing to route to.
		return door{kind: kindURL, errs: errorsOf(kindURL)}
	}
	d.urlPath = "/" + path
	return d
}

// urlID is a stable 32-character id shaped like a function URL's.
func urlID(function string) string {
	return apiID(function) + apiID(function+"#1") + apiID(function+"#2") + apiID(function + "#3")[:2]
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

// ServeHTTP answers one request as API Gateway (or a function URL) would.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := g.cfg.Now()
	t := g.table.Load()
	rec := &record{requestID: invocation.NewRequestID(), ex: invocation.ExchangeFrom(r.Context()), start: start, proto: r.Proto}
	if p, ok := r.Context().Value(protoKey{}).(string); ok {
		rec.proto = p
	}
	rec.traceID = traceRoot(start, rec.requestID)
	g.serve(w, r, t, t.door(r), rec)
}

// record is what the gateway knows about one request as it goes.
type record struct {
	requestID, traceID string
	start              time.Time
	// proto is the protocol the request came in (requestContext.protocol).
	proto string
	ex    *invocation.Exchange
	// names holds the request's header names as the client spelled them.
	names map[string]string
	// auth is what the authorizer said about the request, for the event; nil without one.
	auth *authResult
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

// door is one kind of front door: a REST API, an HTTP API or a function URL. The pipeline is
// the same for all three; what a door changes is how a request is routed, what the errors say,
// which CORS rules apply and how long the gateway waits.
type door struct {
	kind string
	errs errorSet
	cors *project.CORS
	// timeout is the integration timeout; a function URL waits for the function's own.
	timeout time.Duration
	// stage is the stage the door serves ("" for a function URL).
	stage string
	// url is the function URL's function, nil for an API.
	url *project.Function
	// urlPath is the request's path with the function URL's prefix taken off.
	urlPath string
}

// kindURL is the door of a function URL.
const kindURL = "url"

// payload20 says whether route r gets payload 2.0 through door d: always on a function URL, on an
// HTTP API unless the route asks for 1.0 (a model that says nothing gets the kind's default).
func (d door) payload20(r project.Route) bool {
	switch d.kind {
	case kindURL:
		return true
	case project.KindHTTP:
		return r.PayloadFormat != project.Payload10
	}
	return false
}

// serve is the one pipeline every request goes through:
// route -> CORS -> authorize -> event (1.0 | 2.0) -> invoke -> respond.
func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, t *table, d door, rec *record) {
	stampHeaders(w, d, rec)

	// route
	m, path, routed := g.route(r, t, d)

	// CORS: a preflight the gateway answers itself, and the headers an HTTP API adds to all else.
	if answerPreflight(w, r, t, d) {
		rec.ex.Routed(front, rec.requestID, "")
		return
	}
	allowCORS(w, r, d)
	if !routed {
		rec.ex.Routed(front, rec.requestID, "")
		d.errs.notFound.write(w)
		return
	}
	rec.ex.Routed(front, rec.requestID, m.route.Key())
	rec.names = spelling(r) // before the body is read: it needs the request head's bytes
	if r.ContentLength > MaxRequestBody {
		d.errs.tooLarge.write(w)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBody+1))
	if err != nil {
		d.errs.badRequest.write(w)
		return
	}
	if len(body) > MaxRequestBody {
		d.errs.tooLarge.write(w)
		return
	}

	// authorize
	res, failure := g.authorize(r, t, d, m, path, rec)
	if failure != nil {
		failure.write(w)
		return
	}
	rec.auth = res

	// event
	var ev any
	v2 := d.payload20(m.route)
	if v2 {
		ev = g.httpEvent(r, t, d, m, path, body, rec)
	} else {
		ev = g.restEvent(r, t, d, m, path, body, rec)
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		d.errs.rejected.write(w)
		return
	}

	// invoke
	resp, timedOut, err := g.invoke(r, m.route.Function, invocation.Request{Payload: payload, TraceID: rec.traceID + ";Sampled=0"}, d.timeout)
	if timedOut {
		d.errs.timeout.write(w)
		return
	}
	switch {
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		return // the client went away: nobody to answer
	case err != nil:
		// Throttled, too large, or the function is gone: API Gateway's "invoke rejected" answer.
		// (A function with no good build is the dev loop's to answer.)
		if !errors.As(err, new(*invocation.BuildError)) {
			g.cfg.Log.Warn("invoke failed", "function", m.route.Function, "err", err)
		}
		d.errs.rejected.write(w)
		return
	case resp.FunctionError != "":
		d.errs.function.write(w)
		return
	}

	// respond
	var ok bool
	switch {
	case v2:
		ok = writeHTTPResponse(w, resp.Payload, d.cors != nil)
	case d.kind == project.KindREST:
		ok = writeRESTResponse(w, r, resp.Payload, t.proj.API.BinaryMediaTypes, false)
	default:
		// Payload 1.0 on an HTTP API: the 1.0 shape, with the HTTP API's base64 rule (always
		// decoded when isBase64Encoded) and its CORS (the function's headers give way).
		ok = writeRESTResponse(w, r, resp.Payload, []string{"*/*"}, d.cors != nil)
	}
	if !ok {
		g.cfg.Log.Warn("malformed Lambda proxy response", "function", m.route.Function, "response", truncate(resp.Payload, 200))
		d.errs.malformed.write(w)
	}
}

// route finds the route of r for door d; path is the request path as the event's path shows
// it, without any stage or function URL prefix.
func (g *Gateway) route(r *http.Request, t *table, d door) (match, string, bool) {
	if d.kind == kindURL {
		if d.url == nil {
			return match{}, "", false
		}
		return match{route: project.Route{Method: "ANY", Path: project.DefaultRoute, Function: d.url.Name, PayloadFormat: project.Payload20}}, d.urlPath, true
	}
	escaped := r.URL.EscapedPath()
	// Cloud URLs of a REST API (and of a named HTTP API stage) carry the stage (/api/pets);
	// locally /pets works too. The stage form is tried first, so that a URL copied from the
	// cloud means the same thing here.
	if d.stage != project.DefaultHTTPStage {
		if rest, cut := strings.CutPrefix(escaped, "/"+d.stage); cut && (rest == "" || rest[0] == '/') {
			if rest == "" {
				rest = "/"
			}
			if m, ok := t.router.lookup(r.Method, rest); ok {
				return m, rest, true
			}
		}
	}
	m, ok := t.router.lookup(r.Method, escaped)
	return m, escaped, ok
}

// errorSet is what a door answers when it cannot pass a request on, or the function fails.
type errorSet struct {
	notFound, badRequest, tooLarge         apiError
	function, malformed, rejected, timeout apiError
	unauthorized, forbidden, authFailed    apiError
}

// apiError is one answer of the gateway itself.
type apiError struct {
	status    int
	errorType string
	body      string
}

func (e apiError) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if e.errorType != "" {
		h["x-amzn-ErrorType"] = []string{e.errorType}
	}
	w.WriteHeader(e.status)
	io.WriteString(w, e.body) //nolint:errcheck // client gone.
}

func message(msg string) string { return `{"message":"` + msg + `"}` }

// errorsOf returns the answers of a kind of door (FIDELITY.md §1).
func errorsOf(kind string) errorSet {
	switch kind {
	case project.KindREST:
		return errorSet{
			notFound:     apiError{http.StatusForbidden, "MissingAuthenticationTokenException", message("Missing Authentication Token")},
			badRequest:   apiError{http.StatusBadRequest, "", message("Bad Request")},
			tooLarge:     apiError{http.StatusRequestEntityTooLarge, "", message("Request Entity Too Large")},
			function:     apiError{http.StatusBadGateway, "", message("Internal server error")},
			malformed:    apiError{http.StatusBadGateway, "", message("Internal server error")},
			rejected:     apiError{http.StatusInternalServerError, "", message("Internal server error")},
			timeout:      apiError{http.StatusGatewayTimeout, "", message("Endpoint request timed out")},
			unauthorized: apiError{http.StatusUnauthorized, "UnauthorizedException", message("Unauthorized")},
			forbidden:    apiError{http.StatusForbidden, "AccessDeniedException", message("User is not authorized to access this resource")},
			// A REST API answers a failed authorizer with a null message.
			authFailed: apiError{http.StatusInternalServerError, "AuthorizerConfigurationException", `{"message":null}`},
		}
	case kindURL:
		return errorSet{
			notFound:     apiError{http.StatusNotFound, "", `{"Message":"Not Found"}`},
			badRequest:   apiError{http.StatusBadRequest, "", `{"Message":"Bad Request"}`},
			tooLarge:     apiError{http.StatusRequestEntityTooLarge, "", `{"Message":"Request Entity Too Large"}`},
			function:     apiError{http.StatusBadGateway, "", `{"Message":"Internal Server Error"}`},
			malformed:    apiError{http.StatusBadGateway, "", `{"Message":"Internal Server Error"}`},
			rejected:     apiError{http.StatusInternalServerError, "", `{"Message":"Internal Server Error"}`},
			timeout:      apiError{http.StatusBadGateway, "", `{"Message":"Internal Server Error"}`},
			unauthorized: apiError{http.StatusForbidden, "", `{"Message":"Forbidden"}`},
			forbidden:    apiError{http.StatusForbidden, "", `{"Message":"Forbidden"}`},
			authFailed:   apiError{http.StatusInternalServerError, "", `{"Message":"Internal Server Error"}`},
		}
	}
	return errorSet{
		notFound:     apiError{http.StatusNotFound, "", message("Not Found")},
		badRequest:   apiError{http.StatusBadRequest, "", message("Bad Request")},
		tooLarge:     apiError{http.StatusRequestEntityTooLarge, "", message("Request Entity Too Large")},
		function:     apiError{http.StatusInternalServerError, "", message("Internal Server Error")},
		malformed:    apiError{http.StatusInternalServerError, "", message("Internal Server Error")},
		rejected:     apiError{http.StatusInternalServerError, "", message("Internal Server Error")},
		timeout:      apiError{http.StatusServiceUnavailable, "", message("Service Unavailable")},
		unauthorized: apiError{http.StatusUnauthorized, "", message("Unauthorized")},
		forbidden:    apiError{http.StatusForbidden, "", message("Forbidden")},
		authFailed:   apiError{http.StatusInternalServerError, "", message("Internal Server Error")},
	}
}

// invoke calls the function and waits at most timeout: like API Gateway, it stops waiting at the
// integration timeout (timedOut) while the function itself runs on to its own end.
func (g *Gateway) invoke(r *http.Request, function string, req invocation.Request, timeout time.Duration) (resp *invocation.Response, timedOut bool, err error) {
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	resp, err = g.cfg.Invoker.Invoke(ctx, function, req)
	return resp, errors.Is(err, context.DeadlineExceeded), err
}
