//go:build amd64 && linux

package jit

// reg is an x86-64 general register by its encoding number.
type reg uint8

const (
	rax reg = iota
	rcx
	rdx
	rbx
	rsp
	rbp
	rsi
	rdi
	r8
	r9
	r10
	r11
	r12
	r13
	r14
	r15
)

// regMap maps eBPF registers R0-R10 to x86 registers. RAX, RDX and RCX
// stay free for what x86 hard-wires to them (DIV/IDIV in RDX:RAX, shift
// counts in CL, CMPXCHG's comparand in RAX) and for scratch values, so no
// eBPF register ever has to be saved around those instructions; RSP is the
// goroutine's stack, which generated code never touches; RBP holds the
// context pointer (ctxReg). That leaves exactly eleven registers.
var regMap = [11]reg{
	rbx, // R0: return value; not an argument register, so helper exits need not keep it
	rdi, // R1: first argument (and ctx at entry)
	rsi, // R2: second argument (and the conformance type's length)
	r8,  // R3
	r9,  // R4
	r10, // R5
	r11, // R6: callee-saved in eBPF; saved in the context's call frames
	r12, // R7 (needs a SIB byte as a base: the emitters add it)
	r13, // R8
	r14, // R9: R14 is g in Go's ABIInternal, which Go restores after an ABI0 call
	r15, // R10: read-only frame pointer; R15 (the GOT register of dynamic links) is scratch in ABI0
}

// ctxReg holds the address of the runner's context for the whole run: the
// trampoline sets it after saving RBP (Go's frame pointer) in the context,
// and the code restores RBP when it returns to Go.
const ctxReg = rbp
