//go:build amd64 && linux

package jit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm/maps"
)

// holdProg looks up the record's u32 at offset 8 and, when found, reads
// the value, spins, and reads it again: 1 when both reads agree, 2 when
// the slot changed under the pointer, 0 when the key is absent.
func holdProg(spec *program.MapSpec) *program.Program {
	return &program.Program{
		Name: "hold", Type: program.Tracepoint, License: "GPL", Maps: []*program.MapSpec{spec},
		Insns: asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 8, asm.Word),
			asm.StoreMem(asm.RFP, -4, asm.R2, asm.Word),
			asm.LoadMapPtr(asm.R1, 0),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -4),
			asm.FnMapLookupElem.Call(),
			asm.JNE.Imm(asm.R0, 0, "found"),
			asm.Return(),
			asm.LoadMem(asm.R7, asm.R0, 0, asm.DWord).WithSymbol("found"),
			asm.Mov.Imm(asm.R8, 0),
			asm.Add.Imm(asm.R8, 1).WithSymbol("spin"),
			asm.JLT.Imm(asm.R8, 2000, "spin"),
			asm.LoadMem(asm.R9, asm.R0, 0, asm.DWord),
			asm.Mov.Imm(asm.R0, 2),
			asm.JNE.Reg(asm.R7, asm.R9, "out"),
			asm.Mov.Imm(asm.R0, 1),
			asm.Return().WithSymbol("out"),
		},
	}
}

// TestGuardUnderChurn runs JIT runners that hold a value pointer across
// a spin while Go deletes each key and inserts another (the map's free
// list hands the deleted slot to the next insert): the guard the code
// enters and leaves must keep a deleted slot from being reused by another
// key during a run, so the two reads of a run always agree. Without the
// guard, runs see the change (checked by hand when the test was written).
func TestGuardUnderChurn(t *testing.T) {
	const keys, runsPerRunner, runners = 8, 20000, 2
	spec := &program.MapSpec{Name: "churn", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: keys}
	_, p := prepare(t, holdProg(spec), 16)
	code, err := Compile(p)
	if errors.Is(err, ErrNotSupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer code.Close()
	// The start stub enters the guard with LOCK INC, or with a plain INC
	// where the maps' writers fence every thread instead (membarrier).
	locked := bytes.Contains(code.Bytes()[:code.Addrs()[0]], []byte{0xf0, 0x48, 0xff})
	if locked == maps.AsymmetricFences() {
		t.Errorf("guard entry locked = %v, but maps.AsymmetricFences() = %v", locked, maps.AsymmetricFences())
	}
	t.Logf("guard entry with a locked increment: %v", locked)
	m := p.Maps[0]
	value := func(k uint32) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(k)*1000+7) }
	key := func(k uint32) []byte { return binary.LittleEndian.AppendUint32(nil, k) }

	for k := range uint32(keys) {
		if err := m.Update(key(k), value(k), maps.UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	var churn sync.WaitGroup
	var churned atomic.Int64
	churn.Go(func() {
		for i := uint32(0); ; i++ {
			churned.Store(int64(i))
			select {
			case <-done:
				return
			default:
			}
			// keys live at a time out of 2*keys: key i leaves, key i+keys comes.
			k, next := i%(2*keys), (i+keys)%(2*keys)
			if err := m.Delete(key(k)); err != nil && !errors.Is(err, maps.ErrKeyNotExist) {
				t.Error(err)
				return
			}
			if err := m.Update(key(next), value(next), maps.UpdateAny); err != nil {
				t.Error(err)
				return
			}
		}
	})
	var wg sync.WaitGroup
	counts := make([][3]int, runners)
	for i := range runners {
		wg.Go(func() {
			r, err := NewRunner(p, code)
			if err != nil {
				t.Error(err)
				return
			}
			defer r.Close()
			rec := make([]byte, 16)
			// At least runsPerRunner runs, and on until the churn has
			// replaced every key a hundred times (bounded, in case the
			// scheduler starves it).
			for n := 0; n < runsPerRunner || (churned.Load() < 100*2*keys && n < 50*runsPerRunner); n++ {
				binary.LittleEndian.PutUint32(rec[8:], uint32(n+i)%(2*keys))
				r0, err := r.Run(rec, nil)
				if err != nil || r0 > 2 {
					t.Errorf("run: r0 %d, %v", r0, err)
					return
				}
				counts[i][r0]++
			}
		})
	}
	wg.Wait()
	close(done)
	churn.Wait()
	for i, c := range counts {
		t.Logf("runner %d: %d absent, %d held, %d changed", i, c[0], c[1], c[2])
		if c[2] != 0 {
			t.Errorf("runner %d: a value changed under its pointer in %d runs", i, c[2])
		}
		if c[1] == 0 {
			t.Errorf("runner %d: never found a key: the test proves nothing", i)
		}
	}
}
