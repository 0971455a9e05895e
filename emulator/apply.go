package emulator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/devserver/devserver/emulator/pool"
	"github.com/devserver/devserver/gobuild"
	"github.com/devserver/devserver/project"
)

// outcome is what applying a plan did, for the reload line and the inspector's history.
type outcome struct {
	rebuilt, failed, restarted []string
	// errors are the failed builds' messages by function: the compiler's output, in full.
	errors              map[string]string
	buildTime, swapTime time.Duration
}

// apply carries out pl transactionally: it builds into fresh folders, starts one warm instance
// of each new pool, then swaps the registry to next in one step; what was replaced drains in the
// background. A function whose build fails keeps serving its last good build (or, with none,
// answers 502 with the compiler's output). With strict, a failed build fails the whole apply and
// nothing is swapped. The first build (nothing served yet) warms nothing, so that the first
// request is a cold start as on Lambda. It returns an error only when ctx ends or strict fails.
func (s *Server) apply(ctx context.Context, next *project.Project, pl plan, out *outcome, strict bool) error {
	if out == nil {
		out = &outcome{}
	}
	out.errors = map[string]string{}
	began := time.Now()
	results := s.buildAll(ctx, next, pl.rebuild)
	out.buildTime = time.Since(began)
	discard := func() {
		for _, r := range results {
			if r.err == nil && r.f.Prebuilt == "" {
				os.RemoveAll(filepath.Dir(r.bin))
			}
		}
	}
	if ctx.Err() != nil {
		discard()
		return ctx.Err()
	}
	if strict {
		for _, r := range results {
			if r.err != nil {
				discard()
				return r.err
			}
		}
	}

	swapBegan := time.Now()
	cur := s.reg.snapshot()
	first := len(cur.fns) == 0
	fresh := map[string]*entry{}
	failed := map[string]*gobuild.Error{}
	for _, r := range results {
		var berr *gobuild.Error
		switch {
		case errors.As(r.err, &berr):
			out.failed = append(out.failed, r.f.Name)
			out.errors[r.f.Name] = berr.Output
			failed[r.f.Name] = berr
			status := "still serving the last good build"
			if e := cur.fns[r.f.Name]; e == nil || e.pool == nil {
				status = "no good build yet: its requests answer 502 with this output"
			}
			s.term.Line("", fmt.Sprintf("build failed: %s (%s)\n%s", r.f.Name, status, strings.TrimRight(berr.Output, "\n")))
		case r.err != nil:
			out.failed = append(out.failed, r.f.Name)
			out.errors[r.f.Name] = r.err.Error()
			s.term.Line("", "build failed: "+r.err.Error())
		default:
			out.rebuilt = append(out.rebuilt, r.f.Name)
			fresh[r.f.Name] = &entry{pool: s.newPool(r.f, r.bin), bin: r.bin}
		}
	}
	for _, f := range pl.restart {
		if e := cur.fns[f.Name]; e != nil && e.pool != nil {
			out.restarted = append(out.restarted, f.Name)
			fresh[f.Name] = &entry{pool: s.newPool(f, e.bin), bin: e.bin, deps: e.deps}
		}
	}
	// One warm instance per new pool before the swap, so the first request after it is not a
	// cold start; a function that fails to start still swaps in and reports its error per request.
	var warm sync.WaitGroup
	for name, e := range fresh {
		if first {
			break
		}
		if s.debugged(name) {
			continue // warmed after the swap, once the old build's instance has let the debugger go
		}
		warm.Go(func() { e.pool.Warm() }) //nolint:errcheck // init failures are reported on invoke.
	}
	warm.Wait()

	s.reg.update(func(st *snapshot) ([]*pool.Pool, []string) {
		var retired []*pool.Pool
		var bins []string
		for name, e := range fresh {
			if o := st.fns[name]; o != nil {
				if o.pool != nil {
					retired = append(retired, o.pool)
				}
				if o.bin != e.bin {
					bins = append(bins, o.bin)
				}
				if e.deps == nil {
					e.deps = o.deps // still right until the go command is asked again
				}
			}
			st.fns[name] = e
		}
		for name, berr := range failed {
			e := entry{buildErr: berr}
			if o := st.fns[name]; o != nil {
				e.pool, e.bin, e.deps = o.pool, o.bin, o.deps
			}
			st.fns[name] = &e
		}
		for _, name := range pl.remove {
			if o := st.fns[name]; o != nil {
				if o.pool != nil {
					retired = append(retired, o.pool)
				}
				bins = append(bins, o.bin)
				delete(st.fns, name)
			}
		}
		st.proj = next
		return retired, bins
	})
	s.warmDebugged(fresh, first)
	if next != cur.proj {
		s.gw.SetProject(next)
	}
	out.swapTime = time.Since(swapBegan)
	return nil
}

func (s *Server) newPool(f *project.Function, bin string) *pool.Pool {
	return pool.New(pool.Config{
		Function:     f,
		Binary:       bin,
		MaxInstances: s.cfg.MaxInstances,
		Region:       s.region,
		Account:      AccountID,
		Environ:      s.cfg.Environ,
		Terminal:     s.term,
		Log:          s.cfg.Log,
		Debugger:     s.debuggerFor(f.Name),
	})
}

// built is how one function's build came out: the executable to run, or why there is none.
type built struct {
	f   *project.Function
	bin string
	err error
}

// buildAll builds fns for the host with one go command where they can share it (the standard
// library and the modules they import compile once), each into a fresh folder of the cache, so
// that a running build is never replaced under its instances. A prebuilt function (a bootstrap
// from a SAM template's zip) is taken as it is. Progress goes to the terminal, a line a step.
func (s *Server) buildAll(ctx context.Context, p *project.Project, fns []*project.Function) []built {
	results := make([]built, len(fns))
	var jobs []gobuild.Job
	var index []int // jobs[k] builds fns[index[k]]
	for i, f := range fns {
		if f.Prebuilt != "" {
			s.term.Line("", fmt.Sprintf("using %s's bootstrap from %s as it is", f.Name, cmp.Or(f.PrebuiltFrom, f.Prebuilt)))
			results[i] = built{f: f, bin: f.Prebuilt}
			continue
		}
		out := filepath.Join(s.reg.builds, f.Name, strconv.FormatInt(s.seq.Add(1), 10), "bootstrap")
		results[i] = built{f: f, bin: out}
		jobs = append(jobs, gobuild.Job{Name: f.Name, Options: gobuild.Options{Dir: cmp.Or(f.ModuleDir, p.Dir), Package: f.Dir, Output: out, Debug: s.debugged(f.Name)}})
		index = append(index, i)
	}
	if len(jobs) == 0 {
		return results
	}
	sources := map[string]string{}
	for _, f := range fns {
		sources[f.Name] = f.Source
	}
	progress := func(name string, ev gobuild.Event) {
		switch ev.Kind {
		case gobuild.Started:
			s.progress.Start(name, fmt.Sprintf("building %s (%s)…", name, sources[name]))
		case gobuild.Built:
			line := fmt.Sprintf("built %s in %s", name, ev.Elapsed.Round(time.Millisecond))
			if ev.Together > 1 {
				line += fmt.Sprintf(" (one go build for %d functions)", ev.Together)
			}
			s.progress.Done(name, line)
		case gobuild.Failed:
			s.progress.Done(name, "") // the compiler's output follows
		}
	}
	for k, r := range gobuild.BuildAll(ctx, gobuild.BuildAllOptions{Jobs: jobs, Progress: progress}) {
		i := index[k]
		if r.Err != nil {
			os.RemoveAll(filepath.Dir(results[i].bin))
			results[i] = built{f: fns[i], err: r.Err}
		}
	}
	return results
}
