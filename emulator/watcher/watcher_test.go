package watcher_test

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devserver/devserver/emulator/watcher"
)

// debounce is short to keep the suite fast; TestBurst uses the default.
const debounce = 50 * time.Millisecond

// wait bounds every wait for a batch; it is only reached when a test fails.
const wait = 5 * time.Second

// fixture is a project folder watched by a running Watcher.
type fixture struct {
	t    *testing.T
	root string
	w    *watcher.Watcher
	out  chan watcher.Batch
	stop func()
	n    int // sentinel writes so far
}

// layout is the project every test starts from; paths are relative to the root.
var layout = map[string]string{
	"go.mod":         "module example.com/app\n\ngo 1.26\n",
	"config.yaml":    "app: demo\n",
	"main.go":        "package main\n\nfunc main() {}\n",
	"main_test.go":   "package main\n",
	"README.md":      "# app\n",
	"sentinel.go":    "package main\n",
	"pkg/a.go":       "package pkg\n",
	"testdata/x.go":  "package x\n",
	"_tools/x.go":    "package tools\n",
	".git/HEAD":      "ref: refs/heads/main\n",
	"out/bootstrap":  "binary\n",
	"out/gen/gen.go": "package gen\n",
}

func newProject(t *testing.T) string {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for rel, content := range layout {
		write(t, filepath.Join(root, rel), content)
	}
	return root
}

// start runs a Watcher over root and returns once it is known to be watching: a first change of the
// sentinel has been reported, alone.
func start(t *testing.T, root string, opts watcher.Options, targets watcher.Targets) *fixture {
	t.Helper()
	f := newStopped(t, root, opts, targets)
	f.run()
	if got := f.changes(); got != nil {
		t.Fatalf("first batch reported %v besides the sentinel", got)
	}
	return f
}

func newStopped(t *testing.T, root string, opts watcher.Options, targets watcher.Targets) *fixture {
	t.Helper()
	w, err := watcher.New(slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Set(targets); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, root: root, w: w, out: make(chan watcher.Batch)}
}

func (f *fixture) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.w.Run(ctx, f.out) }()
	f.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			f.t.Errorf("Run: %v", err)
		}
	})
	f.t.Cleanup(f.stop)
}

func (f *fixture) path(rel string) string { return filepath.Join(f.root, filepath.FromSlash(rel)) }

// changes writes a new sentinel and returns, relative and sorted, everything reported up to and
// including the batch that reports the sentinel, the sentinel left out. Because events are handled
// in order, whatever the test did before is in that batch or an earlier one.
func (f *fixture) changes() []string {
	f.t.Helper()
	f.n++
	sentinel := f.path("sentinel.go")
	write(f.t, sentinel, fmt.Sprintf("package main\n\n// %d\n", f.n))
	var got []string
	for _, b := range f.batches(sentinel) {
		for _, p := range b.Paths {
			if p != sentinel {
				got = append(got, f.rel(p))
			}
		}
	}
	slices.Sort(got)
	return slices.Compact(got)
}

// batches returns the batches received up to and including the first that holds path.
func (f *fixture) batches(path string) []watcher.Batch {
	f.t.Helper()
	var bs []watcher.Batch
	timeout := time.After(wait)
	for {
		select {
		case b := <-f.out:
			if !slices.IsSorted(b.Paths) || len(b.Paths) == 0 {
				f.t.Fatalf("batch %v: want sorted, non-empty paths", b.Paths)
			}
			bs = append(bs, b)
			if slices.Contains(b.Paths, path) {
				return bs
			}
		case <-timeout:
			f.t.Fatalf("no batch with %s within %v; got %v", path, wait, bs)
		}
	}
}

func (f *fixture) rel(p string) string {
	r, err := filepath.Rel(f.root, p)
	if err != nil {
		f.t.Fatal(err)
	}
	return filepath.ToSlash(r)
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// replace saves the way many editors do: write a temporary file, rename it over the original.
func replace(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	write(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// step is one action on the project and the relative paths the next batches must report for it.
type step struct {
	do   func(t *testing.T, root string)
	want []string
}

func runSteps(t *testing.T, f *fixture, steps []step) {
	t.Helper()
	for i, s := range steps {
		s.do(t, f.root)
		if got := f.changes(); !slices.Equal(got, s.want) {
			t.Fatalf("step %d: reported %q, want %q", i, got, s.want)
		}
	}
}

func edit(rel, content string) func(*testing.T, string) {
	return func(t *testing.T, root string) { write(t, filepath.Join(root, rel), content) }
}

// TestPackagesAndFiles watches package folders and named files, without trees.
func TestPackagesAndFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps []step
		// window replaces the short debounce where two events must fall in one quiet period, so
		// that a stalled test machine does not split them.
		window time.Duration
	}{
		{name: "edit", steps: []step{{edit("main.go", "package main\n\nfunc main() { println() }\n"), []string{"main.go"}}}},
		{name: "edit in another package", steps: []step{{edit("pkg/a.go", "package pkg\n\nvar A = 1\n"), []string{"pkg/a.go"}}}},
		{name: "edit twice", steps: []step{
			{edit("main.go", "package main\n// 1\n"), []string{"main.go"}},
			{edit("main.go", "package main\n// 2\n"), []string{"main.go"}},
		}},
		{name: "same content", steps: []step{{edit("main.go", layout["main.go"]), nil}}},
		{name: "edit then revert", steps: []step{{func(t *testing.T, root string) {
			write(t, filepath.Join(root, "main.go"), "package main\n// changed\n")
			write(t, filepath.Join(root, "main.go"), layout["main.go"])
		}, nil}}, window: 500 * time.Millisecond},
		{name: "touch and chmod", steps: []step{{func(t *testing.T, root string) {
			p := filepath.Join(root, "main.go")
			later := time.Now().Add(time.Hour)
			must(t, os.Chtimes(p, later, later))
			must(t, os.Chmod(p, 0o600))
		}, nil}}},
		{name: "rename over", steps: []step{{func(t *testing.T, root string) {
			replace(t, filepath.Join(root, "main.go"), "package main\n// renamed\n")
		}, []string{"main.go"}}}},
		{name: "rename over, same content", steps: []step{{func(t *testing.T, root string) {
			replace(t, filepath.Join(root, "main.go"), layout["main.go"])
		}, nil}}},
		{name: "vim save with backup", steps: []step{{func(t *testing.T, root string) {
			p := filepath.Join(root, "main.go")
			must(t, os.Rename(p, p+"~"))
			write(t, p, "package main\n// vim\n")
			must(t, os.Remove(p+"~"))
		}, []string{"main.go"}}}},
		{name: "create", steps: []step{{edit("pkg/b.go", "package pkg\n"), []string{"pkg/b.go"}}}},
		{name: "create then remove", steps: []step{{func(t *testing.T, root string) {
			write(t, filepath.Join(root, "pkg/b.go"), "package pkg\n")
			must(t, os.Remove(filepath.Join(root, "pkg/b.go")))
		}, nil}}, window: 500 * time.Millisecond},
		{name: "remove", steps: []step{{func(t *testing.T, root string) {
			must(t, os.Remove(filepath.Join(root, "pkg/a.go")))
		}, []string{"pkg/a.go"}}}},
		{name: "remove package folder", steps: []step{
			{func(t *testing.T, root string) { must(t, os.RemoveAll(filepath.Join(root, "pkg"))) }, []string{"pkg/a.go"}},
			{edit("main.go", "package main\n// still watching\n"), []string{"main.go"}},
		}},
		{name: "test files", steps: []step{{func(t *testing.T, root string) {
			write(t, filepath.Join(root, "main_test.go"), "package main\n// changed\n")
			write(t, filepath.Join(root, "pkg/b_test.go"), "package pkg\n")
		}, nil}}},
		{name: "editor temporary files", steps: []step{{func(t *testing.T, root string) {
			// Left in place: were one counted, it would be reported as created.
			for _, name := range []string{"main.go~", ".main.go.swp", ".main.go.swx", "4913", ".#main.go",
				"main.go.tmp", "main.go___jb_tmp___", "main.go___jb_old___", "#main.go#", "go.mod~"} {
				write(t, filepath.Join(root, name), "package main\n")
			}
		}, nil}}},
		{name: "hidden and underscore go files", steps: []step{{func(t *testing.T, root string) {
			write(t, filepath.Join(root, ".hidden.go"), "package main\n")
			write(t, filepath.Join(root, "_skip.go"), "package main\n")
		}, nil}}},
		{name: "other files", steps: []step{{func(t *testing.T, root string) {
			write(t, filepath.Join(root, "README.md"), "# changed\n")
			write(t, filepath.Join(root, "notes.txt"), "notes\n")
		}, nil}}},
		{name: "sub-folder of a package is not a tree", steps: []step{{edit("other/x.go", "package other\n"), nil}}},
		{name: "go.mod", steps: []step{{edit("go.mod", "module example.com/app\n\ngo 1.26.1\n"), []string{"go.mod"}}}},
		{name: "go.sum appears", steps: []step{{edit("go.sum", "example.com/x v1.0.0 h1:abc=\n"), []string{"go.sum"}}}},
		{name: "named file renamed over", steps: []step{{func(t *testing.T, root string) {
			replace(t, filepath.Join(root, "config.yaml"), "app: renamed\n")
		}, []string{"config.yaml"}}}},
		{name: "named file, same content", steps: []step{{func(t *testing.T, root string) {
			replace(t, filepath.Join(root, "config.yaml"), layout["config.yaml"])
		}, nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := newProject(t)
			opts := watcher.Options{Debounce: cmp.Or(tt.window, debounce)}
			f := start(t, root, opts, watcher.Targets{
				Dirs:  []string{root, filepath.Join(root, "pkg")},
				Files: []string{filepath.Join(root, "go.mod"), filepath.Join(root, "go.sum"), filepath.Join(root, "config.yaml")},
			})
			runSteps(t, f, tt.steps)
		})
	}
}

// TestTree watches the project root recursively.
func TestTree(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps []step
	}{
		{"existing folder", []step{{edit("pkg/a.go", "package pkg\n// changed\n"), []string{"pkg/a.go"}}}},
		{"new folder, then edits in it", []step{
			{edit("internal/auth/auth.go", "package auth\n"), []string{"internal/auth/auth.go"}},
			{edit("internal/auth/auth.go", "package auth\n\nvar On = true\n"), []string{"internal/auth/auth.go"}},
			{edit("internal/auth/jwt/jwt.go", "package jwt\n"), []string{"internal/auth/jwt/jwt.go"}},
		}},
		{"deep folders made at once", []step{{func(t *testing.T, root string) {
			dir := filepath.Join(root, "a/b/c/d")
			must(t, os.MkdirAll(dir, 0o755))
			write(t, filepath.Join(dir, "d.go"), "package d\n")
		}, []string{"a/b/c/d/d.go"}}}},
		{"folder moved in", []step{{func(t *testing.T, root string) {
			outside := filepath.Join(t.TempDir(), "lib")
			write(t, filepath.Join(outside, "lib.go"), "package lib\n")
			must(t, os.Rename(outside, filepath.Join(root, "lib")))
		}, []string{"lib/lib.go"}}}},
		{"folder renamed", []step{
			{func(t *testing.T, root string) {
				must(t, os.Rename(filepath.Join(root, "pkg"), filepath.Join(root, "pkg2")))
			}, []string{"pkg/a.go", "pkg2/a.go"}},
			{edit("pkg2/a.go", "package pkg\n// after rename\n"), []string{"pkg2/a.go"}},
		}},
		{"folder removed, then made again", []step{
			{func(t *testing.T, root string) { must(t, os.RemoveAll(filepath.Join(root, "pkg"))) }, []string{"pkg/a.go"}},
			{edit("pkg/a.go", layout["pkg/a.go"]), []string{"pkg/a.go"}},
			{edit("pkg/a.go", "package pkg\n// again\n"), []string{"pkg/a.go"}},
		}},
		{"left-out folders", []step{{func(t *testing.T, root string) {
			for _, rel := range []string{".git/HEAD", ".git/x.go", ".git/refs/heads/x.go", "testdata/x.go",
				"_tools/x.go", "out/gen/gen.go", "out/new/x.go", ".idea/x.go"} {
				write(t, filepath.Join(root, rel), "package x\n// changed\n")
			}
		}, nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := newProject(t)
			f := start(t, root, watcher.Options{Debounce: debounce, Ignore: []string{filepath.Join(root, "out")}},
				watcher.Targets{Trees: []string{root}})
			runSteps(t, f, tt.steps)
		})
	}
}

func TestSameContentSendsNothing(t *testing.T) {
	t.Parallel()
	root := newProject(t)
	f := start(t, root, watcher.Options{Debounce: debounce}, watcher.Targets{Dirs: []string{root}})
	write(t, f.path("main.go"), layout["main.go"])
	select {
	case b := <-f.out:
		t.Fatalf("rewriting main.go unchanged sent %v", b.Paths)
	case <-time.After(3 * debounce):
	}
	if got := f.changes(); got != nil {
		t.Errorf("reported %q, want nothing", got)
	}
}

// TestBurst saves 50 files over about 300 ms, with the default debounce.
func TestBurst(t *testing.T) {
	t.Parallel()
	root := newProject(t)
	var want []string
	for i := range 50 {
		rel := fmt.Sprintf("gen/f%02d.go", i)
		write(t, filepath.Join(root, rel), "package gen\n")
		want = append(want, rel)
	}
	f := start(t, root, watcher.Options{}, watcher.Targets{Dirs: []string{root, filepath.Join(root, "gen")}})

	// Batches are received while the burst goes on, so that a watcher sending too early is caught.
	saved := make(chan error, 1)
	go func() {
		for _, rel := range want {
			if err := os.WriteFile(f.path(rel), []byte("package gen\n// saved\n"), 0o644); err != nil {
				saved <- err
				return
			}
			time.Sleep(6 * time.Millisecond) // the burst itself, not a wait
		}
		saved <- nil
	}()
	bs := f.batches(f.path(want[len(want)-1]))
	must(t, <-saved)
	var got []string
	for _, b := range bs {
		for _, p := range b.Paths {
			got = append(got, f.rel(p))
		}
	}
	slices.Sort(got)
	if len(bs) > 2 {
		t.Errorf("50 saves in ~300ms sent %d batches, want 1 (2 at most)", len(bs))
	}
	if !slices.Equal(got, want) {
		t.Errorf("burst reported %q, want %q", got, want)
	}
	if got := f.changes(); got != nil {
		t.Errorf("after the burst: reported %q, want nothing", got)
	}
}

func TestSetWhileRunning(t *testing.T) {
	t.Parallel()
	root := newProject(t)
	f := start(t, root, watcher.Options{Debounce: debounce}, watcher.Targets{Dirs: []string{root}})
	withPkg := watcher.Targets{Dirs: []string{root, f.path("pkg")}}

	runSteps(t, f, []step{
		{edit("pkg/a.go", "package pkg\n// 1\n"), nil},
		// The folder is read at Set: what it holds then is the starting point, not a change.
		{func(t *testing.T, root string) { must(t, f.w.Set(withPkg)) }, nil},
		{edit("pkg/a.go", "package pkg\n// 2\n"), []string{"pkg/a.go"}},
		// A change seen before Set is still reported when its file stays watched.
		{func(t *testing.T, root string) {
			write(t, filepath.Join(root, "main.go"), "package main\n// before Set\n")
			must(t, f.w.Set(withPkg))
		}, []string{"main.go"}},
		{func(t *testing.T, root string) {
			must(t, f.w.Set(watcher.Targets{Dirs: []string{root}}))
			write(t, filepath.Join(root, "pkg/a.go"), "package pkg\n// 3\n")
		}, nil},
		{func(t *testing.T, root string) {
			must(t, f.w.Set(watcher.Targets{Dirs: []string{root}, Trees: []string{filepath.Join(root, "pkg")}}))
			write(t, filepath.Join(root, "pkg/sub/b.go"), "package sub\n")
		}, []string{"pkg/sub/b.go"}},
	})
}

// TestChangeBeforeRun changes a file between Set and Run: nothing was watching, the first batch says it.
func TestChangeBeforeRun(t *testing.T) {
	t.Parallel()
	root := newProject(t)
	f := newStopped(t, root, watcher.Options{Debounce: debounce}, watcher.Targets{Dirs: []string{root, filepath.Join(root, "pkg")}})
	write(t, f.path("main.go"), "package main\n// before Run\n")
	must(t, os.Remove(f.path("pkg/a.go")))
	must(t, os.Remove(f.path("README.md"))) // not relevant
	f.run()
	if got, want := f.changes(), []string{"main.go", "pkg/a.go"}; !slices.Equal(got, want) {
		t.Errorf("reported %q, want %q", got, want)
	}
}

// TestSetWhileStopped changes what is watched between two runs: a file no longer watched is forgotten,
// a file watched again starts from its content at Set.
func TestSetWhileStopped(t *testing.T) {
	t.Parallel()
	root := newProject(t)
	withPkg := watcher.Targets{Dirs: []string{root, filepath.Join(root, "pkg")}}
	f := start(t, root, watcher.Options{Debounce: debounce}, withPkg)
	steps := []struct {
		targets watcher.Targets
		edit    string
		want    []string
	}{
		{watcher.Targets{Dirs: []string{root}}, "package pkg\n// 1\n", nil},
		{withPkg, "package pkg\n// 2\n", nil},
		{withPkg, "package pkg\n// 3\n", []string{"pkg/a.go"}},
	}
	for i, s := range steps {
		f.stop()
		write(t, f.path("pkg/a.go"), s.edit)
		must(t, f.w.Set(s.targets))
		f.run()
		if got := f.changes(); !slices.Equal(got, s.want) {
			t.Fatalf("step %d: reported %q, want %q", i, got, s.want)
		}
	}
}

func TestOneRunAtATime(t *testing.T) {
	t.Parallel()
	root := newProject(t)
	f := start(t, root, watcher.Options{Debounce: debounce}, watcher.Targets{Dirs: []string{root}})
	err := f.w.Run(context.Background(), make(chan watcher.Batch))
	if err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second Run: %v, want an already running error", err)
	}
	// The second Run must not have disturbed the first.
	if got := f.changes(); got != nil {
		t.Errorf("reported %q, want nothing", got)
	}
	// Once the first Run returns, the Watcher can run again and still knows what it saw.
	f.stop()
	write(t, f.path("main.go"), "package main\n// while stopped\n")
	f.run()
	if got := f.changes(); !slices.Equal(got, []string{"main.go"}) {
		t.Errorf("second run reported %q, want [main.go]", got)
	}
}

func TestInvalidArguments(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	tests := []struct {
		name    string
		opts    watcher.Options
		targets watcher.Targets
		wantErr string
	}{
		{"defaults", watcher.Options{}, watcher.Targets{}, ""},
		{"missing folders and files", watcher.Options{}, watcher.Targets{
			Dirs:  []string{filepath.Join(root, "gone")},
			Trees: []string{filepath.Join(root, "gone")},
			Files: []string{filepath.Join(root, "gone/go.sum")},
		}, ""},
		{"negative debounce", watcher.Options{Debounce: -time.Second}, watcher.Targets{}, "create watcher: negative debounce"},
		{"relative ignore", watcher.Options{Ignore: []string{"out"}}, watcher.Targets{}, `create watcher: ignore: path "out" is not absolute`},
		{"relative dir", watcher.Options{}, watcher.Targets{Dirs: []string{"pkg"}}, `set targets: dirs: path "pkg" is not absolute`},
		{"relative tree", watcher.Options{}, watcher.Targets{Trees: []string{"."}}, `set targets: trees: path "." is not absolute`},
		{"relative file", watcher.Options{}, watcher.Targets{Files: []string{"go.mod"}}, `set targets: files: path "go.mod" is not absolute`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := watcher.New(slog.New(slog.DiscardHandler), tt.opts)
			if err == nil {
				err = w.Set(tt.targets)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestRunLeavesNothingBehind runs and stops watchers over a tree, then checks that the goroutines
// and file descriptors they used are gone. It is not parallel, so that other tests do not move the
// counts.
func TestRunLeavesNothingBehind(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd to count open files")
	}
	runOnce := func() {
		root := newProject(t)
		f := start(t, root, watcher.Options{Debounce: debounce}, watcher.Targets{
			Dirs: []string{root}, Trees: []string{root}, Files: []string{filepath.Join(root, "go.mod")},
		})
		if got := f.changes(); got != nil {
			t.Fatalf("reported %q, want nothing", got)
		}
		f.stop()
	}
	// The first run makes the runtime open its poller (an epoll and an eventfd descriptor), which
	// stays open for the life of the process.
	runOnce()
	goroutines, fds := runtime.NumGoroutine(), openFDs(t)
	for range 3 {
		runOnce()
	}
	// Run has returned and closed fsnotify, which waits for its reader; the goroutines that ran Run
	// may still be on their way out, so give them a moment.
	deadline := time.Now().Add(wait)
	for {
		g, n := runtime.NumGoroutine(), openFDs(t)
		if g <= goroutines && n <= fds {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after Run returned: %d goroutines (was %d), %d open files (was %d)", g, goroutines, n, fds)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// TestSetUnwatches checks, through the kernel's own count, that Set and folder removal give inotify
// watches back: each one counts against the user's fs.inotify.max_user_watches. It is not parallel,
// so that only this test's watcher holds watches.
func TestSetUnwatches(t *testing.T) {
	if _, err := os.Stat("/proc/self/fdinfo"); err != nil {
		t.Skip("no /proc/self/fdinfo to count inotify watches")
	}
	root := newProject(t)
	opts := watcher.Options{Debounce: debounce, Ignore: []string{filepath.Join(root, "out")}}
	f := start(t, root, opts, watcher.Targets{Trees: []string{root}})
	// root and pkg; testdata, _tools, .git and out are left out.
	if n := inotifyWatches(t); n != 2 {
		t.Fatalf("tree: %d inotify watches, want 2", n)
	}
	must(t, os.MkdirAll(f.path("new/sub"), 0o755))
	write(t, f.path("new/sub/x.go"), "package sub\n")
	if got := f.changes(); !slices.Equal(got, []string{"new/sub/x.go"}) {
		t.Fatalf("reported %q, want [new/sub/x.go]", got)
	}
	if n := inotifyWatches(t); n != 4 {
		t.Fatalf("tree with new/sub: %d inotify watches, want 4", n)
	}
	must(t, os.RemoveAll(f.path("new")))
	if got := f.changes(); !slices.Equal(got, []string{"new/sub/x.go"}) {
		t.Fatalf("reported %q, want [new/sub/x.go]", got)
	}
	if n := inotifyWatches(t); n != 2 {
		t.Fatalf("after removing new: %d inotify watches, want 2", n)
	}
	must(t, f.w.Set(watcher.Targets{Dirs: []string{root}}))
	if n := inotifyWatches(t); n != 1 {
		t.Fatalf("after Set to one folder: %d inotify watches, want 1", n)
	}
}

// inotifyWatches counts the watches of every inotify descriptor the process holds.
func inotifyWatches(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fdinfo")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc/self/fdinfo", e.Name()))
		if err != nil {
			continue // the descriptor was closed meanwhile, such as ReadDir's own
		}
		n += strings.Count(string(b), "inotify wd:")
	}
	return n
}

// TestChangingAnnouncesEveryQuietPeriod checks the Changing hook: called at the first touch, and
// always followed by a batch, empty when the content did not change.
func TestChangingAnnouncesEveryQuietPeriod(t *testing.T) {
	t.Parallel()
	root := newProject(t)
	calls := make(chan struct{}, 10)
	w, err := watcher.New(nil, watcher.Options{Debounce: debounce, Changing: func() { calls <- struct{}{} }})
	must(t, err)
	must(t, w.Set(watcher.Targets{Dirs: []string{root}}))
	out := make(chan watcher.Batch)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, out) }()
	defer func() { cancel(); <-done }()

	next := func() watcher.Batch {
		t.Helper()
		select {
		case b := <-out:
			return b
		case <-time.After(wait):
			t.Fatal("no batch after Changing")
		}
		return watcher.Batch{}
	}
	// The first touch may race Run's start; a real edit makes sure Run is watching.
	for {
		write(t, filepath.Join(root, "main.go"), "package main\n\nfunc main() { println() }\n")
		b := next()
		if len(b.Paths) > 0 {
			break
		}
	}
	for len(calls) > 0 {
		<-calls
	}
	tests := []struct {
		name, content string
		want          int
	}{
		{"same content", "package main\n\nfunc main() { println() }\n", 0},
		{"new content", "package main\n\nfunc main() {}\n", 1},
	}
	for _, tt := range tests {
		write(t, filepath.Join(root, "main.go"), tt.content)
		select {
		case <-calls:
		case <-time.After(wait):
			t.Fatalf("%s: Changing not called", tt.name)
		}
		if b := next(); len(b.Paths) != tt.want {
			t.Errorf("%s: batch %v, want %d paths", tt.name, b.Paths, tt.want)
		}
	}
}
