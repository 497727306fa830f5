//go:build amd64 && linux

package jit

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/cilium/ebpf/asm"
)

// shortFormValues are register values at the edges the short forms care
// about: the int8 and int32 limits, byte and half masks, the sign bits.
var shortFormValues = []int64{0, 1, -1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, math.MaxInt32,
	math.MinInt32, 0xffffffff, 1 << 32, math.MaxInt64, math.MinInt64, 0x1234_5678_9abc_def0}

// TestShortFormsDifferential runs the operations whose immediate picks a
// shorter encoding or sequence (emitALU, emitDivImm, emitAndImm,
// emitCondJump) on both engines, 64- and 32-bit, over shortFormValues.
func TestShortFormsDifferential(t *testing.T) {
	imms := []int32{0, 1, -1, 2, 8, 0x7f, 0x80, -0x80, -0x81, 0xff, 0x100, 0xffff, 0x10000, 0x40000000,
		math.MaxInt32, math.MinInt32}
	ops := []asm.ALUOp{asm.Add, asm.Sub, asm.Mul, asm.Div, asm.Mod, asm.SDiv, asm.SMod, asm.And, asm.Or, asm.Xor, asm.Mov}
	jumps := []asm.JumpOp{asm.JEq, asm.JNE, asm.JGT, asm.JGE, asm.JLT, asm.JLE, asm.JSGT, asm.JSGE, asm.JSLT, asm.JSLE, asm.JSet}
	// R0 is loaded from the context, so that the verifier knows nothing
	// of it and leaves every jump in place.
	load := asm.LoadMem(asm.R0, asm.R1, 0, asm.DWord)
	for _, v := range shortFormValues {
		mem := binary.LittleEndian.AppendUint64(nil, uint64(v))
		for _, imm := range imms {
			for _, op := range ops {
				for _, is32 := range []bool{false, true} {
					ins := op.Imm(asm.R0, imm)
					if is32 {
						ins = op.Imm32(asm.R0, imm)
					}
					if (op == asm.Div || op == asm.Mod || op == asm.SDiv || op == asm.SMod) && imm == 0 {
						continue // the verifier refuses a constant divisor of 0
					}
					t.Run(fmt.Sprintf("%#x %v", v, ins), func(t *testing.T) {
						diffRun(t, asm.Instructions{load, ins, asm.Return()}, mem)
					})
				}
			}
			for _, op := range jumps {
				for _, is32 := range []bool{false, true} {
					jmp := op.Imm(asm.R7, imm, "")
					if is32 {
						jmp = op.Imm32(asm.R7, imm, "")
					}
					jmp.Offset = 1 // over r0 = 2
					jmp = jmp.WithReference("")
					t.Run(fmt.Sprintf("%#x %v", v, jmp), func(t *testing.T) {
						got := diffRun(t, asm.Instructions{load,
							asm.Mov.Reg(asm.R7, asm.R0), asm.Mov.Imm(asm.R0, 1), jmp,
							asm.Mov.Imm(asm.R0, 2), asm.Return()}, mem)
						if got != 1 && got != 2 {
							t.Errorf("r0 = %d, want 1 (taken) or 2", got)
						}
					})
				}
			}
		}
	}
}
