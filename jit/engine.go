package jit

import (
	"fmt"

	"github.com/dropmon/dropmon/userspacevm"
)

// ErrNotSupported is matched by errors for what the JIT cannot do here:
// another architecture than x86-64 on Linux, or a process that may not
// map executable memory. Callers fall back to the interpreter. It also
// matches userspacevm.ErrNotSupported.
var ErrNotSupported = fmt.Errorf("jit not supported: %w", userspacevm.ErrNotSupported)

// Engine is the JIT as a userspacevm.Engine.
type Engine struct {
	// Exclusive promises that each runner Load returns is, while it runs,
	// the only writer of the program's maps: one runner per prepared
	// program, and no updates from Go meanwhile (reads are fine, as an
	// aligned 8-byte load on x86-64 never sees half a write). Atomic
	// instructions then compile without the bus lock. dropmon's monitor
	// runs its one reader this way.
	Exclusive bool
}

// Name implements userspacevm.Engine.
func (Engine) Name() string { return "jit" }

// Load implements userspacevm.Engine: it compiles p and returns a *Runner
// that owns the code. It refuses programs the verifier did not accept.
func (e Engine) Load(p *userspacevm.Prepared) (userspacevm.Runner, error) {
	code, err := compileCode(p, e.Exclusive)
	if err != nil {
		return nil, err
	}
	r, err := newRunner(p, code)
	if err != nil {
		code.Close()
		return nil, err
	}
	r.ownCode = true
	return r, nil
}
