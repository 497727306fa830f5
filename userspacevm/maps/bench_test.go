package maps

import (
	"encoding/binary"
	"testing"

	"github.com/cilium/ebpf"
)

// BenchmarkLookup measures the program-side lookup (what the interpreter
// calls for bpf_map_lookup_elem) of 1024 keys, against a Go map as the
// baseline. None of them may allocate.
func BenchmarkLookup(b *testing.B) {
	const n = 1024
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = u64(uint64(i) * 0x10001)
	}
	for _, typ := range []ebpf.MapType{ebpf.Hash, ebpf.LRUHash, ebpf.PerCPUHash} {
		b.Run(typ.String(), func(b *testing.B) {
			m := mustNew(b, typ, 8, 8, n)
			for _, k := range keys {
				if err := m.Update(k, k, UpdateAny); err != nil {
					b.Fatal(err)
				}
			}
			var g Guard
			m.Register(&g)
			g.Enter()
			defer g.Exit()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if m.LookupAddr(keys[i%n], 1) == 0 {
					b.Fatal("missing key")
				}
				i++
			}
		})
	}
	for _, typ := range []ebpf.MapType{ebpf.Array, ebpf.PerCPUArray} {
		b.Run(typ.String(), func(b *testing.B) {
			m := mustNew(b, typ, 4, 8, n)
			akeys := make([][]byte, n)
			for i := range akeys {
				akeys[i] = u32(uint32(i))
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if m.LookupAddr(akeys[i%n], 1) == 0 {
					b.Fatal("missing key")
				}
				i++
			}
		})
	}
	b.Run("gomap", func(b *testing.B) {
		gm := make(map[uint64]*uint64, n)
		for _, k := range keys {
			v := binary.LittleEndian.Uint64(k)
			gm[v] = &v
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if gm[binary.LittleEndian.Uint64(keys[i%n])] == nil {
				b.Fatal("missing key")
			}
			i++
		}
	})
}

// BenchmarkGoLookup is the Go API's copying lookup, for the report side.
func BenchmarkGoLookup(b *testing.B) {
	m := mustNew(b, ebpf.Hash, 8, 8, 1024)
	for k := range uint64(1024) {
		_ = m.Update(u64(k), u64(k), UpdateAny)
	}
	key := u64(77)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Lookup(key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateFromProgram replaces an existing entry's value, the
// common case of a program keeping per-key state.
func BenchmarkUpdateFromProgram(b *testing.B) {
	m := mustNew(b, ebpf.Hash, 8, 8, 1024)
	for k := range uint64(1024) {
		_ = m.Update(u64(k), u64(k), UpdateAny)
	}
	key, value := u64(77), u64(1)
	b.ReportAllocs()
	for b.Loop() {
		if m.UpdateFromProgram(key, value, 0, 0) != 0 {
			b.Fatal("update failed")
		}
	}
}

// BenchmarkInsertDelete is a new key in and out, as programs tracking
// short-lived objects do.
func BenchmarkInsertDelete(b *testing.B) {
	m := mustNew(b, ebpf.Hash, 8, 8, 1024)
	key, value := u64(77), u64(1)
	b.ReportAllocs()
	for b.Loop() {
		if m.UpdateFromProgram(key, value, 0, 0) != 0 || m.DeleteFromProgram(key) != 0 {
			b.Fatal("insert or delete failed")
		}
	}
}

func BenchmarkGetStackID(b *testing.B) {
	m := mustNew(b, ebpf.StackTrace, 4, 127*8, 1024)
	chain := []uint64{markKernel}
	for i := range 20 {
		chain = append(chain, 0xffffffff81000000+uint64(i)*64)
	}
	b.ReportAllocs()
	for b.Loop() {
		if m.GetStackID(chain, 0) < 0 {
			b.Fatal("GetStackID failed")
		}
	}
}
