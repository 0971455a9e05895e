package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/devserver/devserver/internal/testkit"
)

// everything copies an app of testdata/everything (its config, as config.yaml) and the test
// functions into a throwaway project.
func everything(t *testing.T, config string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "everything", config))
	if err != nil {
		t.Fatal(err)
	}
	return app(t, string(b), "v2", "fault", "authorizer")
}

// TestEverythingApp serves the everything app (both halves) with the real binary, checks each
// feature answers as in the cloud, then packages both halves: the templates must pass cfn-lint
// and `aws cloudformation package` against a local S3 (moto_server), every function's CodeUri
// uploaded.
func TestEverythingApp(t *testing.T) {
	const origin = "http://127.0.0.1:5173"
	preflight := http.Header{"Origin": {origin}, "Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"authorization"}}
	other := http.Header{"Origin": {"http://127.0.0.1:9999"}, "Access-Control-Request-Method": {"POST"}}
	type check struct {
		name, method, path string
		header             http.Header
		status             int
		body               string
		want               map[string]string
	}
	halves := []struct {
		config string
		checks []check
	}{
		{"http.yaml", []check{
			{"preflight, allowed origin", "OPTIONS", "/upload", preflight, 204, "", map[string]string{
				"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": "GET,POST", "Access-Control-Allow-Credentials": "true", "Access-Control-Max-Age": "300"}},
			{"preflight, disallowed origin", "OPTIONS", "/upload", other, 204, "", map[string]string{"Access-Control-Allow-Origin": ""}},
			{"binary route", "GET", "/files/binary", http.Header{"Origin": {origin}}, 200, "\x89PNG\r\n\x1a\n", map[string]string{
				"Content-Type": "image/png", "Access-Control-Allow-Origin": origin}},
			{"protected route without a token", "GET", "/secret/object", nil, 401, `{"message":"Unauthorized"}`, nil},
			{"protected route, refused", "GET", "/secret/object", http.Header{"Authorization": {"no"}}, 403, `{"message":"Forbidden"}`, nil},
			{"protected route, allowed", "GET", "/secret/object", http.Header{"Authorization": {"yes"}}, 200, `{"hello":"world"}`, nil},
			{"payload 1.0 route", "GET", "/legacy/ok", nil, 200, "ok", nil},
			{"the $default route", "PATCH", "/what/ever?action=string", nil, 200, "just a string", nil},
			{"function URL", "GET", "/__url/V2/x?action=object", http.Header{"Origin": {"http://any.example"}}, 200, `{"hello":"world"}`, map[string]string{"Access-Control-Allow-Origin": "*"}},
		}},
		{"rest.yaml", []check{
			{"preflight, the OPTIONS mock", "OPTIONS", "/v1/ok", preflight, 200, "{}", map[string]string{
				"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": "GET,OPTIONS,POST", "Access-Control-Allow-Credentials": "true"}},
			{"preflight, another origin: the mock's own", "OPTIONS", "/v1/ok", other, 200, "{}", map[string]string{"Access-Control-Allow-Origin": origin}},
			{"no token", "GET", "/v1/ok", nil, 401, `{"message":"Unauthorized"}`, nil},
			{"token fails validation", "GET", "/v1/ok", http.Header{"Authorization": {"Bearer x"}}, 401, `{"message":"Unauthorized"}`, nil},
			{"denied", "GET", "/v1/ok", http.Header{"Authorization": {"deny"}}, 403, `{"message":"User is not authorized to access this resource"}`, nil},
			{"allowed", "GET", "/v1/ok", http.Header{"Authorization": {"allow-all"}}, 200, "ok", nil},
			{"binary out by Content-Type", "GET", "/v1/binary", http.Header{"Authorization": {"allow-all"}}, 200, "\x89PNG", nil},
			{"open route", "GET", "/open/ok", nil, 200, "ok", nil},
			{"function URL (a 2.0 event, read by a 1.0 function)", "GET", "/__url/Fault/x?action=ok", nil, 200, "ok", nil},
		}},
	}
	env := testkit.AWSEnv(testkit.StartMoto(t))
	const bucket = "everything"
	testkit.AWSCLI(t, env, "s3api", "create-bucket", "--bucket", bucket)
	for _, half := range halves {
		t.Run(half.config, func(t *testing.T) {
			dir := everything(t, half.config)
			r := startRun(t, dir)
			for _, c := range half.checks {
				status, h, body := request(t, c.method, r.url+c.path, c.header, "")
				if status != c.status || (c.method != "OPTIONS" || c.body != "") && body != c.body {
					t.Errorf("%s: %s %s = %d %q, want %d %q", c.name, c.method, c.path, status, body, c.status, c.body)
				}
				for k, v := range c.want {
					if h.Get(k) != v {
						t.Errorf("%s: %s = %q, want %q", c.name, k, h.Get(k), v)
					}
				}
			}
			out := packageLinted(t, dir)
			packaged := filepath.Join(out, "packaged.yaml")
			testkit.AWSCLI(t, env, "cloudformation", "package", "--template-file", filepath.Join(out, "sam.json"),
				"--s3-bucket", bucket, "--output-template-file", packaged)
			var doc struct {
				Resources map[string]struct {
					Type       string `yaml:"Type"`
					Properties struct {
						CodeUri string `yaml:"CodeUri"`
					} `yaml:"Properties"`
				} `yaml:"Resources"`
			}
			b, err := os.ReadFile(packaged)
			if err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal(b, &doc); err != nil {
				t.Fatalf("read %s: %v", packaged, err)
			}
			functions := 0
			for id, res := range doc.Resources {
				if res.Type == "AWS::Serverless::Function" {
					functions++
					if !strings.HasPrefix(res.Properties.CodeUri, "s3://"+bucket+"/") {
						t.Errorf("%s CodeUri = %q, want an upload to s3://%s/", id, res.Properties.CodeUri, bucket)
					}
				}
			}
			if functions < 2 {
				t.Errorf("packaged template has %d functions:\n%s", functions, b)
			}
		})
	}
}
