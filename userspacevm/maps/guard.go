package maps

import (
	"runtime"
	"slices"
	"sync/atomic"
	"time"
	"unsafe"
)

// Guard tells hash maps when a runner may hold pointers into their slots.
// Each runner owns one Guard, registers it with every hash map its program
// references, and brackets each run with Enter and Exit. A slot deleted (or
// evicted) while the runner is inside a run is not reused until the runner
// has left that run, so a value pointer a program got from a lookup stays
// valid, and keeps meaning that entry's memory, until the run ends.
//
// Guards cost one atomic add per Enter and per Exit, on a cache line of the
// runner's own; machine code can do with less (Addr). Runners whose
// programs reference no hash map need none.
type Guard struct {
	seq    atomic.Uint64 // odd while a run is in progress
	paused atomic.Uint64 // seq while the run is paused (Pause), else something else
	_      [48]byte
}

// Enter marks the start of a run. The atomic add is a full barrier: the
// run's loads of bucket heads come after it.
func (g *Guard) Enter() {
	if g.seq.Add(1)&1 == 0 {
		panic("BUG: maps.Guard.Enter inside a run")
	}
}

// Exit marks the end of a run: no pointer the run obtained is used after it.
func (g *Guard) Exit() {
	if g.seq.Add(1)&1 == 1 {
		panic("BUG: maps.Guard.Exit outside a run")
	}
}

// Pause marks the run as stopped in a map update or delete: until Resume
// its program looks nothing up, so it holds no pointer but those its
// lookups already returned. An LRU map knows which entries those can be
// (its lookups mark them referenced) and reuses at once the slot of an
// entry no lookup marked, where a run that is not paused holds up every
// slot evicted during it. The runner's own insert, which evicts, is
// paused so. Engines call Pause and Resume around those helpers; pausing
// outside a run has no effect.
func (g *Guard) Pause() { g.paused.Store(g.seq.Load()) }

// Resume ends Pause: the program runs on and may look things up.
func (g *Guard) Resume() { g.paused.Store(0) }

// pausedIn reports whether the guard is paused inside its run seq.
func (g *Guard) pausedIn(seq uint64) bool { return g.paused.Load() == seq }

// Addr is the address of the guard's sequence word, for machine code that
// enters and leaves the guard itself: an increment to enter, which must be
// a full barrier (LOCK INC on x86) unless AsymmetricFences, and a plain
// increment to leave, which x86's memory order keeps after the run's loads
// and stores. Go
// does not move heap objects; the runner keeps the Guard alive.
func (g *Guard) Addr() uintptr { return uintptr(unsafe.Pointer(&g.seq)) }

// Register adds a runner's guard to the map. Maps other than hash maps
// ignore guards: their slots never change owner.
func (m *Map) Register(g *Guard) {
	if m.h == nil {
		return
	}
	m.h.mu.Lock()
	if !slices.Contains(m.h.guards, g) {
		m.h.guards = append(m.h.guards, g)
	}
	m.h.mu.Unlock()
}

// Unregister removes a guard; the runner must not be inside a run.
func (m *Map) Unregister(g *Guard) {
	if m.h == nil {
		return
	}
	m.h.mu.Lock()
	m.h.guards = slices.DeleteFunc(m.h.guards, func(x *Guard) bool { return x == g })
	m.h.mu.Unlock()
}

// Waits of the Go API for runs to end (see waitForRuns).
const (
	deleteWait = 100 * time.Millisecond
	updateWait = time.Second
)

// waitForRuns waits until every registered guard that is inside a run now
// has left it, or until maxWait has passed, and then reclaims. Once those
// runs have ended, every slot retired so far is free: its snapshot holds
// only guards that were inside a run then, and any of them still inside the
// same run is inside it now. Only the Go API waits; a runner never does (it
// might wait for its own guard).
func (m *Map) waitForRuns(maxWait time.Duration) {
	type inside struct {
		g   *Guard
		seq uint64
	}
	h := m.h
	h.mu.Lock()
	m.snapshotPendingLocked() // pending slots get their fenced snapshots; the loads below only choose whom to wait for
	var snap []inside
	for _, g := range h.guards {
		if seq := g.seq.Load(); seq&1 == 1 {
			snap = append(snap, inside{g, seq})
		}
	}
	h.mu.Unlock()
	deadline := time.Now().Add(maxWait)
	for _, s := range snap {
		for spin := 0; s.g.seq.Load() == s.seq; spin++ {
			if time.Now().After(deadline) {
				return
			}
			if spin < 64 {
				runtime.Gosched()
			} else {
				time.Sleep(20 * time.Microsecond)
			}
		}
	}
	h.mu.Lock()
	m.reclaimLocked()
	h.mu.Unlock()
}

// throttleDeletes keeps user space from retiring more than half the spare
// slots: past that, a Go API delete waits for the runs in progress to end,
// so that programs inserting during a run still find free slots.
func (m *Map) throttleDeletes() {
	h := m.h
	h.mu.Lock()
	n := len(h.retired) + len(h.pending)
	h.mu.Unlock()
	if uint32(n) >= (m.nslots-m.maxEntries)/2 {
		m.waitForRuns(deleteWait)
	}
}
