package pool

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWithoutDeadline(t *testing.T) {
	tests := []struct {
		name string
		// end ends the parent: by its deadline, by a cancel, or not at all.
		end      func(cancel context.CancelFunc)
		deadline bool
		wantErr  error
	}{
		{"deadline passes", func(context.CancelFunc) { time.Sleep(50 * time.Millisecond) }, true, nil},
		{"cancelled before the deadline", func(cancel context.CancelFunc) { cancel() }, true, context.Canceled},
		{"no deadline, cancelled", func(cancel context.CancelFunc) { cancel() }, false, context.Canceled},
		{"no deadline, still running", func(context.CancelFunc) {}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.deadline {
				parent, cancel = context.WithTimeout(parent, 10*time.Millisecond)
				defer cancel()
			}
			ctx, stop := withoutDeadline(parent)
			defer stop()
			if _, ok := ctx.Deadline(); ok {
				t.Error("the context kept a deadline")
			}
			tt.end(cancel)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			if err := ctx.Err(); !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("ctx.Err() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
