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
func (m *Map) arrayUpdate(key []byte, src *valueSource, flags uint64) int64 {
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
	m.writeValues(m.arrayEntry(idx), src, false)
	return 0
}
