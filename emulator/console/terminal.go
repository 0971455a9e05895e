// Package console owns devserver's terminal: the functions' output, their START/END/REPORT
// lines and the access log share it in order, and one line is written per request.
package console

import (
	"io"
	"sync"
	"time"
)

// Terminal serialises lines from many writers onto one output, so that a child's output, the
// START/END/REPORT lines and the access log never interleave mid-line. Lines are gathered for up
// to FlushDelay and written together: under load that is one write for many requests rather than
// three writes for each, which measured as a third of devserver's CPU per request at 32 clients.
type Terminal struct {
	w     io.Writer
	timer *time.Timer

	mu    sync.Mutex
	buf   []byte
	armed bool

	wmu   sync.Mutex // held across a write, so that batches reach w in order
	spare []byte
}

// FlushDelay bounds how long a line waits before it is written.
const FlushDelay = 2 * time.Millisecond

// NewTerminal writes whole lines to w.
func NewTerminal(w io.Writer) *Terminal {
	t := &Terminal{w: w}
	t.timer = time.AfterFunc(time.Hour, t.Flush)
	t.timer.Stop()
	return t
}

// Line writes lines, each with the prefix.
func (t *Terminal) Line(prefix string, lines ...string) {
	t.mu.Lock()
	for _, l := range lines {
		t.buf = append(append(append(t.buf, prefix...), l...), '\n')
	}
	full := t.added()
	t.mu.Unlock()
	if full {
		t.Flush()
	}
}

// Write takes whole lines, as a log handler writes them.
func (t *Terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.buf = append(t.buf, p...)
	full := t.added()
	t.mu.Unlock()
	if full {
		t.Flush()
	}
	return len(p), nil
}

// maxBatch is the most that waits for the timer. Past it the writer flushes itself, so that a
// terminal that cannot keep up slows down whoever writes (a function printing without end), as
// a plain write would, instead of growing devserver.
const maxBatch = 64 << 10

// added schedules a flush for what was just added, or reports that the batch should be written
// now. Called with mu held.
func (t *Terminal) added() bool {
	if len(t.buf) >= maxBatch {
		return true
	}
	if !t.armed {
		t.armed = true
		t.timer.Reset(FlushDelay)
	}
	return false
}

// Flush writes everything gathered so far, now.
func (t *Terminal) Flush() {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.mu.Lock()
	b := t.buf
	t.buf, t.spare = t.spare[:0], nil
	t.armed = false
	t.mu.Unlock()
	if len(b) > 0 {
		t.w.Write(b) //nolint:errcheck // a closed terminal loses logs, nothing else.
	}
	if cap(b) <= 2*maxBatch {
		t.spare = b[:0] // reused, unless one long write made it large
	}
}
