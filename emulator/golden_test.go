package emulator_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/devserver/devserver/internal/testkit"
)

const routesConfig = `
app_name: pets
api:
  stage: api
  binary_media_types: [image/png]
functions:
  Fault: {source: ./testdata/fault}
routes:
  - {method: GET, path: "/pets/{id}", function: Fault}
  - {method: POST, path: /items, function: Fault}
  - {method: ANY, path: "/files/{proxy+}", function: Fault}
  - {method: GET, path: /, function: Fault}
`

// masked replaces what differs between runs (ids, times, ports) so that events compare.
func masked(t *testing.T, event []byte) []byte {
	t.Helper()
	return maskEvent(t, event, "requestId", "extendedRequestId", "requestTime", "requestTimeEpoch")
}

// maskEvent replaces what differs between runs in an event: the requestContext keys named (each
// must be there and not empty), and the other ids, times and ports that API Gateway or a 1.0
// event made by an HTTP API may carry.
func maskEvent(t *testing.T, event []byte, required ...string) []byte {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(event, &v); err != nil {
		t.Fatalf("event is not JSON: %v\n%s", err, event)
	}
	rc := v["requestContext"].(map[string]any)
	for _, k := range []string{"requestId", "time", "timeEpoch", "extendedRequestId", "requestTime", "requestTimeEpoch"} {
		if _, ok := rc[k]; !ok && !slices.Contains(required, k) {
			continue
		}
		if rc[k] == nil || rc[k] == "" {
			t.Errorf("requestContext.%s is empty", k)
		}
		rc[k] = "MASKED"
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = regexp.MustCompile(`127\.0\.0\.1:\d+`).ReplaceAll(out, []byte("127.0.0.1:PORT"))
	out = regexp.MustCompile(`Root=1-[0-9a-f]+-[0-9a-f]+`).ReplaceAll(out, []byte("Root=1-MASKED"))
	out = regexp.MustCompile(`"(x-forwarded-port|X-Forwarded-Port)": (\[\s*)?"\d+"`).ReplaceAll(out, []byte(`"$1": ${2}"PORT"`))
	return append(out, '\n')
}

// TestGoldenEvents checks the payload 1.0 events against testdata/golden, with ids and times masked.
func TestGoldenEvents(t *testing.T) {
	s := start(t, routesConfig, 0)
	tests := []struct {
		name, method, path, body string
		header                   http.Header
	}{
		{"path-params-repeated", "GET", "/api/pets/42?action=echo&tag=a&tag=b&limit=5", "",
			http.Header{"X-Multi": {"one", "two"}, "Cookie": {"a=1", "b=2"}}},
		{"post-json", "POST", "/items?action=echo", `{"name":"rex","legs":4}`,
			http.Header{"Content-Type": {"application/json"}}},
		{"rest-params-not-decoded", "GET", "/pets/a%20b?action=echo", "", nil},
		{"greedy-binary", "PUT", "/files/a/b/c.png?action=echo", "\x89PNG\r\n",
			http.Header{"Content-Type": {"image/png"}}},
		{"root-unprefixed", "GET", "/?action=echo", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, s.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range tt.header {
				req.Header[k] = vs
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body bytes.Buffer
			body.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("%s %s = %d %s", tt.method, tt.path, resp.StatusCode, body.String())
			}
			got := masked(t, body.Bytes())
			golden := filepath.Join("testdata", "golden", tt.name+".json")
			testkit.Golden(t, golden, got)
		})
	}
}
