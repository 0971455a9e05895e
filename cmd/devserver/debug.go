package main

import (
	"cmp"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/devserver/devserver/emulator"
	"github.com/devserver/devserver/project"
)

// DelveVersion is the Delve release devserver is tested with, and the one the message for a
// missing dlv says to install.
const DelveVersion = "v1.27.2"

// debugHost is where Delve listens: its API runs any code as the user, so only this machine may
// reach it, whatever --host says.
const debugHost = "127.0.0.1"

// debugConfig turns --debug FUNCTION and --debug-port into the emulator's Debug, checking all
// that can be checked before anything is built: the function, the port, and that dlv is there.
// It returns nil when --debug is not given, and the address Delve will listen on.
func debugConfig(s settings, p *project.Project) (*emulator.Debug, string, error) {
	name := s.v.GetString("debug")
	if name == "" {
		return nil, "", nil
	}
	if p.Function(name) == nil {
		names := make([]string, len(p.Functions))
		for i, f := range p.Functions {
			names[i] = f.Name
		}
		from, hint := "--debug", ""
		if _, ok := os.LookupEnv(envVar("debug")); ok && !s.flagChanged("debug") {
			from = envVar("debug")
			if _, err := strconv.ParseBool(name); err == nil {
				hint = "\n" + envVar("debug") + " names a function to debug; " + envVar("verbose") + " logs more"
			}
		}
		return nil, "", fmt.Errorf("%s %s: no function %q in %s (its functions: %s)%s", from, name, name, p.ConfigFile, strings.Join(names, ", "), hint)
	}
	if f := p.Function(name); f.Prebuilt != "" {
		return nil, "", fmt.Errorf("--debug %s: it runs a bootstrap taken as it is from %s, built without what a debugger needs; serve it from its source (config.yaml) to debug it", name, cmp.Or(f.PrebuiltFrom, f.Prebuilt))
	}
	port, err := s.port("debug-port")
	if err != nil {
		return nil, "", err
	}
	// Said now rather than as Delve's exit after the build; a free one is picked here for 0, since
	// the port must be known to say how to attach.
	ln, err := net.Listen("tcp", net.JoinHostPort(debugHost, strconv.Itoa(port)))
	if err != nil {
		return nil, "", fmt.Errorf("listen for the debugger: %w\nanother program (another debug session?) has port %d: choose another with --debug-port, or --debug-port 0 for any free port", err, port)
	}
	addr := ln.Addr().String()
	ln.Close()
	dlv, err := exec.LookPath("dlv")
	if err != nil {
		return nil, "", fmt.Errorf("find dlv: %w\n--debug %s runs the function under Delve; install it with\n  go install github.com/go-delve/delve/cmd/dlv@%s\nand put $(go env GOPATH)/bin on PATH", err, name, DelveVersion)
	}
	return &emulator.Debug{Function: name, Command: emulator.DelveCommand(dlv, addr)}, addr, nil
}

// printAttach says how to attach a debugger to the function run --debug runs under Delve.
func printAttach(w io.Writer, d *emulator.Debug, addr string) {
	if d == nil {
		return
	}
	host, port, _ := net.SplitHostPort(addr)
	fmt.Fprintf(w, `Debugging %s under Delve on %s: its timeouts and the API's integration timeout are off for it.
Attach with: dlv connect %s
or from VS Code (.vscode/launch.json):
    {
      "name": "Attach to %s",
      "type": "go",
      "request": "attach",
      "mode": "remote",
      "host": %q,
      "port": %s
    }
`, d.Function, addr, addr, d.Function, host, port)
}
