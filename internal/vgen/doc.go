// Package vgen generates eBPF programs aimed at the hard parts of a
// verifier, for differential tests against the kernel's: pointer
// arithmetic and comparison, spills and fills across branches, map
// value bounds and map flags, shifts and 32-bit subregisters, helper
// arguments on the stack, and loops. Generation is deterministic: the
// i-th program of a seed is always the same. Programs are well formed
// (valid encodings, r0 set, ending in exit) but often unsafe, so that
// verifiers have something to disagree about; Shrink cuts a
// disagreeing program down to a small reproducer.
package vgen
