package maps

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

const (
	markKernel = ^uint64(128) + 1 // PERF_CONTEXT_KERNEL
	markUser   = ^uint64(512) + 1 // PERF_CONTEXT_USER
)

// frames decodes a stack trace map value.
func frames(v []byte) []uint64 {
	var ips []uint64
	for i := 0; i+8 <= len(v); i += 8 {
		ips = append(ips, binary.LittleEndian.Uint64(v[i:]))
	}
	return ips
}

func TestGetStackID(t *testing.T) {
	const a, b, c, d, e, f = 0xffffffff81000010, 0xffffffff81000020, 0xffffffff81000030, 0xffffffff81000040, 0xffffffff81000050, 0xffffffff81000060
	for _, tc := range []struct {
		name   string
		chain  []uint64
		flags  uint64
		want   int64 // an errno, or 0 for "an id"
		stored []uint64
	}{
		{"kernel chain with markers", []uint64{markKernel, a, b, c, markUser, 0x400000, 0x400010}, 0, 0, []uint64{a, b, c, 0}},
		{"no markers", []uint64{a, b}, 0, 0, []uint64{a, b, 0, 0}},
		{"skip one", []uint64{markKernel, a, b, c}, 1, 0, []uint64{b, c, 0, 0}},
		{"truncated to value_size/8", []uint64{a, b, c, d, e, f}, 0, 0, []uint64{a, b, c, d}},
		{"skip then truncate", []uint64{a, b, c, d, e, f}, 2, 0, []uint64{c, d, e, f}},
		{"skip everything", []uint64{markKernel, a, b}, 2, -int64(unix.EFAULT), nil},
		{"empty chain", nil, 0, -int64(unix.EFAULT), nil},
		{"only markers", []uint64{markKernel, markUser, 0x400000}, 0, -int64(unix.EFAULT), nil},
		{"user stack", []uint64{a}, flagUserStack, -int64(unix.EFAULT), nil},
		{"unknown flag", []uint64{a}, 1 << 11, -int64(unix.EINVAL), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustNew(t, ebpf.StackTrace, 4, 32, 8)
			id := m.GetStackID(tc.chain, tc.flags)
			if tc.want != 0 {
				if id != tc.want {
					t.Errorf("GetStackID = %d, want %d", id, tc.want)
				}
				return
			}
			if id < 0 || id >= 8 {
				t.Fatalf("GetStackID = %d, want an id in [0, 8)", id)
			}
			if again := m.GetStackID(tc.chain, tc.flags); again != id {
				t.Errorf("same stack again: id %d, first %d", again, id)
			}
			v, err := m.Lookup(u32(uint32(id)))
			if err != nil || !slices.Equal(frames(v), tc.stored) {
				t.Errorf("Lookup(%d) = %x, %v; want %x", id, frames(v), err, tc.stored)
			}
			if want := int64(hashWords(slices.DeleteFunc(slices.Clone(tc.stored), func(ip uint64) bool { return ip == 0 })) & 7); id != want {
				t.Errorf("id %d, want hash & (buckets-1) = %d", id, want)
			}
		})
	}
}

// collidingStacks returns two one-frame stacks whose ids are equal; if
// sameHash, their full hashes are equal too.
func collidingStacks(t *testing.T, mask uint32, sameHash bool) (x, y []uint64) {
	seen := map[uint32]uint64{}
	for ip := uint64(0xffffffff81000000); ip < 0xffffffff81000000+1<<24; ip += 16 {
		h := hashWords([]uint64{ip})
		if !sameHash {
			h &= mask
		}
		if prev, ok := seen[h]; ok && (sameHash || hashWords([]uint64{prev}) != hashWords([]uint64{ip})) {
			return []uint64{prev}, []uint64{ip}
		}
		seen[h] = ip
	}
	t.Fatal("no colliding stacks found")
	return nil, nil
}

func TestGetStackIDCollisions(t *testing.T) {
	m := mustNew(t, ebpf.StackTrace, 4, 8, 4)
	x, y := collidingStacks(t, 3, false)
	id := m.GetStackID(x, 0)
	if got := m.GetStackID(y, 0); got != -int64(unix.EEXIST) {
		t.Errorf("colliding stack: %d, want -EEXIST", got)
	}
	if got := m.GetStackID(y, flagFastStackCmp); got != -int64(unix.EEXIST) {
		t.Errorf("colliding stack, fast compare, different hash: %d, want -EEXIST", got)
	}
	if got := m.GetStackID(y, flagReuseStackID); got != id {
		t.Errorf("colliding stack with BPF_F_REUSE_STACKID: %d, want %d", got, id)
	}
	if v, _ := m.Lookup(u32(uint32(id))); !slices.Equal(frames(v), y) {
		t.Errorf("after reuse the id holds %x, want %x", frames(v), y)
	}
	if got := m.GetStackID(x, 0); got != -int64(unix.EEXIST) {
		t.Errorf("the overwritten stack: %d, want -EEXIST", got)
	}

	// Equal hashes: fast compare trusts the hash, a full compare does not.
	p, q := collidingStacks(t, 3, true)
	m2 := mustNew(t, ebpf.StackTrace, 4, 8, 4)
	id = m2.GetStackID(p, 0)
	if got := m2.GetStackID(q, flagFastStackCmp); got != id {
		t.Errorf("same hash, fast compare: %d, want %d", got, id)
	}
	if got := m2.GetStackID(q, 0); got != -int64(unix.EEXIST) {
		t.Errorf("same hash, full compare: %d, want -EEXIST", got)
	}
}

func TestStackTraceGoAPI(t *testing.T) {
	m := mustNew(t, ebpf.StackTrace, 4, 16, 3) // 4 slots: ids 0-3
	var ids []uint32
	for ip := uint64(0xffffffff81000000); len(ids) < 2; ip += 8 {
		id := m.GetStackID([]uint64{ip}, 0)
		if id >= 0 && !slices.Contains(ids, uint32(id)) {
			ids = append(ids, uint32(id))
		}
	}
	if m.Len() != 2 {
		t.Errorf("Len %d, want 2", m.Len())
	}
	var got []uint32
	it := m.Iterate()
	var k, v []byte
	for it.Next(&k, &v) {
		got = append(got, binary.LittleEndian.Uint32(k))
		if len(v) != 16 {
			t.Errorf("value of %d bytes, want 16", len(v))
		}
	}
	slices.Sort(ids)
	if !slices.Equal(got, ids) {
		t.Errorf("iterated ids %v, want %v", got, ids)
	}
	if err := m.Delete(u32(ids[0])); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Lookup(u32(ids[0])); !errors.Is(err, ErrKeyNotExist) {
		t.Errorf("lookup of a deleted id: %v", err)
	}
	if err := m.Delete(u32(ids[0])); !errors.Is(err, ErrKeyNotExist) {
		t.Errorf("second delete: %v", err)
	}
	if _, err := m.Lookup(u32(4)); !errors.Is(err, ErrKeyNotExist) {
		t.Errorf("lookup past the slots: %v", err)
	}
	if err := m.Update(u32(0), make([]byte, 16), UpdateAny); !errors.Is(err, unix.EINVAL) {
		t.Errorf("Update of a stack trace map: %v, want EINVAL", err)
	}
	if a := m.LookupAddr(u32(ids[1]), 0); a != 0 {
		t.Errorf("programs cannot look up stacks, got %#x", a)
	}
	hash := mustNew(t, ebpf.Hash, 4, 4, 4)
	if got := hash.GetStackID([]uint64{1}, 0); got != -int64(unix.EINVAL) {
		t.Errorf("GetStackID on a hash map: %d", got)
	}
}
