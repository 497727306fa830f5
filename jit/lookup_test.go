//go:build amd64 && linux

package jit

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/userspacevm/program"
	"github.com/dropmon/dropmon/verifier"
)

// lookupProg looks the record's u32 at offset 8 up in map 0 and, when
// found, adds 1 to the value's first u64 and returns it; else 99.
func lookupProg(spec *program.MapSpec) *program.Program {
	return &program.Program{
		Name: "lookup", Type: program.Tracepoint,
		Maps: []*program.MapSpec{spec},
		Insns: asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 8, asm.Word),
			asm.StoreMem(asm.RFP, -4, asm.R2, asm.Word),
			asm.LoadMapPtr(asm.R1, 0),
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
		},
	}
}

// TestMapLookup checks the inline array lookup against the interpreter
// (in range, at and past max_entries) and that it makes no exit, while
// per-CPU arrays and hash maps still exit to the helper.
func TestMapLookup(t *testing.T) {
	tests := []struct {
		name      string
		spec      program.MapSpec
		wantExits uint64
	}{
		{"array inline", program.MapSpec{Name: "a", Type: ebpf.Array, KeySize: 4, ValueSize: 12, MaxEntries: 5}, 0},
		{"percpu array inline", program.MapSpec{Name: "p", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 5}, 0},
		{"lru hash exits", program.MapSpec{Name: "l", Type: ebpf.LRUHash, KeySize: 4, ValueSize: 8, MaxEntries: 5}, 1},
		{"hash inline", program.MapSpec{Name: "h", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 5}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := verifier.Verify(lookupProg(&tt.spec), &verifier.Options{ContextSize: 16})
			if err != nil {
				t.Fatal(err)
			}
			p, err := userspacevm.PrepareVerified(v, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if tt.spec.Type == ebpf.Hash || tt.spec.Type == ebpf.LRUHash {
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
				rec := make([]byte, 16)
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

// hashLookupProg copies keySize bytes of the record from offset 8 to the
// stack and returns what map_lookup_elem returns: the value's address.
func hashLookupProg(spec *program.MapSpec) *program.Program {
	insns := asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)}
	for i := range int16(spec.KeySize) {
		insns = append(insns, asm.LoadMem(asm.R3, asm.R6, 8+i, asm.Byte), asm.StoreMem(asm.RFP, -32+i, asm.R3, asm.Byte))
	}
	insns = append(insns,
		asm.LoadMapPtr(asm.R1, 0),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -32),
		asm.FnMapLookupElem.Call(),
		asm.Return())
	return &program.Program{Name: "hash_lookup", Type: program.Tracepoint, Maps: []*program.MapSpec{spec}, Insns: insns}
}

// TestHashLookup checks the inline hash lookup against maps' own lookup
// for key sizes with and without a partial last word, over chains longer
// than one slot, with deleted entries and absent keys.
func TestHashLookup(t *testing.T) {
	for _, keySize := range []uint32{1, 3, 4, 8, 12, 16, 20} {
		t.Run(fmt.Sprint(keySize), func(t *testing.T) {
			spec := &program.MapSpec{Name: "h", Type: ebpf.Hash, KeySize: keySize, ValueSize: 8, MaxEntries: 64}
			v, err := verifier.Verify(hashLookupProg(spec), &verifier.Options{ContextSize: 32})
			if err != nil {
				t.Fatal(err)
			}
			p, err := userspacevm.PrepareVerified(v, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
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
			for i := range 100 {
				rec := make([]byte, 32)
				copy(rec[8:], key(i))
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
