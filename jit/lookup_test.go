//go:build amd64 && linux

package jit

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// loadMapArg loads map 0 into R1 from the record at R6. With vary, the
// program has a second map of the same spec and loads it instead when the
// record's byte at offset 30 is not 0 (the tests leave it 0): the call
// then sees two maps, the verifier cannot name one (Verified.CallMaps)
// and the JIT emits its generic lookup, which finds the map's type at run
// time.
func loadMapArg(vary bool) asm.Instructions {
	if !vary {
		return asm.Instructions{asm.LoadMapPtr(asm.R1, 0)}
	}
	return asm.Instructions{
		asm.LoadMem(asm.R3, asm.R6, 30, asm.Byte),
		asm.LoadMapPtr(asm.R1, 0),
		asm.JEq.Imm(asm.R3, 0, "map0"),
		asm.LoadMapPtr(asm.R1, 1),
		asm.Mov.Reg(asm.R2, asm.RFP).WithSymbol("map0"),
	}
}

// mapsOf returns the program's maps: spec, and with vary a second one.
func mapsOf(spec *program.MapSpec, vary bool) []*program.MapSpec {
	if !vary {
		return []*program.MapSpec{spec}
	}
	other := *spec
	other.Name += "2"
	return []*program.MapSpec{spec, &other}
}

// lookupProg looks the record's u32 at offset 8 up in map 0 and, when
// found, adds 1 to the value's first u64 and returns it; else 99.
func lookupProg(spec *program.MapSpec, vary bool) *program.Program {
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R2, asm.R1, 8, asm.Word),
		asm.StoreMem(asm.RFP, -4, asm.R2, asm.Word),
	}
	insns = append(insns, loadMapArg(vary)...)
	return &program.Program{
		Name: "lookup", Type: program.Tracepoint,
		Maps: mapsOf(spec, vary),
		Insns: append(insns,
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -4),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "miss"),
			asm.Mov.Imm(asm.R1, 1),
			asm.FetchAdd.Mem(asm.R0, asm.R1, asm.DWord, 0),
			asm.Mov.Reg(asm.R0, asm.R1),
			asm.Return(),
			asm.Mov.Imm(asm.R0, 99).WithSymbol("miss"),
			asm.Return(),
		),
	}
}

// TestMapLookup checks the inline lookups against the interpreter (in
// range, at and past max_entries, CPUs in and out of range) and that they
// make no exit, for a map known at the call site (specialised code) and
// for two maps the call may see (the generic code, where LRU and per-CPU
// hash maps exit to the helper).
func TestMapLookup(t *testing.T) {
	tests := []struct {
		name      string
		spec      program.MapSpec
		vary      bool
		wantExits uint64
	}{
		{"array", program.MapSpec{Name: "a", Type: ebpf.Array, KeySize: 4, ValueSize: 12, MaxEntries: 5}, false, 0},
		{"percpu array", program.MapSpec{Name: "p", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 5}, false, 0},
		{"hash", program.MapSpec{Name: "h", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 5}, false, 0},
		{"lru hash", program.MapSpec{Name: "l", Type: ebpf.LRUHash, KeySize: 4, ValueSize: 8, MaxEntries: 5}, false, 0},
		{"percpu hash", program.MapSpec{Name: "ph", Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 8, MaxEntries: 5}, false, 0},
		{"generic array", program.MapSpec{Name: "a", Type: ebpf.Array, KeySize: 4, ValueSize: 12, MaxEntries: 5}, true, 0},
		{"generic percpu array", program.MapSpec{Name: "p", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 5}, true, 0},
		{"generic hash", program.MapSpec{Name: "h", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 5}, true, 0},
		{"generic lru hash exits", program.MapSpec{Name: "l", Type: ebpf.LRUHash, KeySize: 4, ValueSize: 8, MaxEntries: 5}, true, 1},
		{"generic percpu hash exits", program.MapSpec{Name: "ph", Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 8, MaxEntries: 5}, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, p := prepare(t, lookupProg(&tt.spec, tt.vary), 32)
			checkCallMap(t, v, tt.vary)
			if tt.spec.Type == ebpf.Hash || tt.spec.Type == ebpf.LRUHash || tt.spec.Type == ebpf.PerCPUHash {
				for k := range uint32(3) {
					if err := p.Maps[0].Update(binary.LittleEndian.AppendUint32(nil, k), make([]byte, 8), 0); err != nil {
						t.Fatal(err)
					}
				}
			}
			it, err := userspacevm.Interp{}.Load(p)
			if err != nil {
				t.Fatal(err)
			}
			defer it.Close()
			jr, err := Engine{}.Load(p)
			if err != nil {
				t.Fatal(err)
			}
			defer jr.Close()
			for i, key := range []uint32{0, 4, 5, 1 << 31, 0xffff_ffff, 2, 4, 1, 1, 1} {
				rc := &userspacevm.RunContext{CPU: []int{0, 1, 2, 3, 0, 1, 2, 3, -1, 5}[i] % (p.Maps[0].NumCPUs() + 1)}
				rec := make([]byte, 32)
				binary.LittleEndian.PutUint32(rec[8:], key)
				want, err := it.Run(rec, rc)
				if err != nil {
					t.Fatal(err)
				}
				got, err := jr.Run(rec, rc)
				if err != nil {
					t.Fatal(err)
				}
				// Both engines add to the same map, so the JIT sees the
				// interpreter's increment: one more when found.
				if want != 99 {
					want++
				}
				if got != want {
					t.Errorf("key %d: jit r0 = %d, want %d", key, got, want)
				}
				if exits := jr.(*Runner).Exits(); exits != tt.wantExits {
					t.Errorf("key %d: %d exits, want %d", key, exits, tt.wantExits)
				}
			}
		})
	}
}

// checkCallMap checks what the verifier says of the lookup's map: map 0,
// or unknown when the call may see either map.
func checkCallMap(t *testing.T, v *verifier.Verified, vary bool) {
	t.Helper()
	want := 0
	if vary {
		want = -1
	}
	for pc, in := range v.Insns() {
		if in.Op == program.CallHelper && v.CallMaps()[pc] != want {
			t.Fatalf("CallMaps[%d] = %d, want %d", pc, v.CallMaps()[pc], want)
		}
	}
}

// hashLookupProg copies keySize bytes of the record from offset 32 to the
// stack and returns what map_lookup_elem returns: the value's address.
func hashLookupProg(spec *program.MapSpec, vary bool) *program.Program {
	insns := asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)}
	for i := range int16(spec.KeySize) {
		insns = append(insns, asm.LoadMem(asm.R3, asm.R6, 32+i, asm.Byte), asm.StoreMem(asm.RFP, -128+i, asm.R3, asm.Byte))
	}
	insns = append(insns, loadMapArg(vary)...)
	insns = append(insns,
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -128),
		asm.FnMapLookupElem.Call(),
		asm.Return())
	return &program.Program{Name: "hash_lookup", Type: program.Tracepoint, Maps: mapsOf(spec, vary), Insns: insns}
}

// TestHashLookup checks the inline hash lookups (specialised for a known
// map, and generic) against maps' own lookup for key sizes with and
// without a partial last word, up to and past the largest key unrolled,
// over chains longer than one slot, with deleted entries and absent keys.
func TestHashLookup(t *testing.T) {
	for _, tt := range []struct {
		keySize uint32
		vary    bool
	}{{1, false}, {3, false}, {4, false}, {7, false}, {8, false}, {12, false}, {16, false}, {20, false},
		{maxInlineKey, false}, {maxInlineKey + 4, false}, {1, true}, {3, true}, {8, true}, {20, true}} {
		keySize := tt.keySize
		t.Run(fmt.Sprint(keySize, map[bool]string{true: "/generic"}[tt.vary]), func(t *testing.T) {
			spec := &program.MapSpec{Name: "h", Type: ebpf.Hash, KeySize: keySize, ValueSize: 8, MaxEntries: 64}
			v, p := prepare(t, hashLookupProg(spec, tt.vary), 32+int(keySize))
			m := p.Maps[0]
			key := func(i int) []byte {
				k := make([]byte, keySize)
				for j := range k {
					k[j] = byte(i*7 + j*13)
				}
				return k
			}
			for i := range 64 {
				if err := m.Update(key(i), binary.LittleEndian.AppendUint64(nil, uint64(i)), 0); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < 64; i += 5 {
				if err := m.Delete(key(i)); err != nil {
					t.Fatal(err)
				}
			}
			r, err := Engine{}.Load(p)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			checkCallMap(t, v, tt.vary)
			for i := range 100 {
				rec := make([]byte, 32+keySize)
				copy(rec[32:], key(i))
				got, err := r.Run(rec, nil)
				if err != nil {
					t.Fatal(err)
				}
				if want := m.LookupAddr(key(i), 0); got != want {
					t.Errorf("key %d (%x): jit %#x, maps %#x", i, key(i), got, want)
				}
				if r.(*Runner).Exits() != 0 {
					t.Errorf("key %d: %d exits", i, r.(*Runner).Exits())
				}
			}
		})
	}
}
