package emulator

import "github.com/devserver/devserver/emulator/pool"

// Debug runs one function under a debugger.
//
// That function is built for debugging (gobuild.Options.Debug), runs one instance at a time under
// the debugger, and is untimed while it may be stopped: no init timeout, no function timeout (it
// is told a deadline a day away) and no integration timeout (the fronts' deadline is not kept for
// it). Its instance starts once its build is served, so that a debugger can attach before the
// first request; after a save it starts again once the old build's instance has ended (a debugger
// attached to it is disconnected).
type Debug struct {
	// Function names the function to debug; a function the model does not have is not debugged.
	Function string
	// Command is the debugger's command line, to which the function binary's path is appended
	// (see DelveCommand).
	Command []string
}

// DelveCommand is Delve's command line for a function: headless, serving its JSON-RPC API (v2,
// what editors and `dlv connect` speak) on addr to any number of clients, and running the
// function at once (--continue) rather than waiting for a client before main, so that it answers
// whether or not a debugger is attached.
func DelveCommand(dlv, addr string) []string {
	return []string{dlv, "exec", "--headless", "--api-version", "2", "--accept-multiclient", "--listen", addr, "--continue"}
}

// debugged reports whether function is the one being debugged.
func (s *Server) debugged(function string) bool {
	return s.cfg.Debug != nil && s.cfg.Debug.Function == function
}

// debuggerFor is the pool.Debugger of function, nil unless it is the one being debugged.
func (s *Server) debuggerFor(function string) *pool.Debugger {
	if !s.debugged(function) {
		return nil
	}
	return s.debugger
}

// warmDebugged starts the instance of the debugged function when fresh brings it a new pool. The
// first build waits for it, so that the debugger listens once Ready is called; a reload starts it
// in the background, as it waits for the old build's instance to let go of the debugger's address.
func (s *Server) warmDebugged(fresh map[string]*entry, first bool) {
	if s.cfg.Debug == nil {
		return
	}
	e := fresh[s.cfg.Debug.Function]
	if e == nil || e.pool == nil {
		return
	}
	if first {
		e.pool.Warm() //nolint:errcheck // init failures are reported on invoke.
		return
	}
	s.warming.Go(func() { e.pool.Warm() }) //nolint:errcheck // as above.
}
