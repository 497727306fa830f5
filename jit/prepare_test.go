//go:build amd64 && linux

package jit

import (
	"testing"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// prepare verifies prog for a context of ctxSize bytes and prepares it
// with its own maps and the default helpers; the Prepared is closed when
// the test ends.
func prepare(tb testing.TB, prog *program.Program, ctxSize int) (*verifier.Verified, *userspacevm.Prepared) {
	tb.Helper()
	v, err := verifier.Verify(prog, &verifier.Options{ContextSize: ctxSize})
	if err != nil {
		tb.Fatalf("verify %s: %+v", prog.Name, err)
	}
	p, err := userspacevm.PrepareVerified(v, nil)
	if err != nil {
		tb.Fatalf("prepare %s: %v", prog.Name, err)
	}
	tb.Cleanup(func() {
		if err := p.Close(); err != nil {
			tb.Error(err)
		}
	})
	return v, p
}
