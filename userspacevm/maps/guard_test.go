package maps

import (
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// TestGuardDelaysReuse: a slot deleted while a registered runner is inside
// a run keeps its bytes until the runner exits, even when a program's
// inserts and deletes use up every spare slot (then inserts fail with
// ENOMEM); after the exit it is reused.
func TestGuardDelaysReuse(t *testing.T) {
	const max = 4
	m := mustNew(t, ebpf.Hash, 4, 8, max)
	nslots := m.Layout().NumSlots
	var g, idle Guard
	m.Register(&g)
	m.Register(&idle) // registered but not in a run: must not hold anything up

	if err := m.Update(u32(1), u64(0xfeed), UpdateAny); err != nil {
		t.Fatal(err)
	}
	g.Enter()
	held := m.LookupAddr(u32(1), 0)
	if err := m.Delete(u32(1)); err != nil {
		t.Fatal(err)
	}
	var nomem bool
	for round := uint32(0); round <= nslots && !nomem; round++ {
		for k := range uint32(max) {
			key := u32(100 + round*max + k)
			code := m.UpdateFromProgram(key, u64(1), 0, 0)
			if code == -int64(unix.ENOMEM) {
				nomem = true
				break
			}
			if code != 0 {
				t.Fatalf("insert: %d", code)
			}
			if a := m.LookupAddr(key, 0); a == held {
				t.Fatalf("round %d: the held slot was reused while its runner is inside a run", round)
			}
		}
		deleteAll(t, m)
	}
	if !nomem {
		t.Errorf("every spare slot retired, but inserts did not fail with ENOMEM")
	}
	if got := *word(m, held); got != 0xfeed {
		t.Errorf("held value changed to %#x", got)
	}
	g.Exit()

	// The next insert finds the free list empty, reclaims, and gets the
	// longest-retired slot: the one that was held.
	if err := m.Update(u32(7), u64(2), UpdateAny); err != nil {
		t.Fatal(err)
	}
	if m.LookupAddr(u32(7), 0) != held {
		t.Errorf("the slot was not reused after its runner exited")
	}
}

// deleteAll deletes every entry as a program would.
func deleteAll(t *testing.T, m *Map) {
	t.Helper()
	var keys [][]byte
	it := m.Iterate()
	var k []byte
	for it.Next(&k, nil) {
		keys = append(keys, append([]byte(nil), k...))
	}
	for _, k := range keys {
		if code := m.DeleteFromProgram(k); code != 0 {
			t.Fatalf("delete: %d", code)
		}
	}
}

// TestGuardEnteredAfterDelete: a runner that enters after the delete
// cannot reach the slot, so it does not hold it up; nor does an
// unregistered guard.
func TestGuardEnteredAfterDelete(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(m *Map, g *Guard)
	}{
		{"entered after the delete", func(m *Map, g *Guard) { m.Register(g) }},
		{"unregistered", func(m *Map, g *Guard) { m.Register(g); m.Unregister(g); g.Enter() }},
		{"never registered", func(m *Map, g *Guard) { g.Enter() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustNew(t, ebpf.Hash, 4, 8, 4)
			var g Guard
			tc.setup(m, &g)
			_ = m.Update(u32(1), u64(1), UpdateAny)
			a := m.LookupAddr(u32(1), 0)
			_ = m.Delete(u32(1))
			if g.seq.Load()&1 == 0 {
				g.Enter()
			}
			_ = m.Update(u32(2), u64(2), UpdateAny)
			if m.LookupAddr(u32(2), 0) != a {
				t.Errorf("the deleted slot was not free at once")
			}
			g.Exit()
		})
	}
}

func TestGuardMisuse(t *testing.T) {
	var g Guard
	g.Enter()
	defer func() {
		if recover() == nil {
			t.Errorf("Enter inside a run did not panic")
		}
	}()
	g.Enter()
}

// TestGuardLRUEviction: an LRU eviction retires the slot like a delete.
func TestGuardLRUEviction(t *testing.T) {
	m := mustNew(t, ebpf.LRUHash, 4, 8, 1)
	var g Guard
	m.Register(&g)
	_ = m.Update(u32(1), u64(0xabc), UpdateAny)
	g.Enter()
	held := m.LookupAddr(u32(1), 0)
	for k := uint32(2); k < 40; k++ {
		if err := m.Update(u32(k), u64(uint64(k)), UpdateAny); err != nil {
			t.Fatal(err)
		}
		if m.LookupAddr(u32(k), 0) == held {
			t.Fatalf("evicted slot reused during the run")
		}
	}
	if *word(m, held) != 0xabc {
		t.Errorf("held value changed")
	}
	g.Exit()
}

// TestGoAPIWaitsForRuns: when every spare slot is retired, a Go API update
// waits for the runs holding them to end instead of failing, and a Go API
// delete that would retire more than half of them waits too.
func TestGoAPIWaitsForRuns(t *testing.T) {
	m := mustNew(t, ebpf.Hash, 4, 8, 4)
	var g Guard
	m.Register(&g)
	g.Enter()
	for k := uint32(0); ; k++ {
		if code := m.UpdateFromProgram(u32(k), u64(1), 0, 0); code == -int64(unix.ENOMEM) {
			break
		} else if code != 0 {
			t.Fatalf("insert: %d", code)
		}
		if code := m.DeleteFromProgram(u32(k)); code != 0 {
			t.Fatalf("delete: %d", code)
		}
	}
	exited := make(chan time.Time, 1)
	go func() {
		time.Sleep(20 * time.Millisecond)
		exited <- time.Now()
		g.Exit()
	}()
	if err := m.Update(u32(1000), u64(1), UpdateAny); err != nil {
		t.Fatalf("Update after the run ends: %v", err)
	}
	if done := time.Now(); done.Before(<-exited) {
		t.Errorf("Update returned before the run ended")
	}

	// Deletes from Go while a run is in progress: they stop at half the
	// spare slots until the run ends (or the wait times out).
	g.Enter()
	start := time.Now()
	for k := range uint32(200) {
		_ = m.Update(u32(k), u64(1), UpdateAny)
		_ = m.Delete(u32(k))
		if time.Since(start) > deleteWait/2 {
			break
		}
	}
	if d := time.Since(start); d < deleteWait/2 {
		t.Errorf("200 deletes from Go during one run took %v: they did not wait", d)
	}
	g.Exit()
}
