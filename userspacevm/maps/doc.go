// Package maps implements the eBPF maps of dropmon's user-space engines:
// HASH, ARRAY, PERCPU_HASH, PERCPU_ARRAY, LRU_HASH, STACK_TRACE and
// PERF_EVENT_ARRAY, with the kernel's validation, update flags and error
// codes. Each map is one block of memory off the Go heap whose layout is
// fixed and written down here, so that the interpreter, generated machine
// code and the Go API share it.
//
// What differs between map types (checks, layout, lookup, update, delete,
// iteration) sits in one table of operations per type (ops.go), as the
// kernel's struct bpf_map_ops; engines ask a map for its Kind and
// properties rather than switch on its type.
//
// # Memory layout
//
// New maps one anonymous private block per map with mmap: its address never
// moves, and programs hold it as the map pointer (Map.Pointer). It starts
// with a Header (HeaderOff* are its field offsets, HeaderSize bytes
// reserved). All offsets below are from the block's start.
//
// Arrays (ARRAY, PERCPU_ARRAY):
//
//	0         Header
//	SlotsOff  value[0] value[1] ... value[max_entries-1]     (CPU 0)
//	          each SlotStride = ValueStride = round_up(value_size, 8) bytes
//	+PerCPUStride·c  the same for CPU c (per-CPU arrays only; a multiple of 64)
//
//	value(idx, cpu) = block + SlotsOff + idx·SlotStride + cpu·PerCPUStride
//
// Hash maps (HASH, PERCPU_HASH, LRU_HASH):
//
//	0           Header
//	BucketsOff  u32 bucket[BucketMask+1]: the first slot of the chain as
//	            index+1, 0 = empty; buckets = roundup_pow_of_two(max_entries)
//	SlotsOff    slot[NumSlots], SlotStride bytes each:
//
//	  0   state u32   SlotFree / SlotLive / SlotDeleted
//	  4   hash  u32   Hash(key)
//	  8   next  u32   next slot in the chain as index+1, 0 = end
//	  12  ref   u32   LRU reference bit
//	  16  key         KeySize bytes, zero-padded to 8
//	  ValueOffset     value for CPU 0 (ValueStride bytes), then CPU 1, ...
//
//	bucket(key)     = Hash(key) & BucketMask
//	value(slot,cpu) = block + SlotsOff + slot·SlotStride + ValueOffset + cpu·PerCPUStride
//
// NumSlots is max_entries plus slack (max(64, max_entries/8)) so that
// inserts find a slot while deleted ones wait to be reclaimed; live entries
// are held to max_entries. A value stays at one 8-byte aligned address for
// the life of its entry: updates of an existing key write in place.
//
// Stack trace maps: slot[roundup_pow_of_two(max_entries)] of
// [hash u32 | nr u32 | ips u64 × value_size/8] at SlotsOff; the stack id is
// the slot number. Perf event arrays have only the header.
//
// # Hash function
//
// Hash, over the key's 8-byte little-endian words (the last zero-padded):
//
//	h = key_size
//	for each word w: h = (h ^ w) * 0x9E3779B97F4A7C15; h ^= h >> 29
//	hash = uint32(h ^ h>>32)
//
// Stack ids use the same function over the frames (hash & BucketMask).
//
// # Concurrency
//
// Lookups take no lock: they load the bucket head, and each slot's hash,
// state and next, atomically, and compare the key. Writers hold a lock per
// bucket (striped: at most 1024 locks) while they change a chain; a new
// entry is filled while unreachable and published by an atomic store of the
// bucket head. The free list, the entry count, the retired list and the LRU
// clock are under one map lock, taken before (never while holding) a
// bucket lock. The Go API reads a hash entry under its bucket lock, so it
// needs no Guard. Values themselves are plain memory: concurrent updates of
// one value may interleave (as in the kernel), and programs that count use
// atomic instructions, which lose nothing.
//
// # Reclamation
//
// A program may keep a value pointer for the rest of its run, so a deleted
// or evicted slot is retired rather than freed. Every runner owns a Guard
// whose sequence number is odd during a run (Enter/Exit) and registers it
// with the hash maps its program uses. Retiring a slot records the guards
// that are inside a run and their sequence numbers; the slot is reclaimed
// (lazily, when the free list runs dry) once each has changed, that is, once
// every run that could have reached the slot has ended. On an LRU map a
// run paused in a map update or delete (Guard.Pause) does not hold up a
// slot no lookup has marked since its entry was inserted, so evicted
// entries nobody looked up are reused at once. When every spare
// slot is retired, a program's insert fails with -ENOMEM (an LRU map's
// first waits for the runs holding them to end or pause); the Go API waits
// for the runs in progress to end instead, and throttles its own deletes so
// that they retire at most half the spare slots. A runner that
// enters after the unlink cannot reach the slot: Go's atomics are
// sequentially consistent, so its loads of the chain see the unlink.
//
// Machine code may enter guards without a barrier once AsymmetricFences
// reports true: the writers then issue membarrier(2), which makes every
// thread of the process execute one, before they read the guards, once per
// batch of retired slots (fence.go).
package maps
