package pool

import (
	"bytes"
	"sync"

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
