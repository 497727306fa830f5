package maps

import (
	"unsafe"

	"github.com/cilium/ebpf"

	"github.com/dropmon/dropmon/program"
)

// mapOps is what differs between map types, as the kernel's struct
// bpf_map_ops: one entry per type in mapTypes, and nothing outside this
// table chooses behaviour by map type. Types of one layout family share
// their functions (as the kernel's htab_map_ops and htab_lru_map_ops share
// most of theirs) and differ in the fields above them.
type mapOps struct {
	kind       Kind   // the block's layout family; engines that generate code specialise on it
	perCPU     bool   // one value per possible CPU per entry
	lru        bool   // program lookups mark entries referenced; a full map evicts
	cpuEntries bool   // max_entries 0 means one entry per CPU (perf event arrays, as cilium/ebpf does)
	direct     bool   // BPF_PSEUDO_MAP_VALUE: the kernel's map_direct_value_addr
	flags      uint32 // map_flags accepted besides none

	// check is the type's part of map_alloc_check, after the common checks.
	check func(*program.MapSpec) error
	// layout fills the type's part of the header (the common part is
	// set) and returns the bytes the block needs.
	layout func(h *Header, perCPU bool) (uint64, error)
	// init sets up the Go-side state of a new map.
	init func(*Map, *Options)
	// length is Len.
	length func(*Map) int
	// lookup is the program-side lookup: CPU 0's value of the key, or nil.
	// nil for types whose values programs cannot look up (the kernel
	// returns NULL too).
	lookup func(m *Map, key []byte) unsafe.Pointer
	// lookupCopy is the Go API's lookup: the value(s) appended to dst.
	lookupCopy func(m *Map, dst, key []byte) ([]byte, int64)
	// update and delete return 0 or a negative errno. The valueSource
	// goes by value, for the same reason as next's slices.
	update func(m *Map, key []byte, src valueSource, flags uint64) int64
	delete func(m *Map, key []byte) int64
	// next is the iterator's step (BPF_MAP_GET_NEXT_KEY in slot order):
	// the next entry's key and value appended to key and dst. Slices go
	// in and out by value: pointers to Next's locals would escape through
	// the indirect call and cost an allocation per entry.
	next func(it *Iterator, key, dst []byte) ([]byte, []byte, bool)
	// valueOffset turns rel, an offset from SlotsOff, into an offset
	// inside one value, or reports that rel is outside every value.
	valueOffset func(m *Map, rel uint64) (uint64, bool)
}

// mapTypes is the table of operations by map type. Adding a map type means
// adding its entry here (and its functions).
var mapTypes = map[program.MapType]*mapOps{
	ebpf.Array:          arrayOps(false, flagMmapable|flagRdonlyProg),
	ebpf.PerCPUArray:    arrayOps(true, 0),
	ebpf.Hash:           hashOps(false, false, flagNoPrealloc|flagZeroSeed),
	ebpf.PerCPUHash:     hashOps(true, false, flagNoPrealloc|flagZeroSeed),
	ebpf.LRUHash:        hashOps(false, true, flagZeroSeed),
	ebpf.StackTrace:     stackOps(),
	ebpf.PerfEventArray: perfOps(),
}

// opsOf returns the operations of a map type, or nil when the engines do
// not implement it.
func opsOf(t program.MapType) *mapOps { return mapTypes[t] }

func arrayOps(perCPU bool, flags uint32) *mapOps {
	return &mapOps{
		kind: KindArray, perCPU: perCPU, direct: !perCPU, flags: flags,
		check:       checkArray,
		layout:      layoutArray,
		init:        func(*Map, *Options) {},
		length:      func(m *Map) int { return int(m.maxEntries) },
		lookup:      (*Map).arrayLookupEntry,
		lookupCopy:  (*Map).arrayLookupCopy,
		update:      (*Map).arrayUpdate,
		delete:      func(*Map, []byte) int64 { return codeEINVAL },
		next:        (*Iterator).nextArray,
		valueOffset: (*Map).arrayValueOffset,
	}
}

func hashOps(perCPU, lru bool, flags uint32) *mapOps {
	lookup := (*Map).hashLookupEntry
	if lru {
		lookup = (*Map).lruLookupEntry
	}
	return &mapOps{
		kind: KindHash, perCPU: perCPU, lru: lru, flags: flags,
		check:       checkHash,
		layout:      layoutHash,
		init:        (*Map).initHash,
		length:      func(m *Map) int { return int(m.h.live.Load()) },
		lookup:      lookup,
		lookupCopy:  (*Map).hashLookupCopy,
		update:      (*Map).hashUpdate,
		delete:      (*Map).hashDelete,
		next:        (*Iterator).nextHash,
		valueOffset: (*Map).hashValueOffset,
	}
}

func stackOps() *mapOps {
	return &mapOps{
		kind:       KindStackTrace,
		check:      checkStack,
		layout:     layoutStack,
		init:       func(m *Map, _ *Options) { m.initLocks() },
		length:     (*Map).stackLen,
		lookupCopy: (*Map).stackLookupCopy,
		// As stack_map_update_elem: stacks come from bpf_get_stackid only.
		update:      func(*Map, []byte, valueSource, uint64) int64 { return codeEINVAL },
		delete:      (*Map).stackDelete,
		next:        (*Iterator).nextStack,
		valueOffset: noValues,
	}
}

func perfOps() *mapOps {
	return &mapOps{
		kind: KindPerfEventArray, cpuEntries: true,
		check:  checkPerf,
		layout: layoutPerf,
		init: func(m *Map, opts *Options) {
			m.perf = &perfState{events: make(chan PerfOutput, opts.eventBuffer())}
		},
		length:      func(*Map) int { return 0 },
		lookupCopy:  func(*Map, []byte, []byte) ([]byte, int64) { return nil, codeEOPNOTSUPP },
		update:      func(*Map, []byte, valueSource, uint64) int64 { return codeEOPNOTSUPP },
		delete:      func(*Map, []byte) int64 { return codeEOPNOTSUPP },
		next:        func(*Iterator, []byte, []byte) ([]byte, []byte, bool) { return nil, nil, false },
		valueOffset: noValues,
	}
}

func noValues(*Map, uint64) (uint64, bool) { return 0, false }

// Kind is a map's layout family (doc.go): what engines that generate code
// for lookups specialise on, rather than on the map type.
type Kind uint8

const (
	_                  Kind = iota
	KindArray               // ARRAY, PERCPU_ARRAY: values at SlotsOff + index·SlotStride
	KindHash                // HASH, PERCPU_HASH, LRU_HASH: buckets and slots
	KindStackTrace          // STACK_TRACE: no values programs may address
	KindPerfEventArray      // PERF_EVENT_ARRAY: the header only
)

// Kind is the map's layout family.
func (m *Map) Kind() Kind { return m.ops.kind }

// NeedsGuard reports whether a slot of the map can change owner while
// programs run (hash maps): runners of programs that use it must bracket
// their runs with a Guard registered with it.
func (m *Map) NeedsGuard() bool { return m.h != nil }

// MarksReferenced reports whether a program's lookup marks the entry it
// finds referenced (SlotHeader.Ref, stored only when it is 0), as an LRU
// hash map's lookups do; generated code must do the same.
func (m *Map) MarksReferenced() bool { return m.ops.lru }

// HasValues reports whether programs can address the map's values: whether
// bpf_map_lookup_elem can return something other than NULL. Stack trace
// maps and perf event arrays have none.
func (m *Map) HasValues() bool { return m.ops.lookup != nil }

// DirectValue reports whether programs may load a value's address directly
// (BPF_PSEUDO_MAP_VALUE): array maps only, as only the kernel's
// array_map_ops has map_direct_value_addr.
func (m *Map) DirectValue() bool { return m.ops.direct }

// Matches reports whether the map is what spec declares, as the kernel
// checks a reused map's attributes: type, key and value sizes, flags and
// max_entries (a perf event array declared with 0 matches any number).
func (m *Map) Matches(spec *program.MapSpec) bool {
	got := &m.spec
	entriesOK := got.MaxEntries == spec.MaxEntries || (m.ops.cpuEntries && spec.MaxEntries == 0)
	return got.Type == spec.Type && got.KeySize == spec.KeySize && got.ValueSize == spec.ValueSize &&
		got.Flags == spec.Flags && entriesOK
}
