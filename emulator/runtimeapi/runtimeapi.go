// Package runtimeapi is the Lambda Runtime API that one function instance talks to: it hands the
// instance its next event and takes back the response or error, as
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html describes.
package runtimeapi

import (
	"errors"
	"net"
	"slices"
	"sync"
	"time"
)

// Header names of the Runtime API.
const (
	HeaderRequestID         = "Lambda-Runtime-Aws-Request-Id"
	HeaderDeadlineMS        = "Lambda-Runtime-Deadline-Ms"
	HeaderFunctionARN       = "Lambda-Runtime-Invoked-Function-Arn"
	HeaderTraceID           = "Lambda-Runtime-Trace-Id"
	HeaderClientContext     = "Lambda-Runtime-Client-Context"
	HeaderCognitoIdentity   = "Lambda-Runtime-Cognito-Identity"
	HeaderFunctionErrorType = "Lambda-Runtime-Function-Error-Type"
	HeaderFunctionErrorBody = "Lambda-Runtime-Function-Error-Body" // a trailer, base64
	HeaderExtensionName     = "Lambda-Extension-Name"
	HeaderExtensionID       = "Lambda-Extension-Identifier"
)

// MaxPayload is the synchronous invoke payload limit, each way (6 MB as Lambda counts it).
const MaxPayload = 6291556

// Invocation is one event handed to the instance.
type Invocation struct {
	RequestID       string
	Deadline        time.Time
	FunctionARN     string
	TraceID         string
	ClientContext   string
	CognitoIdentity string
	Payload         []byte
	// Delivered, when set, is called just before the event is written to the runtime.
	Delivered func()
}

// Result is what the runtime answered. ErrorType is "" on success; on failure Payload is the
// error document {"errorMessage","errorType","stackTrace"}.
type Result struct {
	Payload   []byte
	ErrorType string
}

// state of the current invocation.
type state int

const (
	queued    state = iota // waiting for the runtime's next /next
	delivered              // the runtime has it and is working on it
)

type call struct {
	inv   *Invocation
	state state
	done  func(Result)
}

// Server is the Runtime API of one instance. It holds at most one invocation at a time.
type Server struct {
	function string
	ln       net.Listener

	readyOnce sync.Once
	ready     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once

	mu      sync.Mutex
	current *call
	initErr *Result
	conns   map[net.Conn]struct{}
	// waiters are connections whose /next is not answered yet, oldest first.
	waiters []*conn
}

// Errors Start returns.
var (
	ErrBusy   = errors.New("runtime API busy with another invocation")
	ErrClosed = errors.New("runtime API closed")
)

// Listen opens a Runtime API on a free loopback port for the function named function.
func Listen(function string) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{
		function: function,
		ln:       ln,
		ready:    make(chan struct{}),
		closed:   make(chan struct{}),
		conns:    make(map[net.Conn]struct{}),
	}
	go s.serve()
	return s, nil
}

// Addr is the host:port to put in AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Ready is closed when the runtime first asks for an event: its init phase is over.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// InitError returns what the runtime reported on /runtime/init/error, if anything.
func (s *Server) InitError() (Result, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.initErr == nil {
		return Result{}, false
	}
	return *s.initErr, true
}

// Start queues inv for the runtime. done is called once, from the handler that takes the
// runtime's response or error, unless Abort ends the invocation first.
func (s *Server) Start(inv *Invocation, done func(Result)) error {
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		return ErrClosed
	default:
	}
	if s.current != nil {
		s.mu.Unlock()
		return ErrBusy
	}
	s.current = &call{inv: inv, done: done}
	s.mu.Unlock()
	s.offer()
	return nil
}

// Abort ends the invocation id without calling its done func, for a timeout or a crash; "" means
// whichever is current. It reports whether it was still open and whether the runtime had
// already received it.
func (s *Server) Abort(id string) (open, wasDelivered bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.current
	if c == nil || (id != "" && c.inv.RequestID != id) {
		return false, false
	}
	s.current = nil
	return true, c.state == delivered
}

// Close stops serving; a runtime blocked on /next sees its connection closed.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		close(s.closed)
		s.waiters = nil
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		err = s.ln.Close()
	})
	return err
}

// take claims the delivered invocation id for completion, or reports that it is unknown.
func (s *Server) take(id string) (*call, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.current
	if c == nil || c.state != delivered || c.inv.RequestID != id {
		return nil, false
	}
	s.current = nil
	return c, true
}

// takeOrWait marks the queued invocation delivered to rw and returns it; with none queued it
// puts rw in line for the next one and returns nil.
func (s *Server) takeOrWait(rw *conn) *call {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.current; c != nil && c.state == queued {
		c.state = delivered
		return c
	}
	s.waiters = append(s.waiters, rw)
	return nil
}

// offer hands the queued invocation to the connection that asked last, if any: a runtime that
// gave up on an older /next without closing it is more likely to read the newer one. A small
// event is written from the caller's goroutine, which saves a hand-off; a large one from a
// goroutine of its own, so that a runtime that reads slowly (paused in a debugger) cannot hold
// up the caller, who may have to give up at the integration timeout.
func (s *Server) offer() {
	s.mu.Lock()
	c := s.current
	if c == nil || c.state != queued || len(s.waiters) == 0 {
		s.mu.Unlock()
		return
	}
	rw := s.waiters[len(s.waiters)-1]
	s.waiters = s.waiters[:len(s.waiters)-1]
	c.state = delivered
	rw.owed.Add(1) // before the loop can see rw out of line: see serveConn
	s.mu.Unlock()
	if len(c.inv.Payload) > smallEvent {
		go s.deliverOwed(rw, c)
		return
	}
	s.deliverOwed(rw, c)
}

// smallEvent is the largest event offer writes from the caller's goroutine: it fits in the
// socket's buffer whether or not the runtime reads.
const smallEvent = 64 << 10

func (s *Server) deliverOwed(rw *conn, c *call) {
	defer rw.owed.Done()
	s.deliver(rw, c)
}

// requeue puts back an invocation whose delivery failed, unless it has ended meanwhile, and
// offers it again.
func (s *Server) requeue(c *call) {
	s.mu.Lock()
	if s.current == c {
		c.state = queued
	}
	s.mu.Unlock()
	s.offer()
}

// forget takes rw out of line; it reports whether rw was still waiting for an answer.
func (s *Server) forget(rw *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rw.awaitsShutdown {
		rw.awaitsShutdown = false
		return true
	}
	i := slices.Index(s.waiters, rw)
	if i < 0 {
		return false
	}
	s.waiters = slices.Delete(s.waiters, i, i+1)
	return true
}

func (s *Server) setInitError(r Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initErr = &r
}
