//go:build amd64 && linux

package jit

import (
	"encoding/binary"
	"errors"
	"sync"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm"
)

// TestLRUInsertsFromTwoRunners: two JIT runners, as two CPUs, insert
// distinct new keys into a full LRU hash map, one insert per run. As in the
// kernel, which evicts while anything is evictable, every insert succeeds
// (before the map kept slots for the guard, 60-70% failed with -ENOMEM),
// and the map stays full and consistent.
func TestLRUInsertsFromTwoRunners(t *testing.T) {
	const maxEntries, runsPerRunner = 64, 50_000
	spec := &program.MapSpec{Name: "lru", Type: ebpf.LRUHash, KeySize: 8, ValueSize: 8, MaxEntries: maxEntries}
	prog := &program.Program{Name: "lru_insert", Type: program.Tracepoint, License: "GPL", Maps: []*program.MapSpec{spec},
		Insns: asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 8, asm.DWord),
			asm.StoreMem(asm.RFP, -8, asm.R2, asm.DWord),
			asm.StoreMem(asm.RFP, -16, asm.R2, asm.DWord),
			asm.LoadMapPtr(asm.R1, 0).WithReference("lru"),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -8),
			asm.Mov.Reg(asm.R3, asm.RFP),
			asm.Add.Imm(asm.R3, -16),
			asm.Mov.Imm(asm.R4, int32(ebpf.UpdateAny)),
			asm.FnMapUpdateElem.Call(),
			asm.Return(),
		}}
	_, p := prepare(t, prog, 16)
	var wg sync.WaitGroup
	failed := make([]int, 2)
	for cpu := range 2 {
		r, err := (Engine{}).Load(p)
		if errors.Is(err, ErrNotSupported) {
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := make([]byte, 16)
			rc := &userspacevm.RunContext{CPU: cpu}
			for i := range runsPerRunner {
				binary.LittleEndian.PutUint64(ctx[8:], uint64(cpu)<<32|uint64(i)+1)
				if r0, err := r.Run(ctx, rc); err != nil || r0 != 0 {
					failed[cpu]++
				}
			}
		}()
	}
	wg.Wait()
	if failed[0]+failed[1] != 0 {
		t.Errorf("%d and %d of %d inserts failed, want none", failed[0], failed[1], runsPerRunner)
	}
	m := p.Maps[0]
	var key, value []byte
	n := 0
	for it := m.Iterate(); it.Next(&key, &value); n++ {
		if string(key) != string(value) {
			t.Fatalf("key %x holds %x", key, value)
		}
	}
	if n != maxEntries {
		t.Errorf("the full map holds %d entries, want %d", n, maxEntries)
	}
}
