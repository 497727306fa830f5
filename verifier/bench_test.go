package verifier

import (
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/dropmon/dropmon/program"
)

// boundedLoop counts to n with a six-instruction body: every iteration's
// state differs, so nothing prunes and the simulation unrolls all of it.
func boundedLoop(n int32) *program.Program {
	return &program.Program{Name: "bounded_loop", Type: program.SocketFilter, License: "GPL", Insns: asm.Instructions{
		asm.Mov.Imm(asm.R1, 0),
		asm.Add.Imm(asm.R1, 1).WithSymbol("loop"),
		asm.Mov.Reg(asm.R2, asm.R1),
		asm.And.Imm(asm.R2, 7),
		asm.Mov.Reg(asm.R3, asm.R2),
		asm.Add.Imm(asm.R3, 1),
		asm.JLT.Imm(asm.R1, n, "loop"),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	}}
}

// BenchmarkVerify verifies a bounded loop of 150,000 iterations: over
// 900,000 processed instructions, which must take under a second.
func BenchmarkVerify(b *testing.B) {
	p := boundedLoop(150_000)
	b.ReportAllocs()
	var processed int
	for b.Loop() {
		v, err := Verify(p, nil)
		if err != nil {
			b.Fatal(err)
		}
		processed = v.Processed()
	}
	if processed < 900_000 {
		b.Fatalf("processed %d instructions, want at least 900000", processed)
	}
	b.ReportMetric(float64(processed), "processed/op")
}

func TestBoundedLoopBudget(t *testing.T) {
	v, err := Verify(boundedLoop(150_000), nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.Processed() < 900_000 || v.Processed() > 1_000_000 {
		t.Fatalf("processed %d, want 900000..1000000", v.Processed())
	}
	_, err = Verify(boundedLoop(200_000), nil)
	if err == nil || !contains(err.Error(), "BPF program is too large. Processed 1000001 insn") {
		t.Fatalf("200000 iterations: got %v, want the complexity limit", err)
	}
}
