package pool

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/devserver/devserver/emulator/console"
)

// lineWriter splits a child's output into lines, prefixes each with the function name and keeps
// the last few KB so that a crash can be reported with what the process printed.
type lineWriter struct {
	term   *console.Terminal
	prefix string
	owner  *instance

	mu   sync.Mutex
	buf  []byte
	tail []byte
}

const tailSize = 4096

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tail = append(w.tail, p...)
	if len(w.tail) > tailSize {
		w.tail = append(w.tail[:0], w.tail[len(w.tail)-tailSize:]...)
	}
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.term.Line(w.prefix, string(w.buf[:i]))
		if c := w.owner.captureBuf(); c != nil {
			c.Write(w.buf[:i+1])
		}
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

// flush writes a last unterminated line.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.term.Line(w.prefix, string(w.buf))
		w.buf = nil
	}
}

// Tail returns the last output of the process.
func (w *lineWriter) Tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.tail)
}

// outputPipe carries a child's stdout and stderr (one pipe, so their lines keep the order the
// child wrote them in) to a lineWriter. It counts what it has passed on, so that drain can wait
// for what the child wrote before it answered: on Lambda a function's output lands between its
// START and END lines.
type outputPipe struct {
	r    *os.File
	w    *lineWriter
	done chan struct{} // closed when the reader has seen EOF

	mu sync.Mutex
	// taken counts the bytes read out of the pipe, passed those handed to the line writer. A read
	// takes mu around the (non-blocking) read system call, so that under mu taken plus what the
	// pipe still holds is exactly what the child has written.
	taken, passed int64
	more          *sync.Cond // signalled whenever passed grows or the reader ends
}

func newOutputPipe(w *lineWriter) (*outputPipe, *os.File, error) {
	r, child, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("create output pipe: %w", err)
	}
	p := &outputPipe{r: r, w: w, done: make(chan struct{})}
	p.more = sync.NewCond(&p.mu)
	return p, child, nil
}

// run copies the pipe into the line writer until every writer end is closed.
func (p *outputPipe) run() {
	defer func() {
		p.mu.Lock()
		close(p.done)
		p.more.Broadcast()
		p.mu.Unlock()
	}()
	rc, err := p.r.SyscallConn()
	if err != nil {
		return
	}
	buf := make([]byte, 32<<10)
	for {
		var n int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			n, rerr = syscall.Read(int(fd), buf)
			if n > 0 {
				p.taken += int64(n)
			}
			return rerr != syscall.EAGAIN // false: wait until the pipe is readable, then again
		})
		if n > 0 {
			p.w.Write(buf[:n]) //nolint:errcheck // lineWriter never fails.
			p.mu.Lock()
			p.passed += int64(n)
			p.more.Broadcast()
			p.mu.Unlock()
		}
		if err != nil || rerr != nil || n == 0 {
			return // EOF (every writer gone), or the pipe was closed
		}
	}
}

// drainWait bounds how long drain waits for the reader: a stuck terminal must not hold up an
// invocation's END for long.
const drainWait = 100 * time.Millisecond

// drain waits until everything written to the pipe before the call has been passed on.
func (p *outputPipe) drain() {
	rc, err := p.r.SyscallConn()
	if err != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var queued int
	rc.Control(func(fd uintptr) { //nolint:errcheck // a closed pipe has nothing queued.
		syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&queued))) //nolint:errcheck // 0 queued on failure.
	})
	target := p.taken + int64(queued)
	if p.passed >= target {
		return
	}
	expired := false
	timer := time.AfterFunc(drainWait, func() {
		p.mu.Lock()
		expired = true
		p.more.Broadcast()
		p.mu.Unlock()
	})
	defer timer.Stop()
	for p.passed < target && !expired {
		select {
		case <-p.done:
			return
		default:
		}
		p.more.Wait()
	}
}

// close ends the reader, after waiting up to grace for the pipe's writers (a grandchild may
// still hold it) to finish.
func (p *outputPipe) close(grace time.Duration) {
	select {
	case <-p.done:
	case <-time.After(grace):
	}
	p.r.Close()
	<-p.done
}
