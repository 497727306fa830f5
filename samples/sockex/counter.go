package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/dropmon/dropmon/internal/afpacket"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/samples/sockex/protocount"
	"github.com/dropmon/dropmon/verifier"
)

// Engines and program versions the sample runs.
var (
	engines  = []string{"jit", "interp", "kernel"}
	versions = []string{"asm", "c"}
)

// config is what the flags choose.
type config struct {
	iface   string
	engine  string // jit, interp or kernel
	version string // asm or c
	// fallback lets the jit engine give way to the interpreter where it
	// cannot run (no executable memory): when --engine was not given.
	fallback bool
}

// counter counts the packets of one interface with the program on one
// engine.
type counter interface {
	// run does the counting until ctx ends: the user-space engines read
	// the ring and run the program over each packet; the kernel needs
	// nothing from user space.
	run(ctx context.Context) error
	// totals reads the program's map.
	totals() (protocount.Totals, error)
	// stats are the packet socket's counts (the ring's drops).
	stats() (afpacket.Stats, error)
	// runErrors counts the runs that failed (user space only), with the
	// last error.
	runErrors() (uint64, error)
	// engine names the engine that runs the program.
	engine() string
	close() error
}

// openCounter builds the program, has dropmon's verifier check it, and
// starts it on the configured engine on cfg.iface. The socket is opened
// in the calling thread's network namespace.
func openCounter(cfg config) (counter, error) {
	prog, err := buildProgram(cfg.version)
	if err != nil {
		return nil, err
	}
	// Every engine runs only what the verifier accepted; the kernel
	// checks it again.
	v, err := verifier.Verify(prog, nil)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", prog.Name, err)
	}
	switch cfg.engine {
	case "kernel":
		return openKernel(v, cfg.iface)
	case "jit", "interp":
		return openUser(v, cfg)
	}
	return nil, fmt.Errorf("engine %q: want one of jit, interp, kernel", cfg.engine)
}

// buildProgram returns the counter written with asm or in C.
func buildProgram(version string) (*program.Program, error) {
	switch version {
	case "asm":
		return protocount.Program(), nil
	case "c":
		return protocount.FromObject()
	}
	return nil, fmt.Errorf("program %q: want asm or c", version)
}

// adviseSocket adds advice to an error opening the packet socket.
// (afpacket's permission errors say what to do already.)
func adviseSocket(err error) error {
	if errors.Is(err, afpacket.ErrNoInterface) {
		return fmt.Errorf("%w (list the interfaces with: ip link)", err)
	}
	return err
}
