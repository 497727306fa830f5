package maps

import (
	"encoding/binary"
	"errors"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/program"
)

// testCPUs is the CPU count per-CPU test maps use, whatever the machine.
const testCPUs = 4

func mustNew(tb testing.TB, typ ebpf.MapType, keySize, valueSize, maxEntries uint32) *Map {
	tb.Helper()
	return mustNewSpec(tb, &program.MapSpec{Name: "test", Type: typ, KeySize: keySize, ValueSize: valueSize, MaxEntries: maxEntries})
}

func mustNewSpec(tb testing.TB, spec *program.MapSpec) *Map {
	tb.Helper()
	m, err := New(spec, &Options{NumCPUs: testCPUs, EventBuffer: 4})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := m.Close(); err != nil {
			tb.Error(err)
		}
	})
	return m
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// word is the uint64 at a value address from the program-side API, formed
// from the block's base with unsafe.Add as engines do.
func word(m *Map, addr uint64) *uint64 {
	base, size := m.Block()
	if addr < m.Pointer() || addr+8 > m.Pointer()+uint64(size) {
		panic("address outside the block")
	}
	return (*uint64)(unsafe.Add(base, addr-m.Pointer()))
}

// errnoOf is the negative errno a Go API error matches, 0 for nil, -1 for
// none of those the maps return.
func errnoOf(err error) int64 {
	if err == nil {
		return 0
	}
	for _, e := range []unix.Errno{unix.ENOENT, unix.EEXIST, unix.E2BIG, unix.EINVAL, unix.ENOMEM, unix.EOPNOTSUPP} {
		if errors.Is(err, e) {
			return -int64(e)
		}
	}
	return -1
}

var programSpecArray = program.MapSpec{Name: "array", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 4}

var programSpecPerf = program.MapSpec{Name: "events", Type: ebpf.PerfEventArray, KeySize: 4, ValueSize: 4}
