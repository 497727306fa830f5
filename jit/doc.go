// Package jit compiles verified eBPF programs to x86-64 machine code and
// runs them, in pure Go: no cgo, no calls from machine code into Go.
//
// Design. Compile makes one pass over the decoded slots (one switch over
// program.Op, each case a small emit helper), keeping addrs[i], the code
// offset of every slot, and a fix-up list for forward jumps (rel32);
// backward jumps take the short form when it reaches, and loop heads are
// aligned. eBPF registers R0-R10 live in fixed x86 registers (regs.go),
// with RAX, RCX and RDX left free for DIV, shifts and CMPXCHG and RBP
// holding the context. The code is copied into anonymous memory that is
// made read-execute only after the copy (W^X).
//
// Go enters the code only through callJIT, a NOSPLIT assembly trampoline
// with no frame that saves RBP in the context and jumps to the start stub
// (a new run) or the resume stub (after a helper); the code writes R0 and
// the reason into callJIT's results and returns with RET on its behalf. Generated code never touches the goroutine stack
// beyond that return address: the eBPF stack is a per-runner mmap,
// bpf-to-bpf calls save the return address and R6-R10 in the context and
// return with an indirect JMP, and nothing is pushed. A helper call is an
// exit: the code stores its registers, the helper number and the resume
// address in the context and returns; the runner's Go loop calls the same
// HelperFunc the interpreter would, writes R0 and re-enters. Traps the
// verifier leaves possible (division by zero, INT_MIN / -1, packet loads
// out of bounds) are tested inline and give RFC 9669 results.
//
// Map lookups in array, per-CPU array and hash maps are inlined, reading
// the maps' memory directly (maps/layout.go): compiled for one map when
// the verifier saw that map at the call on every path
// (verifier.Verified.CallMaps), else dispatching on the map's type at run
// time. Other helpers exit.
//
// Engine is the userspacevm.Engine; on other platforms, and where
// executable memory is refused, errors match ErrNotSupported so that
// callers fall back to the interpreter. RATIONALE.md argues the choices.
package jit
