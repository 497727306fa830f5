package program

import (
	"slices"
	"testing"

	"github.com/cilium/ebpf/asm"
)

func TestReachable(t *testing.T) {
	load := asm.LoadMem(asm.R2, asm.R1, 28, asm.Word) // the guarded access
	for _, tc := range []struct {
		name  string
		insns asm.Instructions
		dead  []int // raw slots no path reaches
	}{
		{"field exists", asm.Instructions{asm.Mov.Imm(asm.R3, 1), asm.JEq.Imm(asm.R3, 0, "out"), load,
			asm.Return().WithSymbol("out")}, nil},
		{"field missing", asm.Instructions{asm.Mov.Imm(asm.R3, 0), asm.JEq.Imm(asm.R3, 0, "out"), load,
			asm.Return().WithSymbol("out")}, []int{2}},
		{"missing, jne", asm.Instructions{asm.Mov.Imm(asm.R3, 0), asm.JNE.Imm(asm.R3, 0, "load"), asm.Return(),
			load.WithSymbol("load"), asm.Return()}, []int{3, 4}},
		{"32-bit", asm.Instructions{asm.Mov.Imm32(asm.R3, 0), asm.JEq.Imm32(asm.R3, 0, "out"), load,
			asm.Return().WithSymbol("out")}, []int{2}},
		{"through a register", asm.Instructions{asm.Mov.Imm(asm.R3, 0), asm.Mov.Imm(asm.R4, 0),
			asm.JEq.Reg(asm.R3, asm.R4, "out"), load, asm.Return().WithSymbol("out")}, []int{3}},
		{"lddw", asm.Instructions{asm.LoadImm(asm.R3, 1<<40, asm.DWord), asm.JGT.Imm(asm.R3, 1, "out"), load,
			asm.Return().WithSymbol("out")}, []int{3}},
		{"signed", asm.Instructions{asm.Mov.Imm(asm.R3, -1), asm.JSGT.Imm(asm.R3, 0, "load"), asm.Return(),
			load.WithSymbol("load"), asm.Return()}, []int{3, 4}},
		{"jset", asm.Instructions{asm.Mov.Imm(asm.R3, 4), asm.JSet.Imm(asm.R3, 3, "load"), asm.Return(),
			load.WithSymbol("load"), asm.Return()}, []int{3, 4}},
		{"clobbered by a call", asm.Instructions{asm.Mov.Imm(asm.R3, 0), asm.FnKtimeGetNs.Call(),
			asm.JEq.Imm(asm.R3, 0, "out"), load, asm.Return().WithSymbol("out")}, nil},
		{"overwritten by a load", asm.Instructions{asm.Mov.Imm(asm.R3, 0), asm.LoadMem(asm.R3, asm.R1, 0, asm.Word),
			asm.JEq.Imm(asm.R3, 0, "out"), load, asm.Return().WithSymbol("out")}, nil},
		{"paths disagree", asm.Instructions{asm.Mov.Imm(asm.R3, 0), asm.LoadMem(asm.R4, asm.R1, 0, asm.Word),
			asm.JEq.Imm(asm.R4, 0, "join"), asm.Mov.Imm(asm.R3, 1), asm.JEq.Imm(asm.R3, 0, "out").WithSymbol("join"),
			load, asm.Return().WithSymbol("out")}, nil},
		{"paths agree", asm.Instructions{asm.Mov.Imm(asm.R3, 0), asm.LoadMem(asm.R4, asm.R1, 0, asm.Word),
			asm.JEq.Imm(asm.R4, 0, "join"), asm.Mov.Imm(asm.R3, 0), asm.JEq.Imm(asm.R3, 0, "out").WithSymbol("join"),
			load, asm.Return().WithSymbol("out")}, []int{5}},
		{"callee", asm.Instructions{asm.Mov.Imm(asm.R1, 0), asm.Call.Label("f"), asm.Return(),
			asm.JEq.Imm(asm.R1, 0, "out").WithSymbol("f"), load, asm.Return().WithSymbol("out")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			insns, err := Decode(tc.insns)
			if err != nil {
				t.Fatal(err)
			}
			var dead []int
			for pc, live := range reachable(insns) {
				if !live && insns[pc].Op != LdDWHi {
					dead = append(dead, pc)
				}
			}
			if !slices.Equal(dead, tc.dead) {
				t.Errorf("dead slots %v, want %v", dead, tc.dead)
			}
		})
	}
}

// TestCompareOrder checks that decideJump's arithmetic on the Op enum
// matches the order of the conditional jumps it assumes.
func TestCompareOrder(t *testing.T) {
	names := []string{"jeq", "jne", "jgt", "jge", "jlt", "jle", "jsgt", "jsge", "jslt", "jsle", "jset"}
	for k, name := range names {
		for _, tc := range []struct {
			op   Op
			want string
		}{
			{JEqImm + Op(2*k), name + "_imm"}, {JEqImm + Op(2*k+1), name + "_reg"},
			{JEq32Imm + Op(2*k), name + "32_imm"}, {JEq32Imm + Op(2*k+1), name + "32_reg"},
		} {
			if got := tc.op.String(); got != tc.want {
				t.Errorf("op %d is %q, want %q", tc.op, got, tc.want)
			}
		}
	}
}
