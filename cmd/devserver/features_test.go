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
