package emulator_test

import (
	"net/http"
	"testing"
)

const (
	allowedOrigin = "https://app.example.com"
	otherOrigin   = "https://evil.example"
)

// corsCase is one request and the CORS headers its answer must carry ("" for absent).
type corsCase struct {
	name, method, path, origin, requestMethod string
	status                                    int
	body                                      string
	want                                      map[string]string
}

func checkCORS(t *testing.T, url string, tests []corsCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			if tt.requestMethod != "" {
				h.Set("Access-Control-Request-Method", tt.requestMethod)
				h.Set("Access-Control-Request-Headers", "authorization")
			}
			status, got, body := do(t, tt.method, url+tt.path, "", h)
			if status != tt.status || (tt.body != "" && string(body) != tt.body) {
				t.Errorf("%s %s = %d %s, want %d %s", tt.method, tt.path, status, body, tt.status, tt.body)
			}
			for k, want := range tt.want {
				if v := got.Get(k); v != want {
					t.Errorf("%s = %q, want %q", k, v, want)
				}
			}
		})
	}
}

// TestHTTPCORS checks an HTTP API answers every preflight itself (204, route or not), and adds
// its CORS headers to every response for an allowed origin, in place of the function's; a
// disallowed origin gets none.
func TestHTTPCORS(t *testing.T) {
	s := start(t, `
api:
  kind: http
  cors:
    allow_origins: [https://app.example.com]
    allow_methods: [GET, POST]
    allow_headers: [Authorization, X-Custom]
    expose_headers: [X-Total]
    max_age: 600
    allow_credentials: true
functions:
  V2: {source: ./testdata/v2}
routes:
  - {method: GET, path: "/v2/{action}", function: V2}
`, 0)
	none := map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": "", "Access-Control-Allow-Credentials": "", "Access-Control-Expose-Headers": ""}
	checkCORS(t, s.URL, []corsCase{
		{"preflight, allowed origin", "OPTIONS", "/v2/ok", allowedOrigin, "POST", 204, "", map[string]string{
			"Access-Control-Allow-Origin": allowedOrigin, "Access-Control-Allow-Methods": "GET,POST",
			"Access-Control-Allow-Headers": "authorization,x-custom", "Access-Control-Max-Age": "600",
			"Access-Control-Allow-Credentials": "true"}},
		{"preflight, disallowed origin", "OPTIONS", "/v2/ok", otherOrigin, "POST", 204, "", none},
		{"preflight on a path with no route", "OPTIONS", "/nowhere", allowedOrigin, "GET", 204, "", map[string]string{"Access-Control-Allow-Origin": allowedOrigin}},
		{"OPTIONS that is no preflight is routed", "OPTIONS", "/v2/ok", allowedOrigin, "", 404, `{"message":"Not Found"}`, map[string]string{"Access-Control-Allow-Origin": allowedOrigin}},
		{"request, allowed origin, the function's CORS header replaced", "GET", "/v2/cors", allowedOrigin, "", 200, "cors", map[string]string{
			"Access-Control-Allow-Origin": allowedOrigin, "Access-Control-Allow-Credentials": "true", "Access-Control-Expose-Headers": "x-total"}},
		{"request, disallowed origin", "GET", "/v2/cors", otherOrigin, "", 200, "cors", none},
		{"request without Origin", "GET", "/v2/cors", "", "", 200, "cors", none},
		{"gateway error, allowed origin", "GET", "/nowhere", allowedOrigin, "", 404, `{"message":"Not Found"}`, map[string]string{"Access-Control-Allow-Origin": allowedOrigin}},
	})
}

// TestRESTCORS checks a REST API's CORS is SAM's OPTIONS mock on every resource: 200 {} with the
// configured headers as they are, whatever the origin; no resource, no mock; other responses are
// the function's alone.
func TestRESTCORS(t *testing.T) {
	s := start(t, `
api:
  kind: rest
  stage: api
  cors:
    allow_origins: https://app.example.com
    allow_headers: [Authorization]
    max_age: 600
    allow_credentials: true
functions:
  Fault: {source: ./testdata/fault}
routes:
  - {method: GET, path: "/{action}", function: Fault}
  - {method: ANY, path: "/any/{proxy+}", function: Fault}
`, 0)
	mock := map[string]string{"Access-Control-Allow-Origin": allowedOrigin, "Access-Control-Allow-Methods": "GET,OPTIONS",
		"Access-Control-Allow-Headers": "Authorization", "Access-Control-Max-Age": "600", "Access-Control-Allow-Credentials": "true"}
	checkCORS(t, s.URL, []corsCase{
		{"preflight, allowed origin", "OPTIONS", "/ok", allowedOrigin, "GET", 200, "{}", mock},
		{"preflight under the stage prefix", "OPTIONS", "/api/ok", allowedOrigin, "GET", 200, "{}", mock},
		{"preflight, disallowed origin: the mock names its own origin", "OPTIONS", "/ok", otherOrigin, "GET", 200, "{}", mock},
		{"OPTIONS without Origin still reaches the mock", "OPTIONS", "/ok", "", "", 200, "{}", mock},
		{"an ANY resource lists every method", "OPTIONS", "/any/a/b", allowedOrigin, "PUT", 200, "{}", map[string]string{
			"Access-Control-Allow-Methods": "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"}},
		{"no resource, no mock", "OPTIONS", "/a/b/c", allowedOrigin, "GET", 403, `{"message":"Missing Authentication Token"}`, map[string]string{"Access-Control-Allow-Origin": ""}},
		{"a request's CORS headers are the function's", "GET", "/ok", allowedOrigin, "", 200, "ok", map[string]string{"Access-Control-Allow-Origin": ""}},
	})
}
