// Command fakedebugger stands in for Delve in the pool's tests: it starts the program named by its
// last argument in a process group of its own and serves on after it has exited, as Delve does,
// and on SIGTERM exits without ending it, the worst a debugger can do to whoever cleans up.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

func main() {
	cmd := exec.Command(os.Args[len(os.Args)-1])
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "fakedebugger:", err)
		os.Exit(1)
	}
	fmt.Println("fakedebugger: started", cmd.Process.Pid)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-sig:
		os.Exit(0)
	case err := <-exited:
		fmt.Println("fakedebugger: program exited:", err)
	}
	<-sig
}
