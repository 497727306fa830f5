package maps

import (
	"bytes"
	"sync/atomic"
	"unsafe"
)

// Hash maps (HASH, PERCPU_HASH, LRU_HASH): a power-of-two array of buckets,
// each the head of a chain of slots (index+1, 0 = empty), and fixed-size
// slots [SlotHeader | key | values]. Lookups walk a chain with atomic loads
// and no lock. Writers hold the bucket's lock while they change a chain,
// and publish a new slot with an atomic store of the bucket head after
// filling it, so a lock-free reader sees either the old chain or a complete
// slot.

// slot returns slot idx's header.
func (m *Map) slot(idx uint32) *SlotHeader {
	return (*SlotHeader)(unsafe.Add(m.slots, uintptr(idx)*m.slotStride))
}

func (m *Map) slotKey(s *SlotHeader) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(s), SlotOffKey)), m.keySize)
}

// slotEntry is the address of the slot's first value.
func (m *Map) slotEntry(s *SlotHeader) unsafe.Pointer {
	return unsafe.Add(unsafe.Pointer(s), m.valueOff)
}

// bucket returns the head of hash h's chain.
func (m *Map) bucket(h uint32) *uint32 {
	return (*uint32)(unsafe.Add(m.buckets, uintptr(h&m.mask)*4))
}

// hashFind returns the live slot holding key as index+1, or 0. It takes no
// lock; callers that need the result to stay valid hold the bucket's lock or
// are inside a registered Guard.
func (m *Map) hashFind(key []byte, h uint32) uint32 {
	for i := atomic.LoadUint32(m.bucket(h)); i != 0; {
		s := m.slot(i - 1)
		if atomic.LoadUint32(&s.Hash) == h && atomic.LoadUint32(&s.State) == SlotLive &&
			bytes.Equal(m.slotKey(s), key) {
			return i
		}
		i = atomic.LoadUint32(&s.Next)
	}
	return 0
}

// hashLookupEntry is the lock-free lookup of the program-side API.
func (m *Map) hashLookupEntry(key []byte) unsafe.Pointer {
	i := m.hashFind(key, Hash(key))
	if i == 0 {
		return nil
	}
	return m.slotEntry(m.slot(i - 1))
}

// lruLookupEntry is hashLookupEntry marking the entry referenced.
func (m *Map) lruLookupEntry(key []byte) unsafe.Pointer {
	i := m.hashFind(key, Hash(key))
	if i == 0 {
		return nil
	}
	s := m.slot(i - 1)
	if atomic.LoadUint32(&s.Ref) == 0 {
		// A store only when needed: a hot entry's line is not written
		// on every lookup.
		atomic.StoreUint32(&s.Ref, 1)
	}
	return m.slotEntry(s)
}

// hashValueOffset is ValueAccessOK's step for hash maps: the value bytes of
// any slot, live or not (a run may hold a deleted entry's value).
func (m *Map) hashValueOffset(rel uint64) (uint64, bool) {
	if rel/uint64(m.slotStride) >= uint64(m.nslots) {
		return 0, false
	}
	in := rel % uint64(m.slotStride)
	if in < uint64(m.valueOff) {
		return 0, false
	}
	in -= uint64(m.valueOff)
	if in/uint64(m.vstride) >= uint64(m.ncpu) {
		return 0, false
	}
	return in % uint64(m.vstride), true
}

// initHash sets up a hash map's Go-side state.
func (m *Map) initHash(*Options) {
	m.buckets = unsafe.Add(m.base, m.hdr.BucketsOff)
	m.h = &hashState{}
	if m.ops.lru {
		m.h.seen = make([]bool, m.nslots)
	}
	m.initLocks()
}

// hashLookupCopy copies a value out under the bucket's lock, which keeps the
// slot from being unlinked (and so reused) while it is read.
func (m *Map) hashLookupCopy(dst, key []byte) ([]byte, int64) {
	h := Hash(key)
	l := m.lockFor(h)
	l.Lock()
	defer l.Unlock()
	i := m.hashFind(key, h)
	if i == 0 {
		return nil, codeENOENT
	}
	return m.copyOut(dst, m.slotEntry(m.slot(i-1))), 0
}

// hashUpdate is htab_map_update_elem. An existing entry's value is
// overwritten in place, so its address never changes; a new entry takes a
// free slot, which is filled before it is linked.
func (m *Map) hashUpdate(key []byte, src valueSource, flags uint64) int64 {
	if flags > uint64(UpdateExist) {
		return codeEINVAL
	}
	h := Hash(key)
	l := m.lockFor(h)
	l.Lock()
	if i := m.hashFind(key, h); i != 0 {
		code := m.updateExisting(i, &src, flags)
		l.Unlock()
		return code
	}
	l.Unlock()
	if flags == uint64(UpdateExist) {
		return codeENOENT
	}
	// Allocation takes the map lock and, for an LRU map, may take another
	// bucket's lock to evict: never while holding a bucket lock.
	idx, code := m.allocSlot()
	if code != 0 {
		return code
	}
	m.fillSlot(idx, key, h, &src)
	l.Lock()
	if i := m.hashFind(key, h); i != 0 {
		// Another writer inserted the key meanwhile.
		code := m.updateExisting(i, &src, flags)
		l.Unlock()
		m.releaseSlot(idx)
		return code
	}
	m.linkLocked(idx, h)
	l.Unlock()
	return 0
}

func (m *Map) updateExisting(i uint32, src *valueSource, flags uint64) int64 {
	if flags == uint64(UpdateNoExist) {
		return codeEEXIST
	}
	m.writeValues(m.slotEntry(m.slot(i-1)), src, false)
	return 0
}

// fillSlot writes a new entry into a slot no reader can reach yet.
func (m *Map) fillSlot(idx uint32, key []byte, h uint32, src *valueSource) {
	s := m.slot(idx)
	atomic.StoreUint32(&s.Hash, h)
	atomic.StoreUint32(&s.Ref, 0)
	k := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(s), SlotOffKey)), m.valueOff-SlotOffKey)
	clear(k[copy(k, key):])
	m.writeValues(m.slotEntry(s), src, true)
}

// linkLocked publishes a filled slot at the head of its chain. The caller
// holds the bucket's lock.
func (m *Map) linkLocked(idx, h uint32) {
	s, b := m.slot(idx), m.bucket(h)
	atomic.StoreUint32(&s.Next, atomic.LoadUint32(b))
	atomic.StoreUint32(&s.State, SlotLive)
	atomic.StoreUint32(b, idx+1) // publish: everything above is visible first
	m.h.live.Add(1)
}

// unlinkLocked removes slot index+1 i from the chain of hash h and marks it
// deleted. The caller holds the bucket's lock. The slot keeps its Next, so a
// lock-free reader standing on it walks on to the rest of the chain.
func (m *Map) unlinkLocked(i, h uint32) bool {
	prev := m.bucket(h)
	for j := atomic.LoadUint32(prev); j != 0; j = atomic.LoadUint32(prev) {
		s := m.slot(j - 1)
		if j == i {
			atomic.StoreUint32(&s.State, SlotDeleted)
			atomic.StoreUint32(prev, atomic.LoadUint32(&s.Next))
			m.h.live.Add(-1)
			return true
		}
		prev = &s.Next
	}
	return false
}

// hashDelete is htab_map_delete_elem. The slot is retired, not freed: it is
// reused only once no runner can hold a pointer into it (see Guard).
func (m *Map) hashDelete(key []byte) int64 {
	h := Hash(key)
	l := m.lockFor(h)
	l.Lock()
	i := m.hashFind(key, h)
	if i == 0 {
		l.Unlock()
		return codeENOENT
	}
	m.unlinkLocked(i, h)
	l.Unlock()
	m.retire(i - 1)
	return 0
}
