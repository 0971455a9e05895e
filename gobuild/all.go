package gobuild

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// Job is one build of a BuildAll: the function's name, for progress and results, and its build.
type Job struct {
	Name string
	Options
}

// BuildAllOptions say what BuildAll builds and whom it tells how it goes.
type BuildAllOptions struct {
	Jobs []Job
	// Progress, when set, is told when each job starts and when it ends. Calls come one at a time.
	Progress func(name string, ev Event)
}

// EventKind is what happened to a job.
type EventKind int

const (
	// Started: the job's build has begun.
	Started EventKind = iota + 1
	// Built: the job's binary is at its Output.
	Built
	// Failed: the job has no binary; Event.Err says why.
	Failed
)

func (k EventKind) String() string {
	switch k {
	case Started:
		return "started"
	case Built:
		return "built"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is a step of one job, passed to BuildAllOptions.Progress.
type Event struct {
	Kind EventKind
	// Elapsed is the time from the job's start to its end (Built, Failed).
	Elapsed time.Duration
	// Together is how many jobs the go command that built this one built in all, 1 when it was
	// built alone (Built). Jobs built together are reported built together, when that go command ends.
	Together int
	// Err is why the job failed (Failed), as in Result.
	Err error
}

// Result is how one job of BuildAll ended.
type Result struct {
	Name string
	// Err is nil when the binary is at the job's Output, an *Error carrying this job's compiler output
	// alone when it does not compile, and wraps ctx.Err() when the build was cancelled.
	Err     error
	Elapsed time.Duration
}

// BuildAll builds every job and returns one Result per job, in the order of opts.Jobs.
//
// Jobs that build with the same settings (Dir, GOOS, GOARCH, Lambda, Debug) share one go command, so the
// standard library and the modules they import are compiled once, not once per job: on a cold build
// cache that is most of the time. Main packages that would get the same binary name under
// `go build -o DIR/` go to separate go commands, run one after another, so the later ones find the
// cache warm. A job that does not come out of a shared go command (it does not compile, or it
// imports a package that does not) is built again alone, so its *Error holds its own compiler
// output, as Build would give it.
//
// When ctx ends, every go command BuildAll started is stopped, tools included (see Build), and the
// jobs not yet built fail with an error wrapping ctx.Err().
func BuildAll(ctx context.Context, opts BuildAllOptions) []Result {
	b := &batch{
		jobs:     opts.Jobs,
		progress: opts.Progress,
		began:    make([]time.Time, len(opts.Jobs)),
		results:  make([]Result, len(opts.Jobs)),
	}
	type key struct {
		dir, goos, goarch string
		lambda, debug     bool
	}
	var keys []key
	sets := map[key][]int{}
	for i, j := range opts.Jobs {
		k := key{j.Dir, j.GOOS, j.GOARCH, j.Lambda, j.Debug}
		if _, ok := sets[k]; !ok {
			keys = append(keys, k)
		}
		sets[k] = append(sets[k], i)
	}
	// One set after another: the sets share no compiled packages, and each go command already keeps
	// every core busy.
	for _, k := range keys {
		b.buildSet(ctx, sets[k])
	}
	return b.results
}

// batch is one BuildAll in progress.
type batch struct {
	jobs     []Job
	progress func(string, Event)

	mu      sync.Mutex // serializes progress calls; guards what follows
	began   []time.Time
	results []Result
}

func (b *batch) start(i int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.began[i] = time.Now()
	if b.progress != nil {
		b.progress(b.jobs[i].Name, Event{Kind: Started})
	}
}

func (b *batch) finish(i int, together int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	elapsed := time.Since(b.began[i])
	b.results[i] = Result{Name: b.jobs[i].Name, Err: err, Elapsed: elapsed}
	if b.progress == nil {
		return
	}
	ev := Event{Kind: Built, Elapsed: elapsed, Together: together}
	if err != nil {
		ev = Event{Kind: Failed, Elapsed: elapsed, Err: err}
	}
	b.progress(b.jobs[i].Name, ev)
}

func (b *batch) cancelled(ctx context.Context, jobs []int) {
	for _, i := range jobs {
		b.finish(i, 0, fmt.Errorf("build %s: %w", b.jobs[i].Package, ctx.Err()))
	}
}

// buildSet builds jobs that share their settings: those that load cleanly together in shared go
// commands, then the rest alone.
func (b *batch) buildSet(ctx context.Context, jobs []int) {
	for _, i := range jobs {
		b.start(i)
	}
	if len(jobs) == 1 {
		b.alone(ctx, jobs)
		return
	}
	importPaths, err := b.list(ctx, jobs)
	if ctx.Err() != nil {
		b.cancelled(ctx, jobs)
		return
	}
	if err != nil {
		// Alone, each job fails or builds with the go command's own words for what is wrong.
		b.alone(ctx, jobs)
		return
	}
	var alone, shared []int
	for _, i := range jobs {
		if importPaths[i] == "" {
			// A load error (a missing package, a bad import) would stop a shared go command before
			// it builds anything.
			alone = append(alone, i)
		} else {
			shared = append(shared, i)
		}
	}
	groups := byBinaryName(shared, importPaths)
	for n, group := range groups {
		if ctx.Err() != nil {
			for _, rest := range groups[n:] {
				b.cancelled(ctx, rest)
			}
			b.cancelled(ctx, alone)
			return
		}
		alone = append(alone, b.together(ctx, group, importPaths)...)
	}
	b.alone(ctx, alone)
}

// byBinaryName splits jobs into groups whose packages get different binary names under
// `go build -o DIR/`, which would otherwise write one over the other. Jobs of one package stay together.
func byBinaryName(jobs []int, importPaths map[int]string) [][]int {
	var groups [][]int
	var names []map[string]string // per group: binary name → import path
	for _, i := range jobs {
		ip := importPaths[i]
		name := execName(ip)
		placed := false
		for g := range groups {
			if other, taken := names[g][name]; !taken || other == ip {
				groups[g] = append(groups[g], i)
				names[g][name] = ip
				placed = true
				break
			}
		}
		if !placed {
			groups = append(groups, []int{i})
			names = append(names, map[string]string{name: ip})
		}
	}
	return groups
}

// list asks the go command which jobs name a main package that loads without errors, and returns
// the import path of each (other jobs are left out).
func (b *batch) list(ctx context.Context, jobs []int) (map[int]string, error) {
	opts := b.jobs[jobs[0]].Options
	args := []string{"list", "-e", "-tags", "lambda.norpc", "-json=Dir,ImportPath,Name,Error,DepsErrors"}
	for _, i := range jobs {
		args = append(args, pkgArg(b.jobs[i].Package))
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = opts.Dir
	cmd.Env = Env(opts)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := run(ctx, cmd); err != nil {
		return nil, fmt.Errorf("list packages: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	mains := map[string]string{} // folder → import path
	dec := json.NewDecoder(&stdout)
	for {
		var p struct {
			Dir, ImportPath, Name string
			Error                 *struct{ Err string }
			DepsErrors            []json.RawMessage
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("list packages: %w", err)
		}
		if p.Name == "main" && p.Dir != "" && p.Error == nil && len(p.DepsErrors) == 0 {
			mains[sameFolder(p.Dir)] = p.ImportPath
		}
	}
	importPaths := map[int]string{}
	for _, i := range jobs {
		dir := b.jobs[i].Package
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(opts.Dir, dir)
		}
		if abs, err := filepath.Abs(dir); err == nil {
			if ip, ok := mains[sameFolder(abs)]; ok {
				importPaths[i] = ip
			}
		}
	}
	return importPaths, nil
}

// sameFolder makes two names of one folder equal (the go command may report it through a symlink).
func sameFolder(dir string) string {
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		return real
	}
	return filepath.Clean(dir)
}

// together builds jobs in one go command and puts each binary at its job's Output. It returns the
// jobs that got no binary.
func (b *batch) together(ctx context.Context, jobs []int, importPaths map[int]string) (missing []int) {
	opts := b.jobs[jobs[0]].Options
	// Beside an output, so that moving a binary into place is a rename on the same file system.
	tmp, err := makeTemp(filepath.Dir(opts.Output))
	if err != nil {
		for _, i := range jobs {
			b.finish(i, 0, err)
		}
		return nil
	}
	defer os.RemoveAll(tmp)
	var pkgs []string
	last := map[string]int{} // import path → the last job that takes its binary
	for _, i := range jobs {
		ip := importPaths[i]
		if _, seen := last[ip]; !seen {
			pkgs = append(pkgs, ip)
		}
		last[ip] = i
	}
	cmd := exec.Command("go", append(flags(opts), append([]string{"-o", tmp + string(filepath.Separator)}, pkgs...)...)...)
	cmd.Dir = opts.Dir
	cmd.Env = Env(opts)
	// What failed is told by the jobs built again alone, each with its own output.
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	run(ctx, cmd) //nolint:errcheck // a job's binary is there or not; ctx says whether it was stopped.
	if ctx.Err() != nil {
		b.cancelled(ctx, jobs)
		return nil
	}
	exe := ""
	if cmp.Or(opts.GOOS, os.Getenv("GOOS"), runtime.GOOS) == "windows" {
		exe = ".exe"
	}
	for _, i := range jobs {
		ip := importPaths[i]
		bin := filepath.Join(tmp, execName(ip)+exe)
		if _, err := os.Stat(bin); err != nil {
			missing = append(missing, i)
			continue
		}
		b.finish(i, len(jobs), place(bin, b.jobs[i].Output, last[ip] == i))
	}
	return missing
}

// makeTemp makes a fresh folder inside dir, creating dir first.
func makeTemp(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create build folder: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, ".gobuild-")
	if err != nil {
		return "", fmt.Errorf("create build folder: %w", err)
	}
	return tmp, nil
}

// place puts the binary bin at out: moved when no other job needs it, else copied.
func place(bin, out string, move bool) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("create build folder: %w", err)
	}
	if move && os.Rename(bin, out) == nil {
		return nil
	}
	src, err := os.Open(bin)
	if err != nil {
		return fmt.Errorf("copy binary: %w", err)
	}
	defer src.Close()
	dst, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return fmt.Errorf("copy binary: %w", err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return fmt.Errorf("copy binary: %w", err)
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("copy binary: %w", err)
	}
	return nil
}

// alone builds each job by itself, a few at a time: after a shared go command the cache holds
// what they import, and alone each *Error holds that job's compiler output only.
func (b *batch) alone(ctx context.Context, jobs []int) {
	sem := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	for _, i := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			b.finish(i, 1, Build(ctx, b.jobs[i].Options))
		})
	}
	wg.Wait()
}

// execName is the name `go build -o DIR/` gives the binary of the main package importPath: its last
// element, or the one before when the last is a major version ("example.com/tool/v2" → "tool").
func execName(importPath string) string {
	_, elem := path.Split(importPath)
	if elem != importPath && isVersionElement(elem) {
		_, elem = path.Split(path.Dir(importPath))
	}
	return elem
}

// isVersionElement reports whether s is a major version suffix: "v2", "v3", and so on.
func isVersionElement(s string) bool {
	if len(s) < 2 || s[0] != 'v' || s[1] == '0' || s[1] == '1' && len(s) == 2 {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
