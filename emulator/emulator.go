// Package emulator composes `devserver run`: it builds each function for the host, keeps a pool
// of instances per function, and serves the API Gateway front on a local address.
package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/devserver/devserver/emulator/apigateway"
	"github.com/devserver/devserver/emulator/pool"
	"github.com/devserver/devserver/gobuild"
	"github.com/devserver/devserver/project"
)

// CacheDir is the folder inside the project where host builds go (ignored by git).
const CacheDir = ".devserver"

// AccountID is the account in ARNs and events: AWS's documentation placeholder.
const AccountID = "123456789012"

// Config holds what `devserver run` was asked for.
type Config struct {
	Project *project.Project
	// Addr is host:port to listen on; port 0 picks a free one.
	Addr string
	// CacheDir is where host builds go; "" means CacheDir inside the project.
	CacheDir string
	// MaxInstances is the local cap per function (0 = pool.DefaultMaxInstances).
	MaxInstances int
	// Terminal receives the functions' output and their START/END/REPORT lines; nil discards
	// them. Let Log write to it too, to keep the two in order.
	Terminal *pool.Terminal
	Log      *slog.Logger
	// Environ is the developer's environment (for AWS credentials and region).
	Environ []string
	// Ready is called once the server listens and every function is built.
	Ready func(addr string)
	// Reload rebuilds and swaps functions when their sources or the config change.
	Reload bool
	// Load says how to read the config again when it changes.
	Load project.Options
	// IgnoreDirs are folders the watcher skips besides the cache (package output folders).
	IgnoreDirs []string
}

// Server is a running emulator.
type Server struct {
	cfg    Config
	term   *pool.Terminal
	region string
	gw     *apigateway.Gateway
	seq    atomic.Int64
	gate   gate
	// draining tracks pools being drained after a swap.
	draining sync.WaitGroup

	mu        sync.RWMutex
	proj      *project.Project
	pools     map[string]*pool.Pool
	bins      map[string]string
	buildErrs map[string]*gobuild.Error
	deps      map[string][]string // function → folders of the local packages it is built from
	moduleDir string
}

// New prepares a server; Run builds and serves.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Terminal == nil {
		cfg.Terminal = pool.NewTerminal(io.Discard)
	}
	region := "us-east-1"
	for _, k := range []string{"AWS_DEFAULT_REGION=", "AWS_REGION="} {
		for _, kv := range cfg.Environ {
			if v, ok := strings.CutPrefix(kv, k); ok && v != "" {
				region = v
			}
		}
	}
	s := &Server{
		cfg:       cfg,
		term:      cfg.Terminal,
		region:    region,
		proj:      cfg.Project,
		pools:     map[string]*pool.Pool{},
		bins:      map[string]string{},
		buildErrs: map[string]*gobuild.Error{},
		deps:      map[string][]string{},
	}
	s.gw = apigateway.New(apigateway.Config{Invoker: s, Status: s, Reloader: s, Log: cfg.Log, AccountID: AccountID}, cfg.Project)
	return s
}

var (
	_ apigateway.Invoker     = (*Server)(nil)
	_ apigateway.BuildStatus = (*Server)(nil)
	_ apigateway.Reloader    = (*Server)(nil)
)

// WaitReload waits while a change is being rebuilt.
func (s *Server) WaitReload(ctx context.Context) error { return s.gate.wait(ctx) }

// Invoke runs function through its current pool. (The gateway has already waited for a pending
// reload, through WaitReload, before it routed the request.)
func (s *Server) Invoke(ctx context.Context, function string, req pool.Request) (*pool.Response, error) {
	for {
		s.mu.RLock()
		p, berr := s.pools[function], s.buildErrs[function]
		s.mu.RUnlock()
		if p == nil {
			if berr != nil {
				return nil, &buildFailure{fn: function, err: berr}
			}
			return nil, fmt.Errorf("invoke %s: %w", function, ErrUnknownFunction)
		}
		resp, err := p.Invoke(ctx, req)
		// The pool was swapped out between the lookup and the invoke: use its successor.
		if errors.Is(err, pool.ErrClosed) && s.current(function) != p {
			continue
		}
		return resp, err
	}
}

func (s *Server) current(function string) *pool.Pool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.pools[function]
}

// ErrUnknownFunction is an invoke of a function the model does not have.
var ErrUnknownFunction = errors.New("function not found")

// Stats returns the pool statistics of function.
func (s *Server) Stats(function string) pool.Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if p := s.pools[function]; p != nil {
		return p.Stats()
	}
	return pool.Stats{}
}

// Handler is the API Gateway front, for tests and benchmarks that serve it themselves.
func (s *Server) Handler() http.Handler { return s.gw }

// Build builds every function and makes its pool. A compile error is a *gobuild.Error.
func (s *Server) Build(ctx context.Context) error {
	fns := s.cfg.Project.Functions
	bins := make([]string, len(fns))
	g, gctx := errgroup.WithContext(ctx)
	for i, f := range fns {
		g.Go(func() error {
			bin, err := s.build(gctx, f)
			bins[i] = bin
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range fns {
		s.pools[f.Name] = s.newPool(f, bins[i])
		s.bins[f.Name] = bins[i]
	}
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
	})
}

// build compiles f into a fresh folder of the cache, so that a running build is never replaced
// under its instances.
func (s *Server) build(ctx context.Context, f *project.Function) (string, error) {
	p := s.project()
	out := filepath.Join(s.cacheDir(), "build", f.Name, strconv.FormatInt(s.seq.Add(1), 10), "bootstrap")
	began := time.Now()
	s.term.Line("", fmt.Sprintf("building %s (%s)…", f.Name, f.Source))
	err := gobuild.Build(ctx, gobuild.Options{Dir: p.Dir, Package: f.Dir, Output: out})
	if err != nil {
		os.RemoveAll(filepath.Dir(out))
		return "", err
	}
	s.term.Line("", fmt.Sprintf("built %s in %s", f.Name, time.Since(began).Round(time.Millisecond)))
	return out, nil
}

func (s *Server) cacheDir() string {
	if s.cfg.CacheDir != "" {
		return s.cfg.CacheDir
	}
	return filepath.Join(s.cfg.Project.Dir, CacheDir)
}

// Run builds the functions, serves until ctx is done, then shuts down: the HTTP server first
// (bounded), then every instance.
func (s *Server) Run(ctx context.Context) error {
	defer s.term.Flush()
	if err := s.Build(ctx); err != nil {
		return err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	srv := &http.Server{Handler: s.gw, ReadHeaderTimeout: 10 * time.Second}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
		return nil
	})
	if s.cfg.Reload {
		if err := s.startWatching(gctx, g); err != nil {
			cancel()
			g.Wait() //nolint:errcheck // the watcher's error is the one to report.
			return fmt.Errorf("watch sources: %w", err)
		}
	}
	if s.cfg.Ready != nil {
		s.cfg.Ready(ln.Addr().String())
	}
	return g.Wait()
}

// Close stops every function instance.
func (s *Server) Close() {
	s.mu.Lock()
	pools := s.pools
	s.pools = map[string]*pool.Pool{}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range pools {
		wg.Go(p.Close)
	}
	wg.Wait()
	s.draining.Wait()
	// The builds are this run's alone (retired ones are deleted as they go): leave the cache tidy.
	s.mu.Lock()
	for name, bin := range s.bins {
		os.RemoveAll(filepath.Dir(bin))
		delete(s.bins, name)
	}
	s.mu.Unlock()
	s.term.Flush()
}
