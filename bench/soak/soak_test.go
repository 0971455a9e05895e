// Package soak is devserver's chaos soak: clients on loopback for a while against an app whose
// functions answer, fail, panic, exit, time out, answer malformed or 7 MB bodies, sleep and print
// without end, while sources are saved (some saves break the build, the next fixes it), the config
// is edited, clients hang up mid-request and an instance is stopped with SIGSTOP. Every answer is
// checked against the table of what its route must answer. At the end: the server still serves, no
// request to the healthy route failed, and once it is shut down no process, goroutine or file
// descriptor it started is left; RSS after the load is reported next to before it.
//
// The test suite runs a short soak (TestSoak); bench/soak.sh MINUTES runs a long one:
//
//	go test -count=1 -timeout 0 -run TestSoak ./bench/soak -args -soak.duration 10m -soak.clients 32
package soak

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/devserver/devserver/emulator"
	"github.com/devserver/devserver/emulator/console"
	"github.com/devserver/devserver/internal/testkit"
	"github.com/devserver/devserver/project"
)

var (
	duration = flag.Duration("soak.duration", 15*time.Second, "how long the clients send")
	clients  = flag.Int("soak.clients", 8, "concurrent clients")
	every    = flag.Duration("soak.every", 2*time.Second, "pause between two disturbances")
)

// TestSoak runs the chaos soak (short by default; see the package comment for a long one).
func TestSoak(t *testing.T) {
	rep, err := run(t.Context(), options{Duration: *duration, Clients: *clients, Every: *every,
		Repo: testkit.RepoRoot(t), Log: t.Output()})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("soak report:\n%s", rep)
	if rep.failed() {
		t.Errorf("the soak found problems:\n%s", rep)
	}
	if n := rep.Outcomes["/healthy"]["200"]; n == 0 {
		t.Errorf("no request to the healthy route was answered")
	}
	if rep.Disturbances["save"] == 0 {
		t.Errorf("the soak was too short to disturb anything")
	}
}

// options size a soak.
type options struct {
	Duration time.Duration
	Clients  int
	// Every is the pause between two disturbances (a save, a broken build, a config edit, a SIGSTOP).
	Every time.Duration
	// Repo is the devserver checkout (for go.mod, go.sum and the fault function's source).
	Repo string
	// Log receives progress lines.
	Log io.Writer
}

// report is what a soak saw.
type report struct {
	// Outcomes counts answers by route and outcome ("200", "502", "hung up", "transport error").
	Outcomes map[string]map[string]int
	// Unexpected lists answers that were not in the table, at most 20.
	Unexpected []string
	// Disturbances counts what was done to the server by kind.
	Disturbances map[string]int
	// Leaks lists what the server left behind after shutdown.
	Leaks []string
	// Warnings are devserver's warnings of failed invokes during the soak (why), at most 20.
	Warnings []string
	// RSS in MB: before the load (after start), right after it, and after a GC.
	RSSBefore, RSSAfter, RSSSettled int
	Goroutines, FDs                 [2]int // before start, after shutdown
}

func (r *report) failed() bool { return len(r.Unexpected) > 0 || len(r.Leaks) > 0 }

func (r *report) String() string {
	var b strings.Builder
	total := 0
	for _, route := range slices.Sorted(maps.Keys(r.Outcomes)) {
		var parts []string
		for _, o := range slices.Sorted(maps.Keys(r.Outcomes[route])) {
			parts = append(parts, fmt.Sprintf("%s×%d", o, r.Outcomes[route][o]))
			total += r.Outcomes[route][o]
		}
		fmt.Fprintf(&b, "%-18s %s\n", route, strings.Join(parts, "  "))
	}
	fmt.Fprintf(&b, "requests: %d\n", total)
	var dist []string
	for _, k := range slices.Sorted(maps.Keys(r.Disturbances)) {
		dist = append(dist, fmt.Sprintf("%s×%d", k, r.Disturbances[k]))
	}
	fmt.Fprintf(&b, "disturbances: %s\n", strings.Join(dist, "  "))
	fmt.Fprintf(&b, "RSS: %d MB before the load, %d MB right after, %d MB after a GC\n", r.RSSBefore, r.RSSAfter, r.RSSSettled)
	fmt.Fprintf(&b, "goroutines %d → %d, file descriptors %d → %d (before start → after shutdown)\n", r.Goroutines[0], r.Goroutines[1], r.FDs[0], r.FDs[1])
	if len(r.Leaks) == 0 {
		b.WriteString("leaks: none\n")
	} else {
		fmt.Fprintf(&b, "leaks: %s\n", strings.Join(r.Leaks, "; "))
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintf(&b, "devserver warned:\n  %s\n", strings.Join(r.Warnings, "\n  "))
	}
	if len(r.Unexpected) == 0 {
		b.WriteString("unexpected answers: none\n")
	} else {
		fmt.Fprintf(&b, "unexpected answers:\n  %s\n", strings.Join(r.Unexpected, "\n  "))
	}
	return b.String()
}

const internalError = `{"message":"Internal server error"}`

// route is one request the clients send and what it may answer.
type route struct {
	path string
	// ok says whether an answer is right for this route.
	ok func(status int, body string) bool
	// hangUp makes the client give up after this long (0: never).
	hangUp time.Duration
}

func routes() []route {
	is := func(status int, body string) func(int, string) bool {
		return func(s int, b string) bool { return s == status && b == body }
	}
	failed := is(502, internalError)
	// A request that lands on the stopped instance times out there: Lambda answers it as a timeout.
	okOrStopped := func(status int, body string) func(int, string) bool {
		return func(s int, b string) bool { return (s == status && b == body) || (s == 502 && b == internalError) }
	}
	return []route{
		{path: "/healthy", ok: func(s int, b string) bool { return s == 200 && strings.HasPrefix(b, "v") }},
		{path: "/f/ok", ok: okOrStopped(200, "ok")},
		{path: "/f/sleep?ms=100", ok: okOrStopped(200, "slept")},
		{path: "/f/error", ok: failed},
		{path: "/f/panic", ok: failed},
		{path: "/f/exit", ok: failed},
		{path: "/f/sleep?ms=1500", ok: failed}, // past the function's 1 s timeout
		{path: "/f/malformed", ok: failed},
		{path: "/f/big", ok: failed}, // 7 MB: over Lambda's 6 MB
		{path: "/f/spam", ok: failed},
		{path: "/f/sleep?ms=400", hangUp: 50 * time.Millisecond},
	}
}

const config = `app_name: soak
api:
  stage: api
functions:
  Healthy:
    source: ./healthy
    environment: {EDIT: "%d"}
  Fault:
    source: ./fault
    timeout: 1
routes:
  - {method: GET, path: /healthy, function: Healthy}
  - {method: GET, path: "/f/{action}", function: Fault}
`

func healthySource(version int, broken bool) string {
	tail := ""
	if broken {
		tail = "\nfunc broken() { return 1 }\n"
	}
	return `package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handler(_ context.Context, _ events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: "v` + strconv.Itoa(version) + `"}, nil
}

func main() {
	lambda.Start(handler)
}
` + tail
}

// run soaks a fresh server for opts.Duration and reports.
func run(ctx context.Context, opts options) (*report, error) {
	rep := &report{Outcomes: map[string]map[string]int{}, Disturbances: map[string]int{}}
	dir, err := os.MkdirTemp("", "devserver-soak-")
	if err != nil {
		return nil, fmt.Errorf("create soak project: %w", err)
	}
	defer os.RemoveAll(dir)
	dir, _ = filepath.EvalSymlinks(dir)
	files := map[string]string{
		"config.yaml":     fmt.Sprintf(config, 0),
		"healthy/main.go": healthySource(0, false),
	}
	for dst, src := range map[string]string{"go.mod": "go.mod", "go.sum": "go.sum", "fault/main.go": "emulator/testdata/fault/main.go"} {
		b, err := os.ReadFile(filepath.Join(opts.Repo, src))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", src, err)
		}
		files[dst] = string(b)
	}
	for name, content := range files {
		if err := writeFile(filepath.Join(dir, name), content); err != nil {
			return nil, err
		}
	}

	rep.Goroutines[0], rep.FDs[0] = runtime.NumGoroutine(), countFDs()
	load := project.Options{Dir: dir}
	p, err := project.Load(load)
	if err != nil {
		return nil, err
	}
	term := console.NewTerminal(io.Discard) // the functions print a lot; the report says what matters
	var warnings testkit.Buffer             // but what devserver warns about goes in the report
	ready := make(chan string, 1)
	srv := emulator.New(emulator.Config{
		Project:  p,
		Source:   emulator.SourceFunc(func() (*project.Project, error) { return project.Load(load) }),
		Addr:     "127.0.0.1:0",
		Terminal: term,
		Log:      slog.New(slog.NewTextHandler(&warnings, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Reload:   true,
		Ready:    func(a emulator.Addrs) { ready <- a.API },
	})
	sctx, stopServer := context.WithCancel(ctx)
	defer stopServer()
	served := make(chan error, 1)
	go func() { served <- srv.Run(sctx) }()
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-served:
		return nil, fmt.Errorf("start the server: %w", err)
	}
	fmt.Fprintf(opts.Log, "serving on %s; soaking for %s with %d clients\n", base, opts.Duration, opts.Clients)
	rep.RSSBefore = rssMB()

	loadCtx, stopLoad := context.WithTimeout(ctx, opts.Duration)
	defer stopLoad()
	var (
		mu         sync.Mutex
		clientsRun sync.WaitGroup
		sent       atomic.Int64
	)
	record := func(path, outcome, unexpected string) {
		mu.Lock()
		defer mu.Unlock()
		if rep.Outcomes[path] == nil {
			rep.Outcomes[path] = map[string]int{}
		}
		rep.Outcomes[path][outcome]++
		if unexpected != "" && len(rep.Unexpected) < 20 {
			rep.Unexpected = append(rep.Unexpected, unexpected)
		}
	}
	table := routes()
	for c := range opts.Clients {
		clientsRun.Go(func() {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			defer client.CloseIdleConnections()
			for i := c; loadCtx.Err() == nil; i++ {
				r := table[i%len(table)]
				sent.Add(1)
				reqCtx, cancel := context.WithCancel(loadCtx)
				if r.hangUp > 0 {
					reqCtx, cancel = context.WithTimeout(loadCtx, r.hangUp)
				}
				status, body, err := get(reqCtx, client, base+r.path)
				cancel()
				switch {
				case loadCtx.Err() != nil:
					return // the soak ended mid-request
				case err != nil && r.hangUp > 0:
					record(r.path, "hung up", "")
				case err != nil:
					record(r.path, "transport error", fmt.Sprintf("GET %s: %v", r.path, err))
				case r.hangUp > 0:
					record(r.path, strconv.Itoa(status)+" before hang-up", "")
				case !r.ok(status, body):
					record(r.path, strconv.Itoa(status), fmt.Sprintf("GET %s = %d %.120q", r.path, status, body))
				default:
					record(r.path, strconv.Itoa(status), "")
				}
			}
		})
	}

	disturb(loadCtx, opts, dir, rep, &mu)
	clientsRun.Wait()
	rep.RSSAfter = rssMB()
	fmt.Fprintf(opts.Log, "load over: %d requests\n", sent.Load())

	// Still alive, and the healthy route answers.
	if status, body, err := get(ctx, http.DefaultClient, base+"/healthy"); err != nil || status != 200 {
		rep.Unexpected = append(rep.Unexpected, fmt.Sprintf("after the soak GET /healthy = %d %q %v: the server is not serving", status, body, err))
	}
	runtime.GC()
	rep.RSSSettled = rssMB()
	for _, line := range strings.Split(warnings.String(), "\n") {
		if strings.Contains(line, "invoke failed") && len(rep.Warnings) < 20 { // malformed answers are expected
			rep.Warnings = append(rep.Warnings, line)
		}
	}

	stopServer()
	if err := <-served; err != nil {
		rep.Leaks = append(rep.Leaks, "Run ended with "+err.Error())
	}
	http.DefaultClient.CloseIdleConnections()
	// Settle: what the server started winds down after Run returns (pipe readers, timers).
	deadline := time.Now().Add(10 * time.Second)
	for {
		rep.Goroutines[1], rep.FDs[1] = runtime.NumGoroutine(), countFDs()
		kids := testkit.Children(os.Getpid())
		if (rep.Goroutines[1] <= rep.Goroutines[0] && rep.FDs[1] <= rep.FDs[0] && len(kids) == 0) || time.Now().After(deadline) {
			if len(kids) > 0 {
				rep.Leaks = append(rep.Leaks, fmt.Sprintf("%d child processes left: %v", len(kids), kids))
			}
			if rep.Goroutines[1] > rep.Goroutines[0] {
				rep.Leaks = append(rep.Leaks, fmt.Sprintf("goroutines %d → %d", rep.Goroutines[0], rep.Goroutines[1]))
			}
			if rep.FDs[1] > rep.FDs[0] {
				rep.Leaks = append(rep.Leaks, fmt.Sprintf("file descriptors %d → %d", rep.FDs[0], rep.FDs[1]))
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return rep, nil
}

// disturb saves, breaks and fixes sources, edits the config and stops an instance, one thing per
// opts.Every, until ctx ends.
func disturb(ctx context.Context, opts options, dir string, rep *report, mu *sync.Mutex) {
	note := func(kind string) {
		mu.Lock()
		rep.Disturbances[kind]++
		mu.Unlock()
	}
	version, edit := 0, 0
	tick := time.NewTicker(opts.Every)
	defer tick.Stop()
	for step := 0; ; step++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		// A failed write is a skipped disturbance, counted as none.
		switch step % 5 {
		case 0, 2:
			version++
			if writeFile(filepath.Join(dir, "healthy/main.go"), healthySource(version, false)) == nil {
				note("save")
			}
		case 1:
			if writeFile(filepath.Join(dir, "healthy/main.go"), healthySource(version, true)) == nil {
				note("save that breaks the build")
			}
		case 3:
			edit++
			if writeFile(filepath.Join(dir, "config.yaml"), fmt.Sprintf(config, edit)) == nil {
				note("config edit")
			}
		case 4:
			if stopOne(ctx, filepath.Join("build", "Fault")) {
				note("SIGSTOP of an instance")
			}
		}
	}
}

// stopOne stops one instance whose binary path holds part for a second, then lets it go on.
func stopOne(ctx context.Context, part string) bool {
	for _, pid := range testkit.Children(os.Getpid()) {
		exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		if err != nil || !strings.Contains(exe, part) {
			continue
		}
		if syscall.Kill(pid, syscall.SIGSTOP) != nil {
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
		syscall.Kill(pid, syscall.SIGCONT) //nolint:errcheck // it may have been killed for its timeout.
		return true
	}
	return false
}

func get(ctx context.Context, client *http.Client, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, string(b), nil
}

func writeFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o644)
}

func countFDs() int {
	ents, _ := os.ReadDir("/proc/self/fd")
	return len(ents)
}

// rssMB is this process's resident set now.
func rssMB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	_, rest, _ := strings.Cut(string(b), "VmRSS:")
	line, _, _ := strings.Cut(rest, "\n")
	kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(line), "kB")))
	return kb / 1024
}
