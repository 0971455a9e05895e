package emulator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/devserver/devserver/emulator/inspect"
	"github.com/devserver/devserver/emulator/pool"
	"github.com/devserver/devserver/emulator/watcher"
	"github.com/devserver/devserver/gobuild"
	"github.com/devserver/devserver/project"
)

// startWatching starts the watcher on the project tree and the model's files and returns once it
// watches, so that no save after the banner is missed; watch then keeps functions up to date.
func (s *Server) startWatching(ctx context.Context, g *errgroup.Group) error {
	started := make(chan struct{})
	w, err := watcher.New(s.cfg.Log, watcher.Options{
		Ignore: append([]string{s.cacheDir()}, s.cfg.IgnoreDirs...),
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
	s.updateDeps(ctx, s.reg.snapshot().proj.Functions)
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
			if len(paths) > 0 && ctx.Err() == nil {
				s.refreshDeps(ctx, rebuilt)
				if err := w.Set(s.targets()); err != nil {
					s.term.Line("", "reload: "+err.Error())
				}
			}
		}
	}
}

// targets are what the watcher watches: the project tree, every local package a function
// imports, go.mod, go.sum and the model's files.
func (s *Server) targets() watcher.Targets {
	st := s.reg.snapshot()
	t := watcher.Targets{Trees: []string{st.proj.Dir}}
	if s.cfg.Source != nil {
		t.Files = s.cfg.Source.Files(st.proj)
	}
	mod := st.moduleDir
	if mod == "" {
		mod = st.proj.Dir
	}
	t.Files = append(t.Files, filepath.Join(mod, "go.mod"), filepath.Join(mod, "go.sum"))
	for _, e := range st.fns {
		t.Dirs = append(t.Dirs, e.deps...)
	}
	slices.Sort(t.Dirs)
	t.Dirs = slices.Compact(t.Dirs)
	return t
}

// reload applies one batch of changed paths: a new route model if one of its files changed, a
// rebuild of the functions whose inputs changed, a restart of those whose settings changed.
func (s *Server) reload(ctx context.Context, paths []string) (rebuilt []string) {
	slices.Sort(paths)
	paths = slices.Compact(paths)
	st := s.reg.snapshot()
	old := st.proj
	next, problem := s.nextModel(old, paths)
	c := change{old: old, next: next, paths: paths, deps: map[string][]string{}, moduleDir: st.moduleDir, failed: s.reg.failedBuilds()}
	for name, e := range st.fns {
		if e.deps != nil {
			c.deps[name] = e.deps
		}
	}
	pl := planReload(c)
	if next == old && pl.empty() {
		if problem != "" {
			s.rec.Built(inspect.Build{Changed: relPaths(old.Dir, paths), Problem: problem})
		}
		return nil
	}
	var out outcome
	if err := s.apply(ctx, next, pl, &out, false); err != nil {
		return nil // cancelled: devserver is stopping
	}
	s.term.Line("", reloadLine(next, paths, pl, next != old, out))
	b := inspect.Build{Changed: relPaths(next.Dir, paths), Rebuilt: out.rebuilt, Failed: out.failed, Restarted: out.restarted,
		Removed: pl.remove, Errors: out.errors, Problem: problem, BuildTime: out.buildTime, SwapTime: out.swapTime}
	if next != old {
		b.Routes = len(next.Routes)
	}
	s.rec.Built(b)
	return out.rebuilt
}

// nextModel loads the model again when one of its files is among paths; a model that does not
// load, or asks for what a reload cannot give, leaves old serving, and problem says why.
func (s *Server) nextModel(old *project.Project, paths []string) (next *project.Project, problem string) {
	src := s.cfg.Source
	if src == nil || !slices.ContainsFunc(src.Files(old), func(f string) bool { return slices.Contains(paths, f) }) {
		return old, ""
	}
	p, err := src.Load()
	switch {
	case err != nil:
		problem = filepath.Base(old.ConfigFile) + " is invalid; still serving the last good one:\n" + err.Error()
	case p.API.Kind != old.API.Kind:
		problem = fmt.Sprintf("%s: api.kind changed from %s to %s; restart devserver run to serve it (still serving the last good config)", p.API.KindPos, old.API.Kind, p.API.Kind)
	default:
		for _, w := range p.Warnings {
			s.term.Line("", "warning: "+w.String())
		}
		return p, ""
	}
	s.term.Line("", "reload: "+problem)
	return old, problem
}

// relPaths are paths relative to dir where they can be.
func relPaths(dir string, paths []string) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if rel, err := filepath.Rel(dir, p); err == nil {
			p = rel
		}
		out = append(out, p)
	}
	return out
}

// reloadLine is the one line a reload prints.
func reloadLine(next *project.Project, paths []string, pl plan, modelChanged bool, out outcome) string {
	line := fmt.Sprintf("reload: %s changed; ", strings.Join(relPaths(next.Dir, paths), ", "))
	if len(out.rebuilt) > 0 {
		line += fmt.Sprintf("rebuilt %s in %s; ", strings.Join(out.rebuilt, ", "), out.buildTime.Round(time.Millisecond))
	}
	if len(out.failed) > 0 {
		line += "build failed: " + strings.Join(out.failed, ", ") + "; "
	}
	if len(out.restarted) > 0 {
		line += "restarted " + strings.Join(out.restarted, ", ") + "; "
	}
	if len(pl.remove) > 0 {
		line += "removed " + strings.Join(pl.remove, ", ") + "; "
	}
	if modelChanged {
		line += fmt.Sprintf("%d routes; ", len(next.Routes))
	}
	if len(out.rebuilt) == 0 && len(out.restarted) == 0 && len(pl.remove) == 0 && !modelChanged {
		return line + "nothing swapped: still serving the last good build"
	}
	return line + fmt.Sprintf("swapped in %s", out.swapTime.Round(time.Microsecond))
}

// updateDeps asks the go command which local packages each function is built from. A function
// whose packages cannot be listed has unknown deps: every Go change in the project counts for it
// until they are known again.
func (s *Server) updateDeps(ctx context.Context, fns []*project.Function) {
	type listed struct {
		dirs []string
		mod  string
		err  error
	}
	dir := s.reg.snapshot().proj.Dir
	found := map[string]listed{}
	// One go list per module for all its functions, not one per function.
	byModule := map[string][]*project.Function{}
	for _, f := range fns {
		if f.Prebuilt != "" {
			found[f.Name] = listed{dirs: []string{}} // built from no source here
			continue
		}
		mod := cmp.Or(f.ModuleDir, dir)
		byModule[mod] = append(byModule[mod], f)
	}
	for mod, group := range byModule {
		pkgs := make([]string, len(group))
		for i, f := range group {
			pkgs[i] = f.Dir
		}
		deps, moduleDir, err := gobuild.DepsAll(ctx, mod, pkgs)
		for i, f := range group {
			switch {
			case err != nil:
				found[f.Name] = listed{err: err}
			default:
				found[f.Name] = listed{dirs: deps[i].Dirs, mod: moduleDir, err: deps[i].Err}
			}
		}
	}
	if ctx.Err() != nil {
		return // stopping: a killed go command is no news
	}
	var errs []error
	s.reg.update(func(st *snapshot) ([]*pool.Pool, []string) {
		for name, l := range found {
			o := st.fns[name]
			if o == nil {
				continue
			}
			e := *o
			e.deps = l.dirs
			if l.err != nil {
				e.deps = nil
				if !slices.ContainsFunc(errs, func(err error) bool { return err.Error() == l.err.Error() }) {
					errs = append(errs, l.err) // one go list failing for a module is said once
				}
			} else if l.mod != "" {
				st.moduleDir = l.mod
			}
			st.fns[name] = &e
		}
		return nil, nil
	})
	if err := errors.Join(errs...); err != nil {
		s.term.Line("", "reload: "+err.Error())
	}
}

// refreshDeps asks the go command again what the rebuilt functions import, and what the others
// import when it failed on them before.
func (s *Server) refreshDeps(ctx context.Context, rebuilt []string) {
	st := s.reg.snapshot()
	var fns []*project.Function
	for _, f := range st.proj.Functions {
		if e := st.fns[f.Name]; e == nil || e.deps == nil || slices.Contains(rebuilt, f.Name) {
			fns = append(fns, f)
		}
	}
	s.updateDeps(ctx, fns)
}
