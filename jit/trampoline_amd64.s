//go:build linux

#include "textflag.h"

// Offset of savedBP in jitContext; TestContextOffsets checks it against
// the Go constant offSavedBP.
#define ctx_savedBP 0

// func callJIT(code uintptr, ctx unsafe.Pointer, r1, r2 uint64) (r0 uint64, exit exitCode)
//
// callJIT saves RBP in the context, puts the context in RBP and eBPF's R1
// and R2 in RDI and RSI, and jumps to the code, which returns for it: it
// writes R0 and the exit code to this function's results (at fixed
// offsets from RSP, which the code never moves: retR0 and retExit,
// checked by TestTrampolineFrame), restores RBP and executes RET. With no
// frame of its own (NOFRAME), callJIT puts nothing on the goroutine stack;
// the code uses none of it. Every register but RSP and RBP is the code's:
// this is an ABI0 function, after which Go's callers restore R14 (g) and
// X15 themselves, and R15 (the GOT register of dynamic links) is scratch.
TEXT ·callJIT(SB), NOSPLIT|NOFRAME, $0-48
	MOVQ code+0(FP), AX
	MOVQ ctx+8(FP), DX
	MOVQ r1+16(FP), DI
	MOVQ r2+24(FP), SI
	MOVQ BP, ctx_savedBP(DX)
	MOVQ DX, BP
	JMP AX
