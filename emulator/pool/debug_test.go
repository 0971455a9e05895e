package pool_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/devserver/devserver/emulator/console"
	"github.com/devserver/devserver/emulator/invocation"
	"github.com/devserver/devserver/emulator/pool"
	"github.com/devserver/devserver/gobuild"
	"github.com/devserver/devserver/internal/testkit"
	"github.com/devserver/devserver/project"
)

// TestDebugger runs the slow function under a stand-in debugger that starts it in a process group
// of its own and leaves it behind on SIGTERM: no clock ends a debugged invocation, the pool keeps
// one instance, a second build of the function waits for the first one's instance to end (the
// debugger's address is one), and closing leaves no debugger or debuggee running.
func TestDebugger(t *testing.T) {
	dir := t.TempDir()
	slow, fake := filepath.Join(dir, "slow", "bootstrap"), filepath.Join(dir, "fakedebugger")
	for pkg, out := range map[string]string{"./testdata/slow": slow, "./testdata/fakedebugger": fake} {
		if err := gobuild.Build(t.Context(), gobuild.Options{Dir: ".", Package: pkg, Output: out}); err != nil {
			t.Fatal(err)
		}
	}
	d := pool.NewDebugger(fake)
	newPool := func() *pool.Pool {
		return pool.New(pool.Config{
			Function:     &project.Function{Name: "Slow", MemoryMB: 128, TimeoutSec: 1, Environment: map[string]string{"INIT_MS": "0"}},
			Binary:       slow,
			MaxInstances: 5,
			Region:       "us-east-1",
			Account:      "123456789012",
			Terminal:     console.NewTerminal(io.Discard),
			Debugger:     d,
		})
	}
	first := newPool()
	defer first.Close()

	// Past the function's 1 s timeout and past the caller's deadline, twice at once.
	results := make(chan string, 2)
	for range 2 {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			resp, err := first.Invoke(ctx, invocation.Request{Payload: []byte(`{"MS":1500}`)})
			switch {
			case err != nil:
				results <- "error " + err.Error()
			case resp.FunctionError != "":
				results <- resp.FunctionError + " " + string(resp.Payload)
			default:
				results <- string(resp.Payload)
			}
		}()
	}
	for range 2 {
		if got := <-results; got != `"done"` {
			t.Errorf("debugged invocation = %s, want \"done\": no timeout may end it", got)
		}
	}
	if st := first.Stats(); st.Started != 1 {
		t.Errorf("%d instances started for two invocations at once, want 1", st.Started)
	}

	// A client that hangs up is still let go.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(200 * time.Millisecond)
		cancel()
	}()
	if _, err := first.Invoke(ctx, invocation.Request{Payload: []byte(`{"MS":1500}`)}); !errors.Is(err, context.Canceled) {
		t.Errorf("invoke cancelled by its caller = %v, want context.Canceled", err)
	}

	debuggers := testkit.Children(os.Getpid())
	var debuggees []int
	for _, pid := range debuggers {
		debuggees = append(debuggees, testkit.Children(pid)...)
	}
	if len(debuggers) != 1 || len(debuggees) != 1 {
		t.Fatalf("%d debuggers running %d functions, want 1 and 1", len(debuggers), len(debuggees))
	}

	second := newPool()
	defer second.Close()
	warmed := make(chan error, 1)
	go func() {
		_, err := second.Warm()
		warmed <- err
	}()
	select {
	case err := <-warmed:
		t.Fatalf("the second build started an instance (%v) while the first one's held the debugger", err)
	case <-time.After(1500 * time.Millisecond): // the first one's invocation ends meanwhile
	}
	first.Close()
	select {
	case err := <-warmed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the second build did not start once the first one's instance had ended")
	}
	for _, pid := range append(debuggers, debuggees...) {
		if testkit.Alive(pid) {
			t.Errorf("process %d of the first build outlived its pool", pid)
		}
	}

	// A function that exits ends its instance, though the debugger serves on.
	exitCtx, cancelExit := context.WithCancel(context.Background()) // a deadline would not be kept
	defer time.AfterFunc(20*time.Second, cancelExit).Stop()
	resp, err := second.Invoke(exitCtx, invocation.Request{Payload: []byte(`{"Exit":true}`)})
	if err != nil || resp.FunctionError != "Runtime.ExitError" {
		t.Errorf("invoke of a function that exits = %v, %+v; want Runtime.ExitError", err, resp)
	}
	second.Close()
	if left := testkit.Children(os.Getpid()); len(left) > 0 {
		t.Errorf("processes %v outlived the second pool", left)
	}
}
