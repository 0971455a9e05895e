package apigateway

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/devserver/devserver/emulator/invocation"
	"github.com/devserver/devserver/internal/testkit"
	"github.com/devserver/devserver/project"
)

func TestWildcardMatch(t *testing.T) {
	const arn = "arn:aws:execute-api:us-east-1:123456789012:abc/api/GET/pets/7"
	tests := []struct {
		pattern string
		want    bool
	}{
		{arn, true},
		{"*", true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/api/GET/*", true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/pets/*", true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/api/*", true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/api/GET/pets/?", true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/api/GET/pets/??", false},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/api/POST/*", false},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/api/GET/pets", false},
		{"arn:aws:execute-api:*:*:abc/*/*/pets/*", true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/api/get/pets/7", false}, // resources match case-sensitively
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.pattern, arn); got != tt.want {
			t.Errorf("wildcardMatch(%q) = %v, want %v", tt.pattern, got, tt.want)
		}
	}
}

func TestPolicyAllows(t *testing.T) {
	const arn = "arn:aws:execute-api:us-east-1:123456789012:abc/api/GET/pets/7"
	tests := []struct {
		name, policy string
		want         bool
	}{
		{"allow", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"` + arn + `"}]}`, true},
		{"one statement, lists", `{"Statement":{"Effect":"Allow","Action":["execute-api:Invoke"],"Resource":["x","` + arn + `"]}}`, true},
		{"an explicit deny wins", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"execute-api:*","Resource":"*/GET/*"}]}`, false},
		{"another action", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, false},
		{"nothing said is a deny", `{"Statement":[]}`, false},
		{"action case does not matter", `{"Statement":[{"Effect":"allow","Action":"Execute-API:invoke","Resource":"*"}]}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p policyDocument
			if err := json.Unmarshal([]byte(tt.policy), &p); err != nil {
				t.Fatal(err)
			}
			if got := p.allows(arn); got != tt.want {
				t.Errorf("allows = %v, want %v", got, tt.want)
			}
		})
	}
}

// recorder is an Invoker that keeps each payload it is given and answers with the answer set for
// its function: the authorizer's decision, then the route function's response.
type recorder struct {
	mu       sync.Mutex
	payloads map[string][]byte
	answers  map[string]string
}

func (rc *recorder) Invoke(_ context.Context, function string, req invocation.Request) (*invocation.Response, error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.payloads[function] = req.Payload
	return &invocation.Response{RequestID: invocation.NewRequestID(), Payload: []byte(rc.answers[function])}, nil
}

// TestAuthorizerEventsGolden checks the events an authorizer receives, of each kind, against
// testdata/golden, with the clock fixed and the ids masked.
func TestAuthorizerEventsGolden(t *testing.T) {
	const allow = `{"principalId":"me","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]},"context":{"user":"me"}}`
	tests := []struct {
		name, kind string
		authorizer project.Authorizer
		answer     string
	}{
		{"rest-token", project.KindREST, project.Authorizer{Type: project.AuthToken, Identity: []project.IdentitySource{{Kind: project.IdentityHeader, Name: "Authorization"}}}, allow},
		{"rest-request", project.KindREST, project.Authorizer{Type: project.AuthRequest, Identity: []project.IdentitySource{{Kind: project.IdentityHeader, Name: "Authorization"}, {Kind: project.IdentityQuery, Name: "tenant"}, {Kind: project.IdentityStage, Name: "mode"}}}, allow},
		{"http-request-2.0", project.KindHTTP, project.Authorizer{Type: project.AuthRequest, PayloadFormat: project.Payload20, SimpleResponses: true, Identity: []project.IdentitySource{{Kind: project.IdentityHeader, Name: "Authorization"}}}, `{"isAuthorized":true,"context":{"user":"me"}}`},
		{"http-request-1.0", project.KindHTTP, project.Authorizer{Type: project.AuthRequest, PayloadFormat: project.Payload10, Identity: []project.IdentitySource{{Kind: project.IdentityHeader, Name: "Authorization"}, {Kind: project.IdentityQuery, Name: "tenant"}}}, allow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := tt.authorizer
			z.Name, z.Function = "Auth", "Authz"
			stage := "api"
			if tt.kind == project.KindHTTP {
				stage = project.DefaultHTTPStage
			}
			p := &project.Project{AppName: "golden", API: project.API{Kind: tt.kind, Stage: stage, TimeoutMS: 29000,
				StageVariables: map[string]string{"mode": "live"}, Authorizers: []*project.Authorizer{&z}},
				Routes: []project.Route{{Method: "GET", Path: "/pets/{id}", Function: "Pets", Authorizer: "Auth"}}}
			rc := &recorder{payloads: map[string][]byte{}, answers: map[string]string{"Authz": tt.answer, "Pets": `{"statusCode":200,"body":"ok"}`}}
			now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			g := New(Config{Invoker: rc, AccountID: "123456789012", Now: func() time.Time { return now }}, p)
			r := httptest.NewRequest("GET", "http://api.example/pets/7?tenant=acme&tenant=other", nil)
			r.Header.Set("Authorization", "Bearer token")
			r.Header.Set("Cookie", "a=1")
			w := httptest.NewRecorder()
			g.ServeHTTP(w, r)
			if w.Code != 200 || w.Body.String() != "ok" {
				t.Fatalf("GET = %d %s, want 200 ok", w.Code, w.Body.String())
			}
			var ev map[string]any
			if err := json.Unmarshal(rc.payloads["Authz"], &ev); err != nil {
				t.Fatalf("authorizer event: %v\n%s", err, rc.payloads["Authz"])
			}
			if rcx, ok := ev["requestContext"].(map[string]any); ok {
				rcx["requestId"] = "MASKED"
			}
			out, err := json.MarshalIndent(ev, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			out = regexp.MustCompile(`Root=1-[0-9a-f]+-[0-9a-f]+`).ReplaceAll(out, []byte("Root=1-MASKED"))
			testkit.Golden(t, filepath.Join("testdata", "golden", "authorizer-"+tt.name+".json"), append(out, '\n'))
		})
	}
}
