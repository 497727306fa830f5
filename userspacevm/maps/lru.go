package maps

import (
	"sync/atomic"
	"time"
)

// LRU hash maps approximate the kernel's LRU lists with a clock: a lookup
// from a program sets the entry's reference bit (SlotHeader.Ref), and an
// insert into a full map moves the clock hand over the used slots, clearing
// set bits and evicting the first live entry whose bit is clear. Entries
// looked up since the hand last passed survive; a full lap without a victim
// is impossible unless every counted entry is still being inserted.

// evictLocked evicts one entry. The caller holds the map lock.
func (m *Map) evictLocked() bool {
	h := m.h
	used := h.unused.Load()
	for range 2*uint64(used) + 1 {
		if h.hand >= used {
			h.hand = 0
		}
		idx := h.hand
		h.hand++
		s := m.slot(idx)
		if atomic.LoadUint32(&s.State) != SlotLive {
			continue
		}
		if atomic.LoadUint32(&s.Ref) != 0 {
			h.seen[idx] = true
			atomic.StoreUint32(&s.Ref, 0)
			continue
		}
		if m.evictSlotLocked(idx) {
			return true
		}
	}
	return false
}

// evictSlotLocked unlinks and retires slot idx if it is still live. Holding
// the map lock, no one can reuse the slot, so its hash is stable; a
// concurrent delete may have unlinked it already.
func (m *Map) evictSlotLocked(idx uint32) bool {
	s := m.slot(idx)
	hash := atomic.LoadUint32(&s.Hash)
	l := m.lockFor(hash)
	l.Lock()
	ok := atomic.LoadUint32(&s.State) == SlotLive && m.unlinkLocked(idx+1, hash)
	l.Unlock()
	if ok {
		m.retireLocked(idx)
	}
	return ok
}

// Waits of a full LRU map's insert for spare slots (allocSlot): lruSpins
// yields, then sleeps of 20 µs until lruWait has passed. A wait ends
// sooner when every run in progress is waiting too (nothing would free a
// slot). It is long only when another runner stalls inside a run (its
// thread descheduled), and lruWait is a net for what the map cannot see.
const (
	lruSpins = 64
	lruWait  = 100 * time.Millisecond
)

// unheldLocked reports whether guard g, inside its run seq, cannot hold a
// pointer into slot idx of an LRU map: g is paused (it has no lookup in
// flight) and no lookup marked the slot since its entry was inserted, so
// no lookup of g's run returned it. g's lookups, marks included, come
// before its Pause, which comes before the load of paused here, which
// comes before the loads of the marks. Always false for other maps, whose
// lookups leave no mark.
func (m *Map) unheldLocked(idx uint32, g *Guard, seq uint64) bool {
	return m.ops.lru && g.pausedIn(seq) && !m.h.seen[idx] && atomic.LoadUint32(&m.slot(idx).Ref) == 0
}
