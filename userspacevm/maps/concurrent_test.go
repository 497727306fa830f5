package maps

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cilium/ebpf"
)

// TestConcurrentRunners runs, at once: runners (one per CPU) that count
// with atomic adds through value pointers, insert keys of their own and
// read keys that another goroutine keeps deleting and inserting again,
// while a further goroutine iterates. Counts must be exact, and a runner
// must never see a value pointer's slot reused during its run.
func TestConcurrentRunners(t *testing.T) {
	for _, typ := range []ebpf.MapType{ebpf.Hash, ebpf.PerCPUHash, ebpf.LRUHash} {
		t.Run(typ.String(), func(t *testing.T) { testConcurrentRunners(t, typ) })
	}
}

func testConcurrentRunners(t *testing.T, typ ebpf.MapType) {
	const (
		runners  = testCPUs
		runs     = 500
		counters = 64
		churn    = 16
		insBase  = 1 << 40
		maxE     = counters + churn + runners*runs
	)
	churnValue := func(k uint64) uint64 { return 0xc0de0000 + k }
	m := mustNew(t, typ, 8, 8, maxE)
	for k := range uint64(counters) {
		if err := m.Update(u64(k), u64(0), UpdateNoExist); err != nil {
			t.Fatal(err)
		}
	}
	for k := uint64(counters); k < counters+churn; k++ {
		if err := m.Update(u64(k), u64(churnValue(k)), UpdateNoExist); err != nil {
			t.Fatal(err)
		}
	}

	var stop atomic.Bool
	var others sync.WaitGroup
	others.Go(func() { // deletes and inserts again
		for !stop.Load() {
			for k := uint64(counters); k < counters+churn; k++ {
				if err := m.Delete(u64(k)); err != nil {
					t.Error(err)
				}
				if err := m.Update(u64(k), u64(churnValue(k)), UpdateNoExist); err != nil {
					t.Error(err)
				}
			}
		}
	})
	var iterations atomic.Int64
	others.Go(func() { // iterates
		var key, value []byte
		for !stop.Load() {
			it := m.Iterate()
			for it.Next(&key, &value) {
				k, v := binary.LittleEndian.Uint64(key), binary.LittleEndian.Uint64(value)
				switch {
				case k >= counters && k < counters+churn && v != churnValue(k):
					t.Errorf("iterated churn key %d with value %#x", k, v)
				case k >= insBase && v != k && !m.ops.perCPU:
					t.Errorf("iterated key %#x with value %#x", k, v)
				}
			}
			iterations.Add(1)
		}
	})

	var wg sync.WaitGroup
	for cpu := range runners {
		wg.Go(func() {
			var g Guard
			m.Register(&g)
			defer m.Unregister(&g)
			key := make([]byte, 8) // the program's stack
			for run := range uint64(runs) {
				g.Enter()
				for k := range uint64(counters) {
					binary.LittleEndian.PutUint64(key, k)
					a := m.LookupAddr(key, cpu)
					if a == 0 {
						t.Errorf("counter %d missing", k)
						continue
					}
					atomic.AddUint64(word(m, a), 1)
				}
				binary.LittleEndian.PutUint64(key, insBase+uint64(cpu)*runs+run)
				if got := m.UpdateFromProgram(key, key, uint64(UpdateNoExist), cpu); got != 0 {
					t.Errorf("insert: %d", got)
				}
				k := counters + run%churn
				binary.LittleEndian.PutUint64(key, k)
				if a := m.LookupAddr(key, cpu); a != 0 {
					p := word(m, a)
					for range 100 { // give the deleter time to delete and insert again
						if v := atomic.LoadUint64(p); v != churnValue(k) && !m.ops.perCPU {
							t.Errorf("churn key %d's value became %#x during the run", k, v)
							break
						}
					}
				}
				g.Exit()
			}
		})
	}
	wg.Wait()
	stop.Store(true)
	others.Wait()

	for k := range uint64(counters) {
		vs, err := m.LookupPerCPU(u64(k))
		if err != nil {
			t.Fatal(err)
		}
		var sum uint64
		for _, v := range vs {
			sum += binary.LittleEndian.Uint64(v)
		}
		if sum != runners*runs {
			t.Errorf("counter %d = %d, want %d", k, sum, runners*runs)
		}
	}
	for i := uint64(0); i < runners*runs; i++ {
		if _, err := m.Lookup(u64(insBase + i)); err != nil {
			t.Errorf("inserted key %#x: %v", insBase+i, err)
		}
	}
	if m.Len() != maxE {
		t.Errorf("Len %d, want %d", m.Len(), maxE)
	}
	t.Logf("%d iterations while runners ran", iterations.Load())
}
