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
//   - checkProgramSize: what bpf_prog_load refuses before verifying, an
//     empty program or one longer than 4096 instructions (BPF_MAXINSNS)
//     without CAP_BPF, 1,000,000 with it (E2BIG).
//   - checkJumpRanges and decode: program.Decode's structural checks
//     (opcodes, reserved fields, jumps inside the program and not into an
//     LDDW's second slot), reported in the kernel's words.
//   - resolveMaps: every LDDW map load names one of the program's maps,
//     whose spec is sane (checkMapSpec, mapcheck.go) and which the loader
//     may create (an LRU hash or a stack trace map needs CAP_BPF).
//   - findSubprogs: bpf-to-bpf call targets split the program into
//     functions; no jump leaves its function; each ends in exit or ja;
//     no function but the main one holds a tail call or LD_ABS (without
//     function BTF the kernel refuses them).
//   - checkCFG: a depth-first walk finds unreachable instructions and, for
//     loaders without CAP_BPF, back-edges; it marks the prune points.
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
// by every copy of the register (but a PtrToMapValue, for a loader with
// CAP_BPF, when the map is an array and the stack holds the key as a
// constant below max_entries). An _or_null pointer may not be
// dereferenced or moved. A conditional jump that compares it with the
// immediate 0 (64-bit, JEQ or JNE) makes it, and every register with its
// id, a PtrToMapValue on the side where it is not 0, and the scalar 0 on
// the other side. A pointer that cannot be NULL (a map value, a map)
// compared with 0 decides the jump. A lookup in a map of maps
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
// # Capabilities
//
// The kernel derives what a loader may do from two capabilities, and so
// do the checks here (env.go): bpf_capable (CAP_BPF: bounded loops,
// bpf-to-bpf calls, the helpers that need CAP_BPF, scalars that keep
// their facts when spilled, maps such as LRU hashes) and allow_ptr_leaks
// with allow_uninit_stack and bypass_spec_v1/v4 (CAP_PERFMON as well:
// pointers may be compared, stored into maps, returned or passed to
// helpers as numbers, uninitialised stack may be read, and pointer
// arithmetic is not hardened). The zero Options is root;
// Options.WithoutPerfmon keeps bpf_capable and drops the rest;
// Options.Unprivileged drops both.
//
// Without CAP_PERFMON the kernel hardens pointer arithmetic against
// Spectre v1 (sanitize.go): "ptr += reg" needs a stack or map value
// pointer ("R1 has pointer with unsupported alu operation") and an offset
// of known sign, every path through the instruction must move the pointer
// alike ("tried to add from different maps, paths or scalars"), and after
// any arithmetic the pointer must still be inside its object ("R0 pointer
// arithmetic of map value goes out of range, prohibited for !root"). The
// side of a jump that the facts rule out is still explored, as a
// speculative path with the compared registers unknown (pushSpeculative):
// an error there only ends that path, as the kernel then makes the
// instruction unreachable by speculation, and so does a stack store the
// kernel fences against Spectre v4 (nospec_result: a pointer spill, or a
// store over bytes not yet STACK_MISC or STACK_ZERO); but a speculative
// path that comes back to a state of a running loop is an infinite loop,
// so a bounded loop that a root loader may run can be refused here.
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
// whole register when its upper half is known zero). A pointer compared
// with 0 decides the jump only for the pointers that are never NULL (map
// values and keys, maps, memory, sockets) and only in 64 bits, as in the
// kernel; the speculative side of a hardened "ptr += reg" is not
// explored, and pruning does not turn exact for scalars once such an
// instruction was seen (the kernel's explore_alu_limits), so a program
// that moves one pointer differently on two paths that dropmon prunes
// into one is refused by the kernel only. The capability a program type
// needs (CAP_PERFMON for tracing types, CAP_NET_ADMIN for tc and XDP) and
// CAP_NET_ADMIN for maps are not checked; WithoutPerfmon assumes it. The
// decoder (program.Decode) refuses a write to R10 anywhere, where the
// kernel refuses it only on a path it explores. A load through a map
// pointer (ConstPtrToMap) is refused: the kernel lets root read struct
// bpf_map's fields, as its BTF lays them out, which the user-space engines
// do not have. Scalars are always
// compared by
// range when pruning (the kernel skips those it has not marked precise),
// which prunes less but never wrongly; there is no precision or read-mark
// tracking, so "mark_read" is always 0. Division and modulo of unknown
// values teach nothing, as in the kernel. The verifier rewrites nothing:
// Verified.Insns is the decoded program, and division by a register that
// may be zero is left to the engines (RFC 9669 results).
//
// Root (the default) may read uninitialised stack, as the kernel allows
// since Linux 6.5 (allow_uninit_stack, which follows CAP_PERFMON); with
// Options.Unprivileged or WithoutPerfmon that is "invalid read from stack
// R10 off=-8 size=8" below the stack the frame has used, "invalid read
// from stack off -8+4 size 8" inside it.
package verifier
