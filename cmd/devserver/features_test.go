package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devserver/devserver/internal/testkit"
)

// app makes a throwaway project from config and the test functions it names: each entry of
// functions is a folder under emulator/testdata (real aws-lambda-go mains), copied to the same
// folder name in the project.
func app(t *testing.T, config string, functions ...string) string {
	t.Helper()
	files := map[string]string{"config.yaml": config}
	for _, fn := range functions {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), "emulator", "testdata", fn, "main.go"))
		if err != nil {
			t.Fatal(err)
		}
		files[fn+"/main.go"] = string(b)
	}
	return testkit.Module(t, files)
}

// request sends one request to a running devserver and returns status, headers and body.
func request(t *testing.T, method, url string, header http.Header, body string) (int, http.Header, string) {
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
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// packageLinted runs `devserver package` on dir and the real cfn-lint on the template it wrote,
// which must have no finding. It returns the output folder.
func packageLinted(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	b, err := exec.Command(devserverBin, "package", out, "--project-dir", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("package: %v\n%s", err, b)
	}
	lint, err := exec.Command("cfn-lint", "--format", "parseable", "--", filepath.Join(out, "sam.json")).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(lint)) > 0 {
		t.Fatalf("cfn-lint on the packaged template: %v\n%s", err, lint)
	}
	return out
}

func readJSONFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRunHTTPAPI serves an HTTP API (payload 2.0, and 1.0 on one function) with the real binary
// and packages the same config into a template that passes cfn-lint.
func TestRunHTTPAPI(t *testing.T) {
	dir := app(t, `
app_name: http-e2e
api: {kind: http}
functions:
  V2: {source: ./v2}
  Fault: {source: ./fault, payload_format: "1.0"}
routes:
  - {method: GET, path: "/v2/{action}", function: V2}
  - {method: GET, path: "/v1/{action}", function: Fault}
  - {path: $default, function: V2}
`, "v2", "fault")
	r := startRun(t, dir)
	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/v2/object", 200, `{"hello":"world"}`},
		{"/v2/error", 500, `{"message":"Internal Server Error"}`},
		{"/v1/ok", 200, "ok"},
		{"/v1/error", 500, `{"message":"Internal Server Error"}`},
		{"/anything/else?action=string", 200, "just a string"},
	}
	for _, tt := range tests {
		status, h, body := request(t, "GET", r.url+tt.path, nil, "")
		if status != tt.status || body != tt.body || h.Get("Apigw-Requestid") == "" {
			t.Errorf("GET %s = %d %s (apigw-requestid %q), want %d %s", tt.path, status, body, h.Get("Apigw-Requestid"), tt.status, tt.body)
		}
	}
	for _, want := range []string{"(HTTP API, payload 2.0, stage $default)", "GET     /v1/{action}  Fault (payload 1.0)", "ANY     $default      V2"} {
		if !strings.Contains(r.output.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, r.output.String())
		}
	}
	out := packageLinted(t, dir)
	sam := readJSONFile(t, filepath.Join(out, "sam.json"))
	for _, want := range []string{`"Type": "AWS::Serverless::HttpApi"`, `"PayloadFormatVersion": "1.0"`, `"HttpApiId"`, `"StageName": "$default"`} {
		if !strings.Contains(sam, want) {
			t.Errorf("sam.json lacks %s:\n%s", want, sam)
		}
	}
}

// TestRunBinary checks binary bodies both ways on each kind with the real binary: a REST API by
// its binary media types (request Content-Type; response Accept or Content-Type), an HTTP API by
// the 2.0 rules (every non-text body base64-encoded, isBase64Encoded always honoured); and that
// the REST API's types reach the template, escaped as SAM wants them.
func TestRunBinary(t *testing.T) {
	t.Run("REST", func(t *testing.T) {
		dir := app(t, `
app_name: binary-rest
api: {kind: rest, binary_media_types: [application/octet-stream]}
functions:
  Fault: {source: ./fault}
routes:
  - {method: GET, path: "/{action}", function: Fault}
  - {method: POST, path: "/{action}", function: Fault}
`, "fault")
		r := startRun(t, dir)
		png := "\x89PNG"
		if status, _, body := request(t, "GET", r.url+"/binary", http.Header{"Accept": {"application/octet-stream"}}, ""); status != 200 || body != png {
			t.Errorf("GET /binary with a binary Accept = %d %q, want the decoded bytes", status, body)
		}
		if status, _, body := request(t, "GET", r.url+"/binary", nil, ""); status != 200 || body != "iVBORw==" {
			t.Errorf("GET /binary without = %d %q, want the base64 text as is", status, body)
		}
		_, _, body := request(t, "POST", r.url+"/echo", http.Header{"Content-Type": {"application/octet-stream"}}, png)
		if !strings.Contains(body, `"isBase64Encoded":true`) || !strings.Contains(body, `"body":"iVBORw=="`) {
			t.Errorf("binary request event = %s, want the body base64-encoded", body)
		}
		_, _, body = request(t, "POST", r.url+"/echo", http.Header{"Content-Type": {"image/png"}}, "text")
		if !strings.Contains(body, `"isBase64Encoded":false`) || !strings.Contains(body, `"body":"text"`) {
			t.Errorf("non-binary type event = %s, want the body as text", body)
		}
		sam := readJSONFile(t, filepath.Join(packageLinted(t, dir), "sam.json"))
		if !strings.Contains(sam, `"BinaryMediaTypes": [`+"\n"+`          "application~1octet-stream"`) {
			t.Errorf("sam.json lacks BinaryMediaTypes [application~1octet-stream]:\n%s", sam)
		}
	})
	t.Run("HTTP", func(t *testing.T) {
		dir := app(t, `
app_name: binary-http
api: {kind: http}
functions:
  V2: {source: ./v2}
routes:
  - {method: ANY, path: "/{action}", function: V2}
`, "v2")
		r := startRun(t, dir)
		if status, h, body := request(t, "GET", r.url+"/binary", nil, ""); status != 200 || body != "\x89PNG\r\n\x1a\n" || h.Get("Content-Type") != "image/png" {
			t.Errorf("GET /binary = %d %q %v, want the decoded PNG header", status, body, h)
		}
		for _, tt := range []struct{ contentType, body, want string }{
			{"image/png", "\x89PNG", `"body":"iVBORw==","isBase64Encoded":true`},
			{"application/vnd.api+json", `{"a":1}`, `"body":"{\"a\":1}","isBase64Encoded":false`},
			{"text/plain; charset=utf-8", "hi", `"body":"hi","isBase64Encoded":false`},
		} {
			_, _, body := request(t, "POST", r.url+"/echo", http.Header{"Content-Type": {tt.contentType}}, tt.body)
			if !strings.Contains(body, tt.want) {
				t.Errorf("%s request event = %s, want %s", tt.contentType, body, tt.want)
			}
		}
		packageLinted(t, dir)
	})
}
