package invocation

import (
	"context"
	"errors"
	"sync"
)

// Exchange is what one HTTP request to a front came to: which function it reached, under which
// ids, and how the invoke ended. The outermost wrapper puts it in the request's context; the
// front and the invoker wrapper fill it in; the wrappers around the front (the dev loop, the
// access log, the inspector) read it once the front has answered.
type Exchange struct {
	mu sync.Mutex
	// front names the front that served the request ("apigateway", "lambda").
	front string
	// route is the route key the front matched ("GET /pets/{id}").
	route string
	// requestID is the front's own id (API Gateway's requestId).
	requestID string
	function  string
	// lambdaRequestIDs are the invocations' ids, in order (an authorizer's comes first).
	lambdaRequestIDs []string
	buildErr         *BuildError
}

type exchangeKey struct{}

// WithExchange returns ctx carrying a new Exchange, and the Exchange.
func WithExchange(ctx context.Context) (context.Context, *Exchange) {
	e := &Exchange{}
	return context.WithValue(ctx, exchangeKey{}, e), e
}

// ExchangeFrom returns the Exchange in ctx; nil when there is none (a front served bare).
// Every method of a nil *Exchange does nothing.
func ExchangeFrom(ctx context.Context) *Exchange {
	e, _ := ctx.Value(exchangeKey{}).(*Exchange)
	return e
}

// Routed records the front, its request id and the route it matched.
func (e *Exchange) Routed(front, requestID, route string) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.front, e.requestID, e.route = front, requestID, route
}

// Invoked records an invoke of function and how it ended.
func (e *Exchange) Invoked(function string, resp *Response, err error) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.function = function
	if resp != nil && resp.RequestID != "" {
		e.lambdaRequestIDs = append(e.lambdaRequestIDs, resp.RequestID)
	}
	var be *BuildError
	if errors.As(err, &be) {
		e.buildErr = be
	}
}

// Summary is a copy of what an Exchange recorded.
type Summary struct {
	Front, Route, RequestID, Function string
	LambdaRequestIDs                  []string
	BuildError                        *BuildError
}

// Summary returns what e recorded so far.
func (e *Exchange) Summary() Summary {
	if e == nil {
		return Summary{}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return Summary{Front: e.front, Route: e.route, RequestID: e.requestID, Function: e.function,
		LambdaRequestIDs: append([]string(nil), e.lambdaRequestIDs...), BuildError: e.buildErr}
}

// Recording wraps inv so that every invoke is recorded on the Exchange of its context.
func Recording(inv Invoker) Invoker {
	return InvokerFunc(func(ctx context.Context, function string, req Request) (*Response, error) {
		resp, err := inv.Invoke(ctx, function, req)
		ExchangeFrom(ctx).Invoked(function, resp, err)
		return resp, err
	})
}
