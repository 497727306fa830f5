//go:build amd64 && linux

package jit

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/internal/conformance"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// conformanceHelpers is DefaultHelpers with helper 5 returning its first
// argument, as the suite expects, counting calls into *calls.
func conformanceHelpers(calls *uint64) userspacevm.Helpers {
	h := userspacevm.DefaultHelpers()
	h[asm.FnKtimeGetNs] = func(_ *userspacevm.Call, r1, _, _, _, _ uint64) uint64 {
		*calls++
		return r1
	}
	return h
}

// prepareConformance verifies code as the conformance type and prepares it.
func prepareConformance(t *testing.T, name string, code []byte, memLen int, h userspacevm.Helpers) *userspacevm.Prepared {
	t.Helper()
	insns, err := program.FromBytes(code)
	if err != nil {
		t.Fatal(err)
	}
	prog := &program.Program{Name: name, Type: program.Conformance, Insns: insns}
	v, err := verifier.Verify(prog, &verifier.Options{ContextSize: memLen})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	p, err := userspacevm.PrepareVerified(v, &userspacevm.LoadOptions{Helpers: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// runEngine runs p once on engine over a copy of mem and returns R0, the
// memory afterwards and the runner (closed at the end of the test).
func runEngine(t *testing.T, e userspacevm.Engine, p *userspacevm.Prepared, mem []byte) (uint64, []byte, userspacevm.Runner) {
	t.Helper()
	r, err := e.Load(p)
	if err != nil {
		t.Fatalf("%s: load: %v", e.Name(), err)
	}
	t.Cleanup(func() { r.Close() })
	buf := make([]byte, len(mem), max(16, len(mem))) // 8-byte aligned, as exec makes it
	copy(buf, mem)
	got, err := r.Run(buf, nil)
	if err != nil {
		t.Fatalf("%s: run: %v", e.Name(), err)
	}
	return got, buf, r
}

// TestConformance runs every conformance test on the JIT and the
// interpreter: R0 must equal the file's result and each other, the memory
// afterwards must be the same, and the JIT must exit to Go exactly once
// per helper call the interpreter made (helper 5 counts its calls).
func TestConformance(t *testing.T) {
	cases := conformance.Load(t)
	if len(cases) != 312 {
		t.Errorf("%d conformance tests at ISA v4, want 312", len(cases))
	}
	for _, c := range cases {
		t.Run(strings.TrimSuffix(c.Name, ".data"), func(t *testing.T) {
			var calls uint64
			p := prepareConformance(t, c.Name, c.Code, len(c.Mem), conformanceHelpers(&calls))
			want, wantMem, _ := runEngine(t, userspacevm.Interp{}, p, c.Mem)
			interpCalls := calls
			calls = 0
			got, gotMem, r := runEngine(t, Engine{}, p, c.Mem)
			if got != c.Result || got != want {
				t.Errorf("jit r0 = %#x, interpreter %#x, file %#x", got, want, c.Result)
			}
			if string(gotMem) != string(wantMem) {
				t.Errorf("memory after run:\njit    %x\ninterp %x", gotMem, wantMem)
			}
			if exits := r.(*Runner).Exits(); exits != interpCalls || calls != interpCalls {
				t.Errorf("jit exited %d times for %d helper calls (interpreter made %d)", exits, calls, interpCalls)
			}
			// An exclusive runner's atomics drop the bus lock, not their
			// effect: one runner alone gives the same results.
			got, gotMem, _ = runEngine(t, Engine{Exclusive: true}, p, c.Mem)
			if got != want || string(gotMem) != string(wantMem) {
				t.Errorf("exclusive jit r0 = %#x, memory %x; interpreter %#x, memory %x", got, gotMem, want, wantMem)
			}
		})
	}
}
