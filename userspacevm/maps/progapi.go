package maps

import "unsafe"

// The program-side API: what an engine calls while it runs a program. These
// methods take raw bytes from the program's memory and return addresses and
// negative errno values as the kernel's helpers do. They allocate nothing,
// and LookupAddr takes no lock. A runner calling them on a hash map must be
// inside Guard.Enter/Exit of a Guard registered with the map.

// Pointer is the map's address as programs hold it (the value an LDDW
// map-fd pseudo load produces): the address of the block's Header.
func (m *Map) Pointer() uint64 { return uint64(uintptr(m.base)) }

// Block is the map's memory: the header, buckets and slots. Engines build
// the region a program may touch from it, and refine it with ValueAccessOK.
func (m *Map) Block() (base unsafe.Pointer, size uintptr) { return m.base, uintptr(len(m.block)) }

// LookupAddr is bpf_map_lookup_elem: the address of the key's value (cpu's
// value for a per-CPU map), or 0 when the key is absent. The key's first
// KeySize bytes are used. On an LRU hash map it marks the entry referenced.
// Stack trace and perf event array maps have no values programs may look
// up (the kernel returns NULL too).
func (m *Map) LookupAddr(key []byte, cpu int) uint64 {
	ops := m.ops
	if len(key) < int(m.keySize) || (ops.perCPU && uint(cpu) >= uint(m.ncpu)) || ops.lookup == nil {
		return 0
	}
	entry := ops.lookup(m, key[:m.keySize])
	if entry == nil {
		return 0
	}
	if ops.perCPU {
		entry = unsafe.Add(entry, uintptr(cpu)*m.cpuStride)
	}
	return uint64(uintptr(entry))
}

// ProgramReadOnly reports BPF_F_RDONLY_PROG (an ELF's .rodata): programs
// may read the values but not write them, so engines map the block
// read-only for programs, and UpdateFromProgram and DeleteFromProgram
// refuse with -EPERM (the kernel's verifier refuses such programs).
func (m *Map) ProgramReadOnly() bool { return m.spec.Flags&flagRdonlyProg != 0 }

// UpdateFromProgram is bpf_map_update_elem: 0 or a negative errno. On a
// per-CPU map it writes cpu's value only; an entry it creates has zeros as
// every other CPU's value (the kernel's pcpu_init_value).
func (m *Map) UpdateFromProgram(key, value []byte, flags uint64, cpu int) int64 {
	if m.ProgramReadOnly() {
		return codeEPERM
	}
	if len(key) < int(m.keySize) || len(value) < int(m.valueSize) || cpu < 0 ||
		(m.ops.perCPU && uint(cpu) >= uint(m.ncpu)) {
		return codeEINVAL
	}
	src := valueSource{one: value[:m.valueSize], cpu: cpu}
	return m.update(key[:m.keySize], src, flags)
}

// DeleteFromProgram is bpf_map_delete_elem: 0 or a negative errno.
func (m *Map) DeleteFromProgram(key []byte) int64 {
	if m.ProgramReadOnly() {
		return codeEPERM
	}
	if len(key) < int(m.keySize) {
		return codeEINVAL
	}
	return m.delete(key[:m.keySize])
}

// ValueAccessOK reports whether [off, off+size), relative to the block's
// start, lies inside one value: one CPU's value of one entry for per-CPU
// maps. Headers, buckets, slot states, hashes, keys and padding are not
// accessible; nor is anything in stack trace and perf event array maps.
// Slots that are free or deleted still count: a runner may hold a pointer
// to a value whose entry was deleted during its run.
func (m *Map) ValueAccessOK(off, size uint64) bool {
	if size == 0 || size > uint64(m.valueSize) || off < m.slotsOff {
		return false
	}
	in, ok := m.ops.valueOffset(m, off-m.slotsOff) // offset inside one value
	return ok && in <= uint64(m.valueSize)-size
}
