package maps

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/cilium/ebpf"
)

func TestIterate(t *testing.T) {
	for _, tc := range []struct {
		typ      ebpf.MapType
		keys     []uint32
		wantKeys []uint32
		valueLen int
	}{
		{ebpf.Hash, []uint32{5, 9, 1, 100}, []uint32{1, 5, 9, 100}, 8},
		{ebpf.LRUHash, []uint32{5, 9}, []uint32{5, 9}, 8},
		{ebpf.PerCPUHash, []uint32{3}, []uint32{3}, 8 * testCPUs},
		{ebpf.Array, []uint32{2}, []uint32{0, 1, 2, 3, 4, 5, 6, 7}, 8},
		{ebpf.PerCPUArray, []uint32{2}, []uint32{0, 1, 2, 3, 4, 5, 6, 7}, 8 * testCPUs},
	} {
		t.Run(tc.typ.String(), func(t *testing.T) {
			m := mustNew(t, tc.typ, 4, 8, 8)
			for _, k := range tc.keys {
				if err := m.Update(u32(k), u64(uint64(k)*10), UpdateAny); err != nil {
					t.Fatal(err)
				}
			}
			var got []uint32
			var key, value []byte
			it := m.Iterate()
			for it.Next(&key, &value) {
				k := binary.LittleEndian.Uint32(key)
				got = append(got, k)
				if len(value) != tc.valueLen {
					t.Errorf("key %d: value of %d bytes, want %d", k, len(value), tc.valueLen)
				}
				if slices.Contains(tc.keys, k) && binary.LittleEndian.Uint64(value) != uint64(k)*10 {
					t.Errorf("key %d: value %x", k, value)
				}
			}
			if it.Err() != nil {
				t.Fatal(it.Err())
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.wantKeys) {
				t.Errorf("keys %v, want %v", got, tc.wantKeys)
			}
		})
	}
}

// TestIterateReusesBuffers: Next appends into the caller's buffers and
// allocates nothing once they are large enough.
func TestIterateReusesBuffers(t *testing.T) {
	m := mustNew(t, ebpf.Hash, 8, 8, 64)
	for k := range uint64(64) {
		_ = m.Update(u64(k), u64(k), UpdateAny)
	}
	key, value := make([]byte, 0, 8), make([]byte, 0, 8)
	allocs := testing.AllocsPerRun(10, func() {
		it := m.Iterate()
		for it.Next(&key, &value) {
		}
	})
	if allocs > 1 { // the Iterator itself
		t.Errorf("%v allocations per iteration", allocs)
	}
}
