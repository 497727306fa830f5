//go:build amd64 && linux

package jit

import "testing"

// emitterTests are encodings of the emitter's own sequences, which no
// single eBPF instruction makes (encoding_test.go has those): the run's
// entry and end, guard increments, layout multiplications, short jumps
// and padding. Each row was checked once both ways, as in
// encoding_test.go: hex to text with
//
//	echo f048ff8000000000 | xxd -r -p > row.bin && objdump -D -b binary -m i386:x86-64 row.bin
//
// and text to hex with llvm-mc, a {disp32} or {disp8} prefix selecting
// the displacement size the emitter uses:
//
//	echo 'lock; {disp32} incq (%rax)' | llvm-mc -triple=x86_64 -show-encoding
//
// mc is llvm-mc's encoding where it chose a shorter form (an imm8, mov's
// B8+r form); the test checks that it decodes to the same operations. The
// text is x86asm's AT&T spelling, which objdump writes "nopl
// 0x0(%rax,%rax,1)" for "nopl (%rax,%rax)"; jump targets are absolute
// addresses from 0.
var emitterTests = []struct {
	name string
	emit func(c *compiler)
	text string
	hex  string
	mc   string
}{
	{"lock inc (guard enter)", func(c *compiler) { c.rm(fW|fLock, opGrp5, 0, rax, 0) },
		"lock incq (%rax)", "f048ff8000000000", ""},
	{"inc (guard exit)", func(c *compiler) { c.rm(fW, opGrp5, 0, rax, 0) },
		"incq (%rax)", "48ff8000000000", ""},
	{"load R10 (start)", func(c *compiler) { c.load64(r15, rbp, offTop) },
		"mov 0x40(%rbp),%r15", "4c8bbd40000000", ""},
	{"exit done", func(c *compiler) { c.aluRR(0, opXor, rax, rax); c.returnToGo() },
		"xor %eax,%eax; mov %rbx,0x28(%rsp); mov %rax,0x30(%rsp); mov (%rbp),%rbp; retq",
		"31c048899c24280000004889842430000000488bad00000000c3", ""},
	{"exit helper code", func(c *compiler) { c.movRI(0, rax, int32(exitHelper)) },
		"mov $0x1,%eax", "c7c001000000", "b801000000"},
	{"stride 16", func(c *compiler) { c.mulImm(r9, rcx, 16) },
		"mov %rcx,%r9; shl $0x4,%r9", "4989c949c1e104", ""},
	{"stride 24", func(c *compiler) { c.mulImm(r9, rcx, 24) },
		"imul $0x18,%rcx,%r9", "4c69c918000000", "4c6bc918"},
	{"stride 1", func(c *compiler) { c.mulImm(rdx, rdx, 1) },
		"", "", ""},
	{"value address", func(c *compiler) { c.rm(fW, opLea, rbx, r9, 0x18) },
		"lea 0x18(%r9),%rbx", "498d9918000000", ""},
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
