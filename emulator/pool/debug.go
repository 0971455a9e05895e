package pool

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Debugger runs a function's instance under a debugger that listens on one fixed address (Delve:
// dlv exec --headless --listen ADDR --continue). Hand the same Debugger to every pool of the
// function (each build gets a pool): one instance runs at a time across all of them, so that the
// instance of a rebuilt function starts only once the previous one has let go of the address.
//
// While a debugger may hold the function stopped, no clock may end the invocation: a debugged
// pool has one instance, no init timeout, no function timeout, tells the function a deadline
// untimedDeadline away, and keeps no deadline of an invoke's context (a front's integration
// timeout); cancellation without a deadline (a client that hangs up) still ends the wait.
type Debugger struct {
	command []string
	turn    chan struct{}
}

// NewDebugger returns a Debugger that starts each instance as command followed by the absolute
// path of the function's binary.
func NewDebugger(command ...string) *Debugger {
	return &Debugger{command: command, turn: make(chan struct{}, 1)}
}

// cmd is the debugger's command line for binary.
func (d *Debugger) cmd(binary string) *exec.Cmd {
	if abs, err := filepath.Abs(binary); err == nil {
		binary = abs
	}
	return exec.Command(d.command[0], append(d.command[1:len(d.command):len(d.command)], binary)...)
}

// untimedDeadline is how far off the deadline a debugged function is told is (the context it gets
// from aws-lambda-go ends then): far enough not to expire while the developer looks around.
const untimedDeadline = 24 * time.Hour

// withoutDeadline returns a context that ends when ctx is cancelled but not when its deadline
// passes. A cancellation that comes after the deadline has passed is not seen: ctx has ended by
// then and says only DeadlineExceeded. The invocation runs on to its own end either way, as
// every invocation does once its caller stops waiting.
func withoutDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); !ok {
		return ctx, func() {}
	}
	out, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			cancel(ctx.Err())
		}
	})
	return out, func() {
		stop()
		cancel(context.Canceled)
	}
}

// proc is a process as /proc/<pid>/stat shows it.
type proc struct {
	pid, ppid, pgid int
	start           string // start time in clock ticks since boot: with pid, names the process
}

func readProc(pid int) (proc, bool) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return proc{}, false
	}
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
	// stime cutime cstime priority nice threads itrealvalue starttime ...; comm may hold anything.
	s := string(stat)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return proc{}, false
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 20 || f[0] == "Z" {
		return proc{}, false // a zombie holds nothing but its exit status
	}
	p := proc{pid: pid, start: f[19]}
	p.ppid, _ = strconv.Atoi(f[1])
	p.pgid, _ = strconv.Atoi(f[2])
	return p, true
}

// debuggee finds the process the debugger started: a debugger puts it in a process group of its
// own (Delve does), which stopping the debugger's group does not reach.
func debuggee(debugger int) (proc, bool) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok && p.ppid == debugger {
			return p, true
		}
	}
	return proc{}, false
}

// debuggeePoll is how often a debugged instance checks that its debuggee still runs.
const debuggeePoll = 100 * time.Millisecond

// watchDebuggee stops the debugger once the process it debugs has ended. Delve serves on after
// its debuggee exits (--accept-multiclient), so without this a function that exits or crashes
// would never end its instance, and its invocation would wait for ever.
func (inst *instance) watchDebuggee(d proc) {
	tick := time.NewTicker(debuggeePoll)
	defer tick.Stop()
	for {
		select {
		case <-inst.exited:
			return
		case <-tick.C:
			if now, ok := readProc(d.pid); !ok || now.start != d.start {
				inst.stop()
				return
			}
		}
	}
}

// killGroup sends sig to p's process group if p is still the process it was (a pid can be reused
// once p has been reaped).
func (p proc) killGroup(sig syscall.Signal) {
	if now, ok := readProc(p.pid); ok && now.start == p.start {
		syscall.Kill(-p.pgid, sig) //nolint:errcheck // already gone is fine.
	}
}
