package main

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/devserver/devserver/internal/testkit"
)

// parityRequest is one request both servers get.
type parityRequest struct {
	method, path, contentType, accept string
	body                              []byte
}

// TestParity packages an app, serves the packaged template with run --template (the packaged
// Linux bootstrap itself, unpacked from the zip) and compares it route by route with run from
// source: status, headers (the per-request ids and the date masked) and body bytes. What run
// serves and what package writes are one and the same.
func TestParity(t *testing.T) {
	apps := []struct {
		name     string
		files    map[string]string
		requests []parityRequest
	}{
		{"sample", sampleFiles(t), []parityRequest{{method: "GET", path: "/"}, {method: "GET", path: "/api/"}, {method: "GET", path: "/nope"}}},
		{"six routes", dirFiles(t, "testdata/parity"), []parityRequest{
			{method: "GET", path: "/"},
			{method: "GET", path: "/items/42?verbose=1"},
			{method: "GET", path: "/v1/items/a%20b"},
			{method: "POST", path: "/items", contentType: "application/json", body: []byte(`{"name":"pen"}`)},
			{method: "DELETE", path: "/any"},
			{method: "PATCH", path: "/any", contentType: "text/plain", body: []byte("patch")},
			{method: "GET", path: "/files/a/b/c.txt"},
			{method: "GET", path: "/image", accept: "image/png"},
			{method: "GET", path: "/image"},
			{method: "GET", path: "/error"},
			{method: "PUT", path: "/items"},
			{method: "GET", path: "/missing"},
		}},
	}
	for _, app := range apps {
		t.Run(app.name, func(t *testing.T) {
			t.Parallel()
			dir := testkit.Module(t, app.files)
			out := filepath.Join(t.TempDir(), "out")
			if b, err := exec.Command(devserverBin, "package", out, "--project-dir", dir).CombinedOutput(); err != nil {
				t.Fatalf("package: %v\n%s", err, b)
			}
			fromSource := startRun(t, dir, "--no-reload")
			fromTemplate := startRun(t, dir, "--no-reload", "--template", filepath.Join(out, "sam.json"))
			fromTemplate.waitOutput(t, "bootstrap from "+filepath.Join(out)) // the packaged binary, not a build
			for _, req := range app.requests {
				a, b := parityAnswer(t, fromSource.url, req), parityAnswer(t, fromTemplate.url, req)
				if a != b {
					t.Errorf("%s %s differs:\n- from source:\n%s\n+ from the packaged template:\n%s", req.method, req.path, a, b)
				}
			}
		})
	}
}

// parityAnswer is the answer to req as comparable text.
func parityAnswer(t *testing.T, base string, req parityRequest) string {
	t.Helper()
	r, err := http.NewRequest(req.method, base+req.path, bytes.NewReader(req.body))
	if err != nil {
		t.Fatal(err)
	}
	if req.contentType != "" {
		r.Header.Set("Content-Type", req.contentType)
	}
	if req.accept != "" {
		r.Header.Set("Accept", req.accept)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", req.method, req.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(resp.Status + "\n")
	for _, k := range slices.Sorted(maps.Keys(resp.Header)) {
		v := strings.Join(resp.Header[k], ", ")
		switch k {
		case "X-Amzn-Requestid", "X-Amz-Apigw-Id", "X-Amzn-Trace-Id", "Date":
			v = "(masked)"
		}
		b.WriteString(k + ": " + v + "\n")
	}
	b.Write(body)
	return b.String()
}

// sampleFiles are the repository's sample app.
func sampleFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, f := range []string{"config.yaml", "sample/main.go"} {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), f))
		if err != nil {
			t.Fatal(err)
		}
		files[f] = string(b)
	}
	return files
}

// dirFiles are the files under dir, by path relative to it.
func dirFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
