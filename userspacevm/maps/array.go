package maps

import (
	"encoding/binary"
	"unsafe"
)

// Arrays: max_entries values at SlotsOff + index*SlotStride, CPU c's copy
// of a per-CPU array's value PerCPUStride*c further. Every element exists
// from New on and is zero until written; there is no lock: like the
// kernel's array maps, a reader racing a writer may see a mix of old and new
// bytes, and programs use atomic instructions where that matters.

// arrayIndex decodes an array key (a little-endian u32 index).
func (m *Map) arrayIndex(key []byte) (uint32, bool) {
	idx := binary.LittleEndian.Uint32(key)
	return idx, idx < m.maxEntries
}

// arrayEntry is the address of CPU 0's value of element idx.
func (m *Map) arrayEntry(idx uint32) unsafe.Pointer {
	return unsafe.Add(m.slots, uintptr(idx)*m.slotStride)
}

// arrayUpdate is array_map_update_elem: flags above BPF_EXIST are -EINVAL,
// an index past the end -E2BIG, and BPF_NOEXIST -EEXIST (every element
// exists).
func (m *Map) arrayUpdate(key []byte, src valueSource, flags uint64) int64 {
	if flags > uint64(UpdateExist) {
		return codeEINVAL
	}
	idx, ok := m.arrayIndex(key)
	if !ok {
		return codeE2BIG
	}
	if flags == uint64(UpdateNoExist) {
		return codeEEXIST
	}
	m.writeValues(m.arrayEntry(idx), &src, false)
	return 0
}

// arrayLookupEntry is the program-side lookup: CPU 0's value, or nil past
// the end.
func (m *Map) arrayLookupEntry(key []byte) unsafe.Pointer {
	idx, ok := m.arrayIndex(key)
	if !ok {
		return nil
	}
	return m.arrayEntry(idx)
}

func (m *Map) arrayLookupCopy(dst, key []byte) ([]byte, int64) {
	idx, ok := m.arrayIndex(key)
	if !ok {
		return nil, codeENOENT
	}
	return m.copyOut(dst, m.arrayEntry(idx)), 0
}

// arrayValueOffset is ValueAccessOK's step for arrays.
func (m *Map) arrayValueOffset(rel uint64) (uint64, bool) {
	if m.ops.perCPU {
		cpu := rel / uint64(m.cpuStride)
		if cpu >= uint64(m.ncpu) {
			return 0, false
		}
		rel %= uint64(m.cpuStride)
	}
	if rel/uint64(m.slotStride) >= uint64(m.maxEntries) {
		return 0, false
	}
	return rel % uint64(m.slotStride), true
}
