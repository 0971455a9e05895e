// Package emulator composes `devserver run`: a registry of the functions being served (each
// built for the host, with a pool of instances), the fronts that reach them (API Gateway and the
// Lambda Invoke API), the dev loop around every front (read-your-writes after a save, build errors on
// the responses), and the watch loop that plans and applies reloads when sources or the model
// change. The route model comes from a Source it is handed (config.yaml or a SAM template).
package emulator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/devserver/devserver/emulator/apigateway"
	"github.com/devserver/devserver/emulator/console"
	"github.com/devserver/devserver/emulator/inspect"
	"github.com/devserver/devserver/emulator/invocation"
	"github.com/devserver/devserver/emulator/invokeapi"
	"github.com/devserver/devserver/emulator/pool"
	"github.com/devserver/devserver/project"
)

// CacheDir is the folder inside the project where host builds go (ignored by git).
const CacheDir = ".devserver"

// AccountID is the account in ARNs and events: AWS's documentation placeholder.
const AccountID = "123456789012"

// DefaultMaxInstances is the local cap on instances of one function.
const DefaultMaxInstances = pool.DefaultMaxInstances

// shutdownGrace bounds how long the HTTP servers wait for requests in flight at shutdown.
const shutdownGrace = 2 * time.Second

// Source loads the route model: from config.yaml, or from a SAM template.
type Source interface {
	// Load reads the model (again, after one of its files changed).
	Load() (*project.Project, error)
	// Files are the files p was read from: a change to one makes the watcher Load again.
	Files(p *project.Project) []string
}

// SourceFunc is a Source whose model comes from one file, p.ConfigFile.
type SourceFunc func() (*project.Project, error)

// Load calls f.
func (f SourceFunc) Load() (*project.Project, error) { return f() }

// Files is p.ConfigFile.
func (f SourceFunc) Files(p *project.Project) []string { return []string{p.ConfigFile} }

// Config holds what `devserver run` was asked for.
type Config struct {
	// Project is the model to serve first.
	Project *project.Project
	// Source reads the model again when one of its files changes; nil never reloads the model.
	Source Source
	// Addr is host:port the API Gateway front listens on; port 0 picks a free one.
	Addr string
	// LambdaAddr is host:port the Lambda Invoke API listens on; port 0 picks a free one, ""
	// serves no Invoke API.
	LambdaAddr string
	// CacheDir is where host builds go; "" means CacheDir inside the project.
	CacheDir string
	// MaxInstances is the local cap per function (0 = DefaultMaxInstances).
	MaxInstances int
	// Terminal receives the functions' output and their START/END/REPORT lines; nil discards
	// them. Let Log write to it too, to keep the two in order.
	Terminal *console.Terminal
	// Progress shows the builds as they go; nil writes a plain line a step to Terminal. Run
	// settles it once the first build is over.
	Progress *console.Progress
	Log      *slog.Logger
	// Environ is the developer's environment (for AWS credentials and region).
	Environ []string
	// Ready is called once the server listens and every function is built.
	Ready func(Addrs)
	// Reload rebuilds and swaps functions when their sources or the model change.
	Reload bool
	// IgnoreDirs are folders the watcher skips besides the cache (package output folders).
	IgnoreDirs []string
	// HeaderTimeout and IdleTimeout bound what a client that sends nothing costs on a front's
	// listener: a request head must arrive within HeaderTimeout, and a kept-alive connection may
	// sit idle for IdleTimeout. 0 means DefaultHeaderTimeout and DefaultIdleTimeout.
	HeaderTimeout, IdleTimeout time.Duration
	// Debug, when set, runs one function under a debugger.
	Debug *Debug
	// InspectorAddr is host:port for the inspector's page; "" turns the inspector off (nothing
	// is recorded then); port 0 picks a free one.
	InspectorAddr string
	// InspectorSize is how many requests and invocations the inspector keeps
	// (inspect.DefaultSize when 0).
	InspectorSize int
}

// Defaults for Config's timeouts. A request's body may take as long as API Gateway would wait for
// the whole request (its integration timeout is 29 or 30 s), so the body gets BodyTimeout.
const (
	DefaultHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout   = 2 * time.Minute
	BodyTimeout          = 30 * time.Second
)

// Addrs are the addresses the fronts listen on, host:port.
type Addrs struct {
	// API is the API Gateway front's.
	API string
	// Lambda is the Lambda Invoke API's; "" when it is not served.
	Lambda string
	// Inspector is the inspector's; "" when it is off.
	Inspector string
}

// ListenError is a front that could not listen on its address (a busy port, say).
type ListenError struct {
	Addr string
	// Lambda is true for the Lambda Invoke API, Inspector for the inspector; neither for the API
	// Gateway front.
	Lambda, Inspector bool
	Err               error
}

func (e *ListenError) Error() string {
	switch {
	case e.Lambda:
		return fmt.Sprintf("listen on %s for the Lambda Invoke API: %v", e.Addr, e.Err)
	case e.Inspector:
		return fmt.Sprintf("listen on %s for the inspector: %v", e.Addr, e.Err)
	}
	return fmt.Sprintf("listen on %s: %v", e.Addr, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

// Server is a running emulator.
type Server struct {
	cfg      Config
	term     *console.Terminal
	progress *console.Progress
	region   string
	reg      *registry
	gate     gate
	seq      atomic.Int64 // numbers build folders
	gw       *apigateway.Gateway
	lambda   *invokeapi.API
	// rec records requests and invocations for the inspector; nil when it is off.
	rec *inspect.Recorder
	// handler is the API Gateway front inside the dev loop and the access log.
	handler http.Handler
	// lambdaHandler is the Invoke API inside the same two wrappers.
	lambdaHandler http.Handler
	// debugger runs the instances of Config.Debug's function; warming tracks their starts.
	debugger *pool.Debugger
	warming  sync.WaitGroup
}

// New prepares a server; Run builds and serves.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Terminal == nil {
		cfg.Terminal = console.NewTerminal(io.Discard)
	}
	if cfg.Progress == nil {
		cfg.Progress = console.NewProgress(cfg.Terminal, nil)
	}
	region := "us-east-1"
	for _, k := range []string{"AWS_DEFAULT_REGION=", "AWS_REGION="} {
		for _, kv := range cfg.Environ {
			if v, ok := strings.CutPrefix(kv, k); ok && v != "" {
				region = v
			}
		}
	}
	s := &Server{cfg: cfg, term: cfg.Terminal, progress: cfg.Progress, region: region}
	s.reg = newRegistry(cfg.Project, filepath.Join(s.cacheDir(), "build"))
	if cfg.Debug != nil {
		s.debugger = pool.NewDebugger(cfg.Debug.Command...)
	}
	if cfg.InspectorAddr != "" {
		s.rec = inspect.New(inspect.Options{Size: cfg.InspectorSize})
	}
	inv := invocation.Recording(s.rec.Invoker(s.reg))
	s.gw = apigateway.New(apigateway.Config{Invoker: inv, Log: cfg.Log, AccountID: AccountID, Region: region}, cfg.Project)
	// The recorder sits inside the access log, which makes the request's Exchange, and outside
	// the dev loop, which may replace the front's answer: it records what the client got.
	s.handler = apigateway.AnswerHTTP11(console.AccessLog(cfg.Log, s.rec.Record("apigateway", s.devLoop(s.gw))))
	s.rec.ReplayTo("apigateway", s.handler)
	s.lambda = invokeapi.New(invokeapi.Config{Invoker: inv, Model: s.Model, Log: cfg.Log, Region: region, AccountID: AccountID})
	s.lambdaHandler = console.AccessLog(cfg.Log, s.rec.Record("lambda", s.devLoop(s.lambda)))
	s.rec.ReplayTo("lambda", s.lambdaHandler)
	return s
}

// Model is the route model served now (it changes when the model's files are reloaded).
func (s *Server) Model() *project.Project { return s.reg.snapshot().proj }

// Invoke runs function through its current pool.
func (s *Server) Invoke(ctx context.Context, function string, req invocation.Request) (*invocation.Response, error) {
	return s.reg.Invoke(ctx, function, req)
}

// Stats returns the pool statistics of function.
func (s *Server) Stats(function string) pool.Stats {
	if p := s.reg.pool(function); p != nil {
		return p.Stats()
	}
	return pool.Stats{}
}

// FailedBuilds lists the functions whose latest build failed, sorted.
func (s *Server) FailedBuilds() []string { return s.reg.failedBuilds() }

// Handler is the API Gateway front with the dev loop and the access log around it, for tests and
// benchmarks that serve it themselves.
func (s *Server) Handler() http.Handler { return s.handler }

// LambdaHandler is the Lambda Invoke API with the dev loop and the access log around it, for
// tests that serve it themselves.
func (s *Server) LambdaHandler() http.Handler { return s.lambdaHandler }

// Build builds every function and makes its pool, for tests and benchmarks that serve Handler
// themselves. Unlike Run it is strict: a compile error (a *gobuild.Error) fails it.
func (s *Server) Build(ctx context.Context) error {
	var out outcome
	if err := s.apply(ctx, s.cfg.Project, plan{rebuild: s.cfg.Project.Functions}, &out, true); err != nil {
		return err
	}
	s.builtFirst(out)
	return nil
}

// builtFirst puts the first build in the inspector's history.
func (s *Server) builtFirst(out outcome) {
	s.rec.Built(inspect.Build{Initial: true, Rebuilt: out.rebuilt, Failed: out.failed, Errors: out.errors,
		BuildTime: out.buildTime, SwapTime: out.swapTime})
}

func (s *Server) cacheDir() string {
	if s.cfg.CacheDir != "" {
		return s.cfg.CacheDir
	}
	return filepath.Join(s.cfg.Project.Dir, CacheDir)
}

// Run listens, builds the functions, serves until ctx is done, then shuts down: the HTTP server
// first (bounded), then every instance, old or new, within the pool's grace period. The listener
// opens before the first build, so that a busy port is said at once; requests that arrive during
// the first build wait for it. A function that does not compile answers 502 with the compiler's
// output until a save fixes it; the others serve. Run returns ctx's error when ctx ends during
// the first build.
func (s *Server) Run(ctx context.Context) error {
	defer s.term.Flush()
	defer s.Close()
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return &ListenError{Addr: s.cfg.Addr, Err: err}
	}
	addrs := Addrs{API: ln.Addr().String()}
	var lambdaLn net.Listener
	if s.cfg.LambdaAddr != "" {
		if lambdaLn, err = net.Listen("tcp", s.cfg.LambdaAddr); err != nil {
			ln.Close()
			return &ListenError{Addr: s.cfg.LambdaAddr, Lambda: true, Err: err}
		}
		addrs.Lambda = lambdaLn.Addr().String()
	}
	var iln net.Listener
	if s.rec != nil {
		if iln, err = net.Listen("tcp", s.cfg.InspectorAddr); err != nil {
			ln.Close()
			if lambdaLn != nil {
				lambdaLn.Close()
			}
			return &ListenError{Addr: s.cfg.InspectorAddr, Inspector: true, Err: err}
		}
		addrs.Inspector = iln.Addr().String()
	}
	s.gate.changing() // the first build is a change every request waits for
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	s.serve(gctx, g, apigateway.Listener(ln), s.handler, apigateway.ConnContext)
	if lambdaLn != nil {
		s.serve(gctx, g, lambdaLn, s.lambdaHandler, nil)
	}
	if iln != nil {
		s.serve(gctx, g, iln, s.rec.Handler(gctx), nil)
	}
	var out outcome
	err = s.apply(ctx, s.cfg.Project, plan{rebuild: s.cfg.Project.Functions}, &out, false)
	s.progress.Settle() // requests print from now on: no more live line
	s.gate.begin()
	s.gate.open()
	if err != nil {
		cancel()
		g.Wait() //nolint:errcheck // the build's error is the one to report.
		return err
	}
	s.builtFirst(out)
	if s.cfg.Reload {
		if err := s.startWatching(gctx, g); err != nil {
			cancel()
			g.Wait() //nolint:errcheck // the watcher's error is the one to report.
			return fmt.Errorf("watch sources: %w", err)
		}
	}
	if s.cfg.Ready != nil {
		s.cfg.Ready(addrs)
	}
	return g.Wait()
}

// serve runs one front on ln in g until ctx is done, then shuts it down within shutdownGrace.
// connContext, when set, is the server's ConnContext.
func (s *Server) serve(ctx context.Context, g *errgroup.Group, ln net.Listener, h http.Handler, connContext func(context.Context, net.Conn) context.Context) {
	header := cmp.Or(s.cfg.HeaderTimeout, DefaultHeaderTimeout)
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: header,
		ReadTimeout:       header + BodyTimeout,
		IdleTimeout:       cmp.Or(s.cfg.IdleTimeout, DefaultIdleTimeout),
		ConnContext:       connContext,
	}
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
		return nil
	})
}

// Close stops every function instance, those of retired builds included, and deletes this run's
// builds. Event invocations of the Invoke API stop being waited for first.
func (s *Server) Close() {
	s.lambda.Close()
	s.reg.close()
	s.warming.Wait() // closing the pools ended any start still waiting
	s.term.Flush()
}
