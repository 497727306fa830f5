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
//     echo 4883c301 | xxd -r -p > row.bin && objdump -D -b binary -m i386:x86-64 row.bin
//   - text to hex: LLVM's assembler encodes text, one instruction at a
//     time, jumps aside (the JIT's jumps to slots are rel32s, to code in
//     the same row rel8s):
//     echo 'add $0x1,%rbx' | llvm-mc -triple=x86_64 -show-encoding
//
// The JIT picks the shortest encodings (no displacement for 0, disp8,
// sign-extended imm8, mov's B8+r form, the shift-by-one opcode), as LLVM
// does, so since then llvm-mc printed each row's hex and no row needs an
// mc column; checkEncoding keeps it for rows where the two would differ.
var encodingTests = []encodingTest{
	{"r0 = 1", asm.Mov.Imm(asm.R0, 1),
		"mov $0x1,%ebx", "bb01000000", ""},
	{"r0 = -1", asm.Mov.Imm(asm.R0, -1),
		"mov $-0x1,%rbx", "48c7c3ffffffff", ""},
	{"w0 = 1", asm.Mov.Imm32(asm.R0, 1),
		"mov $0x1,%ebx", "bb01000000", ""},
	{"r0 = r1", asm.Mov.Reg(asm.R0, asm.R1),
		"mov %rdi,%rbx", "4889fb", ""},
	{"w3 = w4", asm.Mov.Reg32(asm.R3, asm.R4),
		"mov %r9d,%r8d", "4589c8", ""},
	{"r6 = r10", asm.Mov.Reg(asm.R6, asm.RFP),
		"mov %r15,%r11", "4d89fb", ""},
	{"r0 += 1", asm.Add.Imm(asm.R0, 1),
		"add $0x1,%rbx", "4883c301", ""},
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
		"movzbl %r10b,%r10d", "450fb6d2", ""},
	{"r4 |= r5", asm.Or.Reg(asm.R4, asm.R5),
		"or %r10,%r9", "4d09d1", ""},
	{"r8 *= r9", asm.Mul.Reg(asm.R8, asm.R9),
		"imul %r14,%r13", "4d0fafee", ""},
	{"r0 *= 3", asm.Mul.Imm(asm.R0, 3),
		"imul $0x3,%rbx,%rbx", "486bdb03", ""},
	{"r0 = -r0", asm.Neg.Imm(asm.R0, 0),
		"neg %rbx", "48f7db", ""},
	{"r2 <<= 3", asm.LSh.Imm(asm.R2, 3),
		"shl $0x3,%rsi", "48c1e603", ""},
	{"r2 >>= 63", asm.RSh.Imm(asm.R2, 63),
		"shr $0x3f,%rsi", "48c1ee3f", ""},
	{"r9 s>>= 1", asm.ArSh.Imm(asm.R9, 1),
		"sar %r14", "49d1fe", ""},
	{"r0 <<= r2", asm.LSh.Reg(asm.R0, asm.R2),
		"mov %esi,%ecx; shl %cl,%rbx", "89f148d3e3", ""},
	{"r0 = *(u64 *)(r1 +16)", asm.LoadMem(asm.R0, asm.R1, 16, asm.DWord),
		"mov 0x10(%rdi),%rbx", "488b5f10", ""},
	{"r3 = *(u32 *)(r1 +8)", asm.LoadMem(asm.R3, asm.R1, 8, asm.Word),
		"mov 0x8(%rdi),%r8d", "448b4708", ""},
	{"r2 = *(u16 *)(r10 -8)", asm.LoadMem(asm.R2, asm.RFP, -8, asm.Half),
		"movzwl -0x8(%r15),%esi", "410fb777f8", ""},
	{"r7 = *(u8 *)(r10 -1)", asm.LoadMem(asm.R7, asm.RFP, -1, asm.Byte),
		"movzbl -0x1(%r15),%r12d", "450fb667ff", ""},
	{"r0 = *(s32 *)(r10 -8)", asm.LoadMemSX(asm.R0, asm.RFP, -8, asm.Word),
		"movsxd -0x8(%r15),%rbx", "49635ff8", ""},
	{"*(u64 *)(r10 -8) = r2", asm.StoreMem(asm.RFP, -8, asm.R2, asm.DWord),
		"mov %rsi,-0x8(%r15)", "498977f8", ""},
	{"*(u32 *)(r10 -4) = r3", asm.StoreMem(asm.RFP, -4, asm.R3, asm.Word),
		"mov %r8d,-0x4(%r15)", "458947fc", ""},
	{"*(u16 *)(r10 -2) = r0", asm.StoreMem(asm.RFP, -2, asm.R0, asm.Half),
		"mov %bx,-0x2(%r15)", "6641895ffe", ""},
	{"*(u8 *)(r10 -1) = r2", asm.StoreMem(asm.RFP, -1, asm.R2, asm.Byte),
		"mov %sil,-0x1(%r15)", "418877ff", ""},
	{"*(u32 *)(r10 -16) = 1", asm.StoreImm(asm.RFP, -16, 1, asm.Word),
		"movl $0x1,-0x10(%r15)", "41c747f001000000", ""},
	{"*(u64 *)(r10 -8) = -1", asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: asm.RFP, Offset: -8, Constant: -1},
		"movq $-0x1,-0x8(%r15)", "49c747f8ffffffff", ""},
	{"lock *(u64 *)(r10 -8) += r2", func() asm.Instruction { i := asm.StoreXAdd(asm.RFP, asm.R2, asm.DWord); i.Offset = -8; return i }(),
		"lock add %rsi,-0x8(%r15)", "f0490177f8", ""},
	{"r2 = atomic_fetch_add((u64 *)(r10 -8), r2)", asm.FetchAdd.Mem(asm.RFP, asm.R2, asm.DWord, -8),
		"lock xadd %rsi,-0x8(%r15)", "f0490fc177f8", ""},
	{"r2 = xchg((u64 *)(r10 -8), r2)", asm.Xchg.Mem(asm.RFP, asm.R2, asm.DWord, -8),
		"xchg %rsi,-0x8(%r15)", "498777f8", ""},
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
		"cmp $0x5,%esi; jg 0x9", "83fe050f8f00000000", ""},
	{"goto pc+0", jumpRow(asm.Ja.Label("")),
		"jmpq .+0x0", "e900000000", ""},
	{"r0 /= r2", asm.Div.Reg(asm.R0, asm.R2),
		"test %rsi,%rsi; jne 0x9; xor %ebx,%ebx; jmp 0x14; mov %rbx,%rax; xor %edx,%edx; div %rsi; mov %rax,%rbx", "4885f6750431dbeb0b4889d831d248f7f64889c3", ""},
	{"r0 s%= r2", asm.SMod.Reg(asm.R0, asm.R2),
		"test %rsi,%rsi; jne 0x7; jmp 0x1c; cmp $-0x1,%rsi; jne 0x11; xor %ebx,%ebx; jmp 0x1c; mov %rbx,%rax; cqto; idiv %rsi; mov %rdx,%rbx", "4885f67502eb154883feff750431dbeb0b4889d8489948f7fe4889d3", ""},
	// Shorter forms (see emit.go and emit_alu.go): each row against the
	// long form it replaces.
	{"r0 = 0", asm.Mov.Imm(asm.R0, 0),
		"xor %ebx,%ebx", "31db", ""},
	{"w0 = 0", asm.Mov.Imm32(asm.R0, 0),
		"xor %ebx,%ebx", "31db", ""},
	{"r7 = 0x7fffffff", asm.Mov.Imm(asm.R7, 0x7fffffff),
		"mov $0x7fffffff,%r12d", "41bcffffff7f", ""},
	{"w7 = -1", asm.Mov.Imm32(asm.R7, -1),
		"mov $-0x1,%r12d", "41bcffffffff", ""},
	{"r0 = 0xffffffff ll", asm.LoadImm(asm.R0, 0xffffffff, asm.DWord),
		"mov $-0x1,%ebx", "bbffffffff", ""},
	{"r3 = -2 ll", asm.LoadImm(asm.R3, -2, asm.DWord),
		"mov $-0x2,%r8", "49c7c0feffffff", ""},
	{"r0 = 0x80000000 ll", asm.LoadImm(asm.R0, 0x80000000, asm.DWord),
		"mov $-0x80000000,%ebx", "bb00000080", ""},
	{"r2 += 127", asm.Add.Imm(asm.R2, 127),
		"add $0x7f,%rsi", "4883c67f", ""},
	{"r2 += 128", asm.Add.Imm(asm.R2, 128),
		"add $0x80,%rsi", "4881c680000000", ""},
	{"r2 -= -128", asm.Sub.Imm(asm.R2, -128),
		"sub $-0x80,%rsi", "4883ee80", ""},
	{"r2 -= -129", asm.Sub.Imm(asm.R2, -129),
		"sub $-0x81,%rsi", "4881ee7fffffff", ""},
	{"w8 ^= -1", asm.Xor.Imm32(asm.R8, -1),
		"xor $-0x1,%r13d", "4183f5ff", ""},
	{"r2 &= 0xff", asm.And.Imm(asm.R2, 0xff),
		"movzbl %sil,%esi", "400fb6f6", ""},
	{"w0 &= 0xff", asm.And.Imm32(asm.R0, 0xff),
		"movzbl %bl,%ebx", "0fb6db", ""},
	{"w2 &= 0xffff", asm.And.Imm32(asm.R2, 0xffff),
		"movzwl %si,%esi", "0fb7f6", ""},
	{"r9 &= 0xffff", asm.And.Imm(asm.R9, 0xffff),
		"movzwl %r14w,%r14d", "450fb7f6", ""},
	{"r0 &= 0xfff", asm.And.Imm(asm.R0, 0xfff),
		"and $0xfff,%rbx", "4881e3ff0f0000", ""},
	{"r0 *= 1000", asm.Mul.Imm(asm.R0, 1000),
		"imul $0x3e8,%rbx,%rbx", "4869dbe8030000", ""},
	{"w2 <<= 1", asm.LSh.Imm32(asm.R2, 1),
		"shl %esi", "d1e6", ""},
	{"r0 /= 8", asm.Div.Imm(asm.R0, 8),
		"shr $0x3,%rbx", "48c1eb03", ""},
	{"w0 /= 1", asm.Div.Imm32(asm.R0, 1),
		"mov %ebx,%ebx", "89db", ""},
	{"r0 /= 1", asm.Div.Imm(asm.R0, 1),
		"", "", ""},
	{"r0 %= 8", asm.Mod.Imm(asm.R0, 8),
		"and $0x7,%rbx", "4883e307", ""},
	{"w0 %= 0x40000000", asm.Mod.Imm32(asm.R0, 0x40000000),
		"and $0x3fffffff,%ebx", "81e3ffffff3f", ""},
	{"r0 %= 256", asm.Mod.Imm(asm.R0, 256),
		"movzbl %bl,%ebx", "0fb6db", ""},
	{"w2 %= 0x10000", asm.Mod.Imm32(asm.R2, 0x10000),
		"movzwl %si,%esi", "0fb7f6", ""},
	{"r0 /= 10", asm.Div.Imm(asm.R0, 10),
		"mov $0xa,%ecx; mov %rbx,%rax; xor %edx,%edx; div %rcx; mov %rax,%rbx", "b90a0000004889d831d248f7f14889c3", ""},
	{"r0 /= -8", asm.Div.Imm(asm.R0, -8),
		"mov $-0x8,%rcx; mov %rbx,%rax; xor %edx,%edx; div %rcx; mov %rax,%rbx", "48c7c1f8ffffff4889d831d248f7f14889c3", ""},
	{"w0 %= 10", asm.Mod.Imm32(asm.R0, 10),
		"mov $0xa,%ecx; mov %ebx,%eax; xor %edx,%edx; div %ecx; mov %edx,%ebx", "b90a00000089d831d2f7f189d3", ""},
	{"r0 s/= 8", asm.SDiv.Imm(asm.R0, 8),
		"mov $0x8,%ecx; mov %rbx,%rax; cqto; idiv %rcx; mov %rax,%rbx", "b9080000004889d8489948f7f94889c3", ""},
	{"r0 s/= -1", asm.SDiv.Imm(asm.R0, -1),
		"neg %rbx", "48f7db", ""},
	{"w0 s/= -1", asm.SDiv.Imm32(asm.R0, -1),
		"neg %ebx", "f7db", ""},
	{"r0 s%= -1", asm.SMod.Imm(asm.R0, -1),
		"xor %ebx,%ebx", "31db", ""},
	{"r0 = *(u8 *)(r10 -128)", asm.LoadMem(asm.R0, asm.RFP, -128, asm.Byte),
		"movzbl -0x80(%r15),%ebx", "410fb65f80", ""},
	{"r0 = *(u8 *)(r10 -129)", asm.LoadMem(asm.R0, asm.RFP, -129, asm.Byte),
		"movzbl -0x81(%r15),%ebx", "410fb69f7fffffff", ""},
	{"*(u16 *)(r10 -2) = 7", asm.StoreImm(asm.RFP, -2, 7, asm.Half),
		"movw $0x7,-0x2(%r15)", "6641c747fe0700", ""},
	{"*(u8 *)(r10 -1) = 7", asm.StoreImm(asm.RFP, -1, 7, asm.Byte),
		"movb $0x7,-0x1(%r15)", "41c647ff07", ""},
	{"if r2 == 0 goto pc+0", jumpRow(asm.JEq.Imm(asm.R2, 0, "")),
		"test %rsi,%rsi; je 0x9", "4885f60f8400000000", ""},
	{"if r2 > 0 goto pc+0", jumpRow(asm.JGT.Imm(asm.R2, 0, "")),
		"test %rsi,%rsi; ja 0x9", "4885f60f8700000000", ""},
	{"if r2 >= 0 goto pc+0", jumpRow(asm.JGE.Imm(asm.R2, 0, "")),
		"test %rsi,%rsi; jae 0x9", "4885f60f8300000000", ""},
	{"if r2 < 0 goto pc+0", jumpRow(asm.JLT.Imm(asm.R2, 0, "")),
		"test %rsi,%rsi; jb 0x9", "4885f60f8200000000", ""},
	{"if r2 <= 0 goto pc+0", jumpRow(asm.JLE.Imm(asm.R2, 0, "")),
		"test %rsi,%rsi; jbe 0x9", "4885f60f8600000000", ""},
	{"if r2 s> 0 goto pc+0", jumpRow(asm.JSGT.Imm(asm.R2, 0, "")),
		"test %rsi,%rsi; jg 0x9", "4885f60f8f00000000", ""},
	{"if r2 s>= 0 goto pc+0", jumpRow(asm.JSGE.Imm(asm.R2, 0, "")),
		"test %rsi,%rsi; jge 0x9", "4885f60f8d00000000", ""},
	{"if r2 s< 0 goto pc+0", jumpRow(asm.JSLT.Imm(asm.R2, 0, "")),
		"test %rsi,%rsi; jl 0x9", "4885f60f8c00000000", ""},
	{"if r2 s<= 0 goto pc+0", jumpRow(asm.JSLE.Imm(asm.R2, 0, "")),
		"test %rsi,%rsi; jle 0x9", "4885f60f8e00000000", ""},
	{"if w8 != 0 goto pc+0", jumpRow(asm.JNE.Imm32(asm.R8, 0, "")),
		"test %r13d,%r13d; jne 0x9", "4585ed0f8500000000", ""},
	{"if r2 < 127 goto pc+0", jumpRow(asm.JLT.Imm(asm.R2, 127, "")),
		"cmp $0x7f,%rsi; jb 0xa", "4883fe7f0f8200000000", ""},
	{"if r2 < 128 goto pc+0", jumpRow(asm.JLT.Imm(asm.R2, 128, "")),
		"cmp $0x80,%rsi; jb 0xd", "4881fe800000000f8200000000", ""},
	{"if r2 s> -1 goto pc+0", jumpRow(asm.JSGT.Imm(asm.R2, -1, "")),
		"cmp $-0x1,%rsi; jg 0xa", "4883feff0f8f00000000", ""},
	{"if r0 & 1 goto pc+0", jumpRow(asm.JSet.Imm(asm.R0, 1, "")),
		"test $0x1,%bl; jne 0x9", "f6c3010f8500000000", ""},
	{"if r2 & 0x80 goto pc+0", jumpRow(asm.JSet.Imm(asm.R2, 0x80, "")),
		"test $0x80,%sil; jne 0xa", "40f6c6800f8500000000", ""},
	{"if w8 & 0xff goto pc+0", jumpRow(asm.JSet.Imm32(asm.R8, 0xff, "")),
		"test $0xff,%r13b; jne 0xa", "41f6c5ff0f8500000000", ""},
	{"if r2 & 0x100 goto pc+0", jumpRow(asm.JSet.Imm(asm.R2, 0x100, "")),
		"test $0x100,%rsi; jne 0xd", "48f7c6000100000f8500000000", ""},
	{"if r2 & -1 goto pc+0", jumpRow(asm.JSet.Imm(asm.R2, -1, "")),
		"test $-0x1,%rsi; jne 0xd", "48f7c6ffffffff0f8500000000", ""},
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
		"add %rsi,-0x8(%r15)", "490177f8", ""},
	{"r2 = fetch_add((u64 *)(r10 -8), r2)", asm.FetchAdd.Mem(asm.RFP, asm.R2, asm.DWord, -8),
		"xadd %rsi,-0x8(%r15)", "490fc177f8", ""},
	{"r2 = xchg((u64 *)(r10 -8), r2)", asm.Xchg.Mem(asm.RFP, asm.R2, asm.DWord, -8),
		"xchg %rsi,-0x8(%r15)", "498777f8", ""},
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
