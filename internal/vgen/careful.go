package vgen

// Careful programs keep to the rules the kernel adds for loaders without
// CAP_PERFMON (bpf-only) and without CAP_BPF (unprivileged): pointers
// compared only with NULL and never stored where a user can read them,
// no pointer arithmetic those loaders may not do, stack accessed at
// constant, aligned offsets and only after it was written, no variable
// stack offsets (Spectre v1), and, for the loop class, some programs
// without back-edges and within 4096 instructions. They still stay at
// the verifier's edges (bounds off by one, fills of the wrong width,
// shifts whose result must be bounded to be used, map flags), so their
// verdicts turn on the hard parts, but mostly the same way in every
// mode. Without them the stricter modes would reject nearly every
// program for the same few reasons: each mode must see programs both
// within and beyond its rules. Measured on the fixed set of the tests
// (seed 1, 1,200 programs), the kernel accepted 37% of the programs
// privileged, 15% with CAP_BPF only and 14% unprivileged before; with
// careful programs, 52%, 42% and 37%.

// carefulShare is the share of each class's programs that are careful.
const carefulShare = 0.5

// carefulGenerators are generators' careful counterparts.

var carefulGenerators = [numClasses]func(*builder){
	PointerArith: (*builder).carefulPointerArith,
	SpillFill:    (*builder).carefulSpillFill,
	MapAccess:    (*builder).carefulMapAccess,
	Shift32:      (*builder).carefulShift32,
	HelperStack:  (*builder).carefulHelperStack,
	Loop:         (*builder).carefulLoop,
}
