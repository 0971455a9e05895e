// Package pool owns the instances of one build of one function: child processes started in
// their own process groups, each behind its own Runtime API, one invocation per instance at a
// time, more instances on demand up to a local cap, throttled by the reserved concurrency.
package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/devserver/devserver/emulator/console"
	"github.com/devserver/devserver/emulator/invocation"
	"github.com/devserver/devserver/project"
)

// ErrClosed is an invoke of a pool that has shut down (a reload replaced it, or devserver is
// stopping).
var ErrClosed = errors.New("invoke: function pool is shut down")

// DefaultMaxInstances is the local cap on instances of one function.
const DefaultMaxInstances = 10

// initTimeout is Lambda's limit on the init phase of an on-demand function.
const initTimeout = 10 * time.Second

// stopGrace is how long an instance has between SIGTERM and SIGKILL when the pool shuts down.
const stopGrace = 2 * time.Second

// Config describes one build of one function.
type Config struct {
	Function *project.Function
	// Binary is the function built for the host.
	Binary string
	// MaxInstances caps instances locally; beyond it requests wait. 0 means DefaultMaxInstances.
	MaxInstances int
	// Region and Account go into the function's ARN and environment.
	Region, Account string
	// Environ is the developer's environment; only AWS credentials are taken from it.
	Environ  []string
	Terminal *console.Terminal
	Log      *slog.Logger
	// Debugger, when set, runs the one instance under a debugger, untimed (see Debugger).
	Debugger *Debugger
}

// Stats is a snapshot of the pool.
type Stats struct {
	Instances int // running instances
	Busy      int // instances serving an invocation
	Started   int // instances started since the pool was made
}

// Pool runs one build of one function.
type Pool struct {
	cfg  Config
	name string
	arn  string
	env  []string

	mu       sync.Mutex
	closed   bool
	closing  chan struct{} // closed with closed: ends a wait for the debugger's turn
	live     map[*instance]bool
	idle     []*instance
	starting int
	inflight int
	started  int
	waiters  []chan grant
	drained  chan struct{} // closed when inflight drops to 0 after Close began
	exits    sync.WaitGroup
}

// grant hands a waiter an idle instance, or (inst nil) a slot to start one in.
type grant struct {
	inst   *instance
	closed bool
}

// New makes an empty pool; instances start on demand (or with Warm).
func New(cfg Config) *Pool {
	if cfg.MaxInstances <= 0 {
		cfg.MaxInstances = DefaultMaxInstances
	}
	if cfg.Debugger != nil {
		cfg.MaxInstances = 1 // the debugger listens on one address
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	f := cfg.Function
	p := &Pool{
		cfg:     cfg,
		name:    f.Name,
		arn:     fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", cfg.Region, cfg.Account, f.Name),
		live:    map[*instance]bool{},
		closing: make(chan struct{}),
	}
	p.env = p.environment()
	return p
}

// environment is what Lambda gives a provided.al2023 function, and nothing else from the shell
// but AWS credentials: a function that works here must not lean on the developer's machine.
func (p *Pool) environment() []string {
	f := p.cfg.Function
	var env []string
	for _, k := range slices.Sorted(maps.Keys(f.Environment)) {
		env = append(env, k+"="+f.Environment[k])
	}
	for _, kv := range p.cfg.Environ {
		for _, k := range []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN="} {
			if strings.HasPrefix(kv, k) {
				env = append(env, kv)
			}
		}
	}
	return append(env,
		"AWS_LAMBDA_FUNCTION_NAME="+f.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(f.MemoryMB),
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/"+f.Name,
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_REGION="+p.cfg.Region,
		"AWS_DEFAULT_REGION="+p.cfg.Region,
		"_HANDLER=bootstrap",
		"LAMBDA_TASK_ROOT="+filepath.Dir(p.cfg.Binary),
		"LAMBDA_RUNTIME_DIR=/var/runtime",
		"TZ=:UTC",
		"LANG=en_US.UTF-8",
		"PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin",
	)
}

// Binary is the build this pool runs.
func (p *Pool) Binary() string { return p.cfg.Binary }

// Function is the function this pool runs.
func (p *Pool) Function() *project.Function { return p.cfg.Function }

// Stats returns a snapshot of the pool.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	busy := len(p.live) - len(p.idle)
	for inst := range p.live {
		if inst.killed.Load() {
			busy-- // killed for its timeout: serving nothing while it is reaped
		}
	}
	return Stats{Instances: len(p.live), Busy: busy, Started: p.started}
}

// Invoke runs one invocation and waits for it. When ctx ends first, Invoke returns ctx.Err()
// but the function runs on to its own end or timeout, as on Lambda behind API Gateway.
func (p *Pool) Invoke(ctx context.Context, req invocation.Request) (*invocation.Response, error) {
	if len(req.Payload) > invocation.MaxPayload {
		return nil, invocation.ErrRequestTooLarge
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	if r := p.cfg.Function.ReservedConcurrency; r > 0 && p.inflight >= r {
		p.mu.Unlock()
		return nil, invocation.ErrThrottled
	}
	p.inflight++
	p.mu.Unlock()
	if p.cfg.Debugger != nil {
		var cancel context.CancelFunc
		ctx, cancel = withoutDeadline(ctx)
		defer cancel()
	}

	// A warm instance that exits before it takes the event (say, just after a panic) never saw
	// it: on Lambda the invoke would simply land on a fresh instance, so try again. Every idle
	// instance may be on its way out (a burst of panics releases instances that then exit: the
	// soak saw four in a row), so the tries go past the local cap, by when a fresh one starts.
	for attempt := 0; ; attempt++ {
		inst, err := p.acquire(ctx)
		var failed *initFailure
		if errors.As(err, &failed) {
			p.done()
			return &failed.resp, nil
		}
		if err != nil {
			p.done()
			return nil, err
		}
		resp, retry, err := inst.invoke(ctx, req)
		if err != nil {
			return nil, err // abandoned: the invocation settles its own accounting
		}
		if retry && attempt < p.cfg.MaxInstances+3 {
			continue
		}
		p.done()
		if retry {
			return nil, fmt.Errorf("invoke %s: instances keep exiting before taking the event", p.name)
		}
		return resp, nil
	}
}

func (p *Pool) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	if p.inflight == 0 && p.drained != nil {
		close(p.drained)
		p.drained = nil
	}
}

// Warm starts one instance and leaves it idle, so that the first request is not a cold start.
// It does nothing when the pool already has as many instances as it may (running or starting).
func (p *Pool) Warm() (*invocation.Response, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	if len(p.live)+p.starting >= p.cfg.MaxInstances {
		p.mu.Unlock()
		return nil, nil
	}
	p.starting++
	p.mu.Unlock()
	inst, err := p.start()
	var failed *initFailure
	if errors.As(err, &failed) {
		return &failed.resp, nil
	}
	if err != nil {
		return nil, err
	}
	p.release(inst)
	return nil, nil
}

func (p *Pool) acquire(ctx context.Context) (*instance, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	for len(p.idle) > 0 {
		inst := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if p.live[inst] {
			p.mu.Unlock()
			return inst, nil
		}
	}
	if len(p.live)+p.starting < p.cfg.MaxInstances {
		p.starting++
		p.mu.Unlock()
		return p.start()
	}
	ch := make(chan grant, 1)
	p.waiters = append(p.waiters, ch)
	p.mu.Unlock()
	select {
	case g := <-ch:
		return p.granted(g)
	case <-ctx.Done():
		p.mu.Lock()
		if i := slices.Index(p.waiters, ch); i >= 0 {
			p.waiters = slices.Delete(p.waiters, i, i+1)
		}
		p.mu.Unlock()
		select {
		case g := <-ch: // granted while we gave up: pass it on
			if g.inst != nil {
				p.release(g.inst)
			} else if !g.closed {
				p.mu.Lock()
				p.starting--
				p.mu.Unlock()
				p.slotFreed()
			}
		default:
		}
		return nil, ctx.Err()
	}
}

func (p *Pool) granted(g grant) (*instance, error) {
	switch {
	case g.closed:
		return nil, ErrClosed
	case g.inst != nil:
		return g.inst, nil
	default:
		return p.start()
	}
}

// release returns a live instance to the idle set, or straight to the first waiter.
func (p *Pool) release(inst *instance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.live[inst] || inst.killed.Load() || inst.gone() {
		return
	}
	if len(p.waiters) > 0 && !p.closed {
		ch := p.waiters[0]
		p.waiters = p.waiters[1:]
		ch <- grant{inst: inst}
		return
	}
	p.idle = append(p.idle, inst)
}

// slotFreed lets the first waiter start an instance in place of one that went away.
func (p *Pool) slotFreed() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.waiters) == 0 {
		return
	}
	ch := p.waiters[0]
	p.waiters = p.waiters[1:]
	p.starting++
	ch <- grant{}
}

// exited forgets an instance whose process ended and frees its slot.
func (p *Pool) exited(inst *instance) {
	p.mu.Lock()
	wasLive := p.live[inst]
	delete(p.live, inst)
	if i := slices.Index(p.idle, inst); i >= 0 {
		p.idle = slices.Delete(p.idle, i, i+1)
	}
	p.mu.Unlock()
	if wasLive { // an instance that never joined had its slot freed by start
		p.slotFreed()
	}
}

// Close stops every instance (SIGTERM, then SIGKILL after a grace period) and waits for them.
// Invocations still running fail as if their instance crashed.
func (p *Pool) Close() {
	p.mu.Lock()
	p.shut()
	p.dismissWaiters()
	insts := make([]*instance, 0, len(p.live))
	for inst := range p.live {
		insts = append(insts, inst)
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, inst := range insts {
		wg.Go(inst.stop)
	}
	wg.Wait()
	p.exits.Wait()
}

// Drain stops new invocations, waits (bounded by ctx) for those running to finish, then Closes.
func (p *Pool) Drain(ctx context.Context) {
	p.mu.Lock()
	p.shut()
	p.dismissWaiters() // they retry on the pool that replaced this one
	var drained chan struct{}
	if p.inflight > 0 {
		drained = make(chan struct{})
		p.drained = drained
	}
	p.mu.Unlock()
	if drained != nil {
		select {
		case <-drained:
		case <-ctx.Done():
		}
	}
	p.Close()
}

// shut marks the pool closed. Called with p.mu held.
func (p *Pool) shut() {
	if !p.closed {
		p.closed = true
		close(p.closing)
	}
}

// dismissWaiters tells every waiting invoke that the pool is closed. Called with p.mu held.
func (p *Pool) dismissWaiters() {
	for _, ch := range p.waiters {
		ch <- grant{closed: true}
	}
	p.waiters = nil
}

// outputGrace is how long an ended instance's output pipe may stay open (a grandchild holding
// it) before devserver stops reading it.
const outputGrace = time.Second
