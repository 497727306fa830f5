//go:build amd64 && linux

package jit

import (
	"fmt"
	"math"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/skbuff"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// diffRun verifies insns as a conformance program over mem, runs it on the
// interpreter and the JIT and fails unless R0 and the memory agree. It
// returns R0.
func diffRun(t *testing.T, insns asm.Instructions, mem []byte) uint64 {
	t.Helper()
	return diffRunType(t, program.Conformance, insns, mem)
}

func diffRunType(t *testing.T, typ program.Type, insns asm.Instructions, mem []byte) uint64 {
	t.Helper()
	prog := &program.Program{Name: "t", Type: typ, Insns: insns}
	v, err := verifier.Verify(prog, &verifier.Options{ContextSize: len(mem)})
	if err != nil {
		t.Fatalf("verify: %v\n%v", err, insns)
	}
	p, err := userspacevm.PrepareVerified(v, &userspacevm.LoadOptions{Helpers: conformanceHelpers(new(uint64))})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	want, wantMem := runOnce(t, userspacevm.Interp{}, p, mem)
	got, gotMem := runOnce(t, Engine{}, p, mem)
	if got != want {
		t.Fatalf("jit r0 = %#x, interpreter %#x\n%v", got, want, insns)
	}
	if string(gotMem) != string(wantMem) {
		t.Fatalf("memory: jit %x, interpreter %x\n%v", gotMem, wantMem, insns)
	}
	return got
}

func runOnce(t *testing.T, e userspacevm.Engine, p *userspacevm.Prepared, mem []byte) (uint64, []byte) {
	t.Helper()
	r, err := e.Load(p)
	if err != nil {
		t.Fatalf("%s: load: %v", e.Name(), err)
	}
	defer r.Close()
	buf := make([]byte, len(mem), max(16, len(mem)))
	copy(buf, mem)
	if p.SkBuff {
		// mem is the packet, the context an __sk_buff.
		var skb skbuff.Context
		r0, err := r.Run(skb.Bytes(), &userspacevm.RunContext{Packet: buf})
		if err != nil {
			t.Fatalf("%s: run: %v", e.Name(), err)
		}
		return r0, buf
	}
	r0, err := r.Run(buf, nil)
	if err != nil {
		t.Fatalf("%s: run: %v", e.Name(), err)
	}
	return r0, buf
}

func lddw(dst asm.Register, v uint64) asm.Instruction {
	return asm.LoadImm(dst, int64(v), asm.DWord)
}

// edgeValues are operands where x86 and eBPF semantics part ways if the
// JIT gets them wrong: zero, -1, INT_MIN of both widths, shift amounts
// at and beyond the width, values whose halves differ.
var edgeValues = []uint64{
	0, 1, 7, math.MaxUint64, 1 << 63, 0x8000_0000, 0xffff_ffff, 31, 32, 63, 64,
	0x1_0000_0005, 0xffff_ffff_0000_0003, 0xffff_ffff_ffff_fff9,
}

// regPairs cover every x86 register as destination and source, R7 (R12,
// SIB as a base) and R8 (R13) included, and dst == src.
var regPairs = [][2]asm.Register{{asm.R1, asm.R2}, {asm.R7, asm.R9}, {asm.R6, asm.R8}, {asm.R0, asm.R5}, {asm.R3, asm.R3}, {asm.R4, asm.R7}, {asm.R8, asm.R0}, {asm.R9, asm.R6}}

// TestALUDifferential runs every ALU operation, both widths, register and
// immediate forms, over edge values and register pairs on both engines.
func TestALUDifferential(t *testing.T) {
	ops := []asm.ALUOp{asm.Add, asm.Sub, asm.Mul, asm.Div, asm.SDiv, asm.Or, asm.And, asm.LSh, asm.RSh, asm.Mod, asm.SMod, asm.Xor, asm.Mov, asm.ArSh}
	for _, op := range ops {
		for _, is32 := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/32=%v", op, is32), func(t *testing.T) {
				for i, pair := range regPairs {
					dst, src := pair[0], pair[1]
					for j, a := range edgeValues {
						b := edgeValues[(j+i)%len(edgeValues)]
						for _, bb := range []uint64{b, a ^ 0x5} {
							ins := op.Reg(dst, src)
							imm := op.Imm(dst, int32(bb))
							if is32 {
								ins, imm = op.Reg32(dst, src), op.Imm32(dst, int32(bb))
							}
							diffRun(t, asm.Instructions{lddw(src, bb), lddw(dst, a), ins, asm.Mov.Reg(asm.R0, dst), asm.Return()}, nil)
							if int32(bb) == 0 && (op == asm.Div || op == asm.SDiv || op == asm.Mod || op == asm.SMod) {
								continue // the verifier refuses a constant zero divisor, as the kernel's does
							}
							diffRun(t, asm.Instructions{lddw(dst, a), imm, asm.Mov.Reg(asm.R0, dst), asm.Return()}, nil)
						}
					}
				}
			})
		}
	}
}

// TestJumpDifferential runs every conditional jump, both widths and forms.
func TestJumpDifferential(t *testing.T) {
	ops := []asm.JumpOp{asm.JEq, asm.JNE, asm.JGT, asm.JGE, asm.JLT, asm.JLE, asm.JSGT, asm.JSGE, asm.JSLT, asm.JSLE, asm.JSet}
	for _, op := range ops {
		t.Run(op.String(), func(t *testing.T) {
			for i, a := range edgeValues {
				for _, b := range []uint64{a, edgeValues[(i+3)%len(edgeValues)], a + 1, a - 1} {
					for _, j := range []asm.Instruction{op.Reg(asm.R7, asm.R9, "t"), op.Imm(asm.R7, int32(b), "t"), op.Reg32(asm.R7, asm.R9, "t"), op.Imm32(asm.R7, int32(b), "t")} {
						diffRun(t, asm.Instructions{
							lddw(asm.R7, a), lddw(asm.R9, b), asm.Mov.Imm(asm.R0, 1), j,
							asm.Mov.Imm(asm.R0, 2), asm.Return(),
							asm.Mov.Imm(asm.R0, 3).WithSymbol("t"), asm.Return(),
						}, nil)
					}
				}
			}
		})
	}
}

func TestInsns(t *testing.T) {
	const val = 0xfedc_ba98_7654_3210
	mem := []byte{0x11, 0x22, 0x33, 0x44, 0x85, 0x96, 0xa7, 0xb8, 0xc9, 0xda, 0xeb, 0xfc, 0x0d, 0x1e, 0x2f, 0x30}
	tests := []struct {
		name  string
		insns asm.Instructions
		want  uint64
	}{
		{"lddw", asm.Instructions{lddw(asm.R0, val), asm.Return()}, val},
		{"mov32 zero-extends", asm.Instructions{lddw(asm.R0, val), asm.Mov.Reg32(asm.R0, asm.R0), asm.Return()}, 0x7654_3210},
		{"add32 zero-extends", asm.Instructions{lddw(asm.R0, val), asm.Add.Imm32(asm.R0, 0), asm.Return()}, 0x7654_3210},
		{"lsh32 by 32 in a register", asm.Instructions{lddw(asm.R0, val), asm.Mov.Imm(asm.R6, 32), asm.LSh.Reg32(asm.R0, asm.R6), asm.Return()}, 0x7654_3210},
		{"neg32", asm.Instructions{lddw(asm.R0, val), asm.Neg.Imm32(asm.R0, 0), asm.Return()}, 0x89ab_cdf0},
		{"neg64", asm.Instructions{lddw(asm.R9, 5), asm.Neg.Imm(asm.R9, 0), asm.Mov.Reg(asm.R0, asm.R9), asm.Return()}, math.MaxUint64 - 4},
		{"movsx8 from sil", asm.Instructions{lddw(asm.R2, 0x80), movsx(asm.R0, asm.R2, 8, false), asm.Return()}, 0xffff_ffff_ffff_ff80},
		{"movsx8 to 32", asm.Instructions{lddw(asm.R1, 0x80), movsx(asm.R0, asm.R1, 8, true), asm.Return()}, 0xffff_ff80},
		{"movsx16", asm.Instructions{lddw(asm.R7, 0x8001), movsx(asm.R0, asm.R7, 16, false), asm.Return()}, 0xffff_ffff_ffff_8001},
		{"movsx16 to 32", asm.Instructions{lddw(asm.R7, 0x8001), movsx(asm.R0, asm.R7, 16, true), asm.Return()}, 0xffff_8001},
		{"movsx32", asm.Instructions{lddw(asm.R8, 0x8000_0000), movsx(asm.R0, asm.R8, 32, false), asm.Return()}, 0xffff_ffff_8000_0000},
		{"be16", asm.Instructions{lddw(asm.R0, val), asm.HostTo(asm.BE, asm.R0, asm.Half), asm.Return()}, 0x1032},
		{"be32", asm.Instructions{lddw(asm.R0, val), asm.HostTo(asm.BE, asm.R0, asm.Word), asm.Return()}, 0x1032_5476},
		{"be64", asm.Instructions{lddw(asm.R0, val), asm.HostTo(asm.BE, asm.R0, asm.DWord), asm.Return()}, 0x1032_5476_98ba_dcfe},
		{"le16", asm.Instructions{lddw(asm.R0, val), asm.HostTo(asm.LE, asm.R0, asm.Half), asm.Return()}, 0x3210},
		{"le32", asm.Instructions{lddw(asm.R0, val), asm.HostTo(asm.LE, asm.R0, asm.Word), asm.Return()}, 0x7654_3210},
		{"bswap16", asm.Instructions{lddw(asm.R7, val), bswap(asm.R7, 16), asm.Mov.Reg(asm.R0, asm.R7), asm.Return()}, 0x1032},
		{"bswap64", asm.Instructions{lddw(asm.R7, val), bswap(asm.R7, 64), asm.Mov.Reg(asm.R0, asm.R7), asm.Return()}, 0x1032_5476_98ba_dcfe},
		{"ldx widths", asm.Instructions{
			asm.LoadMem(asm.R0, asm.R1, 0, asm.Byte), asm.LoadMem(asm.R2, asm.R1, 2, asm.Half), asm.Add.Reg(asm.R0, asm.R2),
			asm.LoadMem(asm.R2, asm.R1, 4, asm.Word), asm.Add.Reg(asm.R0, asm.R2), asm.LoadMem(asm.R2, asm.R1, 8, asm.DWord), asm.Xor.Reg(asm.R0, asm.R2), asm.Return()}, 0},
		{"ldxs widths", asm.Instructions{
			asm.LoadMemSX(asm.R0, asm.R1, 4, asm.Byte), asm.LoadMemSX(asm.R7, asm.R1, 6, asm.Half), asm.Add.Reg(asm.R0, asm.R7),
			asm.LoadMemSX(asm.R7, asm.R1, 4, asm.Word), asm.Add.Reg(asm.R0, asm.R7), asm.Return()}, 0},
		{"st and stx through R12", asm.Instructions{
			asm.Mov.Reg(asm.R7, asm.R1), asm.StoreImm(asm.R7, 0, 0x7f, asm.Byte), asm.StoreImm(asm.R7, 2, -2, asm.Half),
			asm.StoreImm(asm.R7, 4, -3, asm.Word), stdw(asm.R7, 8, -4),
			lddw(asm.R2, val), asm.StoreMem(asm.R7, 1, asm.R2, asm.Byte), asm.StoreMem(asm.R10, -8, asm.R2, asm.DWord),
			asm.LoadMem(asm.R0, asm.R10, -8, asm.DWord), asm.Return()}, val},
		{"stack via R10 and R13", asm.Instructions{
			asm.Mov.Reg(asm.R8, asm.R10), lddw(asm.R3, val), asm.StoreMem(asm.R8, -16, asm.R3, asm.Word),
			asm.StoreMem(asm.R8, -12, asm.R3, asm.Half), asm.LoadMem(asm.R0, asm.R10, -16, asm.DWord), asm.Return()}, 0x3210_7654_3210},
		{"ld_abs and ld_ind", asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1), asm.LoadAbs(1, asm.Half), asm.Mov.Reg(asm.R9, asm.R0), asm.Mov.Imm(asm.R7, 3),
			asm.LoadInd(asm.R0, asm.R7, 1, asm.Word), asm.Add.Reg(asm.R0, asm.R9), asm.Return()}, 0x2233 + 0x8596a7b8},
		{"ld_ind out of range ends with 0", asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1), asm.Mov.Imm(asm.R7, 14), asm.LoadInd(asm.R0, asm.R7, 0, asm.Word), asm.Mov.Imm(asm.R0, 9), asm.Return()}, 0},
		{"ld_ind negative ends with 0", asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1), asm.Mov.Imm(asm.R7, -1), asm.LoadInd(asm.R0, asm.R7, 0, asm.Byte), asm.Mov.Imm(asm.R0, 9), asm.Return()}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ := program.Conformance
			if tt.insns[1].OpCode.Class() == asm.LdClass || len(tt.insns) > 2 && tt.insns[2].OpCode.Class() == asm.LdClass {
				typ = program.SocketFilter // LD_ABS and LD_IND need a packet program
			}
			got := diffRunType(t, typ, tt.insns, mem)
			if tt.want != 0 && got != tt.want {
				t.Errorf("r0 = %#x, want %#x", got, tt.want)
			}
		})
	}
}

func stdw(dst asm.Register, off int16, v int32) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: dst, Offset: off, Constant: int64(v)}
}

// movsx builds MOVSX (ALU64 or ALU MOV with offset 8, 16 or 32).
func movsx(dst, src asm.Register, bits int16, is32 bool) asm.Instruction {
	op := map[int16]asm.ALUOp{8: asm.MovSX8, 16: asm.MovSX16, 32: asm.MovSX32}[bits]
	if is32 {
		return op.Reg32(dst, src)
	}
	return op.Reg(dst, src)
}

// bswap builds the ALU64-class BSWAP of width bits.
func bswap(dst asm.Register, bits int64) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(asm.ALU64Class).SetALUOp(asm.Swap), Dst: dst, Constant: bits}
}
