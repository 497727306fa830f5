//go:build linux

package jit

import "unsafe"

// callJIT enters generated code at code with the context ctx and returns
// when the code returns to Go (an exit, a helper call, an error).
//
//go:noescape
func callJIT(code uintptr, ctx unsafe.Pointer)
