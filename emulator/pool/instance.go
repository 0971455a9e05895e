package pool

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/devserver/devserver/emulator/invocation"
	"github.com/devserver/devserver/emulator/runtimeapi"
)

// instance is one child process of the function and the Runtime API it talks to.
type instance struct {
	p      *Pool
	api    *runtimeapi.Server
	cmd    *exec.Cmd
	out    *lineWriter
	pipe   *outputPipe
	exited chan struct{}

	initDur  time.Duration
	served   atomic.Bool // it has finished an invocation: it is warm
	killed   atomic.Bool // killed for a timeout; never reused
	status   *os.File    // /proc/<pid>/status, kept open for Max Memory Used
	peakKB   atomic.Int64
	peakRead atomic.Int64 // UnixNano of the last read of status
	// debuggee is the process a Debugger started, once found.
	debuggee atomic.Pointer[proc]

	mu      sync.Mutex
	current *call
	cold    bool // the next invocation is the first: report Init Duration
}

type call struct {
	id      string
	start   time.Time
	timer   *time.Timer
	done    chan struct{}
	once    sync.Once
	resp    invocation.Response
	retry   bool
	state   atomic.Int32 // waiting, settled or abandoned
	started atomic.Bool  // START is logged
	capture bytes.Buffer
}

// States of an invocation as its caller sees it.
const (
	waiting int32 = iota
	settled
	abandoned
)

// initFailure is a function that could not start: its main exited, reported an init error, or
// took longer than the init limit. The invocation fails with resp.
type initFailure struct{ resp invocation.Response }

func (e *initFailure) Error() string { return "init " + e.resp.FunctionError }

// start launches an instance in a slot the caller reserved (p.starting) and waits for its
// runtime to ask for the first event.
func (p *Pool) start() (*instance, error) {
	inst, err := p.launch()
	p.mu.Lock()
	p.starting--
	closed := p.closed
	if err == nil && !closed && !inst.gone() {
		p.live[inst] = true
		p.started++
	}
	p.mu.Unlock()
	switch {
	case err != nil:
	case closed:
		// The pool shut down while this instance started: Close did not see it.
		inst.stop()
		err = ErrClosed
	case inst.gone():
		// It exited between its first /next and now: an init failure all the same.
		err = &initFailure{resp: inst.exitResponse("")}
	}
	if err != nil {
		p.slotFreed()
		return nil, err
	}
	return inst, nil
}

// gone reports whether the process has exited.
func (inst *instance) gone() bool {
	select {
	case <-inst.exited:
		return true
	default:
		return false
	}
}

func (p *Pool) launch() (*instance, error) {
	started := false // from then on, wait gives the debugger's turn back once the process ends
	if d := p.cfg.Debugger; d != nil {
		select {
		case d.turn <- struct{}{}:
		case <-p.closing:
			return nil, ErrClosed
		}
		defer func() {
			if !started {
				<-d.turn
			}
		}()
	}
	api, err := runtimeapi.Listen(runtimeapi.Config{Function: p.name})
	if err != nil {
		return nil, fmt.Errorf("start runtime API for %s: %w", p.name, err)
	}
	inst := &instance{p: p, api: api, exited: make(chan struct{}), cold: true}
	inst.out = &lineWriter{term: p.cfg.Terminal, prefix: "[" + p.name + "] ", owner: inst}
	stream := time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + strings.ReplaceAll(invocation.NewRequestID(), "-", "")
	cmd := exec.Command(p.cfg.Binary)
	if d := p.cfg.Debugger; d != nil {
		cmd = d.cmd(p.cfg.Binary)
	}
	cmd.Dir = filepath.Dir(p.cfg.Binary)
	cmd.Env = append(p.env[:len(p.env):len(p.env)], "AWS_LAMBDA_RUNTIME_API="+api.Addr(), "AWS_LAMBDA_LOG_STREAM_NAME="+stream)
	pipe, childOut, err := newOutputPipe(inst.out)
	if err != nil {
		api.Close()
		return nil, fmt.Errorf("start %s: %w", p.name, err)
	}
	inst.pipe = pipe
	cmd.Stdout, cmd.Stderr = childOut, childOut
	// Its own process group, so that Ctrl-C in the terminal reaches devserver only, and so that
	// stopping the instance reaches anything the function started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if p.cfg.Debugger != nil {
		// A debugger outlives a devserver that is killed outright, holding its address and the
		// function; on SIGTERM Delve ends the function and exits. (The signal comes when the
		// thread that started it ends, and devserver locks no goroutine to a thread.)
		cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
	}
	inst.cmd = cmd
	// Counted under the lock that Close takes before it waits, so Close waits for this one or
	// this one sees the pool closed.
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		api.Close()
		childOut.Close()
		pipe.r.Close()
		return nil, ErrClosed
	}
	p.exits.Add(1)
	p.mu.Unlock()
	begin := time.Now()
	err = cmd.Start()
	childOut.Close() // the child has its copy; the reader sees EOF once every holder is gone
	if err != nil {
		p.exits.Done()
		api.Close()
		pipe.r.Close()
		return nil, fmt.Errorf("start %s: %w", p.name, err)
	}
	started = true
	go pipe.run()
	inst.status, _ = os.Open("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/status")
	go inst.wait()

	var initLimit <-chan time.Time
	var closing <-chan struct{}
	if p.cfg.Debugger == nil {
		timer := time.NewTimer(initTimeout)
		defer timer.Stop()
		initLimit = timer.C
	} else {
		// A debugger may hold the init phase stopped for ever: no limit, but a pool that closes
		// meanwhile (a reload, shutdown) must not wait for it.
		closing = p.closing
	}
	select {
	case <-api.Ready():
		inst.initDur = time.Since(begin)
		if p.cfg.Debugger != nil {
			if d, ok := debuggee(cmd.Process.Pid); ok {
				inst.debuggee.Store(&d)
				go inst.watchDebuggee(d)
			}
		}
		return inst, nil
	case <-inst.exited:
		return nil, &initFailure{resp: inst.exitResponse("")}
	case <-closing:
		inst.stop()
		return nil, ErrClosed
	case <-initLimit:
		inst.kill()
		<-inst.exited
		msg := fmt.Sprintf("Init phase timed out after %.2f seconds", initTimeout.Seconds())
		return nil, &initFailure{resp: invocation.Response{Payload: invocation.ErrorDoc("Sandbox.Timedout", msg), FunctionError: "Sandbox.Timedout"}}
	}
}

// exitResponse describes an instance that ended: the runtime's init error if it sent one,
// else Runtime.ExitError with the exit status and the process's last output.
func (inst *instance) exitResponse(requestID string) invocation.Response {
	if r, ok := inst.api.InitError(); ok {
		return invocation.Response{RequestID: requestID, Payload: r.Payload, FunctionError: r.ErrorType}
	}
	status := "signal: killed"
	if ps := inst.cmd.ProcessState; ps != nil {
		status = ps.String()
	}
	msg := "Runtime exited with error: " + status
	if status == "exit status 0" {
		msg = "Runtime exited without providing a reason"
	}
	if requestID != "" {
		msg = "RequestId: " + requestID + " Error: " + msg
	}
	// With the process's last output, as Lambda shows in the log: what a user needs to see why
	// main never got going.
	if tail := strings.TrimSpace(inst.out.Tail()); tail != "" {
		msg += "\n" + tail
	}
	return invocation.Response{RequestID: requestID, Payload: invocation.ErrorDoc("Runtime.ExitError", msg), FunctionError: "Runtime.ExitError"}
}

// wait reaps the process and settles whatever it was doing.
func (inst *instance) wait() {
	defer inst.p.exits.Done()
	inst.cmd.Wait() //nolint:errcheck // the status is read from ProcessState.
	if d := inst.p.cfg.Debugger; d != nil {
		// A debugger that was killed leaves its debuggee running in a group of its own.
		if dp := inst.debuggee.Load(); dp != nil {
			dp.killGroup(syscall.SIGKILL)
		}
		<-d.turn
	}
	// A grandchild holding the output pipe must not keep the instance from ending.
	inst.pipe.close(outputGrace)
	inst.out.flush()
	close(inst.exited)
	if inst.status != nil {
		inst.status.Close()
	}
	inst.api.Close()
	if open, delivered := inst.api.Abort(""); open {
		inst.mu.Lock()
		inv := inst.current
		inst.mu.Unlock()
		if inv != nil {
			if !delivered && inst.served.Load() {
				inst.finish(inv, invocation.Response{}, true)
			} else {
				inst.finish(inv, inst.exitResponse(inv.id), false)
			}
		}
	}
	inst.p.exited(inst)
}

// invoke runs req on the instance and waits for the outcome. retry means the instance went
// away before the runtime received the event.
func (inst *instance) invoke(ctx context.Context, req invocation.Request) (*invocation.Response, bool, error) {
	p := inst.p
	now := time.Now()
	id := req.RequestID
	if id == "" {
		id = invocation.NewRequestID()
	}
	inv := &call{id: id, start: now, done: make(chan struct{})}
	traceID := req.TraceID
	if traceID == "" {
		traceID = invocation.NewTraceID(now)
	}
	timeout := time.Duration(p.cfg.Function.TimeoutSec) * time.Second
	deadline := now.Add(timeout)
	inst.mu.Lock()
	inst.current = inv
	inst.mu.Unlock()
	if p.cfg.Debugger == nil {
		inv.timer = time.AfterFunc(timeout, func() { inst.timedOut(inv) })
	} else {
		deadline = now.Add(untimedDeadline) // a debugger may hold it stopped
	}
	err := inst.api.Start(&runtimeapi.Invocation{
		RequestID:       inv.id,
		Deadline:        deadline,
		FunctionARN:     p.arn,
		TraceID:         traceID,
		ClientContext:   req.ClientContext,
		CognitoIdentity: req.CognitoIdentity,
		Payload:         req.Payload,
		Delivered:       func() { inst.logStart(inv) },
	}, func(r runtimeapi.Result) {
		inst.finish(inv, invocation.Response{RequestID: inv.id, Payload: r.Payload, FunctionError: r.ErrorType}, false)
	})
	if err != nil {
		// The process exited (wait closed the API) before the event was queued: it never ran.
		inst.finish(inv, invocation.Response{}, true)
	}
	select {
	case <-inv.done:
	case <-ctx.Done():
		if inv.state.CompareAndSwap(waiting, abandoned) {
			return nil, false, ctx.Err()
		}
		<-inv.done
	}
	if inv.retry {
		return nil, true, nil
	}
	return &inv.resp, false, nil
}

// logStart writes the START line once, when the runtime takes the event (an event that never
// reached a runtime is retried elsewhere and gets its START there).
func (inst *instance) logStart(inv *call) {
	if inv.started.CompareAndSwap(false, true) {
		if inst.peakKB.Load() == 0 {
			inst.maxMemoryMB() // a first reading, in case the process dies before it answers
		}
		inst.logLine(inv, "START RequestId: "+inv.id+" Version: $LATEST")
	}
}

func (inst *instance) timedOut(inv *call) {
	if open, _ := inst.api.Abort(inv.id); !open {
		return
	}
	inst.maxMemoryMB() // read the peak while the process is still there
	inst.killed.Store(true)
	inst.kill()
	secs := fmt.Sprintf("%.2f", float64(inst.p.cfg.Function.TimeoutSec))
	inst.logLine(inv, time.Now().UTC().Format("2006-01-02T15:04:05.000Z")+" "+inv.id+" Task timed out after "+secs+" seconds")
	msg := "RequestId: " + inv.id + " Error: Task timed out after " + secs + " seconds"
	inst.finish(inv, invocation.Response{RequestID: inv.id, Payload: invocation.ErrorDoc("Sandbox.Timedout", msg), FunctionError: "Sandbox.Timedout"}, false)
}

// finish settles inv once: END and REPORT lines, the instance back to the pool, the caller woken.
func (inst *instance) finish(inv *call, resp invocation.Response, retry bool) {
	inv.once.Do(func() {
		if inv.timer != nil {
			inv.timer.Stop()
		}
		if !retry {
			inst.pipe.drain() // what the function printed before it answered belongs before END
		}
		inst.mu.Lock()
		inst.current = nil
		cold := inst.cold
		inst.cold = false
		inst.mu.Unlock()
		if !retry {
			inst.logStart(inv)
			dur := time.Since(inv.start)
			ms := float64(dur.Microseconds()) / 1000
			resp.Report = invocation.Report{Duration: dur, BilledMS: int(math.Ceil(ms)), MemoryMB: inst.p.cfg.Function.MemoryMB, MaxMemoryMB: inst.maxMemoryMB()}
			report := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB",
				inv.id, ms, resp.Report.BilledMS, resp.Report.MemoryMB, resp.Report.MaxMemoryMB)
			if cold {
				resp.Report.InitDuration = inst.initDur
				report += fmt.Sprintf("\tInit Duration: %.2f ms", float64(inst.initDur.Microseconds())/1000)
			}
			inst.logLine(inv, "END RequestId: "+inv.id, report)
			inst.served.Store(true)
		}
		inv.retry = retry
		inv.resp = resp
		inst.out.mu.Lock()
		inv.resp.Log = inv.capture.String()
		inst.out.mu.Unlock()
		inst.p.release(inst)
		if !inv.state.CompareAndSwap(waiting, settled) {
			inst.p.done() // the caller is gone: count the invocation out here
		}
		close(inv.done)
	})
}

// logLine writes platform lines to the terminal and to the invocation's log.
func (inst *instance) logLine(inv *call, lines ...string) {
	inst.p.cfg.Terminal.Line(inst.out.prefix, lines...)
	inst.out.mu.Lock()
	for _, l := range lines {
		inv.capture.WriteString(l + "\n")
	}
	inst.out.mu.Unlock()
}

// capture returns the log buffer of the invocation running now, if any. Called with out.mu held.
func (inst *instance) captureBuf() *bytes.Buffer {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	if inst.current == nil {
		return nil
	}
	return &inst.current.capture
}

// memorySampleEvery bounds how often the peak is read from /proc while invocations follow each
// other closely: the read costs as much as a small invocation, and the peak (VmHWM) only grows,
// so a REPORT line shows the peak as of at most this long before it.
const memorySampleEvery = 5 * time.Millisecond

// maxMemoryMB is the process's peak resident set, as Lambda's Max Memory Used, from /proc: read
// while the process runs, the last reading once it has exited.
func (inst *instance) maxMemoryMB() int {
	kb := int(inst.peakKB.Load())
	now := time.Now().UnixNano()
	if last := inst.peakRead.Load(); inst.status != nil && (kb == 0 || now-last >= int64(memorySampleEvery)) {
		inst.peakRead.Store(now)
		var buf [4096]byte
		var n int
		var err error
		// Through RawConn, so that the read cannot race the file's Close in wait.
		if rc, rerr := inst.status.SyscallConn(); rerr == nil {
			rerr = rc.Read(func(fd uintptr) bool {
				n, err = syscall.Pread(int(fd), buf[:], 0)
				return true
			})
			err = cmp.Or(rerr, err)
		}
		if err == nil && n > 0 {
			if _, rest, ok := bytes.Cut(buf[:n], []byte("VmHWM:")); ok {
				line, _, _ := bytes.Cut(rest, []byte("\n"))
				v, _ := strconv.Atoi(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(line), []byte("kB")))))
				kb = max(kb, v)
			}
		}
	}
	// Once the process is gone only the last reading is left. (Its rusage is no substitute: on
	// Linux ru_maxrss carries devserver's own high-water mark across fork and exec.)
	inst.peakKB.Store(int64(kb))
	return (kb + 1023) / 1024
}

func (inst *instance) kill() {
	syscall.Kill(-inst.cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck // already gone is fine.
	if d := inst.debuggee.Load(); d != nil {
		d.killGroup(syscall.SIGKILL)
	}
}

// stop ends the instance: SIGTERM to its group, SIGKILL after the grace period. A debugger ends
// its debuggee itself on SIGTERM (Delve does); the SIGKILL reaches the debuggee's group too.
func (inst *instance) stop() {
	syscall.Kill(-inst.cmd.Process.Pid, syscall.SIGTERM) //nolint:errcheck // already gone is fine.
	select {
	case <-inst.exited:
	case <-time.After(stopGrace):
		inst.kill()
		<-inst.exited
	}
}
