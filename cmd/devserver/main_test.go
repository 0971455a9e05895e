package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/devserver/devserver/internal/testkit"
)

// devserverBin is the real binary, built once for the command-line tests.
var devserverBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "devserver-bin")
	if err != nil {
		panic(err)
	}
	devserverBin = filepath.Join(dir, "devserver")
	out, err := exec.Command("go", "build", "-o", devserverBin, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot is the checkout, where config.yaml and sample/ are.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// copySample makes a throwaway project with the sample, go.mod and go.sum.
func copySample(t *testing.T) string {
	t.Helper()
	root, files := repoRoot(t), map[string]string{}
	for _, f := range []string{"config.yaml", "sample/main.go"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		files[f] = string(b)
	}
	return testkit.Module(t, files)
}

// running is a devserver run process.
type running struct {
	cmd *exec.Cmd
	// url is the API Gateway front's, lambdaURL the Invoke API's.
	url, lambdaURL string
	// output has both streams, stderr its own; stdout holds the banner and the route table.
	output, stderr, stdout *testkit.Buffer
}

// startRun starts `devserver run` in dir on free ports (tests run in parallel: the Invoke API's
// default 3001 and the inspector's 8001 would collide) and waits for the banner lines of both fronts.
func startRun(t *testing.T, dir string, args ...string) *running {
	t.Helper()
	cmd := exec.Command(devserverBin, append([]string{"run", "--port", "0", "--lambda-port", "0", "--inspector-port", "0", "--project-dir", dir}, args...)...)
	cmd.Env = append(os.Environ(), "DEVSERVER_VERBOSE=false")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // so that what it leaves behind can be found
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &running{cmd: cmd, output: &testkit.Buffer{}, stderr: &testkit.Buffer{}, stdout: &testkit.Buffer{}}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	banner := regexp.MustCompile(`^Serving on (http://\S+)`)
	lambdaBanner := regexp.MustCompile(`^Lambda Invoke API on (http://\S+)`)
	found := make(chan [2]string, 1)
	noLambda := slices.Contains(args, "--no-lambda")
	var readers sync.WaitGroup
	for _, stream := range []struct {
		r   io.Reader
		own *testkit.Buffer
	}{{stderr, r.stderr}, {stdout, r.stdout}} {
		readers.Go(func() {
			sc := bufio.NewScanner(stream.r)
			var urls [2]string // both banner lines come on one stream, in this order
			for sc.Scan() {
				line := sc.Text()
				r.output.WriteString(line + "\n")
				stream.own.WriteString(line + "\n")
				if m := banner.FindStringSubmatch(line); m != nil {
					urls[0] = m[1]
					if noLambda {
						found <- urls
					}
				}
				if m := lambdaBanner.FindStringSubmatch(line); m != nil {
					urls[1] = m[1]
					found <- urls
				}
			}
		})
	}
	go func() {
		readers.Wait()
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			cmd.Wait()
			t.Fatalf("devserver run exited before serving:\n%s", r.output.String())
		}
		r.url, r.lambdaURL = u[0], u[1]
		if r.url == "" {
			t.Fatalf("the Invoke API's banner came before the gateway's:\n%s", r.output.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("devserver run did not serve within 60s:\n%s", r.output.String())
	}
	return r
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRunSample(t *testing.T) {
	r := startRun(t, repoRoot(t))
	if status, body := httpGet(t, r.url+"/"); status != 200 || body != `{"hello":"world"}` {
		t.Errorf("GET / = %d %s", status, body)
	}
	if status, body := httpGet(t, r.url+"/api/"); status != 200 || body != `{"hello":"world"}` {
		t.Errorf("GET /api/ = %d %s", status, body)
	}
	if status, body := httpGet(t, r.url+"/nope"); status != 403 || body != `{"message":"Missing Authentication Token"}` {
		t.Errorf("GET /nope = %d %s", status, body)
	}
	kids := testkit.Children(r.cmd.Process.Pid)
	if len(kids) == 0 {
		t.Fatal("no function instance is running after a request")
	}
	began := time.Now()
	r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("devserver exited with %v after SIGTERM:\n%s", err, r.output.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("devserver still running 5 s after SIGTERM")
	}
	t.Logf("shut down in %s", time.Since(began))
	for _, k := range kids {
		if testkit.Alive(k) {
			t.Errorf("function instance %d outlived devserver", k)
		}
	}
	if !strings.Contains(r.stdout.String(), "Serving on http://") || !strings.Contains(r.stdout.String(), "GET     /     APIHandler") ||
		strings.Contains(r.stdout.String(), "START RequestId") || strings.Contains(r.stderr.String(), "Serving on") {
		t.Errorf("the banner and route table belong on stdout, the logs on stderr:\nstdout:\n%s\nstderr:\n%s", r.stdout.String(), r.stderr.String())
	}
	out := r.output.String()
	for _, want := range []string{"GET     /     APIHandler", "START RequestId:", "msg=request method=GET path=/nope status=403"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	dir := copySample(t)
	os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("functions:\n  APIHandler:\n    source: ./sample\n    memory: 1\nroutes:\n  - {method: GET, path: /, function: Nope}\n"), 0o644)
	for _, sub := range []string{"run", "routes"} {
		out, err := exec.Command(devserverBin, sub, "--project-dir", dir).CombinedOutput()
		if err == nil {
			t.Fatalf("%s accepted a bad config", sub)
		}
		for _, want := range []string{
			"config.yaml:4:13: functions.APIHandler.memory: 1 MB is outside 128–10240",
			`config.yaml:6:38: routes[0].function: no function "Nope"`,
		} {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s output lacks %q:\n%s", sub, want, out)
			}
		}
	}
}

func TestRoutesAndVersion(t *testing.T) {
	out, err := exec.Command(devserverBin, "routes", "--project-dir", repoRoot(t)).CombinedOutput()
	if err != nil || string(out) != "METHOD  PATH  FUNCTION\nGET     /     APIHandler\n" {
		t.Errorf("routes = %v\n%s", err, out)
	}
	out, err = exec.Command(devserverBin, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "devserver version ") {
		t.Errorf("--version = %v %s", err, out)
	}
}

// TestEnvironmentOverrides checks DEVSERVER_* variables override flags' defaults.
func TestEnvironmentOverrides(t *testing.T) {
	cmd := exec.Command(devserverBin, "routes")
	cmd.Env = append(os.Environ(), "DEVSERVER_PROJECT_DIR="+repoRoot(t))
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "APIHandler") {
		t.Errorf("DEVSERVER_PROJECT_DIR not honoured: %v\n%s", err, out)
	}
}
