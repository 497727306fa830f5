package kernelverdict

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// onSignal runs undo functions on SIGINT and SIGTERM, then lets the
// signal kill the process as it would have: what a Loader changes (the
// sysctl, a copied executable) must not outlive an interrupted run.
var onSignal struct {
	mu    sync.Mutex
	next  int
	undo  map[int]func()
	sigs  chan os.Signal
	fired bool
}

// atSignal registers f and returns a function that unregisters it.
func atSignal(f func()) (cancel func()) {
	s := &onSignal
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.undo == nil {
		s.undo = map[int]func(){}
	}
	if len(s.undo) == 0 {
		s.sigs = make(chan os.Signal, 1)
		signal.Notify(s.sigs, syscall.SIGINT, syscall.SIGTERM)
		go watch(s.sigs)
	}
	id := s.next
	s.next++
	s.undo[id] = f
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.undo[id]; !ok || s.fired {
			return
		}
		delete(s.undo, id)
		if len(s.undo) == 0 {
			signal.Stop(s.sigs)
			close(s.sigs)
		}
	}
}

func watch(sigs chan os.Signal) {
	sig, ok := <-sigs
	if !ok {
		return
	}
	s := &onSignal
	s.mu.Lock() // held until the process dies: nothing may start again
	s.fired = true
	for _, f := range s.undo {
		f()
	}
	signal.Reset(sig)
	syscall.Kill(os.Getpid(), sig.(syscall.Signal))
	select {}
}
