package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/devserver/devserver/gobuild"
	"github.com/devserver/devserver/internal/testkit"
)

// installDelve installs the pinned Delve once per test binary, into a folder of its own beside
// the devserver binary (removed by TestMain): the first time on a machine it downloads Delve's
// modules from the Go proxy, after that the go command's caches make it seconds.
var installDelve = sync.OnceValues(func() (string, error) {
	gobin := filepath.Join(filepath.Dir(devserverBin), "gobin")
	cmd := exec.Command("go", "install", "github.com/go-delve/delve/cmd/dlv@"+DelveVersion)
	cmd.Dir = filepath.Dir(devserverBin) // outside this module: its go.mod has no say
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install dlv@%s: %w\n%s", DelveVersion, err, out)
	}
	return gobin, nil
})

// delve puts the pinned dlv first on PATH for the rest of the test.
func delve(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("installs and runs Delve; skipped with -short")
	}
	gobin, err := installDelve()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", gobin+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// greeterSource answers ?name= with a greeting and whether its context had ended by then. The line
// marked "breakpoint" is where the test stops it.
const greeterSource = `package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handler(ctx context.Context, e events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	greeting := "hello " + e.QueryStringParameters["name"] // breakpoint
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: fmt.Sprintf("%s (context err: %v)", greeting, ctx.Err())}, nil
}

func main() {
	lambda.Start(handler)
}
`

// delveClient speaks Delve's JSON-RPC API (v2), the one editors and dlv connect use.
type delveClient struct{ *rpc.Client }

// location is where a thread or breakpoint is, as Delve's API spells it.
type location struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

type debuggerState struct {
	Running       bool
	Exited        bool `json:"exited"`
	CurrentThread *struct {
		location
		GoroutineID int64 `json:"goroutineID"`
	} `json:"currentThread"`
	SelectedGoroutine *struct {
		ID         int64    `json:"id"`
		CurrentLoc location `json:"currentLoc"`
	} `json:"currentGoroutine"`
}

func (c delveClient) command(name string) (debuggerState, error) {
	var out struct{ State debuggerState }
	err := c.Call("RPCServer.Command", map[string]string{"name": name}, &out)
	return out.State, err
}

// TestDebugWithDelve runs a function under the real Delve with run --debug: a breakpoint set
// through Delve's API stops a request in the handler; held there longer than the function's
// timeout (1 s) and the API's integration timeout (1000 ms), nothing times out; continued, the
// request is answered 200 with a context that had not ended. Ctrl-C then leaves no process of the
// run's session behind, Delve and its debuggee included.
func TestDebugWithDelve(t *testing.T) {
	delve(t)
	dir := testkit.Module(t, map[string]string{
		"config.yaml": "app_name: debugme\napi:\n  kind: rest\n  timeout_ms: 1000\nfunctions:\n" +
			"  Greeter:\n    source: ./greeter\n    timeout: 1\nroutes:\n  - {method: GET, path: /greet, function: Greeter}\n",
		"greeter/main.go": greeterSource,
	})
	file := filepath.Join(dir, "greeter", "main.go")
	line := 0
	for i, l := range strings.Split(greeterSource, "\n") {
		if strings.HasSuffix(l, "// breakpoint") {
			line = i + 1
		}
	}
	// A debug build recompiles the standard library unoptimised the first time (a minute on a
	// loaded machine): done here, so that run's own build comes from the cache within startRun's wait.
	if err := gobuild.Build(t.Context(), gobuild.Options{Dir: dir, Package: "./greeter", Output: filepath.Join(t.TempDir(), "bootstrap"), Debug: true}); err != nil {
		t.Fatal(err)
	}

	r := startRun(t, dir, "--debug", "Greeter", "--debug-port", "0", "--verbose")
	session := func() []testkit.Proc {
		return testkit.Procs(func(p testkit.Proc) bool { return p.SID == r.cmd.Process.Pid && p.State != 'Z' })
	}
	t.Cleanup(func() { // whatever a failed test leaves
		for _, p := range session() {
			syscall.Kill(p.PID, syscall.SIGKILL)
		}
	})
	r.waitOutput(t, `"port": `) // the attach lines follow the banner
	m := regexp.MustCompile(`dlv connect (127\.0\.0\.1:(\d+))`).FindStringSubmatch(r.stdout.String())
	if m == nil || !strings.Contains(r.stdout.String(), `"request": "attach"`) || !strings.Contains(r.stdout.String(), `"mode": "remote"`) ||
		!strings.Contains(r.stdout.String(), `"port": `+m[2]) {
		t.Fatalf("the banner does not say how to attach (dlv connect, a VS Code attach entry with the port):\n%s", r.stdout.String())
	}
	conn, err := net.DialTimeout("tcp", m[1], 10*time.Second)
	if err != nil {
		t.Fatalf("Delve does not listen where the banner says: %v", err)
	}
	dlv := delveClient{jsonrpc.NewClient(conn)}
	defer dlv.Close()

	// The function runs (--continue): halt it to set the breakpoint, as dlv connect does.
	if _, err := dlv.command("halt"); err != nil {
		t.Fatalf("halt: %v", err)
	}
	var bp struct{ Breakpoint location }
	if err := dlv.Call("RPCServer.CreateBreakpoint", map[string]any{"Breakpoint": location{File: file, Line: line}}, &bp); err != nil {
		t.Fatalf("create a breakpoint at %s:%d: %v", file, line, err)
	}
	stopped := dlv.Go("RPCServer.Command", map[string]string{"name": "continue"}, &struct{ State debuggerState }{}, nil)

	type answer struct {
		status int
		body   string
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.Get(r.url + "/greet?name=delve")
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answered <- answer{resp.StatusCode, string(b), err}
	}()
	select {
	case call := <-stopped.Done:
		if call.Error != nil {
			t.Fatalf("continue to the breakpoint: %v", call.Error)
		}
	case a := <-answered:
		t.Fatalf("the request was answered (%d %q %v) without stopping at the breakpoint", a.status, a.body, a.err)
	case <-time.After(30 * time.Second):
		t.Fatal("the breakpoint was not hit within 30 s")
	}
	var st struct{ State debuggerState }
	if err := dlv.Call("RPCServer.State", map[string]bool{"NonBlocking": true}, &st); err != nil {
		t.Fatalf("state: %v", err)
	}
	if th, g := st.State.CurrentThread, st.State.SelectedGoroutine; th == nil || g == nil || th.File != file || th.Line != line ||
		g.CurrentLoc.File != file || g.CurrentLoc.Line != line {
		t.Fatalf("stopped at %+v (goroutine %+v), want %s:%d", th, g, file, line)
	}

	// Held at the breakpoint past both timeouts: the point of this sleep is that nothing fires.
	select {
	case a := <-answered:
		t.Fatalf("answered %d %q (%v) while stopped at the breakpoint", a.status, a.body, a.err)
	case <-time.After(2500 * time.Millisecond):
	}
	dlv.Go("RPCServer.Command", map[string]string{"name": "continue"}, &struct{ State debuggerState }{}, nil)
	select {
	case a := <-answered:
		if a.err != nil || a.status != 200 || a.body != "hello delve (context err: <nil>)" {
			t.Errorf("after continuing: %d %q %v, want 200 \"hello delve (context err: <nil>)\"", a.status, a.body, a.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no answer 30 s after continuing")
	}

	// A save rebuilds the function and starts Delve again on the same port, once the old one is gone.
	writeFile(t, file, strings.Replace(greeterSource, `"hello "`, `"hi "`, 1))
	r.saved(t, 1)
	client := http.Client{Timeout: 60 * time.Second}
	resp, err := client.Get(r.url + "/greet?name=again")
	if err != nil {
		t.Fatalf("after a save: %v\n%s", err, r.output.String())
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "hi again (context err: <nil>)" {
		t.Errorf("after a save: %d %q, want the new build's answer", resp.StatusCode, b)
	}
	conn, err = net.DialTimeout("tcp", m[1], 10*time.Second)
	if err != nil {
		t.Fatalf("Delve does not listen on %s after a save: %v", m[1], err)
	}
	again := delveClient{jsonrpc.NewClient(conn)}
	defer again.Close()
	if err := again.Call("RPCServer.State", map[string]bool{"NonBlocking": true}, &st); err != nil || st.State.Exited {
		t.Errorf("state after a save: %+v, %v", st.State, err)
	}

	var names []string
	for _, p := range session() {
		names = append(names, p.Comm)
	}
	if !strings.Contains(strings.Join(names, " "), "dlv") || !strings.Contains(strings.Join(names, " "), "bootstrap") {
		t.Fatalf("the run's session holds %v, want Delve and the function", names)
	}
	r.cmd.Process.Signal(syscall.SIGINT)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("devserver exited with %v after Ctrl-C:\n%s", err, r.output.String())
		}
	case <-ctx.Done():
		t.Fatalf("devserver still running 20 s after Ctrl-C:\n%s", r.output.String())
	}
	for left := session(); len(left) > 0; left = session() {
		if ctx.Err() != nil {
			t.Fatalf("processes of the run's session outlived it: %+v", left)
		}
		time.Sleep(50 * time.Millisecond) // a SIGKILLed process is reaped by its new parent
	}
}

// TestDebugRefusals: what run --debug can check before building is refused at once, saying what
// to do.
func TestDebugRefusals(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	packaged := filepath.Join(t.TempDir(), "out")
	if out, err := exec.Command(devserverBin, "package", packaged, "--project-dir", repoRoot(t)).CombinedOutput(); err != nil {
		t.Fatalf("package: %v\n%s", err, out)
	}
	fakeDlv := t.TempDir()
	writeFile(t, filepath.Join(fakeDlv, "dlv"), "#!/bin/sh\nexit 1\n")
	os.Chmod(filepath.Join(fakeDlv, "dlv"), 0o755)
	tests := []struct {
		name string
		args []string
		env  []string
		want []string
	}{
		{"unknown function", []string{"--debug", "Nope"}, nil,
			[]string{`--debug Nope: no function "Nope"`, "(its functions: APIHandler)"}},
		{"the old DEVSERVER_DEBUG", nil, []string{"DEVSERVER_DEBUG=true"},
			[]string{`DEVSERVER_DEBUG true: no function "true"`, "DEVSERVER_VERBOSE logs more"}},
		{"no dlv on PATH", []string{"--debug", "APIHandler", "--debug-port", "0"}, []string{"PATH=" + t.TempDir()},
			[]string{"dlv", "go install github.com/go-delve/delve/cmd/dlv@" + DelveVersion}},
		{"a prebuilt bootstrap", []string{"--debug", "APIHandler", "--template", filepath.Join(packaged, "sam.json")}, nil,
			[]string{"--debug APIHandler: it runs a bootstrap taken as it is from", "serve it from its source"}},
		{"busy debug port", []string{"--debug", "APIHandler", "--debug-port", busyPort}, []string{"PATH=" + fakeDlv},
			[]string{"port " + busyPort, "--debug-port 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(devserverBin, append([]string{"run", "--port", "0", "--project-dir", repoRoot(t)}, tt.args...)...)
			cmd.Env = append(os.Environ(), tt.env...)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("run %v served:\n%s", tt.args, out)
			}
			for _, want := range tt.want {
				if !strings.Contains(string(out), want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(string(out), "building") {
				t.Errorf("run built before refusing:\n%s", out)
			}
		})
	}
}
