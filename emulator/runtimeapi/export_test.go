package runtimeapi

// SetBeforeEvent makes s call f just before it writes an event: a test's way into the moment
// between a /next being chosen for the event and the event going out, which no client can see.
func SetBeforeEvent(s *Server, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beforeEvent = f
}

// SetOnWait makes s call f each time a /next is put in line to wait for an event.
func SetOnWait(s *Server, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onWait = f
}
