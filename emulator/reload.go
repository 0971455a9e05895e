package emulator

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/devserver/devserver/emulator/pool"
	"github.com/devserver/devserver/emulator/watcher"
	"github.com/devserver/devserver/gobuild"
	"github.com/devserver/devserver/project"
)

// ReloadDebounce is the quiet period after the last save before a rebuild starts.
const ReloadDebounce = 100 * time.Millisecond

// gate holds requests back while a change is being rebuilt, so that a request sent after a save
// is served by the code that was saved (read-your-writes).
type gate struct {
	mu    sync.Mutex
	ch    chan struct{} // non-nil while a change is pending; closed when it is served
	dirty bool          // a change arrived after the current reload started
}

// changing is called by the watcher as soon as a relevant file is touched.
func (g *gate) changing() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.dirty = true
	if g.ch == nil {
		g.ch = make(chan struct{})
	}
}

// begin marks the start of a reload: changes from now on need another one.
func (g *gate) begin() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.dirty = false
}

// open lets requests through unless a newer change is already pending.
func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.dirty || g.ch == nil {
		return
	}
	close(g.ch)
	g.ch = nil
}

func (g *gate) wait(ctx context.Context) error {
	g.mu.Lock()
	ch := g.ch
	g.mu.Unlock()
	if ch == nil {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// buildFailure is an invoke of a function that has no good build; it carries the compiler output.
type buildFailure struct {
	fn  string
	err *gobuild.Error
}

func (b *buildFailure) Error() string          { return b.err.Error() }
func (b *buildFailure) Function() string       { return b.fn }
func (b *buildFailure) CompilerOutput() string { return b.err.Output }

// FailedBuilds lists the functions whose latest build failed, sorted.
func (s *Server) FailedBuilds() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.buildErrs) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(s.buildErrs))
}

// startWatching starts the watcher on the project tree and the config and returns once it
// watches, so that no save after the banner is missed; watch then keeps functions up to date.
func (s *Server) startWatching(ctx context.Context, g *errgroup.Group) error {
	started := make(chan struct{})
	w, err := watcher.New(s.cfg.Log, watcher.Options{
		Debounce: ReloadDebounce,
		Ignore:   append([]string{s.cacheDir()}, s.cfg.IgnoreDirs...),
		Changing: func() {
			s.gate.changing()
			s.cfg.Log.Debug("change seen: requests wait for it")
		},
		Started: func() { close(started) },
	})
	if err != nil {
		return err
	}
	if err := w.Set(s.targets()); err != nil {
		s.term.Line("", "reload: "+err.Error())
	}
	batches := make(chan watcher.Batch, 16)
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx, batches) }()
	select {
	case <-started:
	case err := <-errc:
		return err
	}
	g.Go(func() error { return s.watch(ctx, w, batches, errc) })
	return nil
}

// watch rebuilds and swaps functions as their sources change, until ctx is done.
func (s *Server) watch(ctx context.Context, w *watcher.Watcher, batches chan watcher.Batch, errc chan error) error {
	// The packages each function imports, from the go command, once it is known.
	if err := s.updateDeps(ctx, s.project().Functions); err != nil {
		s.term.Line("", "reload: "+err.Error())
	}
	if err := w.Set(s.targets()); err != nil {
		s.term.Line("", "reload: "+err.Error())
	}
	for {
		select {
		case <-ctx.Done():
			return <-errc
		case err := <-errc:
			return err
		case b := <-batches:
			s.gate.begin()
			paths := b.Paths
			for drained := false; !drained; {
				select {
				case more := <-batches:
					paths = append(paths, more.Paths...)
				default:
					drained = true
				}
			}
			var rebuilt []string
			if len(paths) > 0 {
				rebuilt = s.reload(ctx, paths)
			}
			// Requests go on as soon as the new code serves; what it imports is asked after.
			s.gate.open()
			if len(paths) > 0 {
				s.refreshDeps(ctx, rebuilt)
				if err := w.Set(s.targets()); err != nil {
					s.term.Line("", "reload: "+err.Error())
				}
			}
		}
	}
}

func (s *Server) project() *project.Project {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.proj
}

// targets are what the watcher watches: the project tree, every local package a function
// imports, go.mod, go.sum and the config.
func (s *Server) targets() watcher.Targets {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := watcher.Targets{Trees: []string{s.proj.Dir}, Files: []string{s.proj.ConfigFile}}
	mod := s.moduleDir
	if mod == "" {
		mod = s.proj.Dir
	}
	t.Files = append(t.Files, filepath.Join(mod, "go.mod"), filepath.Join(mod, "go.sum"))
	for _, dirs := range s.deps {
		t.Dirs = append(t.Dirs, dirs...)
	}
	slices.Sort(t.Dirs)
	t.Dirs = slices.Compact(t.Dirs)
	return t
}

// updateDeps asks the go command which local packages each function is built from.
func (s *Server) updateDeps(ctx context.Context, fns []*project.Function) error {
	var errs []error
	for _, f := range fns {
		dirs, mod, err := gobuild.Deps(ctx, s.project().Dir, f.Dir)
		if err != nil {
			// Unknown deps make every Go change in the project count for f until known again.
			s.mu.Lock()
			delete(s.deps, f.Name)
			s.mu.Unlock()
			errs = append(errs, err)
			continue
		}
		s.mu.Lock()
		s.deps[f.Name] = dirs
		if mod != "" {
			s.moduleDir = mod
		}
		s.mu.Unlock()
	}
	return errors.Join(errs...)
}

// reload applies one batch of changed paths: a new route model if the config changed, a rebuild of
// the functions whose inputs changed, a restart of those whose settings changed.
func (s *Server) reload(ctx context.Context, paths []string) (rebuilt []string) {
	began := time.Now()
	slices.Sort(paths)
	paths = slices.Compact(paths)
	old := s.project()
	next := old
	if slices.Contains(paths, old.ConfigFile) {
		p, err := project.Load(s.cfg.Load)
		switch {
		case err != nil:
			s.term.Line("", "reload: "+filepath.Base(old.ConfigFile)+" is invalid; still serving the last good one:\n"+err.Error())
		case p.API.Kind != old.API.Kind:
			s.term.Line("", fmt.Sprintf("reload: api.kind changed from %s to %s; restart devserver run to serve it (still serving the last good config)", old.API.Kind, p.API.Kind))
		default:
			next = p
		}
	}
	s.mu.RLock()
	deps := maps.Clone(s.deps)
	moduleDir := s.moduleDir
	s.mu.RUnlock()
	modChanged := slices.ContainsFunc(paths, func(p string) bool {
		return filepath.Dir(p) == moduleDir && (filepath.Base(p) == "go.mod" || filepath.Base(p) == "go.sum")
	})
	var rebuild, restart []*project.Function
	for _, f := range next.Functions {
		o := old.Function(f.Name)
		switch {
		case o == nil || modChanged || o.Dir != f.Dir || s.hasBuildError(f.Name):
			rebuild = append(rebuild, f)
		case slices.ContainsFunc(paths, func(p string) bool {
			dirs, known := deps[f.Name]
			return filepath.Ext(p) == ".go" && (!known || slices.Contains(dirs, filepath.Dir(p)))
		}):
			rebuild = append(rebuild, f)
		case !sameSettings(o, f):
			restart = append(restart, f)
		}
	}
	if next == old && len(rebuild) == 0 {
		return nil
	}

	type built struct {
		f   *project.Function
		bin string
		err error
	}
	results := make([]built, len(rebuild))
	var wg sync.WaitGroup
	for i, f := range rebuild {
		wg.Go(func() {
			bin, err := s.build(ctx, f)
			results[i] = built{f, bin, err}
		})
	}
	wg.Wait()
	buildTime := time.Since(began)
	if ctx.Err() != nil {
		return nil
	}

	swapBegan := time.Now()
	fresh := map[string]*pool.Pool{}
	var failed []string
	for _, r := range results {
		var berr *gobuild.Error
		switch {
		case errors.As(r.err, &berr):
			failed = append(failed, r.f.Name)
			s.mu.Lock()
			s.buildErrs[r.f.Name] = berr
			serving := s.pools[r.f.Name] != nil
			s.mu.Unlock()
			status := "still serving the last good build"
			if !serving {
				status = "no good build yet: its requests answer 502 with this output"
			}
			s.term.Line("", fmt.Sprintf("build failed: %s (%s)\n%s", r.f.Name, status, strings.TrimRight(berr.Output, "\n")))
		case r.err != nil:
			failed = append(failed, r.f.Name)
			s.term.Line("", "build failed: "+r.err.Error())
		default:
			rebuilt = append(rebuilt, r.f.Name)
			fresh[r.f.Name] = s.newPool(r.f, r.bin)
		}
	}
	for _, f := range restart {
		s.mu.RLock()
		bin := s.bins[f.Name]
		s.mu.RUnlock()
		fresh[f.Name] = s.newPool(f, bin)
	}
	// One warm instance per new pool before the swap, so the first request after it is not a
	// cold start; a function that fails to start still swaps in and reports its error per request.
	var warm sync.WaitGroup
	for _, p := range fresh {
		warm.Go(func() { p.Warm() }) //nolint:errcheck // init failures are reported on invoke.
	}
	warm.Wait()

	s.mu.Lock()
	var retired []*pool.Pool
	var retiredBins []string
	for name, p := range fresh {
		if oldPool := s.pools[name]; oldPool != nil {
			retired = append(retired, oldPool)
		}
		if b := s.bins[name]; b != "" && b != p.Binary() {
			retiredBins = append(retiredBins, b)
		}
		s.pools[name] = p
		s.bins[name] = p.Binary()
		delete(s.buildErrs, name)
	}
	for name := range s.buildErrs {
		if next.Function(name) == nil {
			delete(s.buildErrs, name)
		}
	}
	for name, p := range s.pools {
		if next.Function(name) == nil {
			retired = append(retired, p)
			retiredBins = append(retiredBins, s.bins[name])
			delete(s.pools, name)
			delete(s.bins, name)
			delete(s.buildErrs, name)
			delete(s.deps, name)
		}
	}
	s.proj = next
	s.mu.Unlock()
	if next != old {
		s.gw.SetProject(next)
	}
	swapTime := time.Since(swapBegan)
	s.retire(retired, retiredBins)

	var what []string
	for _, p := range paths {
		if rel, err := filepath.Rel(next.Dir, p); err == nil {
			p = rel
		}
		what = append(what, p)
	}
	line := fmt.Sprintf("reload: %s changed; ", strings.Join(what, ", "))
	if len(rebuilt) > 0 {
		line += fmt.Sprintf("rebuilt %s in %s; ", strings.Join(rebuilt, ", "), buildTime.Round(time.Millisecond))
	}
	if len(failed) > 0 {
		line += "build failed: " + strings.Join(failed, ", ") + "; "
	}
	if len(restart) > 0 {
		var names []string
		for _, f := range restart {
			names = append(names, f.Name)
		}
		line += "restarted " + strings.Join(names, ", ") + "; "
	}
	if next != old {
		line += fmt.Sprintf("%d routes; ", len(next.Routes))
	}
	s.term.Line("", line+fmt.Sprintf("swapped in %s", swapTime.Round(time.Microsecond)))
	return rebuilt
}

// refreshDeps asks the go command again what the rebuilt functions import, and what the others
// import when it failed on them before.
func (s *Server) refreshDeps(ctx context.Context, rebuilt []string) {
	var fns []*project.Function
	for _, f := range s.project().Functions {
		s.mu.RLock()
		_, known := s.deps[f.Name]
		s.mu.RUnlock()
		if !known || slices.Contains(rebuilt, f.Name) {
			fns = append(fns, f)
		}
	}
	if err := s.updateDeps(ctx, fns); err != nil {
		s.term.Line("", "reload: "+err.Error())
	}
}

func (s *Server) hasBuildError(name string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.buildErrs[name]
	return ok
}

// sameSettings reports whether two versions of a function run the same way.
func sameSettings(a, b *project.Function) bool {
	return a.MemoryMB == b.MemoryMB && a.TimeoutSec == b.TimeoutSec && a.ReservedConcurrency == b.ReservedConcurrency &&
		maps.Equal(a.Environment, b.Environment)
}

// retire drains replaced pools in the background (in-flight requests finish on the old code)
// and then deletes their builds.
func (s *Server) retire(pools []*pool.Pool, bins []string) {
	if len(pools) == 0 && len(bins) == 0 {
		return
	}
	s.draining.Go(func() {
		var wg sync.WaitGroup
		for _, p := range pools {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(p.Function().TimeoutSec)*time.Second+time.Second)
				defer cancel()
				p.Drain(ctx)
			})
		}
		wg.Wait()
		for _, b := range bins {
			os.RemoveAll(filepath.Dir(b))
		}
	})
}
