package verifier

import (
	"slices"

	"github.com/dropmon/dropmon/program"
)

// Verified is a program the verifier proved safe: what engines load. Only
// Verify makes one (its fields are unexported, and a zero Verified holds no
// program, which engines refuse). It keeps the verifier's own copy of the
// program, taken when Verify began, and hands out copies, so that nothing a
// caller does to its program, before or after, changes what runs: engines
// run exactly what was proven.
type Verified struct {
	program      *program.Program
	insns        []program.Insn
	processed    int
	stackDepth   []int
	maxCtxOffset int
	ctxWrites    bool
	ctxPointers  []RegType
	callMaps     []int
	contextSize  int
	log          string
}

// Program returns a copy of the program that was proven, nil for a zero
// Verified.
func (v *Verified) Program() *program.Program { return v.program.Clone() }

// Insns returns a copy of the decoded program, indexed by raw slot. The
// verifier rewrites nothing.
func (v *Verified) Insns() []program.Insn { return slices.Clone(v.insns) }

// Processed counts simulated instructions, as the kernel's "processed N
// insns" does.
func (v *Verified) Processed() int { return v.processed }

// StackDepth is, per subprogram in order of their first instruction, the
// deepest stack byte used, rounded up to 8. The combined check along call
// chains rounds each frame up to 16, as the kernel does for JIT-compiled
// programs.
func (v *Verified) StackDepth() []int { return slices.Clone(v.stackDepth) }

// MaxCtxOffset is the largest off+size of a context read, so that the
// attach code can check it against the record; 0 if none.
func (v *Verified) MaxCtxOffset() int { return v.maxCtxOffset }

// CtxWrites says the program writes its context (__sk_buff cb[], mark,
// ...), which only some program types may.
func (v *Verified) CtxWrites() bool { return v.ctxWrites }

// CtxPointer says what pointer a context load at slot yields: PtrToPacket
// for __sk_buff's data, PtrToPacketEnd for data_end, PtrToPacketMeta,
// PtrToFlowKeys, PtrToSockCommonOrNull for sk; ok is false for other
// slots and for loads of plain fields. The kernel rewrites such loads to
// read its own structures (convert_ctx_accesses); user-space engines
// rewrite them to read the pointers they keep beside the context (package
// skbuff).
func (v *Verified) CtxPointer(slot int) (t RegType, ok bool) {
	if slot < 0 || slot >= len(v.ctxPointers) || v.ctxPointers[slot] == NotInit {
		return NotInit, false
	}
	return v.ctxPointers[slot], true
}

// CallMaps gives, per slot, the map a helper call takes in R1 on every path
// that reaches it, as an index into the program's maps; -1 for other slots,
// for helpers without a map argument, and for calls that see different maps
// (or an inner map of a map-in-map) on different paths. Engines use it to
// specialise map helpers for one map, as the kernel's JIT inlines lookups of
// a map known at the call site. Nil from WithoutCallMaps.
func (v *Verified) CallMaps() []int { return slices.Clone(v.callMaps) }

// ContextSize is Options.ContextSize: for the conformance type, the length
// of the memory R1 points to, which every run must provide.
func (v *Verified) ContextSize() int { return v.contextSize }

// Log is the verifier log (the statistics line at level 0).
func (v *Verified) Log() string { return v.log }

// WithoutCallMaps returns v as if the map of each call site were unknown,
// so that engines take their generic paths: for their tests and
// measurements.
func (v *Verified) WithoutCallMaps() *Verified {
	c := *v
	c.callMaps = nil
	return &c
}
