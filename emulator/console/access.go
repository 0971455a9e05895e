package console

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/devserver/devserver/emulator/invocation"
)

// StatusClientGone is what the access log says of a request whose client went away before it
// was answered (nginx's 499).
const StatusClientGone = 499

// AccessLog wraps a front so that each request it serves gets one line in log once answered:
// method, path, status, duration, the function, API Gateway's request id and Lambda's (as the
// function's START/END lines show it, so the two can be matched).
func AccessLog(log *slog.Logger, front http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, ex := invocation.WithExchange(r.Context())
		sw := &StatusWriter{ResponseWriter: w}
		front.ServeHTTP(sw, r.WithContext(ctx))
		status := sw.Status()
		if status == 0 {
			status = http.StatusOK
			if r.Context().Err() != nil {
				status = StatusClientGone
			}
		}
		sum := ex.Summary()
		args := []any{"method", r.Method, "path", r.URL.Path, "status", status,
			"duration", time.Since(start).Round(time.Microsecond), "function", sum.Function}
		if sum.RequestID != "" {
			args = append(args, "requestId", sum.RequestID)
		}
		if len(sum.LambdaRequestIDs) > 0 {
			args = append(args, "lambdaRequestId", strings.Join(sum.LambdaRequestIDs, ","))
		}
		log.Info("request", args...)
	})
}

// StatusWriter remembers the status a handler wrote.
type StatusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records code and passes it on.
func (w *StatusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200.
func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Status is the status written so far, 0 for none.
func (w *StatusWriter) Status() int { return w.status }

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
