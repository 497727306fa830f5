package userspacevm

import (
	"fmt"
	"strings"
	"unsafe"
)

// RegionKind says what a memory region holds, for error messages and for the
// rules on what a program may do there.
type RegionKind uint8

const (
	RegionContext   RegionKind = iota + 1 // the record or packet the program runs over; read-only
	RegionStack                           // the program's stack (all frames)
	RegionMapValues                       // the value slots of one map
	RegionMemory                          // other memory a caller hands in (the conformance type's writable memory)
	RegionPacket                          // the packet of an __sk_buff program (RunContext.Packet)
)

func (k RegionKind) String() string {
	switch k {
	case RegionContext:
		return "ctx"
	case RegionStack:
		return "stack"
	case RegionMapValues:
		return "map value"
	case RegionMemory:
		return "mem"
	case RegionPacket:
		return "packet"
	}
	return fmt.Sprintf("RegionKind(%d)", uint8(k))
}

// ValueChecker refines a region whose bytes are not all accessible: a map
// block holds state, keys and values side by side, and a program may touch
// values only. It says whether [off, off+size) relative to the region start
// lies inside one value.
type ValueChecker interface {
	ValueAccessOK(off, size uint64) bool
}

// Region is memory a program may address. Start and End are the addresses a
// program sees in its registers (real addresses, so that generated machine
// code and the interpreter agree); Base is the same start as a Go pointer so
// that accesses are formed by unsafe.Add from it, which keeps the race
// detector's checkptr content and the memory alive.
type Region struct {
	Kind     RegionKind
	Name     string // a map's name, for messages
	Start    uint64
	End      uint64
	Base     unsafe.Pointer
	Writable bool
	Values   ValueChecker // nil: every byte in [Start, End) is accessible
}

// NewRegion makes a region over a Go byte slice or off-heap memory.
func NewRegion(kind RegionKind, name string, mem []byte, writable bool) Region {
	if len(mem) == 0 {
		return Region{Kind: kind, Name: name}
	}
	base := unsafe.Pointer(unsafe.SliceData(mem))
	start := uint64(uintptr(base))
	return Region{Kind: kind, Name: name, Start: start, End: start + uint64(len(mem)), Base: base, Writable: writable}
}

// contains reports whether [addr, addr+size) lies in the region.
func (r *Region) contains(addr, size uint64) bool {
	if addr < r.Start || addr >= r.End || size > r.End-addr {
		return false
	}
	return r.Values == nil || r.Values.ValueAccessOK(addr-r.Start, size)
}

// Memory is the set of regions one run may touch. A runner owns one and
// updates the context region for each record; helpers get it through Call.
type Memory struct {
	Regions []Region
}

// AccessError is a memory access outside every region a program may use.
// It names the access and lists the allowed regions, like rbpf's messages.
type AccessError struct {
	PC      int // instruction index, -1 for a helper's access
	Helper  string
	Addr    uint64
	Size    uint64
	Write   bool
	Allowed []Region
}

func (e *AccessError) Error() string {
	var b strings.Builder
	op := "read"
	if e.Write {
		op = "write"
	}
	if e.Helper != "" {
		fmt.Fprintf(&b, "helper %s: invalid %s of %d bytes at %#x", e.Helper, op, e.Size, e.Addr)
	} else {
		fmt.Fprintf(&b, "insn %d: invalid %s of %d bytes at %#x", e.PC, op, e.Size, e.Addr)
	}
	b.WriteString(" (allowed:")
	for i, r := range e.Allowed {
		if i > 0 {
			b.WriteString(",")
		}
		access := "ro"
		if r.Writable {
			access = "rw"
		}
		fmt.Fprintf(&b, " %s", r.Kind)
		if r.Name != "" {
			fmt.Fprintf(&b, " %q", r.Name)
		}
		fmt.Fprintf(&b, " [%#x, %#x) %s", r.Start, r.End, access)
	}
	if len(e.Allowed) == 0 {
		b.WriteString(" none")
	}
	b.WriteString(")")
	return b.String()
}

// Pointer returns a Go pointer to [addr, addr+size) if one region allows the
// access, or nil. It is the one place where program addresses become Go
// pointers, and it allocates nothing.
func (m *Memory) Pointer(addr, size uint64, write bool) unsafe.Pointer {
	for i := range m.Regions {
		r := &m.Regions[i]
		if r.contains(addr, size) {
			if write && !r.Writable {
				return nil
			}
			return unsafe.Add(r.Base, addr-r.Start)
		}
	}
	return nil
}

// Slice is Pointer as a byte slice view, for helpers.
func (m *Memory) Slice(addr, size uint64, write bool) ([]byte, bool) {
	if size == 0 {
		return nil, true
	}
	p := m.Pointer(addr, size, write)
	if p == nil {
		return nil, false
	}
	return unsafe.Slice((*byte)(p), size), true
}

// Check returns an *AccessError for an access that Pointer refused.
func (m *Memory) Check(pc int, helper string, addr, size uint64, write bool) error {
	if m.Pointer(addr, size, write) != nil {
		return nil
	}
	return &AccessError{PC: pc, Helper: helper, Addr: addr, Size: size, Write: write, Allowed: append([]Region(nil), m.Regions...)}
}

// CString reads a NUL-terminated string of at most max bytes at addr, for
// helpers such as trace_printk. It stops at the end of the region.
func (m *Memory) CString(addr uint64, max int) (string, bool) {
	for i := range m.Regions {
		r := &m.Regions[i]
		if !r.contains(addr, 1) {
			continue
		}
		n := r.End - addr
		if n > uint64(max) {
			n = uint64(max)
		}
		b := unsafe.Slice((*byte)(unsafe.Add(r.Base, addr-r.Start)), n)
		for j, c := range b {
			if c == 0 {
				return string(b[:j]), true
			}
		}
		return "", false
	}
	return "", false
}
