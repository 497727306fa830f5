package maps

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// hashOp is one step of a scripted sequence on a hash map.
type hashOp struct {
	op    string // "update", "delete" or "lookup"
	key   uint32
	value uint64
	flags uint64
	want  int64 // negative errno; for a lookup, -ENOENT or 0
}

// TestHashSemantics runs each script through the program-side API and the
// Go API, on every hash map type, and checks the kernel's error codes.
func TestHashSemantics(t *testing.T) {
	const (
		enoent = -int64(unix.ENOENT)
		eexist = -int64(unix.EEXIST)
		e2big  = -int64(unix.E2BIG)
		einval = -int64(unix.EINVAL)
	)
	scripts := []struct {
		name string
		ops  []hashOp
	}{
		{"any creates and replaces", []hashOp{
			{"update", 1, 10, 0, 0}, {"lookup", 1, 10, 0, 0},
			{"update", 1, 11, 0, 0}, {"lookup", 1, 11, 0, 0},
		}},
		{"noexist", []hashOp{
			{"update", 1, 10, 1, 0}, {"update", 1, 11, 1, eexist}, {"lookup", 1, 10, 0, 0},
		}},
		{"exist", []hashOp{
			{"update", 1, 10, 2, enoent}, {"lookup", 1, 0, 0, enoent},
			{"update", 1, 10, 0, 0}, {"update", 1, 12, 2, 0}, {"lookup", 1, 12, 0, 0},
		}},
		{"bad flags", []hashOp{{"update", 1, 10, 3, einval}, {"update", 1, 10, 4, einval}, {"lookup", 1, 0, 0, enoent}}},
		{"delete", []hashOp{
			{"delete", 1, 0, 0, enoent}, {"update", 1, 10, 0, 0}, {"delete", 1, 0, 0, 0},
			{"lookup", 1, 0, 0, enoent}, {"delete", 1, 0, 0, enoent}, {"update", 1, 13, 1, 0}, {"lookup", 1, 13, 0, 0},
		}},
		{"full", []hashOp{
			{"update", 1, 1, 0, 0}, {"update", 2, 2, 0, 0}, {"update", 3, 3, 0, 0},
			{"update", 4, 4, 0, e2big}, {"update", 4, 4, 1, e2big},
			{"update", 4, 4, 2, enoent}, // the kernel checks flags before it allocates
			{"update", 3, 30, 1, eexist},
			{"update", 3, 30, 0, 0}, // replacing needs no new slot
			{"delete", 2, 0, 0, 0}, {"update", 4, 4, 0, 0}, {"lookup", 4, 4, 0, 0}, {"lookup", 3, 30, 0, 0},
		}},
	}
	for _, typ := range []ebpf.MapType{ebpf.Hash, ebpf.PerCPUHash, ebpf.LRUHash} {
		for _, side := range []string{"program", "go"} {
			for _, sc := range scripts {
				if typ == ebpf.LRUHash && sc.name == "full" {
					continue // LRU maps evict instead: TestLRU
				}
				t.Run(typ.String()+"/"+side+"/"+sc.name, func(t *testing.T) {
					m := mustNew(t, typ, 4, 8, 3)
					for i, op := range sc.ops {
						if got := runHashOp(m, side, op); got != op.want {
							t.Fatalf("step %d %+v: got %d", i, op, got)
						}
					}
				})
			}
		}
	}
}

func runHashOp(m *Map, side string, op hashOp) int64 {
	key := u32(op.key)
	switch {
	case op.op == "update" && side == "program":
		return m.UpdateFromProgram(key, u64(op.value), op.flags, 0)
	case op.op == "update":
		return errnoOf(m.Update(key, u64(op.value), UpdateFlags(op.flags)))
	case op.op == "delete" && side == "program":
		return m.DeleteFromProgram(key)
	case op.op == "delete":
		return errnoOf(m.Delete(key))
	}
	// lookup: through the address and through the Go API; they must agree.
	a := m.LookupAddr(key, 0)
	v, err := m.Lookup(key)
	if (a == 0) != (err != nil) {
		return -100
	}
	if a == 0 {
		return errnoOf(err)
	}
	if *word(m, a) != op.value || !bytes.Equal(v[:8], u64(op.value)) {
		return -101
	}
	return 0
}

func TestHashErrorsMatchErrno(t *testing.T) {
	m := mustNew(t, ebpf.Hash, 4, 8, 1)
	if err := m.Update(u32(1), u64(1), UpdateAny); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		err      error
		sentinel error
		errno    unix.Errno
		text     string
	}{
		{m.Update(u32(2), u64(1), UpdateAny), ErrFull, unix.E2BIG, `update map "test": map is full`},
		{m.Update(u32(1), u64(1), UpdateNoExist), ErrKeyExist, unix.EEXIST, `update map "test": key already exists`},
		{m.Delete(u32(2)), ErrKeyNotExist, unix.ENOENT, `delete map "test": key does not exist`},
	} {
		if !errors.Is(tc.err, tc.sentinel) || !errors.Is(tc.err, tc.errno) || tc.err.Error() != tc.text {
			t.Errorf("error %q: want %q, matching %v and errno %v", tc.err, tc.text, tc.sentinel, tc.errno)
		}
	}
}

// TestHashLongKeys exercises keys longer than a word, not multiple of 8,
// and colliding buckets (more keys than buckets share chains).
func TestHashLongKeys(t *testing.T) {
	m := mustNew(t, ebpf.Hash, 13, 3, 200)
	key := func(i int) []byte { return []byte{byte(i), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(i >> 8)} }
	for i := range 200 {
		if err := m.Update(key(i), []byte{byte(i), 1, 2}, UpdateNoExist); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 200; i += 2 {
		if err := m.Delete(key(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 200 {
		v, err := m.Lookup(key(i))
		if i%2 == 0 {
			if !errors.Is(err, ErrKeyNotExist) {
				t.Errorf("deleted key %d: %v, %v", i, v, err)
			}
			continue
		}
		if err != nil || !bytes.Equal(v, []byte{byte(i), 1, 2}) {
			t.Errorf("key %d: %v, %v", i, v, err)
		}
	}
	if m.Len() != 100 {
		t.Errorf("Len %d, want 100", m.Len())
	}
}
