package emulator_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devserver/devserver/emulator"
	"github.com/devserver/devserver/internal/testkit"
	"github.com/devserver/devserver/project"
)

// handlerSource is a function answering text, importing the project's shared package when shared.
func handlerSource(text string, shared bool) string {
	imp, expr := "", strconv.Quote(text)
	if shared {
		imp, expr = "\t\"github.com/devserver/devserver/shared\"\n", "shared.Prefix + "+strconv.Quote(text)
	}
	return `package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
` + imp + `)

func handler(_ context.Context, _ events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: ` + expr + ` + os.Getenv("SUFFIX")}, nil
}

func main() {
	lambda.Start(handler)
}
`
}

const reloadConfig = `
app_name: reloads
functions:
  A: {source: ./a}
  B: {source: ./b}
routes:
  - {method: GET, path: /a, function: A}
  - {method: GET, path: /b, function: B}
`

// newProject writes a throwaway project in the main module's name (go.mod and go.sum copied).
func newProject(t *testing.T, files map[string]string) string {
	t.Helper()
	return testkit.Module(t, files)
}

type reloading struct {
	url  string
	dir  string
	term *syncBuffer
	stop func()
}

// serve runs the emulator with reload on over dir until the test ends.
func serve(t *testing.T, dir string) *reloading {
	t.Helper()
	opts := project.Options{Dir: dir}
	p, err := project.Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	term := newSyncBuffer()
	ready := make(chan string, 1)
	s := emulator.New(emulator.Config{
		Project:  p,
		Addr:     "127.0.0.1:0",
		Terminal: term.term,
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Reload:   true,
		Source:   emulator.SourceFunc(func() (*project.Project, error) { return project.Load(opts) }),
		Ready:    func(a emulator.Addrs) { ready <- a.API },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	r := &reloading{dir: dir, term: term}
	r.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	t.Cleanup(r.stop)
	select {
	case addr := <-ready:
		r.url = "http://" + addr
	case err := <-done:
		t.Fatalf("Run ended before serving: %v\n%s", err, term.String())
	}
	return r
}

func (r *reloading) write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls until GET path answers want (the reload is async to the test's own clock).
func (r *reloading) waitFor(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		status, _, body := get(t, r.url+path)
		if status == 200 && body == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s never answered %q; last %d %q\n%s", path, want, status, body, r.term.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOnlyChangedFunctionsRebuild checks that a change rebuilds exactly the functions built from
// the changed package, and that a settings change restarts without a rebuild.
func TestOnlyChangedFunctionsRebuild(t *testing.T) {
	r := serve(t, newProject(t, map[string]string{
		"config.yaml":      reloadConfig,
		"a/main.go":        handlerSource("a1", true),
		"b/main.go":        handlerSource("b1", false),
		"shared/shared.go": "package shared\n\nconst Prefix = \"v1:\"\n",
	}))
	r.waitFor(t, "/a", "v1:a1")
	builds := func(fn string) int { return strings.Count(r.term.String(), "building "+fn+" ") }

	r.write(t, "shared/shared.go", "package shared\n\nconst Prefix = \"v2:\"\n")
	r.waitFor(t, "/a", "v2:a1")
	r.write(t, "b/main.go", handlerSource("b2", false))
	r.waitFor(t, "/b", "b2")
	if a, b := builds("A"), builds("B"); a != 2 || b != 2 {
		t.Errorf("builds: A %d, B %d; want 2 each (start, then one for its own change)", a, b)
	}

	r.write(t, "config.yaml", strings.Replace(reloadConfig, "B: {source: ./b}", "B: {source: ./b, environment: {SUFFIX: \"!\"}}", 1))
	r.waitFor(t, "/b", "b2!")
	if !strings.Contains(r.term.String(), "restarted B") || builds("B") != 2 {
		t.Errorf("an environment change should restart B without a rebuild:\n%s", r.term.String())
	}
}

// TestReloadUnderLoad keeps 4 clients busy across 5 reloads: no request fails, and once a save
// has been served every later request sees it.
func TestReloadUnderLoad(t *testing.T) {
	r := serve(t, newProject(t, map[string]string{
		"config.yaml": reloadConfig,
		"a/main.go":   handlerSource("v0", false),
		"b/main.go":   handlerSource("b", false),
	}))
	r.waitFor(t, "/a", "v0")

	type result struct {
		start   time.Time
		status  int
		version int
		err     error
	}
	var mu sync.Mutex
	var results []result
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for range 4 {
		wg.Go(func() {
			for n := 0; n < 5000; n++ {
				select {
				case <-stop:
					return
				default:
				}
				res := result{start: time.Now()}
				resp, err := client.Get(r.url + "/a")
				if err != nil {
					res.err = err
				} else {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					res.status = resp.StatusCode
					res.version, _ = strconv.Atoi(strings.TrimPrefix(string(b), "v"))
				}
				mu.Lock()
				results = append(results, res)
				mu.Unlock()
			}
		})
	}
	served := make([]time.Time, 6) // when save k was first seen served
	for k := 1; k <= 5; k++ {
		time.Sleep(150 * time.Millisecond)
		r.write(t, "a/main.go", handlerSource(fmt.Sprintf("v%d", k), false))
		r.waitFor(t, "/a", fmt.Sprintf("v%d", k))
		served[k] = time.Now()
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()

	if len(results) < 100 {
		t.Fatalf("only %d requests under load", len(results))
	}
	failed := 0
	for _, res := range results {
		if res.err != nil || res.status != 200 {
			failed++
			if failed < 5 {
				t.Errorf("request failed during reloads: %d %v", res.status, res.err)
			}
			continue
		}
		for k := 5; k >= 1; k-- {
			if res.start.After(served[k]) && res.version < k {
				t.Errorf("request sent %s after save %d was served answered v%d", res.start.Sub(served[k]), k, res.version)
				break
			}
		}
	}
	t.Logf("%d requests across 5 reloads, %d failed", len(results), failed)
}

// TestReloadLeaks reloads 50 times and counts goroutines, file descriptors and child processes.
func TestReloadLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("50 rebuilds")
	}
	r := serve(t, newProject(t, map[string]string{
		"config.yaml": reloadConfig,
		"a/main.go":   handlerSource("n0", false),
		"b/main.go":   handlerSource("b", false),
	}))
	r.waitFor(t, "/a", "n0")
	r.write(t, "a/main.go", handlerSource("n1", false))
	r.waitFor(t, "/a", "n1")
	count := func() (int, int, int) {
		fds, _ := os.ReadDir("/proc/self/fd")
		return runtime.NumGoroutine(), len(fds), len(testkit.Children(os.Getpid()))
	}
	// Settle: retired pools drain in the background.
	settled := func(g0, f0, c0 int) (int, int, int) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			g, f, c := count()
			if (g <= g0 && f <= f0 && c <= c0) || time.Now().After(deadline) {
				return g, f, c
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(200 * time.Millisecond)
	g0, f0, c0 := settled(1<<30, 1<<30, 1) // the reload's old instance may still be stopping
	for i := 2; i <= 51; i++ {
		r.write(t, "a/main.go", handlerSource(fmt.Sprintf("n%d", i), false))
		r.waitFor(t, "/a", fmt.Sprintf("n%d", i))
	}
	g, f, c := settled(g0, f0, c0)
	t.Logf("after 50 reloads: goroutines %d→%d, fds %d→%d, children %d→%d", g0, g, f0, f, c0, c)
	if g > g0 || f > f0 || c > c0 {
		t.Errorf("leak after 50 reloads: goroutines %d→%d, fds %d→%d, children %d→%d", g0, g, f0, f, c0, c)
	}
	if c0 != 1 {
		t.Errorf("%d function instances running, want 1 (A's, warmed by its reload; B never ran)", c0)
	}
}
