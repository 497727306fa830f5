package maps

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf"
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
