package pool_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devserver/devserver/emulator/console"
	"github.com/devserver/devserver/emulator/invocation"
	"github.com/devserver/devserver/emulator/pool"
	"github.com/devserver/devserver/gobuild"
	"github.com/devserver/devserver/project"
)

func newPool(t *testing.T, initMS string, maxInstances, timeoutSec int) *pool.Pool {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	if err := gobuild.Build(t.Context(), gobuild.Options{Dir: ".", Package: "./testdata/slow", Output: bin}); err != nil {
		t.Fatal(err)
	}
	return pool.New(pool.Config{
		Function:     &project.Function{Name: "Slow", MemoryMB: 128, TimeoutSec: timeoutSec, Environment: map[string]string{"INIT_MS": initMS}},
		Binary:       bin,
		MaxInstances: maxInstances,
		Region:       "us-east-1",
		Account:      "123456789012",
		Terminal:     console.NewTerminal(io.Discard),
	})
}

// TestCloseDuringColdStart checks that Close stops an instance still in its init phase and
// returns, rather than leaving it running.
func TestCloseDuringColdStart(t *testing.T) {
	p := newPool(t, "800", 0, 5)
	done := make(chan error, 1)
	go func() {
		_, err := p.Invoke(context.Background(), invocation.Request{Payload: []byte(`{"MS":0}`)})
		done <- err
	}()
	time.Sleep(200 * time.Millisecond) // inside the 800 ms init
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return while an instance was starting")
	}
	if err := <-done; !errors.Is(err, pool.ErrClosed) {
		t.Errorf("invoke during Close = %v, want ErrClosed", err)
	}
	if st := p.Stats(); st.Instances != 0 {
		t.Errorf("%d instances left after Close", st.Instances)
	}
}

// TestDrainDismissesWaiters checks that Drain lets the running invocation finish and sends the
// queued ones away at once (to be retried on the pool that replaced this one).
func TestDrainDismissesWaiters(t *testing.T) {
	p := newPool(t, "0", 1, 5)
	if _, err := p.Warm(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([]error, 3)
	outs := make([]string, 3)
	ended := make([]time.Time, 3)
	for i := range 3 {
		wg.Go(func() {
			resp, err := p.Invoke(context.Background(), invocation.Request{Payload: []byte(`{"MS":600}`)})
			results[i], ended[i] = err, time.Now()
			if resp != nil {
				outs[i] = string(resp.Payload)
			}
		})
		time.Sleep(50 * time.Millisecond)
	}
	p.Drain(context.Background())
	wg.Wait()
	ok, dismissed := 0, 0
	for i, err := range results {
		switch {
		case err == nil && outs[i] == `"done"`:
			ok++
		case errors.Is(err, pool.ErrClosed):
			dismissed++
		default:
			t.Errorf("invoke %d = %q, %v", i, outs[i], err)
		}
	}
	if ok != 1 || dismissed != 2 {
		t.Errorf("%d finished and %d dismissed, want 1 and 2", ok, dismissed)
	}
	// The waiters were sent away at once, not when the running invocation let go of the instance.
	for i := 1; i < 3; i++ {
		if results[i] != nil && !ended[i].Before(ended[0]) {
			t.Errorf("waiter %d was dismissed only after the running invocation ended", i)
		}
	}
}

// TestTimeoutKillsOnlyItsInvocation runs invocations that end right at the timeout, many times:
// every one must be settled (none hangs) and the pool must end empty of busy instances.
func TestTimeoutKillsOnlyItsInvocation(t *testing.T) {
	p := newPool(t, "0", 1, 1)
	defer p.Close()
	for i := range 4 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := p.Invoke(ctx, invocation.Request{Payload: []byte(`{"MS":995}`)})
		cancel()
		if err != nil {
			t.Fatalf("invoke %d: %v (hung or failed)", i, err)
		}
		if resp.FunctionError != "" && resp.FunctionError != "Sandbox.Timedout" {
			t.Errorf("invoke %d: %s %s", i, resp.FunctionError, resp.Payload)
		}
	}
	if st := p.Stats(); st.Busy != 0 {
		t.Errorf("%d busy instances after every invocation ended", st.Busy)
	}
}

// TestRequestIDChosenByCaller checks that an invocation runs under the id its caller chose (the
// Invoke API names an Event's id in its 202 before the function runs), and under a new one when
// none was chosen.
func TestRequestIDChosenByCaller(t *testing.T) {
	p := newPool(t, "0", 0, 5)
	t.Cleanup(p.Close)
	tests := []struct{ name, id string }{
		{"chosen", "11111111-2222-4333-8444-555555555555"},
		{"new", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := p.Invoke(t.Context(), invocation.Request{RequestID: tt.id, Payload: []byte(`{"MS":0}`)})
			if err != nil {
				t.Fatal(err)
			}
			if tt.id != "" && resp.RequestID != tt.id || resp.RequestID == "" {
				t.Errorf("RequestID = %q, want %q (or a new one when none was chosen)", resp.RequestID, tt.id)
			}
			if !strings.Contains(resp.Log, "START RequestId: "+resp.RequestID+" ") {
				t.Errorf("log does not run under %s:\n%s", resp.RequestID, resp.Log)
			}
		})
	}
}
