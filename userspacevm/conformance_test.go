package userspacevm

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/internal/conformance"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/verifier"
)

// TestConformanceData runs the suite in-process on the interpreter, the
// same tests cmd/dropmon's test runs through run.py and `dropmon exec`.
func TestConformanceData(t *testing.T) {
	cases := conformance.Load(t)
	if len(cases) != 312 {
		t.Errorf("%d conformance tests at ISA v4, want 312", len(cases))
	}
	helpers := DefaultHelpers()
	helpers[asm.FnKtimeGetNs] = func(_ *Call, r1, _, _, _, _ uint64) uint64 { return r1 }
	for _, c := range cases {
		t.Run(strings.TrimSuffix(c.Name, ".data"), func(t *testing.T) {
			insns, err := program.FromBytes(c.Code)
			if err != nil {
				t.Fatal(err)
			}
			// Verified as the conformance type first, as dropmon exec does.
			prog := &program.Program{Name: c.Name, Type: program.Conformance, Insns: insns}
			v, err := verifier.Verify(prog, &verifier.Options{ContextSize: len(c.Mem)})
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			p, err := PrepareVerified(v, &LoadOptions{Helpers: helpers})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			it, err := NewInterpreter(p, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer it.Close()
			mem := make([]byte, len(c.Mem), max(16, len(c.Mem))) // 8-byte aligned, as exec makes it
			copy(mem, c.Mem)
			got, err := it.Run(mem, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.Result {
				t.Errorf("r0 = %#x, want %#x", got, c.Result)
			}
		})
	}
}
