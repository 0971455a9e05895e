package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/devserver/devserver/internal/testkit"
)

// samApp writes testdata/samapp (a SAM project in the style of sam init's Go hello-world: its
// function in a module of its own) into a fresh folder. The function's go.mod requires the
// aws-lambda-go this repository pins, and its go.sum is this repository's, so it builds offline.
func samApp(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	gosum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	version := regexp.MustCompile(`github.com/aws/aws-lambda-go (v\S+)`).FindSubmatch(gomod)
	if version == nil {
		t.Fatal("go.mod does not require aws-lambda-go")
	}
	files := dirFiles(t, "testdata/samapp")
	files["hello-world/go.mod"] = "module hello-world\n\ngo 1.26\n\nrequire github.com/aws/aws-lambda-go " + string(version[1]) + "\n"
	files["hello-world/go.sum"] = string(gosum)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	testkit.WriteFiles(t, dir, files)
	return dir
}

// TestServeSAMTemplate serves a hand-written SAM template: short-form tags, Globals, an Api event,
// a parameter given on the command line, a function in its own module, and a resource devserver
// does not emulate, which is warned about with its place. A save to the function reloads it.
func TestServeSAMTemplate(t *testing.T) {
	dir := samApp(t)
	r := startRun(t, dir, "--verbose", "--template", "template.yaml", "--parameter-overrides", "Greeting=hola")
	want := "hola from us-east-1/123456789012 (table VisitsTable, 256 MB)"
	if status, body, _ := getWithHeader(t, r.url+"/hello"); status != 200 || body != want {
		t.Errorf("GET /hello = %d %q, want 200 %q", status, body, want)
	}
	if !regexp.MustCompile(`warning: \S*template.yaml:\d+:\d+: Resources.VisitsTable: AWS::DynamoDB::Table is not emulated`).MatchString(r.output.String()) {
		t.Errorf("no positioned warning for the table:\n%s", r.output.String())
	}
	src := filepath.Join(dir, "hello-world", "main.go")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, src, strings.Replace(string(b), `"%s from %s`, `"%s again from %s`, 1))
	r.saved(t, 1)
	if status, body, _ := getWithHeader(t, r.url+"/hello"); status != 200 || !strings.HasPrefix(body, "hola again from") {
		t.Errorf("after a save GET /hello = %d %q, want the new code", status, body)
	}
}

// TestServeSAMTemplateHTTPAPI: the same sam init project with an HttpApi event is served as an
// HTTP API (payload 2.0, the $default stage with no prefix).
func TestServeSAMTemplateHTTPAPI(t *testing.T) {
	dir := samApp(t)
	tpl := filepath.Join(dir, "template.yaml")
	b, err := os.ReadFile(tpl)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, tpl, strings.Replace(string(b), "Type: Api", "Type: HttpApi", 1))
	r := startRun(t, dir, "--template", "template.yaml")
	status, body, h := getWithHeader(t, r.url+"/hello")
	if status != 200 || !strings.HasPrefix(body, "hello from us-east-1/123456789012") || h.Get("Apigw-Requestid") == "" {
		t.Errorf("GET /hello = %d %q (%v), want the function's answer through an HTTP API", status, body, h)
	}
	if status, body, _ := getWithHeader(t, r.url+"/nope"); status != 404 || body != `{"message":"Not Found"}` {
		t.Errorf("GET /nope = %d %q, want the HTTP API's 404", status, body)
	}
}
