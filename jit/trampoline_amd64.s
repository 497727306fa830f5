//go:build linux

#include "textflag.h"

// Offset of savedBP in jitContext; TestContextOffsets checks it against
// the Go constant offSavedBP.
#define ctx_savedBP 0

// func callJIT(code uintptr, ctx unsafe.Pointer, r1, r2 uint64) (r0 uint64, exit exitCode)
//
// callJIT saves RBP in the context, puts the context in RBP, eBPF's R1
// and R2 in RDI and RSI, and CALLs the generated code. The code uses the 8
// bytes of the return address below this frame and nothing else of the
// goroutine stack, keeps RBP, and returns here with RET, eBPF's R0 in RBX
// and the exit code in RAX. Every other register is the code's: this is
// an ABI0 function, after which Go's callers restore R14 (g) and X15
// themselves, and R15 (the GOT register of dynamic links) is scratch.
TEXT ·callJIT(SB), NOSPLIT, $0-48
	MOVQ code+0(FP), AX
	MOVQ ctx+8(FP), DX
	MOVQ r1+16(FP), DI
	MOVQ r2+24(FP), SI
	MOVQ BP, ctx_savedBP(DX)
	MOVQ DX, BP
	CALL AX
	MOVQ BX, r0+32(FP)
	MOVQ AX, exit+40(FP)
	MOVQ ctx_savedBP(BP), BP
	RET
