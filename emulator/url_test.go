package emulator_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/devserver/devserver/internal/testkit"
)

const urlConfig = `
app_name: urls
api: {kind: rest, stage: api}
functions:
  V2: {source: ./testdata/v2, url: true}
  Private:
    source: ./testdata/v2
    url: {auth: AWS_IAM, cors: {allow_origins: [https://app.example.com], allow_methods: [GET]}}
  Fault: {source: ./testdata/fault}
routes:
  - {method: ANY, path: "/{proxy+}", function: Fault}
`

// TestFunctionURLs checks function URLs: served with the 2.0 payload under /__url/<Function>/,
// which no API route shadows (not even ANY /{proxy+}); AWS_IAM wants a SigV4-signed request;
// their own CORS; the errors a function URL answers.
func TestFunctionURLs(t *testing.T) {
	s := start(t, urlConfig, 0)
	const sigV4 = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=abc"
	tests := []struct {
		name, method, path string
		header             http.Header
		status             int
		body               string
		want               map[string]string
	}{
		{"served", "GET", "/__url/V2/ok", nil, 200, "ok", map[string]string{"Content-Type": "text/plain"}},
		{"the 2.0 simplified response", "GET", "/__url/V2/anything?action=object", nil, 200, `{"hello":"world"}`, nil},
		{"root", "GET", "/__url/V2/?action=string", nil, 200, "just a string", nil},
		{"function error", "GET", "/__url/V2/error", nil, 502, `{"Message":"Internal Server Error"}`, nil},
		{"no such function URL", "GET", "/__url/Fault/ok", nil, 404, `{"Message":"Not Found"}`, nil},
		{"the API still serves its routes", "GET", "/ok", nil, 200, "ok", nil},
		{"AWS_IAM without a signature", "GET", "/__url/Private/ok", nil, 403, `{"Message":"Forbidden"}`, nil},
		{"AWS_IAM signed", "GET", "/__url/Private/ok", http.Header{"Authorization": {sigV4}}, 200, "ok", nil},
		{"CORS preflight", "OPTIONS", "/__url/Private/ok", http.Header{"Origin": {"https://app.example.com"}, "Access-Control-Request-Method": {"GET"}}, 204, "",
			map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Methods": "GET"}},
		{"CORS on a response", "GET", "/__url/Private/ok", http.Header{"Authorization": {sigV4}, "Origin": {"https://app.example.com"}}, 200, "ok",
			map[string]string{"Access-Control-Allow-Origin": "https://app.example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := do(t, tt.method, s.URL+tt.path, "", tt.header)
			if status != tt.status || string(body) != tt.body {
				t.Errorf("%s %s = %d %s, want %d %s", tt.method, tt.path, status, body, tt.status, tt.body)
			}
			for k, v := range tt.want {
				if h.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, h.Get(k), v)
				}
			}
		})
	}
	t.Run("golden event", func(t *testing.T) {
		status, h, body := do(t, "POST", s.URL+"/__url/V2/some/path?action=echo&a=1&a=2", `{"x":1}`, http.Header{"Content-Type": {"application/json"}, "Cookie": {"c=1"}})
		if status != 200 || h.Get("X-Amzn-Requestid") == "" {
			t.Fatalf("POST = %d %s %v", status, body, h)
		}
		testkit.Golden(t, filepath.Join("testdata", "golden", "url-event.json"), maskedV2(t, body))
	})
	t.Run("the IAM caller reaches the event", func(t *testing.T) {
		_, _, body := do(t, "GET", s.URL+"/__url/Private/?action=echo", "", http.Header{"Authorization": {sigV4}})
		var ev struct {
			RequestContext struct {
				Authorizer struct{ IAM struct{ AccessKey string } }
			}
		}
		if err := json.Unmarshal(body, &ev); err != nil || ev.RequestContext.Authorizer.IAM.AccessKey != "AKIDEXAMPLE" {
			t.Errorf("event = %s, want authorizer.iam.accessKey AKIDEXAMPLE", body)
		}
	})
}
