package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	// The lines after "Serving on" may still be on their way from the pipe: wait for each.
	for _, want := range []string{"(HTTP API, payload 2.0, stage $default)", "GET     /v1/{action}  Fault (payload 1.0)", "ANY     $default      V2"} {
		r.waitOutput(t, want)
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

// TestRunAuthorizers checks Lambda authorizers with the real binary: a REST TOKEN authorizer
// (401, 403, allowed, and its cache: a second request with the same token within the TTL does
// not invoke it, as its REPORT lines show) and an HTTP API simple authorizer; both packaged into
// templates that pass cfn-lint.
func TestRunAuthorizers(t *testing.T) {
	t.Run("REST", func(t *testing.T) {
		dir := app(t, `
app_name: auth-rest
api:
  kind: rest
  authorizers:
    Token: {function: Authz, ttl: 300}
  default_authorizer: Token
functions:
  Fault: {source: ./fault}
  Authz: {source: ./authorizer}
routes:
  - {method: GET, path: "/{action}", function: Fault}
`, "fault", "authorizer")
		r := startRun(t, dir)
		calls := func() int { return strings.Count(r.output.String(), "[Authz] REPORT RequestId:") }
		for i, tt := range []struct {
			header http.Header
			status int
			body   string
			calls  int
		}{
			{nil, 401, `{"message":"Unauthorized"}`, 0},
			{http.Header{"Authorization": {"deny"}}, 403, `{"message":"User is not authorized to access this resource"}`, 1},
			{http.Header{"Authorization": {"allow"}}, 200, "ok", 2},
			{http.Header{"Authorization": {"allow"}}, 200, "ok", 2}, // cached: no third call
		} {
			status, _, body := request(t, "GET", r.url+"/ok", tt.header, "")
			if status != tt.status || body != tt.body {
				t.Errorf("GET /ok %v = %d %s, want %d %s", tt.header, status, body, tt.status, tt.body)
			}
			// The access line follows the authorizer's REPORT line in the output; wait for it.
			r.waitCount(t, "msg=request method=GET path=/ok ", i+1)
			if got := calls(); got != tt.calls {
				t.Errorf("authorizer invoked %d times so far, want %d", got, tt.calls)
			}
		}
		sam := readJSONFile(t, filepath.Join(packageLinted(t, dir), "sam.json"))
		for _, want := range []string{`"DefaultAuthorizer": "Token"`, `"FunctionPayloadType": "TOKEN"`, `"ReauthorizeEvery": 300`} {
			if !strings.Contains(sam, want) {
				t.Errorf("sam.json lacks %s", want)
			}
		}
	})
	t.Run("HTTP", func(t *testing.T) {
		dir := app(t, `
app_name: auth-http
api:
  kind: http
  authorizers:
    Simple: {function: Authz, identity: [header.Authorization]}
functions:
  V2: {source: ./v2}
  Authz: {source: ./authorizer}
routes:
  - {method: GET, path: "/{action}", function: V2, authorizer: Simple}
`, "v2", "authorizer")
		r := startRun(t, dir)
		for _, tt := range []struct {
			token, body string
			status      int
		}{{"", `{"message":"Unauthorized"}`, 401}, {"no", `{"message":"Forbidden"}`, 403}, {"yes", `{"hello":"world"}`, 200}} {
			h := http.Header{}
			if tt.token != "" {
				h.Set("Authorization", tt.token)
			}
			if status, _, body := request(t, "GET", r.url+"/object", h, ""); status != tt.status || body != tt.body {
				t.Errorf("token %q: %d %s, want %d %s", tt.token, status, body, tt.status, tt.body)
			}
		}
		sam := readJSONFile(t, filepath.Join(packageLinted(t, dir), "sam.json"))
		for _, want := range []string{`"EnableSimpleResponses": true`, `"EnableFunctionDefaultPermissions": true`, `"Authorizer": "Simple"`} {
			if !strings.Contains(sam, want) {
				t.Errorf("sam.json lacks %s", want)
			}
		}
	})
}

// waitCount waits until the server's output holds want n times.
func (r *running) waitCount(t *testing.T, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for strings.Count(r.output.String(), want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("output never showed %q %d times:\n%s", want, n, r.output.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRunFunctionURL checks a function URL with the real binary: printed in the banner, served
// under its prefix with the 2.0 payload beside a REST API whose greedy route cannot shadow it,
// and packaged as FunctionUrlConfig with a <Function>Url output.
func TestRunFunctionURL(t *testing.T) {
	dir := app(t, `
app_name: url-e2e
api: {kind: rest}
functions:
  V2: {source: ./v2, url: {auth: NONE, cors: {allow_origins: ["*"]}}}
  Fault: {source: ./fault}
routes:
  - {method: ANY, path: "/{proxy+}", function: Fault}
`, "v2", "fault")
	r := startRun(t, dir)
	// The banner's line after "Serving on" may still be on its way from the pipe: wait for it.
	r.waitOutput(t, "Function URL of V2: "+r.url+"/__url/V2/ (auth NONE)")
	if status, h, body := request(t, "GET", r.url+"/__url/V2/x?action=object", http.Header{"Origin": {"https://any.example"}}, ""); status != 200 || body != `{"hello":"world"}` || h.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("function URL = %d %s %v", status, body, h)
	}
	if status, _, body := request(t, "GET", r.url+"/ok", nil, ""); status != 200 || body != "ok" {
		t.Errorf("API route = %d %s", status, body)
	}
	sam := readJSONFile(t, filepath.Join(packageLinted(t, dir), "sam.json"))
	for _, want := range []string{`"FunctionUrlConfig": {`, `"AuthType": "NONE"`, `"V2Url": {`, `"V2Url",` + "\n" + `          "FunctionUrl"`} {
		if !strings.Contains(sam, want) {
			t.Errorf("sam.json lacks %s:\n%s", want, sam)
		}
	}
}

// TestRunStageVariables checks stage variables with the real binary: in the events of a REST API
// (and an HTTP API), overridden by the named stage applied, and as Variables (StageVariables) on
// the packaged stage.
func TestRunStageVariables(t *testing.T) {
	const config = `
app_name: stagevars
api:
  kind: %s
  stage_variables: {table: pets, mode: dev}
functions:
  Fault: {source: ./fault}
routes:
  - {method: GET, path: "/{action}", function: Fault}
stages:
  prod:
    api: {stage: prod, stage_variables: {mode: prod}}
`
	dir := app(t, fmt.Sprintf(config, "rest"), "fault")
	r := startRun(t, dir, "--stage", "prod")
	_, _, body := request(t, "GET", r.url+"/prod/echo", nil, "")
	if !strings.Contains(body, `"stageVariables":{"mode":"prod","table":"pets"}`) {
		t.Errorf("REST event = %s, want the prod stage's variables", body)
	}
	out := filepath.Join(t.TempDir(), "out")
	if b, err := exec.Command(devserverBin, "package", out, "--project-dir", dir, "--stage", "prod").CombinedOutput(); err != nil {
		t.Fatalf("package: %v\n%s", err, b)
	}
	sam := readJSONFile(t, filepath.Join(out, "sam.json"))
	if !strings.Contains(sam, `"Variables": {`+"\n"+`          "mode": "prod",`+"\n"+`          "table": "pets"`) {
		t.Errorf("sam.json lacks the prod stage's Variables:\n%s", sam)
	}

	dir = app(t, fmt.Sprintf(config, "http"), "fault")
	r = startRun(t, dir)
	_, _, body = request(t, "GET", r.url+"/echo", nil, "")
	if !strings.Contains(body, `"stageVariables":{"mode":"dev","table":"pets"}`) {
		t.Errorf("HTTP API event = %s, want the stage variables", body)
	}
	if sam := readJSONFile(t, filepath.Join(packageLinted(t, dir), "sam.json")); !strings.Contains(sam, `"StageVariables": {`) {
		t.Errorf("sam.json lacks StageVariables:\n%s", sam)
	}
}
