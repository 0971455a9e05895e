package console_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devserver/devserver/emulator/console"
)

// countingWriter records what reaches the terminal and in how many writes.
type countingWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	seen   chan struct{} // gets a value after every write
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	w.buf.Write(p)
	select {
	case w.seen <- struct{}{}:
	default:
	}
	return len(p), nil
}

// TestTerminalBatches: lines from many writers reach the output whole, each writer's in its
// order, in fewer writes than lines; and they get there without anyone calling Flush.
func TestTerminalBatches(t *testing.T) {
	w := &countingWriter{seen: make(chan struct{}, 1)}
	term := console.NewTerminal(w)
	const writers, each = 8, 250
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				if i%2 == 0 {
					term.Line(fmt.Sprintf("[w%d] ", g), fmt.Sprintf("line %d", i))
				} else {
					fmt.Fprintf(term, "[w%d] line %d\n", g, i)
				}
			}
		})
	}
	wg.Wait()
	deadline := time.After(10 * time.Second)
	for {
		w.mu.Lock()
		n := strings.Count(w.buf.String(), "\n")
		w.mu.Unlock()
		if n == writers*each {
			break
		}
		select {
		case <-w.seen:
		case <-deadline:
			t.Fatalf("%d of %d lines written without a Flush", n, writers*each)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.writes >= writers*each {
		t.Errorf("%d writes for %d lines: not batched", w.writes, writers*each)
	}
	next := make([]int, writers)
	for _, line := range strings.Split(strings.TrimSuffix(w.buf.String(), "\n"), "\n") {
		var g, i int
		if _, err := fmt.Sscanf(line, "[w%d] line %d", &g, &i); err != nil || i != next[g] {
			t.Fatalf("line %q out of order or torn (want line %d of w%d)", line, next[g], g)
		}
		next[g]++
	}
}

// TestTerminalFlush writes what is gathered at once.
func TestTerminalFlush(t *testing.T) {
	w := &countingWriter{seen: make(chan struct{}, 1)}
	term := console.NewTerminal(w)
	term.Line("", "one")
	term.Flush()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.String() != "one\n" {
		t.Errorf("after Flush: %q", w.buf.String())
	}
}

// stuckWriter blocks every write until released, like a terminal the user paused.
type stuckWriter struct {
	release  chan struct{}
	mu       sync.Mutex
	largest  int
	total    int
	released bool
}

func (w *stuckWriter) Write(p []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	w.largest = max(w.largest, len(p))
	w.total += len(p)
	return len(p), nil
}

// TestTerminalBackpressure: while the terminal does not take writes, a function printing without
// end is held back instead of piling its output up in devserver.
func TestTerminalBackpressure(t *testing.T) {
	w := &stuckWriter{release: make(chan struct{})}
	term := console.NewTerminal(w)
	line := strings.Repeat("x", 99)
	const lines = 20000 // 2 MB, far more than a batch
	var sent atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range lines {
			term.Line("", line)
			sent.Add(100)
		}
	}()
	// Unstick the terminal once the writer got far past a batch (it must not) or after a while.
	for deadline := time.Now().Add(300 * time.Millisecond); sent.Load() < 1<<20 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	close(w.release)
	<-done
	term.Flush()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.total != lines*100 {
		t.Fatalf("wrote %d bytes, want %d", w.total, lines*100)
	}
	if w.largest > 128<<10 {
		t.Errorf("one write of %d bytes: output piled up while the terminal was stuck", w.largest)
	}
}
