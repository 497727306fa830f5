package program

import (
	"errors"
	"fmt"
	"slices"

	"github.com/cilium/ebpf/asm"
)

var (
	// ErrInvalid is matched by errors for programs no engine may run: bad
	// opcodes, non-zero unused fields, jumps out of the program.
	ErrInvalid = errors.New("invalid program")
	// ErrNotSupported is matched by errors for valid programs that use what
	// dropmon does not implement (kfunc calls, BTF pseudo loads, a helper an
	// engine lacks).
	ErrNotSupported = errors.New("not supported")
)

// Program is an eBPF program as dropmon loads it: the same value goes to the
// verifier and to every engine.
type Program struct {
	Name string
	// Section is the ELF section a loaded program came from, such as
	// tracepoint/skb/kfree_skb, which names where it attaches; "" for
	// programs built in Go.
	Section string
	Type    Type
	Insns   asm.Instructions
	Maps    []*MapSpec
	License string
}

// Type is the program type, which decides the context a program sees and
// the helpers it may call. Kernel types keep the kernel's numbers
// (enum bpf_prog_type); Conformance is dropmon's own.
type Type uint32

const (
	Unspec        Type = 0
	SocketFilter  Type = 1
	Kprobe        Type = 2
	SchedCLS      Type = 3
	SchedACT      Type = 4
	Tracepoint    Type = 5
	XDP           Type = 6
	PerfEvent     Type = 7
	CgroupSKB     Type = 8
	RawTracepoint Type = 17
	FlowDissector Type = 22
	// Conformance is the bpf_conformance suite's type: R1 points to memory of
	// a given length, writable, and R2 holds that length. Not a kernel type.
	Conformance Type = 1 << 16
)

var typeNames = map[Type]string{
	SocketFilter:  "socket_filter",
	Kprobe:        "kprobe",
	SchedCLS:      "sched_cls",
	SchedACT:      "sched_act",
	Tracepoint:    "tracepoint",
	XDP:           "xdp",
	PerfEvent:     "perf_event",
	CgroupSKB:     "cgroup_skb",
	RawTracepoint: "raw_tracepoint",
	FlowDissector: "flow_dissector",
	Conformance:   "conformance",
}

// String returns the name JSON program descriptions use ("tracepoint").
func (t Type) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("Type(%d)", uint32(t))
}

// ParseType parses a type name as String spells it.
func ParseType(s string) (Type, error) {
	for t, name := range typeNames {
		if name == s {
			return t, nil
		}
	}
	return Unspec, fmt.Errorf("program type %q: %w (want one of socket_filter, kprobe, sched_cls, "+
		"sched_act, tracepoint, xdp, perf_event, cgroup_skb, raw_tracepoint, flow_dissector, conformance)", s, ErrNotSupported)
}

// MarshalText implements encoding.TextMarshaler, for JSON descriptions.
func (t Type) MarshalText() ([]byte, error) {
	if _, ok := typeNames[t]; !ok {
		return nil, fmt.Errorf("program type %d: %w", uint32(t), ErrNotSupported)
	}
	return []byte(t.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *Type) UnmarshalText(b []byte) error {
	v, err := ParseType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// MapIndex returns the index in p.Maps of the map that the 64-bit map load
// p.Insns[i] (src 1, BPF_PSEUDO_MAP_FD, or 2, BPF_PSEUDO_MAP_VALUE) names:
// by its Reference() when it has one (ELF objects), otherwise by its
// constant's low 32 bits used as an index (JSON descriptions).
func (p *Program) MapIndex(i int) (int, error) {
	if i < 0 || i >= len(p.Insns) {
		return 0, fmt.Errorf("instruction %d of %d: %w", i, len(p.Insns), ErrInvalid)
	}
	m, err := p.mapIndex(&p.Insns[i])
	if err != nil {
		return 0, fmt.Errorf("instruction %d: %w", i, err)
	}
	return m, nil
}

func (p *Program) mapIndex(ins *asm.Instruction) (int, error) {
	if !ins.IsLoadFromMap() {
		return 0, invalidf("%v is not a map load", *ins)
	}
	if ref := ins.Reference(); ref != "" {
		for j, m := range p.Maps {
			if m != nil && m.Name == ref {
				return j, nil
			}
		}
		return 0, invalidf("map %q is not among the program's %d maps", ref, len(p.Maps))
	}
	idx := uint32(ins.Constant)
	if uint64(idx) >= uint64(len(p.Maps)) || p.Maps[idx] == nil {
		return 0, invalidf("map index %d out of range (the program has %d maps)", idx, len(p.Maps))
	}
	return int(idx), nil
}

// MapRef is one map load of a program, located by raw slot.
type MapRef struct {
	Slot  int  // raw instruction offset of the LDDW
	Map   int  // index in Program.Maps
	Value bool // BPF_PSEUDO_MAP_VALUE: the address of the value, not the map
	// Offset is the byte offset into the value for a BPF_PSEUDO_MAP_VALUE
	// load (the second slot's immediate).
	Offset uint32
}

// MapRefs lists every map load of the program with the map it names. Errors
// are *InsnError values naming the raw slot.
func (p *Program) MapRefs() ([]MapRef, error) {
	var refs []MapRef
	iter := p.Insns.Iterate()
	for iter.Next() {
		if !iter.Ins.IsLoadFromMap() {
			continue
		}
		m, err := p.mapIndex(iter.Ins)
		if err != nil {
			return nil, &InsnError{Insn: int(iter.Offset), Err: err}
		}
		refs = append(refs, MapRef{
			Slot:   int(iter.Offset),
			Map:    m,
			Value:  iter.Ins.Src == asm.PseudoMapValue,
			Offset: uint32(uint64(iter.Ins.Constant) >> 32),
		})
	}
	return refs, nil
}

// Clone returns a copy of p that shares nothing p's owner may change: the
// instructions and the map specs are copied (instruction metadata, which
// cilium/ebpf treats as immutable, is shared). One spec in two entries
// stays one spec in the copy. Clone of nil is nil.
func (p *Program) Clone() *Program {
	if p == nil {
		return nil
	}
	c := *p
	c.Insns = slices.Clone(p.Insns)
	if p.Maps != nil {
		c.Maps = make([]*MapSpec, len(p.Maps))
		copies := map[*MapSpec]*MapSpec{}
		for i, m := range p.Maps {
			if copies[m] == nil {
				copies[m] = m.clone()
			}
			c.Maps[i] = copies[m]
		}
	}
	return &c
}
