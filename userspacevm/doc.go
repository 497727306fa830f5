// Package userspacevm runs eBPF programs over records in user space. Prepare
// turns a program.Program into a Prepared program (decoded, its maps
// created or bound, its map loads and helper calls resolved); an Engine
// loads a Prepared program into Runners, one per goroutine (one per CPU),
// that run it record by record. The interpreter is the engine here; the
// JIT plugs into the same interface.
package userspacevm

// Design.
//
// Engines. Prepare does what every engine needs and nothing engine-specific:
// program.Decode (validation and the flat slice indexed by raw instruction
// offset), maps (maps.New, or maps the caller passes so that several
// programs and runners share them), LDDW map pseudo loads rewritten to plain
// 64-bit loads of the map's address (src 1) or of the address of an array
// value (src 2), and helper calls bound to the implementations of a Helpers
// table. A helper the table lacks refuses the program at load time, by name.
// The verifier runs first: PrepareVerified prepares what verifier.Verify
// accepted and records the proof (Prepared.Verified(), the context size it
// holds for), and engines load only programs prepared that way, refusing
// others with ErrNotVerified; the interpreter runs an unverified program
// only when InterpOptions.RunUnverified says so, for tests and fuzzing.
//
// Addresses are real. A register that holds a pointer holds the address the
// CPU would use: the context's bytes, the runner's stack, a map value in
// the map's off-heap block. The interpreter and generated machine code thus
// agree on every value a program can compute, and helpers such as
// bpf_map_lookup_elem return addresses programs dereference directly. Go
// pointers are formed from those addresses only through Memory (a region's
// Base plus an offset, with unsafe.Add), never by converting an integer,
// so that the race detector's checkptr stays content and the memory stays
// alive.
//
// Checked mode. The interpreter checks every load, store and atomic
// against the run's regions, verified program or not (for a verified one
// it is a net under the proof; the JIT trusts the proof instead): the context (read-only,
// except the Conformance type's memory, which the suite's programs write),
// the stack (512 bytes per frame, up to 8 frames, in memory mmap'd once per
// runner), and the value slots of each map (refined by the map's
// ValueAccessOK, so headers, keys and free lists stay out of reach). A
// violation ends the run with an *AccessError that names the instruction,
// the access and every allowed region; a misaligned atomic, a call chain
// deeper than 8 frames and an exhausted instruction budget end it with an
// error too. Nothing a program does can make the interpreter panic or read
// outside those regions. The budget (InterpOptions.MaxInsns) turns an
// unverified infinite loop into an error; behind the verifier it is a
// safety net.
//
// Semantics are the kernel's (kernel/bpf/core.c ___bpf_prog_run) and RFC
// 9669's: division by zero yields 0, modulo by zero leaves dst unchanged,
// shift amounts are masked, 32-bit results are zero-extended. The stack is
// zero when a runner is created and not cleared between runs, like the
// kernel's (the verifier refuses reads of stack slots a run has not
// written). After a helper call R1-R5 keep whatever they held, as in the
// kernel's interpreter; programs must treat them as clobbered, as the
// verifier insists.
//
// Contexts are what the kernel gives. A tracepoint program reads the
// record; the Conformance type's memory is the run's bytes. Socket filter,
// tc, cgroup_skb and flow dissector programs (Prepared.SkBuff) run over a
// struct __sk_buff built by package skbuff, with the packet in
// RunContext.Packet. The kernel rewrites their loads of data, data_end and
// data_meta (u32 fields of the uapi struct) into loads of its own pointers
// (convert_ctx_accesses); PrepareVerified likewise rewrites them, at the
// slots the verifier names (Verified.CtxPointer), into 64-bit loads of the
// words skbuff.Context keeps after the struct, and each run writes those
// words (SetSkbPointers), flow_keys (pointing at the context's own struct
// bpf_flow_keys) and a NULL sk. The packet is a region of its own,
// writable for tc programs only.
//
// A flow dissector's run follows the kernel's bpf_flow_dissect, as
// BPF_PROG_TEST_RUN calls it: the engine zeroes the context's struct
// bpf_flow_keys, sets n_proto to the packet's EtherType (the packet starts
// with an Ethernet header; a shorter one is refused with ErrShortPacket)
// and nhoff = thoff = 14, runs the program and clamps nhoff and thoff to
// the packet.
//
// Batches. RunBatch runs a program over many BatchItems (context, packet,
// R0) in one call: a BatchRunner (the JIT) enters its machine code once
// for all of them, others run item by item.
//
// The legacy packet loads (LD_ABS, LD_IND) read the packet: for an
// __sk_buff program RunContext.Packet, for the Conformance type its
// memory. An access outside it ends the program with R0 = 0, as in the
// kernel.
