package maps

import (
	"testing"
)

// TestWithAsymmetricFences runs the guard and concurrency tests again with
// the writers fencing every thread before they read guards, as they do
// once an engine has asked for AsymmetricFences: deleted slots then wait
// in batches before their snapshot. The other tests of the package run
// with the flag off; this one turns it back off when it ends.
//
// TestGuardEnteredAfterDelete is left out on purpose: in this mode a
// slot's snapshot is taken with its batch, after the delete, so a runner
// that entered in between holds the slot up too (conservative: the slot
// is reused later, never too early), and the slot is not free at once.
func TestWithAsymmetricFences(t *testing.T) {
	if !AsymmetricFences() {
		t.Skip("membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) is not available here (kernel before 4.14, or refused by seccomp): engines keep a barrier on guard entry")
	}
	t.Cleanup(func() { fences.on.Store(false) })
	tests := []struct {
		name string
		test func(*testing.T)
	}{
		{"GuardDelaysReuse", TestGuardDelaysReuse},
		{"GuardLRUEviction", TestGuardLRUEviction},
		{"GoAPIWaitsForRuns", TestGoAPIWaitsForRuns},
		{"ConcurrentRunners", TestConcurrentRunners},
		{"LRUInsertsFromTwoRunners", TestLRUInsertsFromTwoRunners},
		{"LRUPausedRunKeepsWhatItLookedUp", TestLRUPausedRunKeepsWhatItLookedUp},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.test)
	}
}

// TestPendingBatch checks the batching: with fences on, deleted slots wait
// unsnapshotted until a quarter of the spare slots are pending, then are
// snapshotted (and freed, no guard being inside a run) together.
func TestPendingBatch(t *testing.T) {
	if !AsymmetricFences() {
		t.Skip("membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) is not available here")
	}
	t.Cleanup(func() { fences.on.Store(false) })
	const max = 64
	m := mustNew(t, 1, 4, 8, max) // BPF_MAP_TYPE_HASH
	var g Guard
	m.Register(&g)
	batch := int(m.nslots-m.maxEntries) / 4
	for k := range uint32(batch) {
		if err := m.Update(u32(k), u64(1), UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	for k := range uint32(batch - 1) {
		if err := m.Delete(u32(k)); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(m.h.pending); got != batch-1 {
		t.Fatalf("%d slots pending after %d deletes, want all of them", got, batch-1)
	}
	if err := m.Delete(u32(uint32(batch - 1))); err != nil {
		t.Fatal(err)
	}
	if got, retired := len(m.h.pending), len(m.h.retired); got != 0 || retired != 0 {
		t.Errorf("after a batch of deletes with no run in progress: %d pending, %d retired; want both freed", got, retired)
	}
}

// BenchmarkFence measures one membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED),
// what a batch of retired slots costs the writer that snapshots it.
func BenchmarkFence(b *testing.B) {
	if !AsymmetricFences() {
		b.Skip("membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) is not available here")
	}
	b.Cleanup(func() { fences.on.Store(false) })
	for b.Loop() {
		fenceReaders()
	}
}
