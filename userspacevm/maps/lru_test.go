package maps

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

func TestLRUEvictsUnreferencedFirst(t *testing.T) {
	const max = 64
	m := mustNew(t, ebpf.LRUHash, 4, 8, max)
	for k := range uint32(max) {
		if got := m.UpdateFromProgram(u32(k), u64(uint64(k)), 0, 0); got != 0 {
			t.Fatalf("insert %d: %d", k, got)
		}
	}
	// Programs reference the even keys.
	for k := uint32(0); k < max; k += 2 {
		if m.LookupAddr(u32(k), 0) == 0 {
			t.Fatalf("key %d missing", k)
		}
	}
	// Half as many new keys again: room is made by evicting odd keys.
	for k := uint32(1000); k < 1000+max/2; k++ {
		if got := m.UpdateFromProgram(u32(k), u64(uint64(k)), 0, 0); got != 0 {
			t.Fatalf("insert %d into a full LRU map: %d", k, got)
		}
		if m.Len() != max {
			t.Fatalf("Len %d after inserting %d, want %d", m.Len(), k, max)
		}
	}
	for k := range uint32(max) {
		_, err := m.Lookup(u32(k))
		switch {
		case k%2 == 0 && err != nil:
			t.Errorf("referenced key %d evicted: %v", k, err)
		case k%2 == 1 && !errors.Is(err, ErrKeyNotExist):
			t.Errorf("unreferenced key %d kept", k)
		}
	}
	for k := uint32(1000); k < 1000+max/2; k++ {
		if _, err := m.Lookup(u32(k)); err != nil {
			t.Errorf("new key %d: %v", k, err)
		}
	}
}

func TestLRUKeepsMaxEntries(t *testing.T) {
	const max = 100
	m := mustNew(t, ebpf.LRUHash, 8, 8, max)
	for k := range uint64(10 * max) {
		if err := m.Update(u64(k), u64(k), UpdateNoExist); err != nil {
			t.Fatalf("insert %d: %v", k, err)
		}
		if k%7 == 0 {
			m.LookupAddr(u64(k), 0)
		}
	}
	if m.Len() != max {
		t.Errorf("Len %d, want %d", m.Len(), max)
	}
	n := 0
	it := m.Iterate()
	var k, v []byte
	for it.Next(&k, &v) {
		n++
	}
	if n != max {
		t.Errorf("iterated %d entries, want %d", n, max)
	}
	// The most recent insert always survives.
	if _, err := m.Lookup(u64(10*max - 1)); err != nil {
		t.Errorf("last insert: %v", err)
	}
}

// TestLRUGoLookupDoesNotReference: like the kernel's syscall lookup, the Go
// API does not mark entries referenced.
func TestLRUGoLookupDoesNotReference(t *testing.T) {
	m := mustNew(t, ebpf.LRUHash, 4, 8, 2)
	_ = m.Update(u32(1), u64(1), UpdateAny)
	_ = m.Update(u32(2), u64(2), UpdateAny)
	_, _ = m.Lookup(u32(1))
	m.LookupAddr(u32(2), 0)
	_ = m.Update(u32(3), u64(3), UpdateAny)
	if _, err := m.Lookup(u32(1)); !errors.Is(err, ErrKeyNotExist) {
		t.Errorf("key 1 (looked up from Go only) kept: %v", err)
	}
	if _, err := m.Lookup(u32(2)); err != nil {
		t.Errorf("key 2 (referenced by a program) evicted: %v", err)
	}
}

// TestLRUInsertsFromTwoRunners: two runners (each with its own Guard, as
// engines give them) insert distinct new keys into a full LRU map, one
// insert per run, paused around it as the engines' update helper pauses.
// As in the kernel, every insert succeeds: the evicted entries were never
// looked up, so no run can hold them, and their slots are reused at once.
// The map keeps max_entries entries, each findable with its value.
func TestLRUInsertsFromTwoRunners(t *testing.T) {
	const maxE, perRunner = 64, 100_000
	n := perRunner
	if testing.Short() {
		n = 10_000
	}
	failed := lruInsertRunners(t, maxE, n, true)
	if failed != 0 {
		t.Errorf("%d of %d inserts failed", failed, 2*n)
	}
}

// lruInsertRunners runs two runners inserting n keys each into a full LRU
// map of maxE entries, checks the map's consistency and returns how many
// inserts failed.
func lruInsertRunners(t *testing.T, maxE uint32, n int, pause bool) int64 {
	t.Helper()
	m := mustNew(t, ebpf.LRUHash, 8, 8, maxE)
	value := func(k uint64) uint64 { return k ^ 0x5a5a_5a5a_5a5a_5a5a }
	for k := range uint64(maxE) {
		if err := m.Update(u64(k), u64(value(k)), UpdateNoExist); err != nil {
			t.Fatal(err)
		}
	}
	var failed atomic.Int64
	var wg sync.WaitGroup
	for cpu := range 2 {
		wg.Go(func() {
			var g Guard
			m.Register(&g)
			defer m.Unregister(&g)
			key, val := make([]byte, 8), make([]byte, 8) // the program's stack
			for i := range uint64(n) {
				k := 1<<32 + uint64(cpu)<<31 + i
				binary.LittleEndian.PutUint64(key, k)
				binary.LittleEndian.PutUint64(val, value(k))
				g.Enter()
				if pause {
					g.Pause()
				}
				code := m.UpdateFromProgram(key, val, uint64(UpdateNoExist), cpu)
				if pause {
					g.Resume()
				}
				g.Exit()
				if code != 0 {
					if code != -int64(unix.ENOMEM) {
						t.Errorf("insert %#x: %d", k, code)
					}
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()

	if got := m.Len(); got != int(maxE) {
		t.Errorf("Len %d, want %d", got, maxE)
	}
	var keys [][]byte
	it := m.Iterate()
	var k, v []byte
	for it.Next(&k, &v) {
		if got, want := binary.LittleEndian.Uint64(v), value(binary.LittleEndian.Uint64(k)); got != want {
			t.Errorf("iterated key %#x with value %#x, want %#x", binary.LittleEndian.Uint64(k), got, want)
		}
		keys = append(keys, bytes.Clone(k))
	}
	if len(keys) != int(maxE) {
		t.Errorf("iterated %d entries, want %d", len(keys), maxE)
	}
	for _, k := range keys {
		got, err := m.Lookup(k)
		if err != nil || binary.LittleEndian.Uint64(got) != value(binary.LittleEndian.Uint64(k)) {
			t.Errorf("key %#x: %x, %v", binary.LittleEndian.Uint64(k), got, err)
		}
	}
	t.Logf("%d of %d inserts failed", failed.Load(), 2*n)
	return failed.Load()
}

// TestLRUPausedRunKeepsWhatItLookedUp: a paused run still holds the entries
// its lookups returned: evicting one does not free its slot until the run
// ends, while entries no lookup returned are reused at once.
func TestLRUPausedRunKeepsWhatItLookedUp(t *testing.T) {
	const maxE = 8
	m := mustNew(t, ebpf.LRUHash, 8, 8, maxE)
	for k := range uint64(maxE) {
		if err := m.Update(u64(k), u64(0xfeed+k), UpdateNoExist); err != nil {
			t.Fatal(err)
		}
	}
	var g Guard
	m.Register(&g)
	g.Enter()
	held := m.LookupAddr(u64(3), 0)
	g.Pause()
	// Many times the spare slots: only reuse lets every insert succeed.
	for k := uint64(100); k < 100+uint64(m.Layout().NumSlots)*4; k++ {
		if code := m.UpdateFromProgram(u64(k), u64(k), 0, 0); code != 0 {
			t.Fatalf("insert %d: %d", k, code)
		}
	}
	g.Resume()
	if got := *word(m, held); got != 0xfeed+3 { // a reuse would have written k
		t.Errorf("held value changed to %#x: the slot was reused during the run", got)
	}
	if _, err := m.Lookup(u64(3)); !errors.Is(err, ErrKeyNotExist) {
		t.Errorf("key 3 was not evicted: %v", err)
	}
	g.Exit()
}
