package emulator

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/devserver/devserver/emulator/invocation"
)

// HeaderBuildError names, on every response, the functions whose latest build failed.
const HeaderBuildError = "X-Devserver-Build-Error"

// devLoop wraps a front with what the dev loop adds to every request, whichever front it is: a
// request sent after a save waits until the saved code serves (read-your-writes); while a build
// is broken every response names it; and a request that reaches a function with no good build
// is answered 502 with the compiler's output instead of whatever the front would have said.
func (s *Server) devLoop(front http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.gate.wait(r.Context()); err != nil {
			return // the client went away while the change was being built
		}
		if failed := s.reg.failedBuilds(); len(failed) > 0 {
			w.Header().Set(HeaderBuildError, strings.Join(failed, ", "))
		}
		ctx, ex := r.Context(), invocation.ExchangeFrom(r.Context())
		if ex == nil {
			ctx, ex = invocation.WithExchange(ctx)
		}
		front.ServeHTTP(&buildErrorWriter{ResponseWriter: w, ex: ex}, r.WithContext(ctx))
	})
}

// buildErrorWriter replaces the front's answer with the compiler's output when the invoke found
// no good build. Fronts answer only after the invoke returns, so the choice is made at the first
// WriteHeader.
type buildErrorWriter struct {
	http.ResponseWriter
	ex      *invocation.Exchange
	decided bool
	swallow bool
}

func (w *buildErrorWriter) WriteHeader(code int) {
	if w.decided {
		return
	}
	w.decided = true
	if be := w.ex.Summary().BuildError; be != nil {
		w.swallow = true
		h := w.Header()
		// Fronts write AWS's spelling, which Del (canonical keys only) would miss.
		delete(h, "x-amzn-ErrorType")
		h.Del("x-amzn-ErrorType")
		h.Del("Content-Length")
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.ResponseWriter.WriteHeader(http.StatusBadGateway)
		io.WriteString(w.ResponseWriter, be.Output) //nolint:errcheck // client gone.
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *buildErrorWriter) Write(b []byte) (int, error) {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *buildErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

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
