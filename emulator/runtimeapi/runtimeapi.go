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

// Config describes one Runtime API.
type Config struct {
	// Function is the function's name, which the extension registration reports.
	Function string
	// ReadTimeout bounds how long a request may take to arrive, from its first byte (from the
	// connection's opening, for the first) to the end of its body; 0 means DefaultReadTimeout.
	// It does not bound the body of an answer to the invocation out: a function may stream
	// that for as long as it runs, and its own timeout ends it.
	ReadTimeout time.Duration
	// IdleTimeout is how long a connection may sit between requests; 0 means
	// DefaultIdleTimeout. It does not apply while the connection's /next waits for an event, or
	// while the event it carried is out: a runtime waits for its next event, and works on one,
	// for as long as it takes.
	IdleTimeout time.Duration
}

// Defaults for Config.
const (
	// DefaultReadTimeout is generous: a runtime sends each request at once, and only one gone
	// wrong (or a client that is no runtime) trickles it.
	DefaultReadTimeout = 10 * time.Second
	// DefaultIdleTimeout is longer than the 90 s after which Go's HTTP client (aws-lambda-go's)
	// drops an idle connection itself, so that it is the runtime that closes a connection it
	// might reuse, not the Runtime API under its feet.
	DefaultIdleTimeout = 2 * time.Minute
)

// Invocation is one event handed to the instance.
type Invocation struct {
	RequestID       string
	Deadline        time.Time
	FunctionARN     string
	TraceID         string
	ClientContext   string
	CognitoIdentity string
	Payload         []byte
	// Delivered, when set, is called once, when the event has first been written to the
	// runtime, all but its final byte, which follows once Delivered returns: the function cannot
	// start on the event before. From then on Abort reports it delivered. An event whose write
	// fails before that is not: it goes to the runtime's next /next instead.
	Delivered func()
}

// Result is what the runtime answered. ErrorType is "" on success; on failure Payload is the
// error document {"errorMessage","errorType","stackTrace"}.
type Result struct {
	Payload   []byte
	ErrorType string
}

// state of the invocation out. An event can be lost on its way: a runtime may hang up on /next
// just as the event is written, and the write still succeeds, into the kernel's buffer. Nothing
// a runtime does before it answers shows that it read the event (aws-lambda-go answers on the
// same connection; a runtime that sends Connection: close answers on a new one), so a sent event
// counts as received unless the runtime shows otherwise: the connection that carried it ends
// before the runtime sends anything more on it (dropped), and then, with no answer, the runtime
// asks /next again. That /next gets the same event.
//
//	queued ──/next──▶ sent ──another request on the carrier──▶ received
//	  ▲                │ ▲
//	  └──write failed──┤ └──────── a /next asked since ─────────┐
//	                   └──the carrier ends first──▶ dropped ─────┘
//
// The runtime's /response or /error ends it once the runtime may have the event (answerable),
// as Abort does at any time.
type state int

const (
	queued   state = iota // waiting for a /next
	sent                  // written, or being written, as the answer to the carrier's /next
	received              // the runtime sent another request on the carrier: it read the event
	dropped               // the carrier ended before that: the runtime may never have read it
)

// call is the invocation out, and how far it got on its way to the runtime.
type call struct {
	inv     *Invocation
	done    func(Result)
	state   state
	carrier *conn  // the connection it was last sent on
	sentAt  uint64 // Server.nexts when it was last sent: a /next counted later was asked since
	written bool   // it went out, but for its last byte, at least once: Delivered was called
}

// answerable reports whether the runtime may have the event, so that its answer is taken.
func (c *call) answerable() bool { return c.state != queued || c.written }

// Server is the Runtime API of one instance. It holds at most one invocation at a time.
type Server struct {
	cfg Config
	ln  net.Listener

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
	// nexts counts the /next requests, to tell those asked since an event was sent.
	nexts uint64

	// Set by tests, under mu: moments no client can see.
	beforeEvent func() // an event is about to be written
	onWait      func() // a /next was put in line
}

// Errors Start returns.
var (
	ErrBusy   = errors.New("runtime API busy with another invocation")
	ErrClosed = errors.New("runtime API closed")
)

// Listen opens a Runtime API on a free loopback port.
func Listen(cfg Config) (*Server, error) {
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:    cfg,
		ln:     ln,
		ready:  make(chan struct{}),
		closed: make(chan struct{}),
		conns:  make(map[net.Conn]struct{}),
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
// whichever is current. It reports whether it was still open and whether its event had been
// delivered (written to the runtime, as Delivered tells).
func (s *Server) Abort(id string) (open, wasDelivered bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.current
	if c == nil || (id != "" && c.inv.RequestID != id) {
		return false, false
	}
	s.current = nil
	s.over(c)
	return true, c.written
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

// take claims the invocation id, which the runtime answered, for completion, or reports that
// it is unknown.
func (s *Server) take(id string) (*call, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.current
	if c == nil || c.inv.RequestID != id || !c.answerable() {
		return nil, false
	}
	s.current = nil
	s.over(c)
	return c, true
}

// expects reports whether id is the invocation out, for its answer's body to be read without
// a deadline.
func (s *Server) expects(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.current
	return c != nil && c.inv.RequestID == id && c.answerable()
}

// over lets the connection that carried c time out when idle, now that c has ended. Called
// with s.mu held.
func (s *Server) over(c *call) {
	if rw := c.carrier; rw != nil && rw.idle {
		s.setDeadline(rw)
	}
}

// idle marks rw as between requests, or reading one, and sets its read deadline to match.
func (s *Server) idle(rw *conn, between bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rw.idle = between
	s.setDeadline(rw)
}

// setDeadline bounds rw's next read: ReadTimeout for a request under way; between requests,
// IdleTimeout, or nothing while rw waits for an answer or carried the invocation out. Called
// with s.mu held.
func (s *Server) setDeadline(rw *conn) {
	c := s.current
	var d time.Time
	switch {
	case !rw.idle:
		d = time.Now().Add(s.cfg.ReadTimeout)
	case rw.awaitsShutdown || slices.Contains(s.waiters, rw):
	case c != nil && c.carrier == rw && (c.state == sent || c.state == received):
	default:
		d = time.Now().Add(s.cfg.IdleTimeout)
	}
	rw.c.SetReadDeadline(d) //nolint:errcheck // fails only on a closed connection, which the next read reports.
}

// takeOrWait sends the invocation to rw's /next and returns it if it is queued, or dropped
// (rw's /next is asked since it was sent). Otherwise it puts rw in line and returns nil.
func (s *Server) takeOrWait(rw *conn) *call {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nexts++
	rw.nextAt = s.nexts
	if c := s.current; c != nil && (c.state == queued || c.state == dropped) {
		s.send(c, rw)
		return c
	}
	s.waiters = append(s.waiters, rw)
	return nil
}

// send marks c as on its way to rw. Called with s.mu held.
func (s *Server) send(c *call, rw *conn) {
	c.state, c.carrier, c.sentAt = sent, rw, s.nexts
}

// offer hands the invocation, queued or dropped, to the connection that asked last, if any: a
// runtime that gave up on an older /next without closing it is more likely to read the newer
// one. A dropped event goes only to a /next asked since it was sent, for the same reason. A
// small event is written from the caller's goroutine, which saves a hand-off; a large one from
// a goroutine of its own, so that a runtime that reads slowly (paused in a debugger) cannot hold
// up the caller, who may have to give up at the integration timeout.
func (s *Server) offer() {
	s.mu.Lock()
	c := s.current
	if c == nil || len(s.waiters) == 0 {
		s.mu.Unlock()
		return
	}
	rw := s.waiters[len(s.waiters)-1]
	if c.state != queued && (c.state != dropped || rw.nextAt <= c.sentAt) {
		s.mu.Unlock()
		return
	}
	s.waiters = s.waiters[:len(s.waiters)-1]
	s.send(c, rw)
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

// requeue puts back an invocation whose write to rw failed, unless it has ended or gone to
// another connection meanwhile, and offers it again.
func (s *Server) requeue(rw *conn, c *call) {
	s.mu.Lock()
	if s.current == c && c.carrier == rw {
		c.state, c.carrier = queued, nil
	}
	s.mu.Unlock()
	s.offer()
}

// wrote records that c went out (but for its last byte); it reports whether this was the first
// time, for Delivered.
func (s *Server) wrote(c *call) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != c || c.written {
		return false
	}
	c.written = true
	return true
}

// arrived notes a request read off rw, which shows that the runtime read any event rw carried
// (a client reads its answers in order). It reports whether rw was still waiting for an answer
// (to /next or extension /event/next): the runtime gave up on it, and as answers go out in
// order, the connection cannot go on.
func (s *Server) arrived(rw *conn) (gaveUp bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.current; c != nil && c.carrier == rw && c.state == sent {
		c.state = received
	}
	return s.forget(rw)
}

// hungUp takes a connection that ended off the books. If it carried the event out and the
// runtime sent nothing more on it, the event is dropped, for a /next asked since to take.
func (s *Server) hungUp(rw *conn) {
	s.mu.Lock()
	s.forget(rw)
	delete(s.conns, rw.c)
	c := s.current
	lost := c != nil && c.carrier == rw && c.state == sent
	if lost {
		c.state = dropped
	}
	s.mu.Unlock()
	rw.c.Close()
	if lost {
		s.offer()
	}
}

// forget takes rw out of line; it reports whether rw was still waiting for an answer. Called
// with s.mu held.
func (s *Server) forget(rw *conn) bool {
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
