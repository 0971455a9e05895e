package emulator

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/devserver/devserver/emulator/invocation"
	"github.com/devserver/devserver/emulator/pool"
	"github.com/devserver/devserver/gobuild"
	"github.com/devserver/devserver/project"
)

// registry holds what is being served: the route model and, for each of its functions, the
// build it runs, the pool of instances of that build, the local packages it is built from and
// its latest build error. Readers take a snapshot without a lock; a change makes a new snapshot
// and swaps it in whole, so an invoke never sees half a reload.
type registry struct {
	cur atomic.Pointer[snapshot]
	// builds is the folder the server builds into: only builds under it are ever deleted (a
	// prebuilt bootstrap may be the user's own file).
	builds string

	mu       sync.Mutex // serialises writers
	closed   bool
	draining sync.WaitGroup
	// stopping ends the drains of retired pools when the registry closes: shutdown does not wait
	// for a request still running on old code.
	stopping context.Context
	stop     context.CancelFunc
}

// snapshot is one consistent state of the registry. It is never changed once published.
type snapshot struct {
	proj *project.Project
	fns  map[string]*entry
	// moduleDir is the folder of the main module's go.mod, once the go command has said.
	moduleDir string
}

// entry is one function as served. It is never changed once published.
type entry struct {
	pool *pool.Pool // nil while the function has no good build
	bin  string
	// deps are the folders of the local packages the function is built from; nil when unknown.
	deps     []string
	buildErr *gobuild.Error
}

// drainSlack is how long past its function's timeout a retired pool may take to drain.
const drainSlack = time.Second

func newRegistry(p *project.Project, builds string) *registry {
	r := &registry{builds: builds}
	r.stopping, r.stop = context.WithCancel(context.Background())
	r.cur.Store(&snapshot{proj: p, fns: map[string]*entry{}})
	return r
}

func (r *registry) snapshot() *snapshot { return r.cur.Load() }

var _ invocation.Invoker = (*registry)(nil)

// Invoke runs function through its current pool.
func (r *registry) Invoke(ctx context.Context, function string, req invocation.Request) (*invocation.Response, error) {
	for {
		e := r.snapshot().fns[function]
		switch {
		case e == nil:
			return nil, fmt.Errorf("invoke %s: %w", function, invocation.ErrUnknownFunction)
		case e.pool == nil && e.buildErr != nil:
			return nil, &invocation.BuildError{Function: function, Output: e.buildErr.Output}
		case e.pool == nil:
			return nil, fmt.Errorf("invoke %s: %w", function, invocation.ErrUnknownFunction)
		}
		resp, err := e.pool.Invoke(ctx, req)
		// The pool was swapped out between the lookup and the invoke: use its successor.
		if errors.Is(err, pool.ErrClosed) && r.pool(function) != e.pool {
			continue
		}
		return resp, err
	}
}

func (r *registry) pool(function string) *pool.Pool {
	if e := r.snapshot().fns[function]; e != nil {
		return e.pool
	}
	return nil
}

// failedBuilds lists the functions whose latest build failed, sorted.
func (r *registry) failedBuilds() []string {
	var names []string
	for name, e := range r.snapshot().fns {
		if e.buildErr != nil {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// update applies change to a copy of the current snapshot and publishes it. change gets the
// copy (with its own map of entries) and returns what it retired: pools to drain and builds to
// delete once drained. After close, update publishes nothing and retires what change added.
func (r *registry) update(change func(next *snapshot) (retired []*pool.Pool, retiredBins []string)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.snapshot()
	next := &snapshot{proj: old.proj, fns: maps.Clone(old.fns), moduleDir: old.moduleDir}
	retired, bins := change(next)
	if r.closed {
		// Too late to serve: whatever the change brought in goes at once.
		for name, e := range next.fns {
			if o := old.fns[name]; e.pool != nil && (o == nil || o.pool != e.pool) {
				retired = append(retired, e.pool)
				bins = append(bins, e.bin)
			}
		}
		r.retire(retired, bins)
		return
	}
	r.cur.Store(next)
	r.retire(retired, bins)
}

// retire drains replaced pools in the background (in-flight requests finish on the old code,
// bounded by the function's timeout and by shutdown) and then deletes their builds.
// Called with mu held.
func (r *registry) retire(pools []*pool.Pool, bins []string) {
	if len(pools) == 0 && len(bins) == 0 {
		return
	}
	r.draining.Go(func() {
		var wg sync.WaitGroup
		for _, p := range pools {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(r.stopping, time.Duration(p.Function().TimeoutSec)*time.Second+drainSlack)
				defer cancel()
				p.Drain(ctx)
			})
		}
		wg.Wait()
		for _, b := range bins {
			if rel, err := filepath.Rel(r.builds, b); err == nil && filepath.IsLocal(rel) {
				os.RemoveAll(filepath.Dir(b))
			}
		}
	})
}

// close stops every instance, current or draining, and deletes this run's builds. Requests
// still running fail as if their instance crashed. Nothing is served after it.
func (r *registry) close() {
	r.mu.Lock()
	r.closed = true
	old := r.snapshot()
	r.cur.Store(&snapshot{proj: old.proj, fns: map[string]*entry{}})
	var pools []*pool.Pool
	var bins []string
	for _, e := range old.fns {
		if e.pool != nil {
			pools = append(pools, e.pool)
		}
		bins = append(bins, e.bin)
	}
	r.stop()
	r.retire(pools, bins)
	r.mu.Unlock()
	r.draining.Wait()
}
