//go:build amd64 && linux

package jit

import (
	"fmt"
	"math"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
)

// TestPacketLoadBounds runs LD_ABS and LD_IND on both engines at the
// edges of the packet and of the 32-bit offset: LD_ABS at a constant
// offset has its own code (emitPacketLoadAbs), LD_IND computes the sum
// with a 32-bit LEA through bases that need a SIB byte (R7 is R12) or a
// displacement (R8 is R13).
func TestPacketLoadBounds(t *testing.T) {
	mem := []byte{0x11, 0x22, 0x33, 0x44, 0x85, 0x96, 0xa7, 0xb8, 0xc9, 0xda, 0xeb, 0xfc, 0x0d, 0x1e, 0x2f, 0x30}
	n := int32(len(mem))
	for _, size := range []asm.Size{asm.Byte, asm.Half, asm.Word} {
		s := int32(size.Sizeof())
		for _, off := range []int32{0, 1, n - s - 1, n - s, n - s + 1, n, 127, 128,
			math.MaxInt32 - s - 1, math.MaxInt32 - s, math.MaxInt32 - s + 1, math.MaxInt32, -1, math.MinInt32} {
			t.Run(fmt.Sprintf("ld_abs %v %d", size, off), func(t *testing.T) {
				diffRunType(t, program.SocketFilter, asm.Instructions{
					asm.Mov.Reg(asm.R6, asm.R1), asm.Mov.Imm(asm.R0, 9),
					asm.LoadAbs(off, size), asm.Return()}, mem)
			})
			for _, src := range []asm.Register{asm.R0, asm.R7, asm.R8} {
				for _, base := range []int32{0, 5, -1, math.MaxInt32, math.MinInt32} {
					t.Run(fmt.Sprintf("ld_ind %v %v=%d %d", size, src, base, off-base), func(t *testing.T) {
						diffRunType(t, program.SocketFilter, asm.Instructions{
							asm.Mov.Reg(asm.R6, asm.R1), asm.Mov.Imm(src, base),
							asm.LoadInd(asm.R0, src, off-base, size), asm.Return()}, mem)
					})
				}
			}
		}
	}
}
