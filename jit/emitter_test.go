//go:build amd64 && linux

package jit

import (
	"bytes"
	"testing"

	"golang.org/x/arch/x86/x86asm"

	"github.com/dropmon/dropmon/program"
)

// emitterTests are encodings of the emitter's own sequences and forms,
// which no single eBPF instruction makes (encoding_test.go has those): the
// run's entry and end, guard increments, every kind of memory operand
// (the bases that need a SIB byte or a displacement, the disp8 and disp32
// limits), immediates at the imm8 and imm32 limits, layout
// multiplications, packet loads, short jumps and padding. Each row was
// checked once both ways, as in encoding_test.go: hex to text with
//
//	echo f048ff00 | xxd -r -p > row.bin && objdump -D -b binary -m i386:x86-64 row.bin
//
// and text to hex with llvm-mc, which printed each row's hex, jumps
// aside, and the NOPs, whose zero displacement x86asm's text leaves out
// (objdump shows it):
//
//	echo 'lock incq (%rax)' | llvm-mc -triple=x86_64 -show-encoding
//
// mc would be llvm-mc's encoding where it chose another form of the same
// operations; no row needs it now. The text is x86asm's AT&T spelling,
// which objdump writes "nopl 0x0(%rax,%rax,1)" for "nopl (%rax,%rax)" and
// "(%r12)" for "(%r12,%riz)"; jump targets are absolute addresses from 0.
var emitterTests = []struct {
	name string
	emit func(c *compiler)
	text string
	hex  string
	mc   string
}{
	{"lock inc (guard enter)", func(c *compiler) { c.rm(fW|fLock, opGrp5, 0, rax, 0) },
		"lock incq (%rax)", "f048ff00", ""},
	{"inc (guard exit)", func(c *compiler) { c.rm(fW, opGrp5, 0, rax, 0) },
		"incq (%rax)", "48ff00", ""},
	{"load R10 (start)", func(c *compiler) { c.load64(r15, rbp, offTop) },
		"mov 0x40(%rbp),%r15", "4c8b7d40", ""},
	{"exit done", func(c *compiler) { c.aluRR(0, opXor, rax, rax); c.returnToGo() },
		"xor %eax,%eax; mov %rbx,0x28(%rsp); mov %rax,0x30(%rsp); mov (%rbp),%rbp; retq", "31c048895c24284889442430488b6d00c3", ""},
	{"exit helper code", func(c *compiler) { c.movRI(0, rax, int32(exitHelper)) },
		"mov $0x1,%eax", "b801000000", ""},
	{"stride 16", func(c *compiler) { c.mulImm(r9, rcx, 16) },
		"mov %rcx,%r9; shl $0x4,%r9", "4989c949c1e104", ""},
	{"stride 24", func(c *compiler) { c.mulImm(r9, rcx, 24) },
		"imul $0x18,%rcx,%r9", "4c6bc918", ""},
	{"stride 1", func(c *compiler) { c.mulImm(rdx, rdx, 1) },
		"", "", ""},
	{"value address", func(c *compiler) { c.rm(fW, opLea, rbx, r9, 0x18) },
		"lea 0x18(%r9),%rbx", "498d5918", ""},
	{"[rax]: no displacement", func(c *compiler) { c.load64(rdx, rax, 0) },
		"mov (%rax),%rdx", "488b10", ""},
	{"[rbp]: disp8 0, not RIP-relative", func(c *compiler) { c.load64(rax, rbp, 0) },
		"mov (%rbp),%rax", "488b4500", ""},
	{"[r13]: disp8 0, not RIP-relative", func(c *compiler) { c.load64(rax, r13, 0) },
		"mov (%r13),%rax", "498b4500", ""},
	{"[rsp]: SIB", func(c *compiler) { c.load64(rax, rsp, 0) },
		"mov (%rsp),%rax", "488b0424", ""},
	{"[r12]: SIB", func(c *compiler) { c.load64(rax, r12, 0) },
		"mov (%r12,%riz),%rax", "498b0424", ""},
	{"[r12+8]: SIB, disp8", func(c *compiler) { c.store64(r12, 8, r9) },
		"mov %r9,0x8(%r12,%riz)", "4d894c2408", ""},
	{"[r12+0x80]: SIB, disp32", func(c *compiler) { c.store64(r12, 0x80, r9) },
		"mov %r9,0x80(%r12,%riz)", "4d898c2480000000", ""},
	{"[rbx+127]: disp8", func(c *compiler) { c.rm(0, opMovLd, rcx, rbx, 127) },
		"mov 0x7f(%rbx),%ecx", "8b4b7f", ""},
	{"[rbx-128]: disp8", func(c *compiler) { c.rm(0, opMovLd, rcx, rbx, -128) },
		"mov -0x80(%rbx),%ecx", "8b4b80", ""},
	{"[rbx-129]: disp32", func(c *compiler) { c.rm(0, opMovLd, rcx, rbx, -129) },
		"mov -0x81(%rbx),%ecx", "8b8b7fffffff", ""},
	{"[r13+0x100]: disp32", func(c *compiler) { c.rm(0, opMovLd, rcx, r13, 0x100) },
		"mov 0x100(%r13),%ecx", "418b8d00010000", ""},
	{"cmp mem, imm8", func(c *compiler) { c.aluMI(0, extCmp, r9, 4, 1) },
		"cmpl $0x1,0x4(%r9)", "4183790401", ""},
	{"cmp mem, imm32", func(c *compiler) { c.aluMI(0, extCmp, r9, 4, 0x1000) },
		"cmpl $0x1000,0x4(%r9)", "4181790400100000", ""},
	{"sub rax, imm8 (64-bit)", func(c *compiler) { c.aluRI(fW, extSub, rax, -8) },
		"sub $-0x8,%rax", "4883e8f8", ""},
	{"mov r64, positive imm: mov r32", func(c *compiler) { c.movRI(fW, rax, 5) },
		"mov $0x5,%eax", "b805000000", ""},
	{"mov r64, negative imm: REX.W C7", func(c *compiler) { c.movRI(fW, r8, -5) },
		"mov $-0x5,%r8", "49c7c0fbffffff", ""},
	{"mov r32, negative imm", func(c *compiler) { c.movRI(0, r8, -5) },
		"mov $-0x5,%r8d", "41b8fbffffff", ""},
	{"mov r64, 0 keeps the flags", func(c *compiler) { c.movRI(fW, r10, 0) },
		"mov $0x0,%r10d", "41ba00000000", ""},
	{"set r64, 0: xor", func(c *compiler) { c.setRI(fW, r10, 0) },
		"xor %r10d,%r10d", "4531d2", ""},
	{"set r64, 1", func(c *compiler) { c.setRI(fW, r10, 1) },
		"mov $0x1,%r10d", "41ba01000000", ""},
	{"movabs 0", func(c *compiler) { c.movabs(rdx, 0) },
		"mov $0x0,%edx", "ba00000000", ""},
	{"movabs 2^32-1: mov r32", func(c *compiler) { c.movabs(r10, 0xffffffff) },
		"mov $-0x1,%r10d", "41baffffffff", ""},
	{"movabs 2^32", func(c *compiler) { c.movabs(r10, 1<<32) },
		"mov $0x100000000,%r10", "49ba0000000001000000", ""},
	{"movabs -2^31: sign-extended imm32", func(c *compiler) { c.movabs(rdx, 0xffffffff80000000) },
		"mov $-0x80000000,%rdx", "48c7c200000080", ""},
	{"movabs -2^31-1", func(c *compiler) { c.movabs(rdx, 0xffffffff7fffffff) },
		"mov $-0x80000001,%rdx", "48baffffff7fffffffff", ""},
	{"shift by 1", func(c *compiler) { c.shiftRI(0, extShr, rcx, 1) },
		"shr %ecx", "d1e9", ""},
	{"stride 1000", func(c *compiler) { c.mulImm(r9, rcx, 1000) },
		"imul $0x3e8,%rcx,%r9", "4c69c9e8030000", ""},
	{"ld_abs byte at 23", func(c *compiler) { c.emitPacketLoadAbs(23, 1) },
		"cmpq $0x18,0x30(%rbp); jb 0xb; mov 0x28(%rbp),%rax; movzbl 0x17(%rax),%ebx", "48837d30180f8200000000488b45280fb65817", ""},
	{"ld_abs half at 12", func(c *compiler) { c.emitPacketLoadAbs(12, 2) },
		"cmpq $0xe,0x30(%rbp); jb 0xb; mov 0x28(%rbp),%rax; movzwl 0xc(%rax),%ebx; bswap %ebx; shr $0x10,%ebx", "48837d300e0f8200000000488b45280fb7580c0fcbc1eb10", ""},
	{"ld_abs word at 0x1000", func(c *compiler) { c.emitPacketLoadAbs(0x1000, 4) },
		"cmpq $0x1004,0x30(%rbp); jb 0xe; mov 0x28(%rbp),%rax; mov 0x1000(%rax),%ebx; bswap %ebx", "48817d30041000000f8200000000488b45288b98001000000fcb", ""},
	{"ld_ind word at R7+14", func(c *compiler) {
		c.emitPacketLoad(&program.Insn{Op: program.LdIndW, Src: 7, Imm: 14})
	},
		"lea 0xe(%r12,%riz),%eax; test %eax,%eax; js 0xd; lea 0x4(%rax),%rdx; cmp 0x30(%rbp),%rdx; ja 0x1b; add 0x28(%rbp),%rax; mov (%rax),%ebx; bswap %ebx", "418d44240e85c00f8800000000488d5004483b55300f8700000000480345288b180fcb", ""},
	{"backward jb", func(c *compiler) { c.bytes(0x90, 0x90); c.patch8To(c.jcc8(ccB), 0) },
		"nop; nop; jb 0x0", "909072fc", ""},
	{"pad 5", func(c *compiler) { c.bytes(0x90, 0x90, 0x90); c.align(8) },
		"nop; nop; nop; nopl (%rax,%rax)", "9090900f1f440000", ""},
	{"pad 9", func(c *compiler) { c.bytes(0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90); c.align(16) },
		"nop; nop; nop; nop; nop; nop; nop; nopw (%rax,%rax)", "90909090909090660f1f840000000000", ""},
	{"pad 12", func(c *compiler) { c.bytes(0x90, 0x90, 0x90, 0x90); c.align(16) },
		"nop; nop; nop; nop; nopw (%rax,%rax); nopl (%rax)", "90909090660f1f8400000000000f1f00", ""},
}

func TestEmitterEncoding(t *testing.T) {
	for _, tt := range emitterTests {
		t.Run(tt.name, func(t *testing.T) {
			var c compiler
			tt.emit(&c)
			checkEncoding(t, c.b, tt.text, tt.hex, tt.mc)
		})
	}
}

// TestBackwardJumps checks jmpBack and jccBack at the edge of rel8's
// reach: a jump 128 bytes back from its end is short, one 129 bytes back
// is a rel32, and both land on the target.
func TestBackwardJumps(t *testing.T) {
	for _, tt := range []struct {
		name    string
		gap     int // bytes between the target and the jump
		emit    func(c *compiler)
		wantLen int
	}{
		{"jmp rel8", 126, func(c *compiler) { c.jmpBack(0) }, 2},
		{"jmp rel32", 127, func(c *compiler) { c.jmpBack(0) }, 5},
		{"jne rel8", 126, func(c *compiler) { c.jccBack(ccNE, 0) }, 2},
		{"jne rel32", 127, func(c *compiler) { c.jccBack(ccNE, 0) }, 6},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c compiler
			c.b = bytes.Repeat([]byte{0x90}, tt.gap)
			tt.emit(&c)
			inst, err := x86asm.Decode(c.b[tt.gap:], 64)
			if err != nil {
				t.Fatal(err)
			}
			rel, ok := inst.Args[0].(x86asm.Rel)
			if !ok || inst.Len != tt.wantLen || len(c.b) != tt.gap+tt.wantLen {
				t.Fatalf("got %v (%d bytes), want a %d-byte jump", inst, inst.Len, tt.wantLen)
			}
			if target := tt.gap + inst.Len + int(rel); target != 0 {
				t.Errorf("%v lands at %d, want 0", inst, target)
			}
		})
	}
}
