//go:build !(amd64 && linux)

package jit

import (
	"fmt"
	"runtime"

	"github.com/dropmon/dropmon/userspacevm"
)

// Code is a compiled program; on this platform there is none.
type Code struct{}

// Compile returns an error wrapping ErrNotSupported: the JIT emits
// x86-64 code for Linux only.
func Compile(p *userspacevm.Prepared) (*Code, error) {
	return nil, fmt.Errorf("jit: %s/%s: %w", runtime.GOOS, runtime.GOARCH, ErrNotSupported)
}

// Bytes returns nil.
func (c *Code) Bytes() []byte { return nil }

// Addrs returns nil.
func (c *Code) Addrs() []int { return nil }

// Close does nothing.
func (c *Code) Close() error { return nil }

// Runner is never made on this platform.
type Runner struct{ ownCode bool }

func newRunner(*userspacevm.Prepared, *Code) (*Runner, error) {
	return nil, fmt.Errorf("jit: %s/%s: %w", runtime.GOOS, runtime.GOARCH, ErrNotSupported)
}

// NewRunner returns an error wrapping ErrNotSupported.
func NewRunner(p *userspacevm.Prepared, code *Code) (*Runner, error) { return newRunner(p, code) }

// Run is never reached.
func (r *Runner) Run([]byte, *userspacevm.RunContext) (uint64, error) {
	return 0, ErrNotSupported
}

// Exits returns 0.
func (r *Runner) Exits() uint64 { return 0 }

// Close does nothing.
func (r *Runner) Close() error { return nil }
