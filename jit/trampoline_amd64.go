//go:build linux

package jit

import "unsafe"

// callJIT enters generated code at code with the context ctx, eBPF's R1
// and R2 set to r1 and r2, and returns when the code returns to Go (an
// exit, a helper call, an error) with eBPF's R0 and the reason.
//
//go:noescape
func callJIT(code uintptr, ctx unsafe.Pointer, r1, r2 uint64) (r0 uint64, exit exitCode)
