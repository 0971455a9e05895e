package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNewProject makes a project of each kind (REST and HTTP API) with the real binary and takes
// it through what its README says, without the network (GOPROXY=off: the module cache that built
// devserver has all it needs): its unit test passes, run serves GET /hello/{name}, package writes
// a template that cfn-lint finds nothing in.
func TestNewProject(t *testing.T) {
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=readonly")
	t.Setenv("GOTOOLCHAIN", "local")
	for _, kind := range []string{"rest", "http"} {
		t.Run(kind, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "projects", "hello_"+kind) // its parent is missing too
			out, err := exec.Command(devserverBin, "new", dir, "--kind", kind, "--module", "example.com/me/hello").CombinedOutput()
			if err != nil {
				t.Fatalf("new: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "app hello-"+kind) || !strings.Contains(string(out), "hello/main_test.go") {
				t.Errorf("new did not say what it made:\n%s", out)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "go.mod")); !strings.HasPrefix(string(b), "module example.com/me/hello\n") {
				t.Errorf("go.mod = %q, want the --module path", b)
			}

			test := exec.Command("go", "test", "./...")
			test.Dir = dir
			if out, err := test.CombinedOutput(); err != nil || !strings.Contains(string(out), "ok  \texample.com/me/hello/hello") {
				t.Fatalf("go test ./... in the new project: %v\n%s", err, out)
			}

			serveHello(t, dir)

			pkg := filepath.Join(t.TempDir(), "out")
			if out, err := exec.Command(devserverBin, "package", pkg, "--project-dir", dir).CombinedOutput(); err != nil {
				t.Fatalf("package: %v\n%s", err, out)
			}
			if testing.Short() {
				return // cfn-lint takes seconds
			}
			lint, err := exec.LookPath("cfn-lint")
			if err != nil {
				t.Fatalf("cfn-lint is required to validate the packaged template: %v", err)
			}
			if out, err := exec.Command(lint, "--format", "parseable", "--", filepath.Join(pkg, "sam.json")).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
				t.Errorf("cfn-lint on the new project's sam.json: %v\n%s", err, out)
			}
		})
	}
}

// serveHello runs the project and checks its greeting, for either kind (payload 1.0 or 2.0).
func serveHello(t *testing.T, dir string) {
	t.Helper()
	r := startRun(t, dir)
	status, body := httpGet(t, r.url+"/hello/world?greeting=Hi")
	var got struct{ Message, RequestID string }
	if err := json.Unmarshal([]byte(body), &got); status != 200 || err != nil || got.Message != "Hi, world!" || got.RequestID == "" {
		t.Errorf("GET /hello/world?greeting=Hi = %d %s, want 200 with message \"Hi, world!\" and a request id", status, body)
	}
}

// TestNewRefuses: new writes nothing into a folder that holds anything, nor over a file, and
// leaves them as they were.
func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name string
		// target returns the DIR to pass and the file that must stay as it is.
		target func(t *testing.T) (dir, file string)
		want   string
	}{
		{"a folder with a file", func(t *testing.T) (string, string) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "main.go"), "mine")
			return dir, filepath.Join(dir, "main.go")
		}, "folder is not empty"},
		{"a file", func(t *testing.T) (string, string) {
			file := filepath.Join(t.TempDir(), "my-api")
			writeFile(t, file, "mine")
			return file, file
		}, "is a file, not a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, file := tt.target(t)
			out, err := exec.Command(devserverBin, "new", dir).CombinedOutput()
			if err == nil || !strings.Contains(string(out), tt.want) {
				t.Errorf("new %s = %v, want an error with %q:\n%s", dir, err, tt.want, out)
			}
			if b, err := os.ReadFile(file); err != nil || string(b) != "mine" {
				t.Errorf("%s = %q, %v after new: the user's file changed", file, b, err)
			}
			if ents, _ := os.ReadDir(filepath.Dir(file)); len(ents) != 1 {
				t.Errorf("new left files beside the user's: %v", ents)
			}
		})
	}
}
