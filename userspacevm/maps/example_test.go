package maps_test

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/cilium/ebpf"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm/maps"
)

// A runner counts per key as a program would (lookup, insert when absent,
// atomic add through the value pointer); user space reads every CPU's
// count.
func Example() {
	spec := &program.MapSpec{Name: "drops", Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 8, MaxEntries: 64}
	m, err := maps.New(spec, &maps.Options{NumCPUs: 2})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	var g maps.Guard // one per runner
	m.Register(&g)
	count := func(cpu int, reason uint32) {
		g.Enter()
		defer g.Exit()
		key := binary.LittleEndian.AppendUint32(nil, reason)
		addr := m.LookupAddr(key, cpu)
		if addr == 0 {
			m.UpdateFromProgram(key, make([]byte, 8), uint64(maps.UpdateNoExist), cpu)
			addr = m.LookupAddr(key, cpu)
		}
		base, _ := m.Block()
		atomic.AddUint64((*uint64)(unsafe.Add(base, addr-m.Pointer())), 1)
	}
	count(0, 2)
	count(1, 2)
	count(1, 2)

	values, err := m.LookupPerCPU(binary.LittleEndian.AppendUint32(nil, 2))
	if err != nil {
		panic(err)
	}
	for cpu, v := range values {
		fmt.Printf("cpu %d: %d\n", cpu, binary.LittleEndian.Uint64(v))
	}
	// Output:
	// cpu 0: 1
	// cpu 1: 2
}
