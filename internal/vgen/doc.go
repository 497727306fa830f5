// Package vgen generates eBPF programs aimed at the hard parts of a
// verifier, for differential tests against the kernel's: pointer
// arithmetic and comparison, spills and fills across branches, map
// value bounds and map flags, shifts and 32-bit subregisters, helper
// arguments on the stack, and loops. Generation is deterministic: the
// i-th program of a seed is always the same. Programs are well formed
// (valid encodings, r0 set, ending in exit) but often unsafe, so that
// verifiers have something to disagree about. Half of them are careful:
// they keep to the stricter rules of loaders without CAP_PERFMON or
// CAP_BPF, so that those modes too see programs they may accept. Shrink
// cuts a disagreeing program down to a small reproducer.
package vgen
