//go:build linux

#include "textflag.h"

// Offsets into jitContext; TestContextOffsets checks them against the Go
// constants offSavedBP, offSavedR14 and offSavedR15.
#define ctx_savedBP 0
#define ctx_savedR14 8
#define ctx_savedR15 16

// func callJIT(code uintptr, ctx unsafe.Pointer)
//
// callJIT saves the registers Go needs back (RBP, R14 = g, R15 = GOT),
// puts the context in RBP and CALLs the generated code, which uses the 8
// bytes of the return address below this frame and nothing else of the
// goroutine stack, and returns here with RET.
TEXT ·callJIT(SB), NOSPLIT, $0-16
	MOVQ code+0(FP), AX
	MOVQ ctx+8(FP), DX
	MOVQ BP, ctx_savedBP(DX)
	MOVQ R14, ctx_savedR14(DX)
	MOVQ R15, ctx_savedR15(DX)
	MOVQ DX, BP
	CALL AX
	MOVQ ctx+8(FP), DX
	MOVQ ctx_savedBP(DX), BP
	MOVQ ctx_savedR14(DX), R14
	MOVQ ctx_savedR15(DX), R15
	RET
