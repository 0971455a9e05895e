package console_test

import (
	"strings"
	"testing"

	"github.com/devserver/devserver/emulator/console"
	"github.com/devserver/devserver/internal/testkit"
)

// TestProgress: on a terminal a live line names what is building and settles into one line per
// finished build; elsewhere each step is a plain line, and after Settle so is everything.
func TestProgress(t *testing.T) {
	t.Run("terminal", func(t *testing.T) {
		var tty, plain testkit.Buffer
		term := console.NewTerminal(&plain)
		p := console.NewProgress(term, &tty)
		p.Start("A", "building A (./a)…")
		p.Start("B", "building B (./b)…")
		p.Done("A", "built A in 1s")
		p.Done("B", "")
		p.Settle()
		p.Start("C", "building C (./c)…")
		p.Done("C", "built C in 2s")
		got := tty.String()
		for _, want := range []string{"\r\x1b[Kbuilding A… ", "\r\x1b[Kbuilding A, B… ", "\r\x1b[Kbuilt A in 1s\n", "\r\x1b[Kbuilding B… "} {
			if !strings.Contains(got, want) {
				t.Errorf("live output lacks %q:\n%q", want, got)
			}
		}
		if !strings.HasSuffix(got, "\r\x1b[K") {
			t.Errorf("the live line was not cleared at the end: %q", got)
		}
		if strings.Contains(got, "C") {
			t.Errorf("after Settle a build drew on the live line: %q", got)
		}
		term.Flush()
		if got, want := plain.String(), "building C (./c)…\nbuilt C in 2s\n"; got != want {
			t.Errorf("plain lines = %q, want only the steps after Settle, %q", got, want)
		}
	})
	t.Run("not a terminal", func(t *testing.T) {
		var out testkit.Buffer
		term := console.NewTerminal(&out)
		p := console.NewProgress(term, nil)
		p.Start("A", "building A (./a)…")
		p.Done("A", "built A in 1s")
		p.Start("B", "building B (./b)…")
		p.Done("B", "")
		term.Flush()
		if got, want := out.String(), "building A (./a)…\nbuilt A in 1s\nbuilding B (./b)…\n"; got != want {
			t.Errorf("plain output = %q, want %q", got, want)
		}
	})
}
