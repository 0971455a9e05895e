package pool

import (
	"bytes"
	"io"
	"sync"
)

// Terminal serialises lines from many writers onto one output, so that a child's output and the
// START/END/REPORT lines never interleave mid-line.
type Terminal struct {
	mu sync.Mutex
	w  io.Writer
}

// NewTerminal writes whole lines to w.
func NewTerminal(w io.Writer) *Terminal { return &Terminal{w: w} }

// Line writes lines, each with the prefix, in one write.
func (t *Terminal) Line(prefix string, lines ...string) {
	var b []byte
	for _, l := range lines {
		b = append(append(append(b, prefix...), l...), '\n')
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.w.Write(b) //nolint:errcheck // a closed terminal loses logs, nothing else.
}

// lineWriter splits a child's output into lines, prefixes each with the function name and keeps
// the last few KB so that a crash can be reported with what the process printed.
type lineWriter struct {
	term   *Terminal
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
