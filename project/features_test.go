package project

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// httpFeaturesConfig and restFeaturesConfig use every key of their kind (also seeds of FuzzParse).
const httpFeaturesConfig = `
api:
  kind: http
  cors:
    allow_origins: [https://app.example.com, http://localhost:3000]
    allow_methods: [get, POST]
    allow_headers: [Authorization]
    expose_headers: [X-Total]
    max_age: 600
    allow_credentials: true
  stage_variables: {table: pets}
  authorizers:
    Auth: {function: Authz, identity: [header.Authorization], ttl: 0}
    Policy: {function: Authz, identity: header.Authorization, payload_format: "1.0"}
  default_authorizer: Auth
functions:
  Api: {source: ./fn}
  Old: {source: ./fn, payload_format: "1.0", url: true}
  Authz: {source: ./fn, url: {auth: AWS_IAM, cors: {allow_origins: ["*"]}}}
routes:
  - {method: GET, path: /a, function: Api}
  - {method: GET, path: /b, function: Old, authorizer: NONE}
  - {method: GET, path: /c, function: Old, payload_format: "2.0", authorizer: Policy}
  - {path: $default, function: Api}
`

const restFeaturesConfig = `
api:
  kind: rest
  cors: {allow_origins: "https://app.example.com"}
  stage_variables: {table: pets, mode: dev}
  authorizers:
    Token: {function: A, validation: "^Bearer [a-z]+$"}
    Req: {function: A, type: request, identity: [header.X-Key, query.key, stage.mode], ttl: 60}
functions:
  A: {source: ./fn}
routes:
  - {method: GET, path: /, function: A, authorizer: Token}
stages:
  prod:
    api: {stage: prod, stage_variables: {mode: prod}}
`

// TestHTTPAPIModel checks what an HTTP API config resolves to: the $default stage and route,
// payload formats by route, then function, then kind, authorizers by route, then default.
func TestHTTPAPIModel(t *testing.T) {
	p, err := parse(t, httpFeaturesConfig, "")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if p.API.Stage != DefaultHTTPStage || p.API.TimeoutMS != 30000 {
		t.Errorf("API = %+v, want stage $default and 30000 ms", p.API)
	}
	want := []Route{
		{Method: "GET", Path: "/a", Function: "Api", PayloadFormat: Payload20, Authorizer: "Auth"},
		{Method: "GET", Path: "/b", Function: "Old", PayloadFormat: Payload10},
		{Method: "GET", Path: "/c", Function: "Old", PayloadFormat: Payload20, Authorizer: "Policy"},
		{Method: "ANY", Path: DefaultRoute, Function: "Api", PayloadFormat: Payload20, Authorizer: "Auth"},
	}
	if !reflect.DeepEqual(p.Routes, want) {
		t.Errorf("routes = %+v\nwant %+v", p.Routes, want)
	}
	if got := p.Routes[3].Key(); got != "$default" {
		t.Errorf("$default route key = %q", got)
	}
	wantCORS := &CORS{AllowOrigins: []string{"https://app.example.com", "http://localhost:3000"}, AllowMethods: []string{"GET", "POST"},
		AllowHeaders: []string{"Authorization"}, ExposeHeaders: []string{"X-Total"}, MaxAgeSec: 600, AllowCredentials: true}
	if !reflect.DeepEqual(p.API.CORS, wantCORS) {
		t.Errorf("CORS = %+v, want %+v", p.API.CORS, wantCORS)
	}
	auth, policy := p.API.Authorizer("Auth"), p.API.Authorizer("Policy")
	if auth.Type != AuthRequest || auth.TTLSec != 0 || !auth.SimpleResponses || auth.PayloadFormat != Payload20 {
		t.Errorf("Auth = %+v", auth)
	}
	if policy.TTLSec != DefaultAuthorizerTTL || policy.SimpleResponses || policy.PayloadFormat != Payload10 ||
		!reflect.DeepEqual(policy.Identity, []IdentitySource{{IdentityHeader, "Authorization"}}) {
		t.Errorf("Policy = %+v", policy)
	}
	if u := p.Function("Old").URL; u == nil || u.Auth != URLAuthNone || u.CORS != nil {
		t.Errorf("Old.URL = %+v, want NONE without CORS", u)
	}
	if u := p.Function("Authz").URL; u == nil || u.Auth != URLAuthIAM || u.CORS == nil || u.CORS.AllowOrigins[0] != "*" {
		t.Errorf("Authz.URL = %+v", u)
	}
	if p.Function("Api").URL != nil || p.API.StageVariables["table"] != "pets" {
		t.Errorf("Api.URL = %+v, stage variables %v", p.Function("Api").URL, p.API.StageVariables)
	}
}

// TestRESTFeaturesModel checks a REST config: TOKEN authorizers by default, stage variables
// merged by a named stage.
func TestRESTFeaturesModel(t *testing.T) {
	p, err := parse(t, restFeaturesConfig, "prod")
	if err != nil {
		t.Fatal(err)
	}
	tok, req := p.API.Authorizer("Token"), p.API.Authorizer("Req")
	if tok.Type != AuthToken || tok.TTLSec != 300 || tok.Validation == "" || !reflect.DeepEqual(tok.Identity, []IdentitySource{{IdentityHeader, "Authorization"}}) {
		t.Errorf("Token = %+v", tok)
	}
	if req.Type != AuthRequest || req.TTLSec != 60 || len(req.Identity) != 3 || req.Identity[2] != (IdentitySource{IdentityStage, "mode"}) {
		t.Errorf("Req = %+v", req)
	}
	if !reflect.DeepEqual(p.API.StageVariables, map[string]string{"table": "pets", "mode": "prod"}) {
		t.Errorf("stage variables = %v", p.API.StageVariables)
	}
	if p.Routes[0].PayloadFormat != Payload10 || p.Routes[0].Authorizer != "Token" || p.API.Stage != "prod" {
		t.Errorf("route = %+v, stage %s", p.Routes[0], p.API.Stage)
	}
}

// TestFeatureProblems checks every new key's problems are reported with their place.
func TestFeatureProblems(t *testing.T) {
	tests := []struct {
		name, config string
		want         []string
	}{
		{"REST refuses HTTP-only settings", `
api:
  kind: rest
  stage: $default
  cors: {allow_origins: [https://a.example, https://b.example], expose_headers: [X-A]}
  authorizers:
    A: {function: F, type: request, payload_format: "2.0", simple_responses: true}
functions:
  F: {source: ./fn, payload_format: "2.0"}
routes:
  - {path: $default, function: F}
  - {method: GET, path: /x, function: F, payload_format: "2.0"}
  - {method: OPTIONS, path: /x, function: F}
`, []string{
			"config.yaml:4:10: api.stage: $default is an HTTP API stage; a REST API's stage needs a name",
			"config.yaml:5:45: api.cors.allow_origins: a REST API allows one origin (SAM's AllowOrigin); use an HTTP API for several",
			"config.yaml:5:82: api.cors.expose_headers: a REST API's CORS cannot expose headers",
			"config.yaml:7:5: api.authorizers.A.identity: a cached request authorizer needs an identity",
			"config.yaml:7:53: api.authorizers.A.payload_format: a REST API's authorizers have one format",
			"config.yaml:7:78: api.authorizers.A.simple_responses: a REST API's authorizers answer with a policy",
			"config.yaml:9:37: functions.F.payload_format: a REST API sends payload 1.0 only",
			"config.yaml:11:12: routes[0].path: $default is an HTTP API route",
			"config.yaml:12:58: routes[1].payload_format: a REST API sends payload 1.0 only",
			"config.yaml:13:14: routes[2].method: a REST API with api.cors answers OPTIONS itself",
		}},
		{"HTTP API problems", `
api:
  kind: http
  timeout_ms: 31000
  binary_media_types: [image/png]
  cors: {allow_origins: ["*", "ftp://x"], allow_methods: [FETCH], max_age: -1, allow_credentials: yes}
  stage_variables: {bad-name: x, ok: "white space"}
  authorizers:
    T: {function: Nope, type: token, validation: "("}
    S: {function: F, payload_format: "1.0", simple_responses: true, identity: [cookie.x], ttl: 4000}
    NONE: {function: F}
  default_authorizer: Missing
functions:
  F: {source: ./fn, url: {auth: KEY, cors: {max_age: 5}}}
routes:
  - {method: GET, path: $default, function: F}
  - {method: GET, path: /a, function: F, authorizer: Other, payload_format: "3.0"}
`, []string{
			"config.yaml:4:15: api.timeout_ms: an HTTP API integration times out after at most 30000 ms",
			"config.yaml:5:23: api.binary_media_types: an HTTP API has no binary media types",
			`config.yaml:6:31: api.cors.allow_origins[1]: "ftp://x" is not an origin`,
			`config.yaml:6:59: api.cors.allow_methods[0]: unknown method "FETCH"`,
			"config.yaml:6:76: api.cors.max_age: -1 s is outside 0–86400",
			`config.yaml:6:99: api.cors.allow_credentials: "yes" must be true or false`,
			"config.yaml:7:21: api.stage_variables.bad-name: a stage variable name must be letters, digits and _",
			`config.yaml:7:38: api.stage_variables.ok: "white space" may hold only`,
			`config.yaml:9:19: api.authorizers.T.function: no function "Nope"`,
			"config.yaml:9:31: api.authorizers.T.type: an HTTP API's Lambda authorizers are request authorizers",
			"config.yaml:9:50: api.authorizers.T.validation: not a regular expression",
			"config.yaml:10:63: api.authorizers.S.simple_responses: simple responses need payload_format 2.0",
			`config.yaml:10:80: api.authorizers.S.identity[0]: "cookie.x" is not header.NAME, query.NAME or stage.NAME`,
			"config.yaml:10:96: api.authorizers.S.ttl: 4000 s is outside 0–3600",
			"config.yaml:11:5: api.authorizers.NONE: an authorizer name must be letters and digits",
			`config.yaml:12:23: api.default_authorizer: no authorizer "Missing" in api.authorizers`,
			`config.yaml:14:33: functions.F.url.auth: "KEY" is not one of NONE, AWS_IAM`,
			"config.yaml:14:44: functions.F.url.cors.allow_origins: missing",
			"config.yaml:16:14: routes[0].method: the $default route takes every method",
			`config.yaml:17:54: routes[1].authorizer: no authorizer "Other" in api.authorizers (or NONE)`,
			`config.yaml:17:77: routes[1].payload_format: "3.0" is not one of 1.0, 2.0`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.config, "")
			var cerr *ConfigError
			if !errors.As(err, &cerr) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q; got:\n%s", w, msg)
				}
			}
		})
	}
}
