package verifier

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
)

// TestAtomicFetchOfSpilledPointer: FuzzJITvsInterp found that a fetch from
// a stack slot holding a spilled pointer came back as a scalar, so an
// unprivileged program could return the context's address. The fetch now
// gives the pointer back (privileged) or is refused (unprivileged).
func TestAtomicFetchOfSpilledPointer(t *testing.T) {
	fetchAdd := asm.FetchAdd.Mem(asm.RFP, asm.R2, asm.DWord, -8)
	insns := asm.Instructions{
		asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R2, 0),
		fetchAdd,
		asm.Mov.Reg(asm.R0, asm.R2),
		asm.Return(),
	}
	p := &program.Program{Type: program.SocketFilter, Insns: insns, License: "GPL"}
	_, err := Verify(p, &Options{Unprivileged: true})
	if err == nil || !strings.Contains(err.Error(), "attempt to corrupt spilled pointer on stack") {
		t.Fatalf("unprivileged: %v", err)
	}
	if _, err := Verify(p, nil); err != nil {
		t.Fatalf("privileged: %v", err)
	}
}
