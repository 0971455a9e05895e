package emulator_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devserver/devserver/internal/testkit"
)

const httpConfig = `
app_name: pets-http
api:
  kind: http
  timeout_ms: %d
functions:
  V2: {source: ./testdata/v2, timeout: 5}
  Fault: {source: ./testdata/fault, payload_format: "1.0"}
  Mixed: {source: ./testdata/fault}
routes:
  - {method: GET, path: "/pets/{id}", function: V2}
  - {method: POST, path: /items, function: V2}
  - {method: ANY, path: "/files/{proxy+}", function: V2}
  - {method: GET, path: "/v2/{action}", function: V2}
  - {method: GET, path: "/v1/{action}", function: Fault}
  - {method: GET, path: "/mixed/{action}", function: Mixed, payload_format: "1.0"}
  - {path: $default, function: V2}
`

// maskedV2 replaces what differs between runs in an event an HTTP API made (ids, times, ports).
func maskedV2(t *testing.T, event []byte) []byte {
	t.Helper()
	return maskEvent(t, event)
}

func do(t *testing.T, method, url, body string, header http.Header) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// TestHTTPGoldenEvents checks the payload 2.0 events (and payload 1.0 on an HTTP API) against
// testdata/golden, with ids and times masked.
func TestHTTPGoldenEvents(t *testing.T) {
	s := start(t, fmt.Sprintf(httpConfig, 30000), 0)
	tests := []struct {
		name, method, path, body string
		header                   http.Header
	}{
		// Repeated headers and query parameters joined with commas, cookies split out of the
		// headers, header names lower-cased.
		{"v2-path-params-repeated", "GET", "/pets/42?action=echo&tag=a&tag=b&limit=5", "",
			http.Header{"X-Multi": {"one", "two"}, "Cookie": {"a=1; b=2", "c=3"}, "X-Mixed-Case": {"Yes"}}},
		{"v2-post-json", "POST", "/items?action=echo", `{"name":"rex","legs":4}`,
			http.Header{"Content-Type": {"application/json"}}},
		// An HTTP API URL-decodes path parameters (a REST API does not).
		{"v2-params-decoded", "GET", "/pets/a%20b?action=echo", "", nil},
		{"v2-greedy-binary", "PUT", "/files/a/b/c.png?action=echo", "\x89PNG\r\n",
			http.Header{"Content-Type": {"image/png"}}},
		{"v2-form-is-binary", "POST", "/files/form?action=echo", "a=1&b=2",
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}},
		{"v2-default-route", "DELETE", "/nowhere/at/all?action=echo", "", nil},
		{"http-v1-route", "GET", "/mixed/echo?tag=a&tag=b", "", http.Header{"X-Multi": {"one", "two"}}},
		{"http-v1-function", "GET", "/v1/echo", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := do(t, tt.method, s.URL+tt.path, tt.body, tt.header)
			if status != 200 {
				t.Fatalf("%s %s = %d %s", tt.method, tt.path, status, body)
			}
			if h.Get("Apigw-Requestid") == "" {
				t.Errorf("response lacks apigw-requestid")
			}
			testkit.Golden(t, filepath.Join("testdata", "golden", tt.name+".json"), maskedV2(t, body))
		})
	}
}

// TestHTTPResponses checks the payload 2.0 response rules and the HTTP API's error rows.
func TestHTTPResponses(t *testing.T) {
	s := start(t, fmt.Sprintf(httpConfig, 30000), 0)
	const internal = `{"message":"Internal Server Error"}`
	tests := []struct {
		name, method, path string
		status             int
		body               string
		header             http.Header
	}{
		{"structured", "GET", "/v2/ok", 200, "ok", http.Header{"Content-Type": {"text/plain"}}},
		{"object without statusCode is the body", "GET", "/v2/object", 200, `{"hello":"world"}`, http.Header{"Content-Type": {"application/json"}}},
		{"string is the raw body", "GET", "/v2/string", 200, "just a string", http.Header{"Content-Type": {"application/json"}}},
		{"numeric string status, unknown keys ignored", "GET", "/v2/numeric-status", 201, "created", nil},
		{"non-numeric status", "GET", "/v2/bad-status", 500, internal, nil},
		{"one Set-Cookie per cookie", "GET", "/v2/cookies", 200, "cookies", http.Header{"Set-Cookie": {"a=1; Path=/", "b=2; HttpOnly"}}},
		{"base64 always decoded", "GET", "/v2/binary", 200, "\x89PNG\r\n\x1a\n", http.Header{"Content-Type": {"image/png"}}},
		{"function error", "GET", "/v2/error", 500, internal, http.Header{"Content-Type": {"application/json"}}},
		{"panic", "GET", "/v2/panic", 500, internal, nil},
		{"payload 1.0 function error is 500, not 502", "GET", "/v1/error", 500, internal, nil},
		{"payload 1.0 malformed is 500", "GET", "/v1/malformed", 500, internal, nil},
		{"payload 1.0 ok", "GET", "/v1/ok", 200, "ok", nil},
		{"payload 1.0 base64 always decoded", "GET", "/v1/binary", 200, "\x89PNG", nil},
		{"a method with no route goes to $default", "POST", "/pets/1?action=string", 200, "just a string", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := do(t, tt.method, s.URL+tt.path, "", nil)
			if status != tt.status || string(body) != tt.body {
				t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, status, body, tt.status, tt.body)
			}
			if h.Get("Apigw-Requestid") == "" || h.Get("x-amzn-RequestId") != "" {
				t.Errorf("headers = %v, want apigw-requestid and no REST ids", h)
			}
			for k, want := range tt.header {
				if got := h.Values(k); strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// TestHTTPNotFound checks an HTTP API without a $default route answers 404 for an unknown path
// and for a known path with another method.
func TestHTTPNotFound(t *testing.T) {
	s := start(t, `
api: {kind: http}
functions:
  V2: {source: ./testdata/v2}
routes:
  - {method: GET, path: /pets, function: V2}
`, 0)
	for _, tt := range []struct{ method, path string }{{"GET", "/nope"}, {"POST", "/pets"}, {"HEAD", "/pets"}, {"GET", "/api/pets"}} {
		status, h, body := do(t, tt.method, s.URL+tt.path, "", nil)
		if status != 404 || (tt.method != "HEAD" && string(body) != `{"message":"Not Found"}`) || h.Get("Apigw-Requestid") == "" {
			t.Errorf("%s %s = %d %s %v, want 404 Not Found with apigw-requestid", tt.method, tt.path, status, body, h)
		}
	}
}

// TestHTTPLimits checks the HTTP API's 503 after its integration timeout and 413 over 10 MB.
func TestHTTPLimits(t *testing.T) {
	s := start(t, fmt.Sprintf(httpConfig, 300), 0)
	status, _, body := do(t, "GET", s.URL+"/v2/sleep?ms=1500", "", nil)
	if status != 503 || string(body) != `{"message":"Service Unavailable"}` {
		t.Errorf("slow function = %d %s, want 503 Service Unavailable", status, body)
	}
	status, _, body = do(t, "POST", s.URL+"/items", strings.Repeat("x", 10<<20+1), nil)
	if status != 413 || string(body) != `{"message":"Request Entity Too Large"}` {
		t.Errorf("11 MB body = %d %s, want 413", status, body)
	}
}

// TestHTTPNamedStage checks a named HTTP API stage: served with and without its prefix, the
// prefix always in the event's rawPath, as in the cloud.
func TestHTTPNamedStage(t *testing.T) {
	s := start(t, `
api: {kind: http, stage: beta}
functions:
  V2: {source: ./testdata/v2}
routes:
  - {method: GET, path: "/pets/{id}", function: V2}
`, 0)
	for _, path := range []string{"/beta/pets/1?action=echo", "/pets/1?action=echo"} {
		status, _, body := do(t, "GET", s.URL+path, "", nil)
		var ev struct {
			RawPath        string
			RequestContext struct{ Stage string }
		}
		if err := json.Unmarshal(body, &ev); status != 200 || err != nil {
			t.Fatalf("GET %s = %d %s", path, status, body)
		}
		if ev.RawPath != "/beta/pets/1" || ev.RequestContext.Stage != "beta" {
			t.Errorf("GET %s: rawPath %q stage %q, want /beta/pets/1 and beta", path, ev.RawPath, ev.RequestContext.Stage)
		}
	}
	if !bytes.Contains([]byte(s.Term.String()), []byte("START RequestId")) {
		t.Errorf("no invocation logged:\n%s", s.Term.String())
	}
}
