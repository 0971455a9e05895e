package emulator_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

const restAuthConfig = `
app_name: auth-rest
api:
  kind: rest
  stage: api
  stage_variables: {tenant: acme}
  authorizers:
    Token: {function: Authz, validation: "^Bearer [a-z-]+$", ttl: 300}
    NoCache: {function: Authz, ttl: 0}
    Req: {function: Authz, type: request, identity: [header.X-Key, query.token, stage.tenant], ttl: 300}
  default_authorizer: Token
functions:
  Fault: {source: ./testdata/fault}
  Authz: {source: ./testdata/authorizer, timeout: 1}
routes:
  - {method: GET, path: "/{action}", function: Fault}
  - {method: POST, path: "/{action}", function: Fault, authorizer: NoCache}
  - {method: GET, path: "/req/{action}", function: Fault, authorizer: Req}
  - {method: GET, path: "/open/{action}", function: Fault, authorizer: NONE}
`

// authCalls counts the authorizer's invocations, by its REPORT lines in the terminal.
func authCalls(s *testServer) int {
	return strings.Count(s.Term.String(), "[Authz] REPORT RequestId:")
}

type authCase struct {
	name, method, path string
	header             http.Header
	status             int
	body               string // "" skips the check
	calls              int    // authorizer invocations the request makes
}

func checkAuth(t *testing.T, s *testServer, tests []authCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := authCalls(s)
			status, _, body := do(t, tt.method, s.URL+tt.path, "", tt.header)
			if status != tt.status || (tt.body != "" && string(body) != tt.body) {
				t.Errorf("%s %s = %d %s, want %d %s", tt.method, tt.path, status, body, tt.status, tt.body)
			}
			if got := authCalls(s) - before; got != tt.calls {
				t.Errorf("authorizer invoked %d times, want %d", got, tt.calls)
			}
		})
	}
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

// TestRESTAuthorizers checks TOKEN and REQUEST authorizers on a REST API: each outcome's answer,
// the validation expression, the cache by identity (and a cached policy matched against each
// request's method ARN, wildcards included), and an open route.
func TestRESTAuthorizers(t *testing.T) {
	s := start(t, restAuthConfig, 0)
	const unauthorized, denied, failed = `{"message":"Unauthorized"}`, `{"message":"User is not authorized to access this resource"}`, `{"message":null}`
	checkAuth(t, s, []authCase{
		{"no token", "GET", "/ok", nil, 401, unauthorized, 0},
		{"token fails the validation expression", "GET", "/ok", bearer("BAD!"), 401, unauthorized, 0},
		{"allowed", "GET", "/ok", bearer("allow"), 200, "ok", 1},
		{"cached within the TTL", "GET", "/ok", bearer("allow"), 200, "ok", 0},
		{"cached policy names another method ARN", "GET", "/echo", bearer("allow"), 403, denied, 0},
		{"another token is another identity", "GET", "/echo", bearer("allow-two"), 200, "", 1},
		{"policy on *", "GET", "/ok", bearer("allow-all"), 200, "ok", 1},
		{"cached * policy allows every method", "GET", "/echo", bearer("allow-all"), 200, "", 0},
		{"? wildcards: the same length", "GET", "/echo", bearer("allow-wild"), 200, "", 1},
		{"? wildcards: cached, another path of that length", "GET", "/okay", bearer("allow-wild"), 404, "unknown action okay", 0},
		{"? wildcards: cached, a shorter path", "GET", "/ok", bearer("allow-wild"), 403, denied, 0},
		{"denied", "GET", "/ok", bearer("deny"), 403, denied, 1},
		{"Unauthorized error is 401", "GET", "/ok", bearer("unauthorized"), 401, unauthorized, 1},
		{"authorizer error", "GET", "/ok", bearer("error"), 500, failed, 1},
		{"authorizer answer of the wrong shape", "GET", "/ok", bearer("bad"), 500, failed, 1},
		{"authorizer timeout", "GET", "/ok", bearer("slow"), 500, failed, 1},
		{"ttl 0 calls every time", "POST", "/ok", bearer("allow-all"), 200, "ok", 1},
		{"ttl 0 calls every time, again", "POST", "/ok", bearer("allow-all"), 200, "ok", 1},
		{"open route", "GET", "/open/ok", nil, 200, "ok", 0},
		{"request authorizer without its header", "GET", "/req/ok?token=allow", nil, 401, unauthorized, 0},
		{"request authorizer without its query", "GET", "/req/ok", http.Header{"X-Key": {"k"}}, 401, unauthorized, 0},
		{"request authorizer", "GET", "/req/ok?token=allow-all", http.Header{"X-Key": {"k"}}, 200, "ok", 1},
		{"request authorizer cached by all its identity", "GET", "/req/ok?token=allow-all", http.Header{"X-Key": {"k"}}, 200, "ok", 0},
		{"request authorizer, another key", "GET", "/req/ok?token=allow-all", http.Header{"X-Key": {"k2"}}, 200, "ok", 1},
	})
	t.Run("context reaches the event", func(t *testing.T) {
		status, _, body := do(t, "GET", s.URL+"/echo", "", bearer("allow-all"))
		var ev struct {
			StageVariables map[string]string
			RequestContext struct{ Authorizer map[string]any }
		}
		if err := json.Unmarshal(body, &ev); status != 200 || err != nil {
			t.Fatalf("GET /echo = %d %s", status, body)
		}
		want := map[string]any{"principalId": "user-allow-all", "user": "allow-all", "level": 3.0, "admin": false}
		for k, v := range want {
			if ev.RequestContext.Authorizer[k] != v {
				t.Errorf("requestContext.authorizer = %v, want %v", ev.RequestContext.Authorizer, want)
			}
		}
		if ev.StageVariables["tenant"] != "acme" {
			t.Errorf("stageVariables = %v", ev.StageVariables)
		}
	})
	t.Run("the authorizer's invoke is recorded before the function's", func(t *testing.T) {
		do(t, "POST", s.URL+"/ok", "", bearer("allow-all"))
		if !regexp.MustCompile(`method=POST path=/ok status=200 .*lambdaRequestId=[0-9a-f-]{36},[0-9a-f-]{36}`).MatchString(s.Term.String()) {
			t.Errorf("access line lacks both Lambda request ids:\n%s", s.Term.String())
		}
	})
	if !strings.Contains(s.Term.String(), "[Authz] authorizer called: type=TOKEN") || !strings.Contains(s.Term.String(), "[Authz] authorizer called: type=REQUEST") {
		t.Errorf("authorizer output lacks its TOKEN and REQUEST calls:\n%s", s.Term.String())
	}
}

// TestHTTPAuthorizers checks an HTTP API's request authorizers: simple responses (2.0), IAM
// policies in payload 1.0 and 2.0, and each outcome's answer.
func TestHTTPAuthorizers(t *testing.T) {
	s := start(t, `
app_name: auth-http
api:
  kind: http
  authorizers:
    Simple: {function: Authz, identity: [header.Authorization], ttl: 300}
    Policy: {function: Authz, identity: [header.Authorization], payload_format: "1.0", ttl: 0}
    Policy2: {function: Authz, identity: [header.Authorization], simple_responses: false, ttl: 0}
  default_authorizer: Simple
functions:
  V2: {source: ./testdata/v2}
  Authz: {source: ./testdata/authorizer, timeout: 1}
routes:
  - {method: GET, path: "/v2/{action}", function: V2}
  - {method: GET, path: "/policy/{action}", function: V2, authorizer: Policy}
  - {method: GET, path: "/policy2/{action}", function: V2, authorizer: Policy2}
  - {method: GET, path: "/open/{action}", function: V2, authorizer: NONE}
`, 0)
	const unauthorized, forbidden, failed = `{"message":"Unauthorized"}`, `{"message":"Forbidden"}`, `{"message":"Internal Server Error"}`
	checkAuth(t, s, []authCase{
		{"no identity", "GET", "/v2/object", nil, 401, unauthorized, 0},
		{"simple yes", "GET", "/v2/object", bearer("yes"), 200, `{"hello":"world"}`, 1},
		{"simple yes, cached", "GET", "/v2/object", bearer("yes"), 200, `{"hello":"world"}`, 0},
		{"simple no", "GET", "/v2/object", bearer("no"), 403, forbidden, 1},
		{"error", "GET", "/v2/object", bearer("error"), 500, failed, 1},
		{"no isAuthorized in a simple response", "GET", "/v2/object", bearer("bad"), 500, failed, 1},
		{"timeout", "GET", "/v2/object", bearer("slow"), 500, failed, 1},
		{"Unauthorized error is a failure on an HTTP API", "GET", "/v2/object", bearer("unauthorized"), 500, failed, 1},
		{"1.0 policy allow", "GET", "/policy/object", bearer("allow"), 200, `{"hello":"world"}`, 1},
		{"1.0 policy deny", "GET", "/policy/object", bearer("deny"), 403, forbidden, 1},
		{"2.0 policy allow", "GET", "/policy2/object", bearer("allow"), 200, `{"hello":"world"}`, 1},
		{"2.0 policy, other method ARN", "GET", "/policy2/object", bearer("deny"), 403, forbidden, 1},
		{"open", "GET", "/open/object", nil, 200, `{"hello":"world"}`, 0},
	})
	t.Run("context reaches requestContext.authorizer.lambda", func(t *testing.T) {
		status, _, body := do(t, "GET", s.URL+"/v2/echo", "", bearer("yes"))
		var ev struct {
			RequestContext struct {
				Authorizer struct{ Lambda map[string]any }
			}
		}
		if err := json.Unmarshal(body, &ev); status != 200 || err != nil {
			t.Fatalf("GET /v2/echo = %d %s", status, body)
		}
		if ev.RequestContext.Authorizer.Lambda["user"] != "yes" {
			t.Errorf("requestContext.authorizer = %+v, want lambda.user yes", ev.RequestContext.Authorizer)
		}
	})
	for _, want := range []string{"authorizer called: type=REQUEST version=2.0", "authorizer called: type=REQUEST version=1.0"} {
		if !strings.Contains(s.Term.String(), want) {
			t.Errorf("terminal lacks %q:\n%s", want, s.Term.String())
		}
	}
}
