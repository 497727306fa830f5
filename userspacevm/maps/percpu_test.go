package maps

import (
	"bytes"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

func TestPerCPU(t *testing.T) {
	for _, typ := range []ebpf.MapType{ebpf.PerCPUHash, ebpf.PerCPUArray} {
		t.Run(typ.String(), func(t *testing.T) {
			m := mustNew(t, typ, 4, 4, 8)
			key := u32(5)

			// A program's update creates the entry with only its CPU's value.
			if got := m.UpdateFromProgram(key, u32(7), 0, 2); got != 0 {
				t.Fatalf("UpdateFromProgram: %d", got)
			}
			checkPerCPU(t, m, key, []uint32{0, 0, 7, 0})

			// A later program update touches only its CPU's value.
			if got := m.UpdateFromProgram(key, u32(9), 0, 1); got != 0 {
				t.Fatalf("UpdateFromProgram: %d", got)
			}
			checkPerCPU(t, m, key, []uint32{0, 9, 7, 0})

			// Each CPU's address holds that CPU's value.
			for cpu, want := range []uint64{0, 9, 7, 0} {
				if got := *word(m, m.LookupAddr(key, cpu)) & 0xffffffff; got != want {
					t.Errorf("cpu %d through LookupAddr: %d, want %d", cpu, got, want)
				}
			}

			// The Go API's Update sets every CPU's value.
			if err := m.Update(key, u32(3), UpdateAny); err != nil {
				t.Fatal(err)
			}
			checkPerCPU(t, m, key, []uint32{3, 3, 3, 3})

			if err := m.UpdatePerCPU(key, [][]byte{u32(1), u32(2), u32(3), u32(4)}, UpdateExist); err != nil {
				t.Fatal(err)
			}
			checkPerCPU(t, m, key, []uint32{1, 2, 3, 4})

			// Lookup gives the kernel's layout: each value padded to 8 bytes.
			v, err := m.Lookup(key)
			want := []byte{1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0}
			if err != nil || !bytes.Equal(v, want) {
				t.Errorf("Lookup: %v, %v; want %v", v, err, want)
			}

			if err := m.UpdatePerCPU(key, [][]byte{u32(1)}, UpdateAny); errnoOf(err) != -int64(unix.EINVAL) {
				t.Errorf("UpdatePerCPU with 1 value for 4 CPUs: %v", err)
			}
			if got := m.UpdateFromProgram(key, u32(1), 0, testCPUs); got != -int64(unix.EINVAL) {
				t.Errorf("UpdateFromProgram on cpu %d: %d, want -EINVAL", testCPUs, got)
			}
			if got := m.LookupAddr(key, testCPUs); got != 0 {
				t.Errorf("LookupAddr on cpu %d: %#x, want 0", testCPUs, got)
			}
		})
	}
}

func checkPerCPU(t *testing.T, m *Map, key []byte, want []uint32) {
	t.Helper()
	vs, err := m.LookupPerCPU(key)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != len(want) {
		t.Fatalf("%d values, want %d", len(vs), len(want))
	}
	for cpu, v := range vs {
		if !bytes.Equal(v, u32(want[cpu])) {
			t.Errorf("cpu %d: %v, want %d", cpu, v, want[cpu])
		}
	}
}

func TestLookupPerCPUOnSharedMap(t *testing.T) {
	m := mustNew(t, ebpf.Hash, 4, 4, 8)
	if err := m.Update(u32(1), u32(42), UpdateAny); err != nil {
		t.Fatal(err)
	}
	vs, err := m.LookupPerCPU(u32(1))
	if err != nil || len(vs) != 1 || !bytes.Equal(vs[0], u32(42)) {
		t.Errorf("LookupPerCPU on a hash map: %v, %v", vs, err)
	}
	// A program's cpu argument does not matter for shared maps.
	if m.LookupAddr(u32(1), 0) != m.LookupAddr(u32(1), 1) {
		t.Errorf("shared map: LookupAddr differs by cpu")
	}
}
