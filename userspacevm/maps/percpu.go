package maps

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Per-CPU maps keep NumCPUs values per entry, PerCPUStride bytes apart: one
// per CPU a program may run on. Programs see their CPU's value only; the Go
// API reads and writes all of them.

// valueSource is what an update writes.
type valueSource struct {
	one    []byte   // the value (unless perCPU is set)
	perCPU [][]byte // one value per CPU (UpdatePerCPU)
	cpu    int      // >= 0: a program's update: only this CPU's value of a per-CPU map
}

// writeValues writes an entry's value(s). fresh says the entry is new: a
// program's update of a per-CPU map then zeroes the other CPUs' values.
func (m *Map) writeValues(entry unsafe.Pointer, src *valueSource, fresh bool) {
	if !m.ops.perCPU {
		m.writeValue(entry, src.one)
		return
	}
	for c := range int(m.ncpu) {
		dst := unsafe.Add(entry, uintptr(c)*m.cpuStride)
		switch {
		case src.perCPU != nil:
			m.writeValue(dst, src.perCPU[c])
		case src.cpu < 0 || src.cpu == c:
			m.writeValue(dst, src.one)
		case fresh:
			m.writeValue(dst, nil)
		}
	}
}

// writeValue writes one value and zeroes its padding.
func (m *Map) writeValue(dst unsafe.Pointer, v []byte) {
	b := unsafe.Slice((*byte)(dst), m.vstride)
	clear(b[copy(b[:m.valueSize], v):])
}

// copyOut appends an entry's value(s) to dst: for per-CPU maps each CPU's
// value padded to 8 bytes, the kernel's layout for user space.
func (m *Map) copyOut(dst []byte, entry unsafe.Pointer) []byte {
	if !m.ops.perCPU {
		return append(dst, unsafe.Slice((*byte)(entry), m.valueSize)...)
	}
	for c := range uintptr(m.ncpu) {
		start := len(dst)
		dst = append(dst, unsafe.Slice((*byte)(unsafe.Add(entry, c*m.cpuStride)), m.valueSize)...)
		for len(dst)-start < int(m.vstride) {
			dst = append(dst, 0)
		}
	}
	return dst
}

// LookupPerCPU returns a copy of every CPU's value of the key, indexed by
// CPU. For a map that is not per-CPU it returns the one value.
func (m *Map) LookupPerCPU(key []byte) ([][]byte, error) {
	if err := m.checkKey("lookup", key); err != nil {
		return nil, err
	}
	b, code := m.lookupCopy(nil, key)
	if code != 0 {
		return nil, m.codeErr("lookup", code)
	}
	if !m.ops.perCPU {
		return [][]byte{b}, nil
	}
	return splitPerCPU(b, int(m.ncpu), int(m.vstride), int(m.valueSize)), nil
}

func splitPerCPU(b []byte, ncpu, stride, size int) [][]byte {
	vs := make([][]byte, ncpu)
	for c := range vs {
		vs[c] = b[c*stride : c*stride+size : c*stride+size]
	}
	return vs
}

// UpdatePerCPU sets each CPU's value of the key: values[c] for CPU c.
func (m *Map) UpdatePerCPU(key []byte, values [][]byte, flags UpdateFlags) error {
	if err := m.checkKey("update", key); err != nil {
		return err
	}
	if !m.ops.perCPU {
		return m.opErr("update", fmt.Errorf("per-CPU values for a %v map: %w", m.spec.Type, unix.EINVAL))
	}
	if len(values) != int(m.ncpu) {
		return m.opErr("update", fmt.Errorf("%d values for %d CPUs: %w", len(values), m.ncpu, unix.EINVAL))
	}
	for c, v := range values {
		if len(v) != int(m.valueSize) {
			return m.opErr("update", fmt.Errorf("value for cpu %d is %d bytes, want %d: %w", c, len(v), m.valueSize, unix.EINVAL))
		}
	}
	return m.codeErr("update", m.goUpdate(key, valueSource{perCPU: values, cpu: -1}, uint64(flags)))
}
