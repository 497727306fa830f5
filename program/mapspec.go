package program

import (
	"slices"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// MapType is the kernel's BPF_MAP_TYPE number (cilium/ebpf's names: ebpf.Hash, ebpf.Array, ebpf.PerCPUHash, ebpf.PerCPUArray, ebpf.LRUHash, ebpf.StackTrace, ebpf.PerfEventArray, ...).
type MapType = ebpf.MapType

// MapSpec describes a map as a program declares it.
type MapSpec struct {
	Name       string
	Type       MapType
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Flags      uint32
	InnerMap   *MapSpec // maps of maps
	// KeyType is the key's BTF type where the object that declared the
	// map carried it (BTF-defined maps in an ELF object), else nil: what
	// lets a generic report name the key's fields.
	KeyType btf.Type
	// Data is the initial value of entry 0 of a single-entry array map:
	// the contents of an ELF object's .rodata, .data or .bss, which C
	// globals and constants live in. Nil for other maps.
	Data []byte
}

// clone copies m and its inner map spec.
func (m *MapSpec) clone() *MapSpec {
	if m == nil {
		return nil
	}
	c := *m
	c.InnerMap = m.InnerMap.clone()
	c.Data = slices.Clone(m.Data)
	return &c
}
