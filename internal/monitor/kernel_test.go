package monitor

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/dropmon/dropmon/internal/testutil"
)

// TestKernelForEach reads kernel maps, plain and per CPU, with batch
// lookups and with the one-by-one fallback: every key once, a per-CPU
// value as every possible CPU's value end to end.
func TestKernelForEach(t *testing.T) {
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []ebpf.MapType{ebpf.Hash, ebpf.PerCPUHash, ebpf.Array, ebpf.PerCPUArray} {
		for _, batch := range []bool{true, false} {
			t.Run(fmt.Sprintf("%v/batch=%v", typ, batch), func(t *testing.T) {
				const n = 300 // more than one batch
				m, err := ebpf.NewMap(&ebpf.MapSpec{Type: typ, KeySize: 4, ValueSize: 16, MaxEntries: n})
				testutil.Privileged(t, err)
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				perCPU := typ == ebpf.PerCPUHash || typ == ebpf.PerCPUArray
				k := &kernelCounter{counts: m, cpus: 1, batch: batch}
				if perCPU {
					k.cpus = cpus
				}
				// Key i holds i+c on CPU c in its first u64, and i in its second.
				value := func(i uint32, c int) [16]byte {
					var v [16]byte
					binary.NativeEndian.PutUint64(v[:], uint64(i)+uint64(c))
					binary.NativeEndian.PutUint64(v[8:], uint64(i))
					return v
				}
				for i := range uint32(n) {
					if perCPU {
						vs := make([][16]byte, cpus)
						for c := range vs {
							vs[c] = value(i, c)
						}
						err = m.Put(i, vs)
					} else {
						err = m.Put(i, value(i, 0))
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				seen := map[uint32]bool{}
				err = k.forEach(func(key, v []byte) error {
					i := binary.NativeEndian.Uint32(key)
					if seen[i] {
						return fmt.Errorf("key %d twice", i)
					}
					seen[i] = true
					if len(v) != 16*k.cpus {
						return fmt.Errorf("key %d: %d value bytes, want %d", i, len(v), 16*k.cpus)
					}
					for c := range k.cpus {
						if want := value(i, c); [16]byte(v[16*c:]) != want {
							return fmt.Errorf("key %d cpu %d: value %x, want %x", i, c, v[16*c:16*c+16], want)
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(seen) != n {
					t.Errorf("read %d keys, want %d", len(seen), n)
				}
			})
		}
	}
}
