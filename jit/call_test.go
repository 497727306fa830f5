//go:build amd64 && linux

package jit

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/cilium/ebpf/asm"
)

// TestAtomicDifferential runs every atomic operation, both widths, with
// R7 (R12, a SIB base) as the address and R9 (R14) as the operand; the
// result mixes R0, the operand register and the memory.
func TestAtomicDifferential(t *testing.T) {
	ops := []asm.AtomicOp{asm.AddAtomic, asm.FetchAdd, asm.OrAtomic, asm.FetchOr, asm.AndAtomic, asm.FetchAnd, asm.XorAtomic, asm.FetchXor, asm.Xchg, asm.CmpXchg}
	mem := make([]byte, 16)
	binary.LittleEndian.PutUint64(mem[8:], 0xf0f0_0000_ffff_1234)
	for _, op := range ops {
		for _, size := range []asm.Size{asm.Word, asm.DWord} {
			t.Run(fmt.Sprintf("%v/%v", op, size), func(t *testing.T) {
				for _, r0 := range []uint64{0xf0f0_0000_ffff_1234, 0xffff_1234, 5} {
					for _, v := range []uint64{0x0f0f_00ff_0000_4321, 1, 0xffff_ffff_ffff_ffff} {
						diffRun(t, asm.Instructions{
							asm.Mov.Reg(asm.R7, asm.R1), lddw(asm.R9, v), lddw(asm.R0, r0),
							op.Mem(asm.R7, asm.R9, size, 8),
							asm.Mul.Imm(asm.R9, 3), asm.Add.Reg(asm.R0, asm.R9),
							asm.LoadMem(asm.R2, asm.R7, 8, asm.DWord), asm.Xor.Reg(asm.R0, asm.R2),
							asm.Return(),
						}, mem)
					}
				}
			})
		}
	}
}

// chain is a program of depth frames: each frame writes its stack,
// sets R6-R9, calls the next, then checks that its R6-R9 and stack
// survived by adding them into R0. The deepest frame calls helper 5, so
// helper exits happen from inside nested frames.
func chain(depth int) asm.Instructions {
	var insns asm.Instructions
	for i := 1; i <= depth; i++ {
		k := int32(i * 1000)
		first := asm.Mov.Imm(asm.R6, k+6)
		if i > 1 {
			first = first.WithSymbol(fmt.Sprintf("f%d", i))
		}
		insns = append(insns, first,
			asm.Mov.Imm(asm.R7, k+7), asm.Mov.Imm(asm.R8, k+8), asm.Mov.Imm(asm.R9, k+9),
			stdw(asm.RFP, -8, k+10), stdw(asm.RFP, -48, k+11))
		if i < depth {
			insns = append(insns, asm.Call.Label(fmt.Sprintf("f%d", i+1)))
		} else {
			insns = append(insns, asm.Mov.Imm(asm.R1, k), asm.FnKtimeGetNs.Call())
		}
		insns = append(insns,
			asm.Add.Reg(asm.R0, asm.R6), asm.Add.Reg(asm.R0, asm.R7), asm.Add.Reg(asm.R0, asm.R8), asm.Add.Reg(asm.R0, asm.R9),
			asm.LoadMem(asm.R1, asm.RFP, -8, asm.DWord), asm.Add.Reg(asm.R0, asm.R1),
			asm.LoadMem(asm.R1, asm.RFP, -48, asm.DWord), asm.Add.Reg(asm.R0, asm.R1),
			asm.Return())
	}
	return insns
}

func TestLocalCalls(t *testing.T) {
	for depth := 1; depth <= 8; depth++ {
		t.Run(fmt.Sprint(depth), func(t *testing.T) {
			var want uint64 = uint64(depth * 1000)
			for i := 1; i <= depth; i++ {
				want += uint64(6*i*1000 + 6 + 7 + 8 + 9 + 10 + 11)
			}
			if got := diffRun(t, chain(depth), nil); got != want {
				t.Errorf("r0 = %d, want %d", got, want)
			}
		})
	}
}
