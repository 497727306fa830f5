// Package verifier proves an eBPF program safe before it runs, the way
// the Linux kernel's verifier (kernel/bpf/verifier.c) does. The engines run
// only what it accepted: the JIT trusts the proof and checks nothing at run
// time; the interpreter still checks every memory access against the run's
// regions (userspacevm.Memory), a second layer for the proof's mistakes.
//
// # Pipeline
//
// Verify runs small named phases, each of which may reject:
//
//   - checkJumpRanges and decode: program.Decode's structural checks
//     (opcodes, reserved fields, jumps inside the program and not into an
//     LDDW's second slot), reported in the kernel's words.
//   - resolveMaps: every LDDW map load names one of the program's maps,
//     whose spec is sane (checkMapSpec, mapcheck.go).
//   - findSubprogs: bpf-to-bpf call targets split the program into
//     functions; no jump leaves its function; each ends in exit or ja.
//   - checkCFG: a depth-first walk finds unreachable instructions and, for
//     unprivileged programs, back-edges; it marks the prune points.
//   - computeLiveness: which registers each instruction's successors may
//     read, so that state comparison ignores dead ones.
//   - doCheck: the simulation of every path (below).
//   - checkStackDepth: at most 8 frames and 512 bytes along any call chain.
//
// # Register types
//
// Each register, and each 8-byte register spilled to the stack, holds a
// RegType: NotInit (may not be read: "R0 !read_ok"), Scalar, or a pointer
// kind: PtrToCtx, PtrToStack, ConstPtrToMap, PtrToMapValue, the packet
// pointers PtrToPacket, PtrToPacketMeta and PtrToPacketEnd, PtrToMem.
// Scalars carry a tnum (which bits are known) and signed and unsigned
// ranges of all 64 bits and of the low 32, kept consistent with each
// other (scalar.go); a pointer
// carries a fixed offset plus a variable offset described the same way.
// Every load or store is checked against its pointer's region: the frame
// (down to R10-512, byte by byte initialised or not), a map value
// (value_size), the context (contextAccess, ctx.go, per program type), a
// packet (the range proven by comparisons with pkt_end).
//
// # Null checks
//
// bpf_map_lookup_elem returns PtrToMapValueOrNull with a fresh id, shared
// by every copy of the register. An _or_null pointer may not be
// dereferenced or moved. A conditional jump that compares it with 0 makes
// it, and every register with its id, a PtrToMapValue on the side where it
// is not 0, and the scalar 0 on the other side. A lookup in a map of maps
// yields the inner map (ConstPtrToMap) once checked. Packet pointers share
// ids the same way: "if r2 > r3 goto" with r3 = pkt_end proves a range for
// every pointer with r2's id on the side where it is in bounds.
//
// # Helper calls
//
// A helper is known by its prototype (program.Helper): the program types
// that may call it and, per argument, what the register must hold: a map
// (ConstPtrToMap, of a type helperMapCompatible allows), a pointer to a key
// or value of that map's sizes (initialised bytes), a pointer to memory
// with its size in the next argument (a scalar with known bounds; the
// memory initialised for helpers that read it, marked initialised for
// those that fill it), the context, or anything. After the call R1-R5 are
// NotInit and R0 is what the prototype returns: a scalar, or an _or_null
// pointer with a fresh id. Ring buffer records are references that every
// path must submit or discard.
//
// # Simulation and pruning
//
// doCheck follows one path at a time from the first instruction, pushing
// the other side of each conditional jump whose outcome the facts do not
// decide and refining both sides' facts with the condition. A jump whose
// outcome is known is followed one way only, which is how a bounded loop
// is unrolled until its counter decides the exit. At prune points the
// current state is compared with states explored there before: if an old
// state whose paths are all proven covers it (ranges, tnums and packet
// ranges contain the new ones, the same pointers, ids linked alike, stack
// at least as initialised; dead registers ignored), the path is safe
// (prune.go). If an old state on the current path equals it, the loop
// cannot end ("infinite loop detected at insn 5"). Every instruction
// simulated counts against the kernel's budget of one million.
//
// # Differences from the kernel
//
// A JMP32 refines the 32-bit ranges and the low half of the tnum (the
// whole register when its upper half is known zero). Scalars are always
// compared by
// range when pruning (the kernel skips those it has not marked precise),
// which prunes less but never wrongly; there is no precision or read-mark
// tracking, so "mark_read" is always 0. Division and modulo of unknown
// values teach nothing, as in the kernel. The verifier rewrites nothing:
// Verified.Insns is the decoded program, and division by a register that
// may be zero is left to the engines (RFC 9669 results).
//
// Privileged programs (the default) may read uninitialised stack, as the
// kernel allows CAP_BPF loaders since Linux 6.5; with Options.Unprivileged
// that is "invalid read from stack off -8+0 size 8".
package verifier
