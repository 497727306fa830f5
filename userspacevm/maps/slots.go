package maps

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// hashState is what a hash map's writers share besides the bucket locks.
// mu guards every field but live and unused, which are atomic so that Len
// and iterators read them without it. Lock order: mu, then a bucket lock;
// never mu while holding a bucket lock.
type hashState struct {
	mu       sync.Mutex
	count    uint32        // entries live or being inserted, held to max_entries
	live     atomic.Int64  // entries linked into a chain
	unused   atomic.Uint32 // slots [unused, NumSlots) were never used
	freeHead uint32        // free list threaded through SlotHeader.Next, index+1, 0 = empty
	hand     uint32        // LRU clock hand
	waiters  int           // LRU inserts waiting in allocSlot
	// seen[i] (LRU maps only) says slot i's entry was marked referenced
	// before the clock hand last cleared its mark: some lookup returned
	// it since it was inserted (lru.go).
	seen []bool

	guards []*Guard
	// pending are deleted slots not yet snapshotted: with AsymmetricFences
	// a snapshot needs a membarrier first, taken once per batch
	// (snapshotPendingLocked).
	pending []uint32
	// retired are deleted slots that registered guards might still point
	// into; retired[i]'s snapshot is snapGuards/snapSeqs[first:first+n].
	retired    []retiredSlot
	snapGuards []*Guard
	snapSeqs   []uint64
}

type retiredSlot struct {
	slot, first, n uint32
}

// allocSlot reserves a slot for a new entry: -E2BIG when a HASH map holds
// max_entries entries (an LRU map evicts instead), -ENOMEM when every spare
// slot is still retired. An LRU map then waits for the runs holding them to
// end or pause (lru.go), as the kernel's LRU succeeds while anything is
// evictable, unless every run in progress is waiting too.
func (m *Map) allocSlot() (uint32, int64) {
	h := m.h
	h.mu.Lock()
	defer h.mu.Unlock()
	idx, code := m.allocLocked()
	if code != codeENOMEM || !m.ops.lru {
		return idx, code
	}
	h.waiters++
	defer func() { h.waiters-- }()
	deadline := time.Now().Add(lruWait)
	for spin := 0; code == codeENOMEM; spin++ {
		if h.waiters >= m.runsLocked() || (spin >= lruSpins && time.Now().After(deadline)) {
			// Once more: the runs seen just now may have ended since
			// the last attempt.
			idx, code = m.allocLocked()
			break
		}
		h.mu.Unlock()
		if spin < lruSpins {
			runtime.Gosched()
		} else {
			time.Sleep(20 * time.Microsecond)
		}
		h.mu.Lock()
		idx, code = m.allocLocked()
	}
	return idx, code
}

// runsLocked is the number of registered guards inside a run.
func (m *Map) runsLocked() int {
	n := 0
	for _, g := range m.h.guards {
		n += int(g.seq.Load() & 1)
	}
	return n
}

// allocLocked is allocSlot's one attempt, with the map lock held.
func (m *Map) allocLocked() (uint32, int64) {
	h := m.h
	for h.count >= m.maxEntries {
		if !m.ops.lru {
			return 0, codeE2BIG
		}
		if !m.evictLocked() {
			return 0, codeENOMEM
		}
	}
	idx, ok := m.popFreeLocked()
	if !ok {
		m.reclaimLocked()
		idx, ok = m.popFreeLocked()
	}
	if !ok {
		return 0, codeENOMEM
	}
	h.count++
	return idx, 0
}

// releaseSlot returns a reserved slot that was never linked: no reader can
// have seen it, so it is free at once.
func (m *Map) releaseSlot(idx uint32) {
	m.h.mu.Lock()
	m.h.count--
	m.pushFreeLocked(idx)
	m.h.mu.Unlock()
}

func (m *Map) popFreeLocked() (uint32, bool) {
	h := m.h
	idx := h.freeHead - 1
	if h.freeHead != 0 {
		h.freeHead = atomic.LoadUint32(&m.slot(idx).Next)
	} else if idx = h.unused.Load(); idx < m.nslots {
		h.unused.Store(idx + 1)
	} else {
		return 0, false
	}
	if h.seen != nil {
		h.seen[idx] = false
	}
	return idx, true
}

func (m *Map) pushFreeLocked(idx uint32) {
	s := m.slot(idx)
	atomic.StoreUint32(&s.State, SlotFree)
	atomic.StoreUint32(&s.Next, m.h.freeHead)
	m.h.freeHead = idx + 1
}

// retire takes an unlinked slot out of the entry count and frees it once no
// runner can hold a pointer into it.
func (m *Map) retire(idx uint32) {
	m.h.mu.Lock()
	m.retireLocked(idx)
	m.h.mu.Unlock()
}

// retireLocked snapshots the sequence numbers of the registered guards that
// are inside a run. Guards are entered with a full barrier (an atomic add,
// or a membarrier of ours with AsymmetricFences) and the slot was unlinked
// with an atomic store before this load: a runner that entered after the
// snapshot read the bucket after the unlink and cannot reach the slot. If
// no guard is inside a run, the slot is free now.
//
// With AsymmetricFences the slot waits in pending, and a batch of them is
// snapshotted after one membarrier: a quarter of the spare slots at most,
// so that the older three quarters, snapshotted in earlier runs, are
// reclaimable when a runner's insert finds the free list empty.
func (m *Map) retireLocked(idx uint32) {
	h := m.h
	h.count--
	if len(h.guards) == 0 {
		m.pushFreeLocked(idx)
		return
	}
	if fences.on.Load() {
		h.pending = append(h.pending, idx)
		if len(h.pending) >= max(1, int(m.nslots-m.maxEntries)/4) {
			m.snapshotPendingLocked()
		}
		return
	}
	m.snapshotLocked(idx)
}

// snapshotPendingLocked fences every thread, then snapshots the guards for
// each pending slot.
func (m *Map) snapshotPendingLocked() {
	h := m.h
	if len(h.pending) == 0 {
		return
	}
	fenceReaders()
	for _, idx := range h.pending {
		m.snapshotLocked(idx)
	}
	h.pending = h.pending[:0]
}

// snapshotLocked retires idx with the sequence numbers of the guards
// inside a run now, or frees it when there are none. Each slot has a
// snapshot of its own: reclaimLocked compacts them in place.
func (m *Map) snapshotLocked(idx uint32) {
	h := m.h
	first := len(h.snapGuards)
	for _, g := range h.guards {
		if seq := g.seq.Load(); seq&1 == 1 && !m.unheldLocked(idx, g, seq) {
			h.snapGuards = append(h.snapGuards, g)
			h.snapSeqs = append(h.snapSeqs, seq)
		}
	}
	n := len(h.snapGuards) - first
	if n == 0 {
		m.pushFreeLocked(idx)
		return
	}
	h.retired = append(h.retired, retiredSlot{slot: idx, first: uint32(first), n: uint32(n)})
}

// reclaimLocked frees the retired slots whose snapshot guards have all moved
// on (left the run they were in), and compacts the rest. Slots are pushed
// newest first, so the free list hands out the longest-retired slot first.
func (m *Map) reclaimLocked() {
	h := m.h
	m.snapshotPendingLocked()
	const reclaimed = ^uint32(0)
	for i := len(h.retired) - 1; i >= 0; i-- {
		r := &h.retired[i]
		if m.graceOverLocked(r) {
			m.pushFreeLocked(r.slot)
			r.slot = reclaimed
		}
	}
	kept, w := h.retired[:0], uint32(0)
	for _, r := range h.retired {
		if r.slot == reclaimed {
			continue
		}
		copy(h.snapGuards[w:], h.snapGuards[r.first:r.first+r.n])
		copy(h.snapSeqs[w:], h.snapSeqs[r.first:r.first+r.n])
		r.first = w
		w += r.n
		kept = append(kept, r)
	}
	clear(h.snapGuards[w:]) // let unregistered guards be collected
	h.snapGuards, h.snapSeqs, h.retired = h.snapGuards[:w], h.snapSeqs[:w], kept
}

// graceOverLocked reports whether no guard of r's snapshot can hold r's
// slot any more: each has left the run it was in, or (LRU) is paused in it
// and no lookup marked the slot.
func (m *Map) graceOverLocked(r *retiredSlot) bool {
	h := m.h
	for i, g := range h.snapGuards[r.first : r.first+r.n] {
		if seq := h.snapSeqs[int(r.first)+i]; g.seq.Load() == seq && !m.unheldLocked(r.slot, g, seq) {
			return false
		}
	}
	return true
}
