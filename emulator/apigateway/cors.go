package apigateway

import (
	"cmp"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/devserver/devserver/project"
)

// The two kinds answer CORS differently, and devserver follows each:
//
//   - A REST API with SAM's Cors gets an OPTIONS method on every resource, a mock integration
//     that answers 200 {} with the configured headers as they are, whatever the Origin (a browser
//     then refuses an origin the header does not name). Other responses are the function's own:
//     the gateway adds no CORS header to them.
//   - An HTTP API (and a function URL) answers every preflight itself, route or not, with 204,
//     and adds the CORS headers to every response whose Origin it allows, in place of any the
//     function set. A disallowed origin gets no CORS header at all.

// answerPreflight answers r if it is a CORS preflight door d answers itself, and says so.
func answerPreflight(w http.ResponseWriter, r *http.Request, t *table, d door) bool {
	c := d.cors
	if c == nil || r.Method != http.MethodOptions {
		return false
	}
	h := w.Header()
	if d.kind == project.KindREST {
		methods, ok := restResource(r, t, d)
		if !ok {
			return false
		}
		h.Set("Access-Control-Allow-Origin", c.AllowOrigins[0])
		if len(c.AllowMethods) > 0 {
			methods = c.AllowMethods
		}
		h.Set("Access-Control-Allow-Methods", strings.Join(methods, ","))
		if len(c.AllowHeaders) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ","))
		}
		if c.MaxAgeSec > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAgeSec))
		}
		if c.AllowCredentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		// SAM's mock answers with its response template's "{}".
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", "2")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "{}") //nolint:errcheck // client gone.
		return true
	}
	if r.Header.Get("Origin") == "" || r.Header.Get("Access-Control-Request-Method") == "" {
		return false // a plain OPTIONS request: routed like any other
	}
	if allowed := allowedOrigin(c, r.Header.Get("Origin")); allowed != "" {
		h.Set("Access-Control-Allow-Origin", allowed)
		if len(c.AllowMethods) > 0 {
			h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
		}
		if len(c.AllowHeaders) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.ToLower(strings.Join(c.AllowHeaders, ",")))
		}
		if c.MaxAgeSec > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAgeSec))
		}
		if c.AllowCredentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

// restResource finds the REST resource of r's path, with or without the stage, and the methods
// SAM's OPTIONS mock names for it when the config lists none: the path's own, and OPTIONS.
func restResource(r *http.Request, t *table, d door) ([]string, bool) {
	escaped := r.URL.EscapedPath()
	if rest, cut := strings.CutPrefix(escaped, "/"+d.stage); cut && (rest == "" || rest[0] == '/') {
		if _, methods, ok := t.router.resource(cmp.Or(rest, "/")); ok {
			return methods, true
		}
	}
	_, methods, ok := t.router.resource(escaped)
	return methods, ok
}

// allowCORS adds, on an HTTP API or function URL with CORS, the headers of an allowed origin to
// whatever the response turns out to be.
func allowCORS(w http.ResponseWriter, r *http.Request, d door) {
	c := d.cors
	if c == nil || d.kind == project.KindREST {
		return
	}
	allowed := allowedOrigin(c, r.Header.Get("Origin"))
	if allowed == "" {
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", allowed)
	if c.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if len(c.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.ToLower(strings.Join(c.ExposeHeaders, ",")))
	}
}

// allowedOrigin is the Access-Control-Allow-Origin value for origin: the origin itself when it
// is listed, "*" when any origin is, "" when the origin may not call.
func allowedOrigin(c *project.CORS, origin string) string {
	if origin == "" {
		return ""
	}
	if slices.ContainsFunc(c.AllowOrigins, func(o string) bool { return strings.EqualFold(o, origin) }) {
		return origin
	}
	if slices.Contains(c.AllowOrigins, "*") {
		return "*"
	}
	return ""
}

// isCORSHeader says whether a response header is one the gateway's CORS owns.
func isCORSHeader(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), "access-control-")
}
