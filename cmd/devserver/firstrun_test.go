package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devserver/devserver/internal/testkit"
)

// TestStartWithACompileError: a function that does not compile does not stop the others. It
// answers 502 with the compiler's output (printed once), and serves by itself once fixed.
func TestStartWithACompileError(t *testing.T) {
	dir := copySample(t)
	testkit.WriteFiles(t, dir, map[string]string{"second/main.go": "package main\n\nfunc main() {\n\tundefinedThing()\n}\n"})
	cfg := filepath.Join(dir, "config.yaml")
	orig, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfg, strings.Replace(string(orig), "routes:\n", "  Second:\n    source: ./second\nroutes:\n  - {method: GET, path: /second, function: Second}\n", 1))
	r := startRun(t, dir, "--verbose")
	if status, body, _ := getWithHeader(t, r.url+"/"); status != 200 || body != `{"hello":"world"}` {
		t.Errorf("GET / = %d %q: the function that builds must serve", status, body)
	}
	status, body, h := getWithHeader(t, r.url+"/second")
	if status != 502 || !strings.Contains(body, "main.go:4:2: undefined: undefinedThing") || h.Get("X-Devserver-Build-Error") != "Second" {
		t.Errorf("GET /second = %d %q (%v), want 502 with the compiler's file:line message", status, body, h)
	}
	if n := strings.Count(r.output.String(), "undefined: undefinedThing"); n != 1 {
		t.Errorf("the compiler's message was printed %d times, want once:\n%s", n, r.output.String())
	}
	writeFile(t, filepath.Join(dir, "second", "main.go"), sampleWith("second"))
	r.saved(t, 1)
	if status, body, h := getWithHeader(t, r.url+"/second"); status != 200 || body != "second" || h.Get("X-Devserver-Build-Error") != "" {
		t.Errorf("after the fix GET /second = %d %q (%v)", status, body, h)
	}
}

// TestBusyPortFailsBeforeBuilding: the port is opened before any build, and the error says which
// port and how to choose another.
func TestBusyPortFailsBeforeBuilding(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	out, err := exec.Command(devserverBin, "run", "--port", port, "--project-dir", copySample(t)).CombinedOutput()
	if err == nil {
		t.Fatalf("run served on a busy port:\n%s", out)
	}
	for _, want := range []string{port, "address already in use", "--port 0"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "building") {
		t.Errorf("run built functions before finding the port busy:\n%s", out)
	}
}

// TestBadSettings: a bad value is refused the same way from a flag or from its DEVSERVER_*
// variable, and the message names where it came from.
func TestBadSettings(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"port too high", []string{"--port", "70000"}, "", "--port 70000: a port is 0 to 65535"},
		{"negative port", []string{"--port=-1"}, "", "--port -1: a port is 0 to 65535"},
		{"port not a number", []string{"--port", "abc"}, "", `invalid argument "abc" for "--port"`},
		{"variable not a number", nil, "DEVSERVER_PORT=abc", `DEVSERVER_PORT="abc": not a valid --port`},
		{"variable out of range", nil, "DEVSERVER_PORT=99999", "DEVSERVER_PORT 99999: a port is 0 to 65535"},
		{"bool variable", nil, "DEVSERVER_NO_RELOAD=maybe", `DEVSERVER_NO_RELOAD="maybe": not a valid --no-reload`},
		{"unknown flag prints the usage line", []string{"--colour"}, "", "usage: devserver run [flags]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(devserverBin, append([]string{"run", "--project-dir", repoRoot(t)}, tt.args...)...)
			cmd.Env = os.Environ()
			if tt.env != "" {
				cmd.Env = append(cmd.Env, tt.env)
			}
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), tt.want) {
				t.Errorf("run %v with %q = %v, want an error with %q:\n%s", tt.args, tt.env, err, tt.want, out)
			}
			if strings.Contains(string(out), "building") {
				t.Errorf("run built before refusing its settings:\n%s", out)
			}
		})
	}
}

// TestInterruptDuringFirstBuild: Ctrl-C while the functions build is the user's choice: devserver
// stops quietly with status 0 and leaves no process of its session behind.
func TestInterruptDuringFirstBuild(t *testing.T) {
	dir := copySample(t)
	cmd := exec.Command(devserverBin, "run", "--port", "0", "--lambda-port", "0", "--project-dir", dir)
	cmd.Env = append(os.Environ(), "GOCACHE="+t.TempDir()) // a cold cache: the build takes a while
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var out testkit.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(out.String(), "building APIHandler") {
		if time.Now().After(deadline) {
			t.Fatalf("no build started:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	sid := cmd.Process.Pid // devserver leads a session of its own: whatever it started is in it
	inSession := func() []testkit.Proc {
		return testkit.Procs(func(p testkit.Proc) bool { return p.SID == sid && p.State != 'Z' })
	}
	for len(inSession()) < 2 { // the go command, at least, has started
		if time.Now().After(deadline) {
			t.Fatalf("no build process in devserver's session:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	// Builds are owned like instances: the go command and its compilers are gone with devserver.
	if left := inSession(); len(left) > 0 {
		t.Errorf("Ctrl-C during the first build left %d processes of devserver's session: %+v", len(left), left)
		for _, p := range left {
			syscall.Kill(p.PID, syscall.SIGKILL)
		}
	}
	if err != nil {
		t.Errorf("Ctrl-C during the first build: %v, want exit status 0:\n%s", err, out.String())
	}
	if s := out.String(); strings.Contains(s, "context canceled") || strings.Contains(s, "signal: killed") || strings.Contains(s, "Serving on") {
		t.Errorf("Ctrl-C during the first build printed noise or served:\n%s", s)
	}
}

func TestHelpAndVersion(t *testing.T) {
	tests := []struct {
		args []string
		ok   bool
		want []string
	}{
		{[]string{"run", "--help"}, true, []string{"DEVSERVER_PORT", ".devserver/build", "/STAGE/path", "devserver run --port 0", "-v, --verbose", "DEVSERVER_VERBOSE"}},
		{[]string{"version"}, true, []string{"devserver ", "go1."}},
		{[]string{"package"}, false, []string{"OUT is missing", "usage: devserver package OUT"}},
		{[]string{"routes", "--nope"}, false, []string{"unknown flag: --nope", "usage: devserver routes"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, err := exec.Command(devserverBin, tt.args...).CombinedOutput()
			if (err == nil) != tt.ok {
				t.Errorf("devserver %v: error %v, want success %v:\n%s", tt.args, err, tt.ok, out)
			}
			for _, want := range tt.want {
				if !strings.Contains(string(out), want) {
					t.Errorf("devserver %v output lacks %q:\n%s", tt.args, want, out)
				}
			}
		})
	}
}

// TestConfigWarningsAndKinds: a config with no routes is served, with a positioned warning; the
// sample served as an HTTP API (on its named stage, api) says so in its banner.
func TestConfigWarningsAndKinds(t *testing.T) {
	dir := copySample(t)
	cfg := filepath.Join(dir, "config.yaml")
	orig, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	noRoutes, _, _ := strings.Cut(string(orig), "routes:")
	writeFile(t, cfg, noRoutes)
	r := startRun(t, dir)
	if !regexp.MustCompile(`warning: \S*config.yaml:\d+:\d+: routes: no routes defined`).MatchString(r.stderr.String()) {
		t.Errorf("run of a config without routes gave no positioned warning:\n%s", r.output.String())
	}
	writeFile(t, cfg, strings.Replace(string(orig), "kind: rest", "kind: http", 1))
	r = startRun(t, dir)
	if !strings.Contains(r.stdout.String(), "(HTTP API, payload 2.0; also under the stage prefix, as in the cloud: "+r.url+"/api/)") {
		t.Errorf("banner of api.kind http:\n%s", r.stdout.String())
	}
	if status, body := httpGet(t, r.url+"/"); status != 200 || body != `{"hello":"world"}` {
		t.Errorf("GET / on the HTTP API = %d %s", status, body)
	}
}
