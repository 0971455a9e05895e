package console

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// Progress shows long work (builds) as it goes. On a terminal it keeps one live line naming what
// is under way and for how long, redrawn a few times a second, and each finished step settles
// into a line of its own above it; elsewhere (a pipe, a file, CI) it writes a plain line per step.
type Progress struct {
	term *Terminal // plain lines go here, in order with the rest of the output
	tty  io.Writer // the live line is drawn here; nil writes plain lines only

	mu      sync.Mutex
	live    bool
	running map[string]time.Time
	order   []string // running names, in the order they started
	ticker  *time.Ticker
	stop    chan struct{}
	drawn   bool
}

// redrawEvery is how often the live line's elapsed time moves.
const redrawEvery = 250 * time.Millisecond

// NewProgress writes plain lines to term, and draws the live line on tty when tty is not nil.
func NewProgress(term *Terminal, tty io.Writer) *Progress {
	return &Progress{term: term, tty: tty, live: tty != nil, running: map[string]time.Time{}}
}

// IsTerminal reports whether f is a terminal (a character device), where a live line makes sense.
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Start says that name began; what describes it ("building A (./a)…").
func (p *Progress) Start(name, what string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.live {
		p.term.Line("", what)
		return
	}
	if _, ok := p.running[name]; !ok {
		p.order = append(p.order, name)
	}
	p.running[name] = time.Now()
	if p.ticker == nil {
		p.ticker = time.NewTicker(redrawEvery)
		p.stop = make(chan struct{})
		go p.tick(p.ticker, p.stop)
	}
	p.draw()
}

// Done says that name ended, with line as its last word ("built A in 1.2s"; "" for none).
func (p *Progress) Done(name, line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.live {
		if line != "" {
			p.term.Line("", line)
		}
		return
	}
	delete(p.running, name)
	p.order = slices.DeleteFunc(p.order, func(n string) bool { return n == name })
	p.clear()
	if line != "" {
		fmt.Fprintln(p.tty, line)
	}
	if len(p.running) == 0 {
		p.stopTicker()
		return
	}
	p.draw()
}

// Settle ends the live line for good: from now on every step is a plain line, in order with the
// rest of the output (the server is about to serve, and requests print too).
func (p *Progress) Settle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.live {
		return
	}
	p.clear()
	p.stopTicker()
	p.live = false
}

func (p *Progress) tick(t *time.Ticker, stop chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			p.mu.Lock()
			if p.live && len(p.running) > 0 {
				p.draw()
			}
			p.mu.Unlock()
		}
	}
}

// draw writes the live line over the previous one. Called with mu held.
func (p *Progress) draw() {
	p.term.Flush() // what was printed before stays above the live line
	var since time.Time
	for _, t := range p.running {
		if since.IsZero() || t.Before(since) {
			since = t
		}
	}
	fmt.Fprintf(p.tty, "\r\x1b[Kbuilding %s… %.1fs", strings.Join(p.order, ", "), time.Since(since).Seconds())
	p.drawn = true
}

// clear erases the live line. Called with mu held.
func (p *Progress) clear() {
	if p.drawn {
		io.WriteString(p.tty, "\r\x1b[K") //nolint:errcheck // a closed terminal shows nothing anyway.
		p.drawn = false
	}
}

func (p *Progress) stopTicker() {
	if p.ticker != nil {
		p.ticker.Stop()
		close(p.stop)
		p.ticker, p.stop = nil, nil
	}
}
