package gobuild

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// killGrace is how long a cancelled go command and the tools it started have between SIGTERM and
// SIGKILL. A build keeps nothing worth saving, so it is short.
const killGrace = time.Second

// run runs cmd (a go command, with Dir, Env and outputs set) in a process group of its own and
// returns once every process of that group has exited: the go command and the compilers, linkers
// and C compilers it started. When ctx ends first, the group gets SIGTERM, then SIGKILL after
// killGrace, and run returns ctx.Err().
//
// exec.CommandContext with cmd.Cancel and cmd.WaitDelay is not enough here: Wait returns when the
// go command has exited, and the go command dies on SIGTERM without waiting for its children, so
// its compile processes would run on, unseen. Instead every process of the build inherits the
// write end of a pipe (as fd 3); reading EOF from it means the last of them has exited.
func run(ctx context.Context, cmd *exec.Cmd) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("create pipe: %w", err)
	}
	defer r.Close()
	cmd.ExtraFiles = append(cmd.ExtraFiles, w)
	// Its own group, so that Ctrl-C in the terminal reaches devserver alone (which then cancels ctx)
	// and so that stopping the build reaches every tool it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		io.Copy(io.Discard, r) //nolint:errcheck // EOF or an error both mean no writer is left.
		close(exited)
	}()
	// The go command is not waited for until the group has exited, so its pid stays taken and the
	// group id cannot name another group while it is signalled.
	pgid := cmd.Process.Pid
	select {
	case <-exited:
	case <-ctx.Done():
		syscall.Kill(-pgid, syscall.SIGTERM) //nolint:errcheck // already gone is fine.
		select {
		case <-exited:
		case <-time.After(killGrace):
			syscall.Kill(-pgid, syscall.SIGKILL) //nolint:errcheck // already gone is fine.
			<-exited
		}
	}
	err = cmd.Wait()
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
