// Package program is the program model every dropmon engine shares: a
// Program is its type (which context it sees), its cilium/ebpf instructions,
// its map specs and its licence; Decode turns the instructions once into a
// flat, validated slice of Insn indexed by raw instruction offset, which the
// interpreter, the verifier and the JIT all read. It also holds the table of
// helper prototypes, keyed by the kernel's helper numbers. FromELF loads
// programs from BPF objects and applies their CO-RE relocations against a
// kernel's BTF (core.go). FromELF and FromJSONFile read at most MaxELFSize
// and MaxJSONSize bytes, so that a device or a huge file cannot make them
// read without end. It imports nothing of dropmon's but internal/bounded (a
// leaf that reads within a limit), so that every engine and loader can
// import it.
package program

// Design notes.
//
// Decode validates what the kernel validates before the verifier proper
// (check_subprogs, the reserved-field checks of do_check and uBPF's load-time
// checks): known opcodes, unused fields zero ("Instructions with non-zero
// unused fields are rejected at load", RFC 9669), register numbers, writes
// to the read-only frame pointer R10, jumps inside the program and never into
// the second slot of a 64-bit load, and a last instruction that cannot fall
// off the end. Errors are *InsnError values that name the slot: "insn 3:
// unknown opcode 0x8d".
//
// cilium/ebpf's decoder folds some raw fields into its OpCode (signed
// division and sign-extending moves take their offset; atomics take their
// immediate), so Decode switches on the decoded operations and checks what
// is left. FromBytes checks the few raw facts the asm decoder would report
// without a location (a truncated or malformed 64-bit load) before decoding.
//
// The Op enum has one value per distinct operation, numbered densely so that
// the interpreter's switch compiles to a jump table. A decoded jump holds its
// absolute target, so ja and the 32-bit-offset ja32 become the same JA.
