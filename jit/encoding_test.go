//go:build amd64 && linux

package jit

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
	"golang.org/x/arch/x86/x86asm"

	"github.com/dropmon/dropmon/program"
)

// encodingTests are the JIT's encoding table, one row per eBPF
// instruction: the x86-64 code Compile makes of it, as text (AT&T, as
// x86asm.GNUSyntax prints it at address 0; several instructions joined by
// "; ") and as hex. The register map (regs.go) is R0 rbx, R1 rdi, R2 rsi,
// R3 r8, R4 r9, R5 r10, R6 r11, R7 r12, R8 r13, R9 r14, R10 r15.
//
// Every row was checked once against the GNU and LLVM tools, both ways:
//
//   - hex to text: objdump decodes hex to text (spelling aside: movslq
//     for movsxd, movabs, $0xffffffffffffffff for $-0x1):
//     echo 4881c301000000 | xxd -r -p > row.bin && objdump -D -b binary -m i386:x86-64 row.bin
//   - text to hex: LLVM's assembler encodes text; mc is what it printed,
//     empty where that is hex itself:
//     echo 'add $0x1,%rbx' | llvm-mc -triple=x86_64 -show-encoding
//     with {disp32} before memory operands and jumps (the JIT always emits
//     32-bit displacements and rel32 jumps to slots), and branch targets
//     written as labels, assembled with -filetype=obj and read back with
//     objcopy -O binary -j .text row.o row.bin && xxd -p row.bin.
//
// Where mc differs (6 of the 45 rows), LLVM chose a shorter form of the
// same instructions: an imm8 where the JIT emits an imm32, mov's B8+r
// form, the shift-by-one opcode. The test checks that mc decodes to the
// same operations.
var encodingTests = []encodingTest{
	{"r0 = 1", asm.Mov.Imm(asm.R0, 1),
		"mov $0x1,%rbx", "48c7c301000000", ""},
	{"r0 = -1", asm.Mov.Imm(asm.R0, -1),
		"mov $-0x1,%rbx", "48c7c3ffffffff", ""},
	{"w0 = 1", asm.Mov.Imm32(asm.R0, 1),
		"mov $0x1,%ebx", "c7c301000000", "bb01000000"},
	{"r0 = r1", asm.Mov.Reg(asm.R0, asm.R1),
		"mov %rdi,%rbx", "4889fb", ""},
	{"w3 = w4", asm.Mov.Reg32(asm.R3, asm.R4),
		"mov %r9d,%r8d", "4589c8", ""},
	{"r6 = r10", asm.Mov.Reg(asm.R6, asm.RFP),
		"mov %r15,%r11", "4d89fb", ""},
	{"r0 += 1", asm.Add.Imm(asm.R0, 1),
		"add $0x1,%rbx", "4881c301000000", "4883c301"},
	{"r2 += 0x1000", asm.Add.Imm(asm.R2, 0x1000),
		"add $0x1000,%rsi", "4881c600100000", ""},
	{"r0 += r2", asm.Add.Reg(asm.R0, asm.R2),
		"add %rsi,%rbx", "4801f3", ""},
	{"w7 += w8", asm.Add.Reg32(asm.R7, asm.R8),
		"add %r13d,%r12d", "4501ec", ""},
	{"r3 -= r9", asm.Sub.Reg(asm.R3, asm.R9),
		"sub %r14,%r8", "4d29f0", ""},
	{"r0 ^= r3", asm.Xor.Reg(asm.R0, asm.R3),
		"xor %r8,%rbx", "4c31c3", ""},
	{"r5 &= 0xff", asm.And.Imm(asm.R5, 0xff),
		"and $0xff,%r10", "4981e2ff000000", ""},
	{"r4 |= r5", asm.Or.Reg(asm.R4, asm.R5),
		"or %r10,%r9", "4d09d1", ""},
	{"r8 *= r9", asm.Mul.Reg(asm.R8, asm.R9),
		"imul %r14,%r13", "4d0fafee", ""},
	{"r0 *= 3", asm.Mul.Imm(asm.R0, 3),
		"imul $0x3,%rbx,%rbx", "4869db03000000", "486bdb03"},
	{"r0 = -r0", asm.Neg.Imm(asm.R0, 0),
		"neg %rbx", "48f7db", ""},
	{"r2 <<= 3", asm.LSh.Imm(asm.R2, 3),
		"shl $0x3,%rsi", "48c1e603", ""},
	{"r2 >>= 63", asm.RSh.Imm(asm.R2, 63),
		"shr $0x3f,%rsi", "48c1ee3f", ""},
	{"r9 s>>= 1", asm.ArSh.Imm(asm.R9, 1),
		"sar $0x1,%r14", "49c1fe01", "49d1fe"},
	{"r0 <<= r2", asm.LSh.Reg(asm.R0, asm.R2),
		"mov %rsi,%rcx; shl %cl,%rbx", "4889f148d3e3", ""},
	{"r0 = *(u64 *)(r1 +16)", asm.LoadMem(asm.R0, asm.R1, 16, asm.DWord),
		"mov 0x10(%rdi),%rbx", "488b9f10000000", ""},
	{"r3 = *(u32 *)(r1 +8)", asm.LoadMem(asm.R3, asm.R1, 8, asm.Word),
		"mov 0x8(%rdi),%r8d", "448b8708000000", ""},
	{"r2 = *(u16 *)(r10 -8)", asm.LoadMem(asm.R2, asm.RFP, -8, asm.Half),
		"movzwl -0x8(%r15),%esi", "410fb7b7f8ffffff", ""},
	{"r7 = *(u8 *)(r10 -1)", asm.LoadMem(asm.R7, asm.RFP, -1, asm.Byte),
		"movzbl -0x1(%r15),%r12d", "450fb6a7ffffffff", ""},
	{"r0 = *(s32 *)(r10 -8)", asm.LoadMemSX(asm.R0, asm.RFP, -8, asm.Word),
		"movsxd -0x8(%r15),%rbx", "49639ff8ffffff", ""},
	{"*(u64 *)(r10 -8) = r2", asm.StoreMem(asm.RFP, -8, asm.R2, asm.DWord),
		"mov %rsi,-0x8(%r15)", "4989b7f8ffffff", ""},
	{"*(u32 *)(r10 -4) = r3", asm.StoreMem(asm.RFP, -4, asm.R3, asm.Word),
		"mov %r8d,-0x4(%r15)", "458987fcffffff", ""},
	{"*(u16 *)(r10 -2) = r0", asm.StoreMem(asm.RFP, -2, asm.R0, asm.Half),
		"mov %bx,-0x2(%r15)", "6641899ffeffffff", ""},
	{"*(u8 *)(r10 -1) = r2", asm.StoreMem(asm.RFP, -1, asm.R2, asm.Byte),
		"mov %sil,-0x1(%r15)", "4188b7ffffffff", ""},
	{"*(u32 *)(r10 -16) = 1", asm.StoreImm(asm.RFP, -16, 1, asm.Word),
		"movl $0x1,-0x10(%r15)", "41c787f0ffffff01000000", ""},
	{"*(u64 *)(r10 -8) = -1", asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: asm.RFP, Offset: -8, Constant: -1},
		"movq $-0x1,-0x8(%r15)", "49c787f8ffffffffffffff", ""},
	{"lock *(u64 *)(r10 -8) += r2", func() asm.Instruction { i := asm.StoreXAdd(asm.RFP, asm.R2, asm.DWord); i.Offset = -8; return i }(),
		"lock add %rsi,-0x8(%r15)", "f04901b7f8ffffff", ""},
	{"r2 = atomic_fetch_add((u64 *)(r10 -8), r2)", asm.FetchAdd.Mem(asm.RFP, asm.R2, asm.DWord, -8),
		"lock xadd %rsi,-0x8(%r15)", "f0490fc1b7f8ffffff", ""},
	{"r2 = xchg((u64 *)(r10 -8), r2)", asm.Xchg.Mem(asm.RFP, asm.R2, asm.DWord, -8),
		"xchg %rsi,-0x8(%r15)", "4987b7f8ffffff", ""},
	{"r0 = 0x123456789 ll", asm.LoadImm(asm.R0, 0x123456789, asm.DWord),
		"mov $0x123456789,%rbx", "48bb8967452301000000", ""},
	{"r2 = be64 r2", asm.HostTo(asm.BE, asm.R2, asm.DWord),
		"bswap %rsi", "480fce", ""},
	{"r2 = be32 r2", asm.HostTo(asm.BE, asm.R2, asm.Word),
		"bswap %esi", "0fce", ""},
	{"r2 = le16 r2", asm.HostTo(asm.LE, asm.R2, asm.Half),
		"movzwl %si,%esi", "0fb7f6", ""},
	{"if r2 < 1000 goto pc+0", jumpRow(asm.JLT.Imm(asm.R2, 1000, "")),
		"cmp $0x3e8,%rsi; jb 0xd", "4881fee80300000f8200000000", ""},
	{"if r0 == r3 goto pc+0", jumpRow(asm.JEq.Reg(asm.R0, asm.R3, "")),
		"cmp %r8,%rbx; je 0x9", "4c39c30f8400000000", ""},
	{"if w2 s> 5 goto pc+0", jumpRow(asm.JSGT.Imm32(asm.R2, 5, "")),
		"cmp $0x5,%esi; jg 0xc", "81fe050000000f8f00000000", "83fe050f8f00000000"},
	{"goto pc+0", jumpRow(asm.Ja.Label("")),
		"jmpq .+0x0", "e900000000", ""},
	{"r0 /= r2", asm.Div.Reg(asm.R0, asm.R2),
		"test %rsi,%rsi; jne 0x9; xor %ebx,%ebx; jmp 0x14; mov %rbx,%rax; xor %edx,%edx; div %rsi; mov %rax,%rbx",
		"4885f6750431dbeb0b4889d831d248f7f64889c3", ""},
	{"r0 s%= r2", asm.SMod.Reg(asm.R0, asm.R2),
		"test %rsi,%rsi; jne 0x7; jmp 0x1f; cmp $-0x1,%rsi; jne 0x14; xor %ebx,%ebx; jmp 0x1f; mov %rbx,%rax; cqto; idiv %rsi; mov %rdx,%rbx",
		"4885f67502eb184881feffffffff750431dbeb0b4889d8489948f7fe4889d3",
		"4885f67502eb154883feff750431dbeb0b4889d8489948f7fe4889d3"},
}

// jumpRow makes a jump to the next instruction.
func jumpRow(ins asm.Instruction) asm.Instruction {
	ins.Offset = 0
	return ins.WithReference("")
}

// encodingSetup gives the registers and the stack slots the rows read
// values, so that the verifier accepts each program: the JIT compiles
// verified programs only. R1 stays the context.
var encodingSetup = asm.Instructions{
	asm.Mov.Imm(asm.R0, 0), asm.Mov.Imm(asm.R2, 0), asm.Mov.Imm(asm.R3, 0), asm.Mov.Imm(asm.R4, 0),
	asm.Mov.Imm(asm.R5, 0), asm.Mov.Imm(asm.R6, 0), asm.Mov.Imm(asm.R7, 0), asm.Mov.Imm(asm.R8, 0),
	asm.Mov.Imm(asm.R9, 0),
	asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: asm.RFP, Offset: -8},
	asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: asm.RFP, Offset: -16},
}

// encodingTest is one row of an encoding table.
type encodingTest struct {
	ebpf string // the instruction in the kernel's syntax
	insn asm.Instruction
	text string
	hex  string
	mc   string // llvm-mc's encoding of text, when not hex
}

// exclusiveEncodingTests are the atomic rows as an exclusive runner
// (Engine.Exclusive) compiles them: the same instructions without LOCK
// (checked with objdump, as the rows above); XCHG locks implicitly.
var exclusiveEncodingTests = []encodingTest{
	{"*(u64 *)(r10 -8) += r2", func() asm.Instruction { i := asm.StoreXAdd(asm.RFP, asm.R2, asm.DWord); i.Offset = -8; return i }(),
		"add %rsi,-0x8(%r15)", "4901b7f8ffffff", ""},
	{"r2 = fetch_add((u64 *)(r10 -8), r2)", asm.FetchAdd.Mem(asm.RFP, asm.R2, asm.DWord, -8),
		"xadd %rsi,-0x8(%r15)", "490fc1b7f8ffffff", ""},
	{"r2 = xchg((u64 *)(r10 -8), r2)", asm.Xchg.Mem(asm.RFP, asm.R2, asm.DWord, -8),
		"xchg %rsi,-0x8(%r15)", "4987b7f8ffffff", ""},
}

func TestExclusiveEncoding(t *testing.T) {
	for _, tt := range exclusiveEncodingTests {
		t.Run(tt.ebpf, func(t *testing.T) {
			checkEncoding(t, compileRowWith(t, tt.insn, true), tt.text, tt.hex, tt.mc)
		})
	}
}

func TestEncoding(t *testing.T) {
	for _, tt := range encodingTests {
		t.Run(tt.ebpf, func(t *testing.T) {
			checkEncoding(t, compileRow(t, tt.insn), tt.text, tt.hex, tt.mc)
		})
	}
}

// checkEncoding checks code against a row: its text and hex, and that
// llvm-mc's encoding, when the row has one, decodes to the same
// operations.
func checkEncoding(t *testing.T, code []byte, wantText, wantHex, mc string) {
	t.Helper()
	text, ops := decodeAll(t, code)
	if got := hex.EncodeToString(code); text != wantText || got != wantHex {
		t.Errorf("got  %q %q\nwant %q %q", text, got, wantText, wantHex)
	}
	if mc == "" {
		return
	}
	mcCode, err := hex.DecodeString(mc)
	if err != nil {
		t.Fatal(err)
	}
	if _, mcOps := decodeAll(t, mcCode); mcOps != ops {
		t.Errorf("llvm-mc's encoding %s is %s, the JIT's %s", mc, mcOps, ops)
	}
}

// compileRow verifies and compiles setup, insn, r0 = 0, exit and returns
// the code of insn alone: from its slot's offset to the next slot's.
func compileRow(t *testing.T, insn asm.Instruction) []byte {
	t.Helper()
	return compileRowWith(t, insn, false)
}

// compileRowWith is compileRow for an exclusive runner or not.
func compileRowWith(t *testing.T, insn asm.Instruction, exclusive bool) []byte {
	t.Helper()
	insns := append(append(asm.Instructions{}, encodingSetup...), insn, asm.Mov.Imm(asm.R0, 0), asm.Return())
	prog := &program.Program{Name: "row", Type: program.Tracepoint, License: "GPL", Insns: insns}
	_, p := prepare(t, prog, 64)
	code, err := compileCode(p, exclusive)
	if err != nil {
		t.Fatal(err)
	}
	defer code.Close()
	slot := len(encodingSetup)
	next := slot + int(insn.Size()/asm.InstructionSize)
	addrs := code.Addrs()
	return append([]byte(nil), code.Bytes()[addrs[slot]:addrs[next]]...)
}

// decodeAll disassembles code at address 0: the instructions' text
// joined with "; ", and their operations alone.
func decodeAll(t *testing.T, code []byte) (text, ops string) {
	t.Helper()
	var texts, names []string
	for pc := 0; pc < len(code); {
		inst, err := x86asm.Decode(code[pc:], 64)
		if err != nil {
			t.Fatalf("decode %x at %d: %v", code, pc, err)
		}
		texts = append(texts, x86asm.GNUSyntax(inst, uint64(pc), nil))
		names = append(names, inst.Op.String())
		pc += inst.Len
	}
	return strings.Join(texts, "; "), strings.Join(names, " ")
}
