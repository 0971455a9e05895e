package gobuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// stuckCC makes the C compiler of every cgo build in this test a script that reports its pid on
// the returned channel, ignores SIGTERM and never ends: a build stuck in the middle, whose tool
// outlives the go command unless the whole process group is stopped.
func stuckCC(t *testing.T) <-chan int {
	t.Helper()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "started")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cc := filepath.Join(dir, "cc")
	script := "#!/bin/sh\ntrap '' TERM\necho $$ > '" + fifo + "'\nexec sleep 3600\n"
	if err := os.WriteFile(cc, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CC", cc)
	t.Setenv("CGO_ENABLED", "1")
	pids := make(chan int, 1)
	go func() {
		// Opening a FIFO waits for its first writer: the first time the go command runs the script.
		b, err := os.ReadFile(fifo)
		if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && perr == nil {
			pids <- pid
		}
	}()
	// Unblocks the reader when the build never got to the C compiler.
	t.Cleanup(func() {
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	return pids
}

const cgoMain = "package main\n\n// int answer(void) { return 42; }\nimport \"C\"\n\nfunc main() { println(C.answer()) }\n"

// pfExiting is the kernel's PF_EXITING process flag: the process is in exit and runs no more code.
const pfExiting = 0x4

// procStat returns the state, the process group and the flags of pid, from /proc/<pid>/stat.
func procStat(pid int) (state string, pgid int, flags uint64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", 0, 0, err
	}
	s := string(b)
	// The command name, in parentheses, may hold spaces: the fields that follow are fixed.
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 7 {
		return "", 0, 0, errors.New("short stat line: " + s)
	}
	if pgid, err = strconv.Atoi(fields[2]); err != nil {
		return "", 0, 0, err
	}
	flags, err = strconv.ParseUint(fields[6], 10, 64)
	return fields[0], pgid, flags, err
}

// groupMembers lists the processes of group pgid that can still run. Left out: zombies (dead,
// waiting for a parent to read their status), and processes already in exit, which have closed
// their files (so the build saw them go) but whose exit the kernel has not finished.
func groupMembers(t *testing.T, pgid int) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		state, g, flags, err := procStat(pid)
		if err == nil && g == pgid && state != "Z" && state != "X" && flags&pfExiting == 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestCancelStopsTheWholeBuild cancels a build while its C compiler runs (and ignores SIGTERM):
// the error is the context's, and no process of the build's group is left once the call returns.
func TestCancelStopsTheWholeBuild(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Fatal("these tests read /proc:", err)
	}
	tests := []struct {
		name  string
		build func(ctx context.Context, dir string) error
	}{
		{"Build", func(ctx context.Context, dir string) error {
			return Build(ctx, Options{Dir: dir, Package: "./cmd/fn", Output: filepath.Join(t.TempDir(), "fn")})
		}},
		{"BuildAll", func(ctx context.Context, dir string) error {
			// Two more functions that build without the C compiler, in the same go command.
			for _, name := range []string{"a", "b"} {
				if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(dir, name, "main.go"), []byte(goodMain), 0o644); err != nil {
					return err
				}
			}
			out := t.TempDir()
			var errs []error
			for _, r := range BuildAll(ctx, BuildAllOptions{Jobs: jobs(dir, out, "fn", "./cmd/fn", "a", "./a", "b", "./b")}) {
				if r.Name == "fn" && r.Err == nil {
					errs = append(errs, errors.New("the function stuck in its C compiler was built"))
				}
				errs = append(errs, r.Err) // the others may be built before the cancel: nil
			}
			return errors.Join(errs...)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			started := stuckCC(t)
			dir := module(t, cgoMain)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- tt.build(ctx, dir) }()
			var pid int
			select {
			case pid = <-started:
			case err := <-done:
				t.Fatalf("the build ended before it ran the C compiler: %v", err)
			}
			_, pgid, _, err := procStat(pid)
			if err != nil {
				t.Fatal(err)
			}
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pgid))
			t.Logf("the C compiler runs in the group of %q", bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
			if pgid == syscall.Getpgrp() {
				t.Fatalf("the build runs in the test's own process group %d", pgid)
			}
			cancel()
			err = <-done
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			var berr *Error
			if errors.As(err, &berr) {
				t.Errorf("a cancelled build is a *gobuild.Error: %v", err)
			}
			if left := groupMembers(t, pgid); len(left) > 0 {
				t.Errorf("processes %v of the build's group %d still run after it returned", left, pgid)
			}
		})
	}
}

func TestDepsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := Deps(ctx, module(t, goodMain), "./cmd/fn"); !errors.Is(err, context.Canceled) {
		t.Errorf("Deps with a cancelled context: err = %v, want context.Canceled", err)
	}
}
