// Package testkit holds what the tests of several packages share: golden files with one -update
// flag and one diff format, the processes a process started, throw-away modules, and a buffer
// that many goroutines write. It is imported by tests only; production code has no place here.
package testkit

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// update is the one -update flag of every test binary that checks golden files.
var update = flag.Bool("update", false, "rewrite golden files under testdata/ instead of comparing")

// Golden compares got with the golden file, or rewrites the file when the test runs with -update.
func Golden(t testing.TB, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read golden file (create it with go test -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (- golden, + got; accept with go test -update):\n%s", file, Diff(string(want), string(got)))
	}
}

// Diff shows the lines only in want (-) and only in got (+), with two lines of context, from a
// longest-common-subsequence alignment; golden files are small enough for O(n·m).
func Diff(want, got string) string {
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var lines []line
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			lines = append(lines, line{' ', a[i]})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			lines = append(lines, line{'-', a[i]})
			i++
		default:
			lines = append(lines, line{'+', b[j]})
			j++
		}
	}
	var out strings.Builder
	last := -1
	for k, l := range lines {
		near := false
		for d := max(0, k-2); d <= min(len(lines)-1, k+2); d++ {
			near = near || lines[d].op != ' '
		}
		if !near {
			continue
		}
		if last >= 0 && k > last+1 {
			out.WriteString("  ...\n")
		}
		fmt.Fprintf(&out, "%c %s\n", l.op, l.text)
		last = k
	}
	return out.String()
}

// Proc is one process as /proc/<pid>/stat shows it.
type Proc struct {
	PID, PPID, PGID, SID int
	State                byte // 'R', 'S', 'Z' (a zombie: exited, not yet reaped), ...
	Comm                 string
}

// Procs lists every process on the machine for which keep is true.
func Procs(keep func(Proc) bool) []Proc {
	var out []Proc
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid pgrp session ...; comm may hold spaces and parentheses.
		s := string(stat)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) < 4 {
			continue
		}
		p := Proc{PID: pid, Comm: s[open+1 : end], State: f[0][0]}
		p.PPID, _ = strconv.Atoi(f[1])
		p.PGID, _ = strconv.Atoi(f[2])
		p.SID, _ = strconv.Atoi(f[3])
		if keep(p) {
			out = append(out, p)
		}
	}
	return out
}

// Children lists the live processes whose parent is pid. Zombies do not count: they have exited
// and hold nothing but their exit status.
func Children(pid int) []int {
	var out []int
	for _, p := range Procs(func(p Proc) bool { return p.PPID == pid && p.State != 'Z' }) {
		out = append(out, p.PID)
	}
	return out
}

// Alive reports whether pid is a live (not zombie) process.
func Alive(pid int) bool {
	return len(Procs(func(p Proc) bool { return p.PID == pid && p.State != 'Z' })) > 0
}

// RepoRoot is the root of this repository (where go.mod is), found from this file.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("find the repository root: no caller information")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// WriteFiles writes files (path relative to dir → content) under dir, making folders.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Module writes a throw-away copy of this repository's module into a fresh temporary folder:
// its go.mod and go.sum (so aws-lambda-go and the project's own packages resolve offline from the
// module cache) plus files. The folder's symlinks are resolved, so paths compare equal to the
// ones the go command and the watcher report.
func Module(t testing.TB, files map[string]string) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	root := RepoRoot(t)
	all := map[string]string{}
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		all[f] = string(b)
	}
	for name, content := range files {
		all[name] = content
	}
	WriteFiles(t, dir, all)
	return dir
}

// Buffer is a bytes.Buffer that many goroutines may write while a test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// WriteString appends s.
func (b *Buffer) WriteString(s string) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.WriteString(s)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
