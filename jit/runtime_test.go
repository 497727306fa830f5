//go:build amd64 && linux

package jit

import (
	"encoding/binary"
	"io"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/userspacevm/maps"
)

// countProg looks the record's first u64 up in a hash map (inline)
// and adds 1 through the value pointer, then loops through a bpf-to-bpf
// call that makes a helper exit.
func countProg() *program.Program {
	return &program.Program{
		Name: "count", Type: program.Tracepoint,
		Maps: []*program.MapSpec{{Name: "counts", Type: ebpf.Hash, KeySize: 8, ValueSize: 8, MaxEntries: 64}},
		Insns: asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 8, asm.DWord),
			asm.StoreMem(asm.RFP, -8, asm.R2, asm.DWord),
			asm.Call.Label("sub"),
			asm.LoadMapPtr(asm.R1, 0),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -8),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "out"),
			asm.Mov.Imm(asm.R1, 1),
			asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
			asm.Mov.Imm(asm.R0, 1),
			asm.Return(),
			asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
			asm.Return(),
			asm.FnGetSmpProcessorId.Call().WithSymbol("sub"),
			asm.Return(),
		},
	}
}

// TestRuntimeInterplay runs JIT code with helper exits on many goroutines
// while the GC runs over and over and a CPU profile sends SIGPROF: the
// code must neither corrupt the goroutines' state nor lose a count. Run
// it with -race too.
func TestRuntimeInterplay(t *testing.T) {
	const goroutines, runs, keys = 8, 50000, 16
	_, p := prepare(t, countProg(), 16)
	m := p.Maps[0]
	for k := range uint64(keys) {
		if err := m.Update(binary.LittleEndian.AppendUint64(nil, k), make([]byte, 8), maps.UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	code, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	defer code.Close()

	if err := pprof.StartCPUProfile(io.Discard); err == nil {
		defer pprof.StopCPUProfile()
	}
	stop := make(chan struct{})
	var gcs atomic.Int64
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
				gcs.Add(1)
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			r, err := NewRunner(p, code)
			if err != nil {
				errs <- err
				return
			}
			defer r.Close()
			rc := &userspacevm.RunContext{CPU: g}
			for i := range runs {
				rec := make([]byte, 16) // a fresh record each time, for the GC to free
				binary.LittleEndian.PutUint64(rec[8:], uint64((g+i)%keys))
				r0, err := r.Run(rec, rc)
				if err != nil || r0 != 1 || r.Exits() != 1 {
					errs <- err
					t.Errorf("run %d on goroutine %d: r0 %d, %d exits, err %v", i, g, r0, r.Exits(), err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	var total uint64
	for k := range uint64(keys) {
		val, err := m.Lookup(binary.LittleEndian.AppendUint64(nil, k))
		if err != nil {
			t.Fatal(err)
		}
		total += binary.LittleEndian.Uint64(val)
	}
	if total != goroutines*runs {
		t.Errorf("counted %d, want %d", total, goroutines*runs)
	}
	t.Logf("%d GCs during the runs", gcs.Load())
}
