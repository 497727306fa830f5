package vgen

import (
	"fmt"
	"math/rand/v2"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
)

// Class is the part of the verifier a program is aimed at.
type Class int

const (
	// PointerArith: stack, map value and ctx pointer arithmetic, r10
	// arithmetic, pointer comparisons, pointer leaks.
	PointerArith Class = iota
	// SpillFill: pointers and scalars spilled to one slot on two paths,
	// partial and 32-bit spills and fills.
	SpillFill
	// MapAccess: lookups, null checks, reads and writes of map values at
	// bounded and unbounded offsets, BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG.
	MapAccess
	// Shift32: shift counts near and at the width, ALU32 results used as
	// offsets.
	Shift32
	// HelperStack: helper arguments in the stack: keys and values partly
	// initialised, pointers in the stack, map_update of pointer values.
	HelperStack
	// Loop: bounded and unbounded loops and back-edges.
	Loop
	numClasses
)

// Classes lists every class, in order.
var Classes = []Class{PointerArith, SpillFill, MapAccess, Shift32, HelperStack, Loop}

func (c Class) String() string {
	switch c {
	case PointerArith:
		return "pointer-arith"
	case SpillFill:
		return "spill-fill"
	case MapAccess:
		return "map-access"
	case Shift32:
		return "shift-alu32"
	case HelperStack:
		return "helper-stack"
	case Loop:
		return "loop"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// Map flags of the kernel's uapi (include/uapi/linux/bpf.h).
const (
	FlagRDOnlyProg = 1 << 7 // BPF_F_RDONLY_PROG: programs may only read
	FlagWROnlyProg = 1 << 8 // BPF_F_WRONLY_PROG: programs may only write
)

// Case is one generated program.
type Case struct {
	Seed  uint64
	Index int
	Class Class
	// Careful programs keep to the rules of loaders without CAP_PERFMON
	// and without CAP_BPF (see careful.go).
	Careful bool
	Prog    *program.Program
}

// Name identifies the case for logs and reports: "seed/index/class".
func (c *Case) Name() string { return fmt.Sprintf("%d/%d/%v", c.Seed, c.Index, c.Class) }

// Generate returns the first n programs of seed.
func Generate(seed uint64, n int) []Case {
	cases := make([]Case, n)
	for i := range cases {
		cases[i] = At(seed, i)
	}
	return cases
}

// At returns the i-th program of seed. Classes take turns, so every class
// has a sixth of any run; within a class, a carefulShare of programs are
// careful.
func At(seed uint64, i int) Case {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	class := Classes[i%len(Classes)]
	b := &builder{r: r, typ: program.SocketFilter}
	if r.IntN(100) < 15 {
		b.typ = program.CgroupSKB
	}
	careful := b.chance(carefulShare)
	b.prologue()
	if careful {
		carefulGenerators[class](b)
	} else {
		generators[class](b)
	}
	b.epilogue()
	p := &program.Program{
		Name:    fmt.Sprintf("vgen_%d_%d", seed, i),
		Type:    b.typ,
		Insns:   b.insns,
		Maps:    b.maps,
		License: "GPL",
	}
	return Case{Seed: seed, Index: i, Class: class, Careful: careful, Prog: p}
}

var generators = [numClasses]func(*builder){
	PointerArith: (*builder).pointerArith,
	SpillFill:    (*builder).spillFill,
	MapAccess:    (*builder).mapAccess,
	Shift32:      (*builder).shift32,
	HelperStack:  (*builder).helperStack,
	Loop:         (*builder).loop,
}

// builder assembles one program. Labels are symbols; a label bound twice
// before the next instruction gets a no-op to carry it.
type builder struct {
	r       *rand.Rand
	typ     program.Type
	insns   asm.Instructions
	maps    []*program.MapSpec
	pending []string
	labels  int
}

// Registers with a fixed role: ctx is the context, saved at entry.
const ctx = asm.R6

// out is the label of the epilogue, which sets r0 and exits.
const out = "out"

func (b *builder) emit(ins ...asm.Instruction) {
	for _, in := range ins {
		for len(b.pending) > 1 {
			b.insns = append(b.insns, nop().WithSymbol(b.pending[0]))
			b.pending = b.pending[1:]
		}
		if len(b.pending) == 1 {
			in = in.WithSymbol(b.pending[0])
			b.pending = nil
		}
		b.insns = append(b.insns, in)
	}
}

func nop() asm.Instruction { return asm.Instruction{OpCode: asm.Ja.Op(asm.ImmSource)} }

func (b *builder) label() string {
	b.labels++
	return fmt.Sprintf("l%d", b.labels)
}

func (b *builder) bind(label string) { b.pending = append(b.pending, label) }

func (b *builder) prologue() {
	b.emit(asm.Mov.Reg(ctx, asm.R1))
	if b.chance(0.5) {
		b.emit(asm.Mov.Imm(asm.R0, 0))
	}
}

// epilogue ends every path: the body falls through or jumps to out.
func (b *builder) epilogue() {
	b.bind(out)
	ret := int32(0)
	if b.typ == program.CgroupSKB || b.chance(0.5) {
		ret = 1
	}
	b.emit(asm.Mov.Imm(asm.R0, ret), asm.Return())
}

// Random choices.

func (b *builder) chance(p float64) bool { return b.r.Float64() < p }

func (b *builder) intn(n int) int { return b.r.IntN(n) }

func oneOf[T any](b *builder, xs ...T) T { return xs[b.r.IntN(len(xs))] }

// Context fields of __sk_buff that both program types may read.
var ctxFields = []int16{0 /* len */, 8 /* mark */, 16 /* protocol */, 48, 52, 56 /* cb */}

// unknown loads an unknown scalar (a u32 field of the context) into dst.
func (b *builder) unknown(dst asm.Register) {
	b.emit(asm.LoadMem(dst, ctx, oneOf(b, ctxFields...), asm.Word))
}

// newMap adds a map of a random kind and returns its index.
func (b *builder) newMap() int {
	spec := &program.MapSpec{
		Type:       oneOf(b, ebpf.Array, ebpf.Array, ebpf.Hash),
		KeySize:    4,
		ValueSize:  uint32(oneOf(b, 4, 8, 16, 16, 32, 48)),
		MaxEntries: uint32(1 + b.intn(4)),
	}
	if spec.Type == ebpf.Hash && b.chance(0.3) {
		spec.KeySize = 8
	}
	switch b.intn(6) {
	case 0:
		spec.Flags = FlagRDOnlyProg
	case 1:
		spec.Flags = FlagWROnlyProg
	}
	spec.Name = fmt.Sprintf("m%d", len(b.maps))
	b.maps = append(b.maps, spec)
	return len(b.maps) - 1
}

// plainMap is newMap without the flags, for classes that only need a
// value to point into.
func (b *builder) plainMap() int {
	m := b.newMap()
	if b.chance(0.8) {
		b.maps[m].Flags = 0
	}
	return m
}

// lookup calls map_lookup_elem on map m with a zeroed key at fp-keyAt.
// r0 is the value or NULL.
func (b *builder) lookup(m int, keyAt int16) {
	ks := b.maps[m].KeySize
	b.emit(stImm(asm.R10, -keyAt, 0, sizeOf(ks)))
	b.emit(asm.LoadMapPtr(asm.R1, m),
		asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, int32(-keyAt)),
		asm.FnMapLookupElem.Call())
}

// nullCheck leaves for out when reg is NULL.
func (b *builder) nullCheck(reg asm.Register) { b.emit(asm.JEq.Imm(reg, 0, out)) }

func sizeOf(n uint32) asm.Size {
	switch n {
	case 1:
		return asm.Byte
	case 2:
		return asm.Half
	case 4:
		return asm.Word
	}
	return asm.DWord
}

// stImm is a BPF_ST store; asm.StoreImm refuses 8-byte ones, which the
// ISA allows (the immediate is sign-extended).
func stImm(dst asm.Register, off int16, value int32, size asm.Size) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(size), Dst: dst, Offset: off, Constant: int64(value)}
}

var sizes = []asm.Size{asm.Byte, asm.Half, asm.Word, asm.DWord}

func width(s asm.Size) int16 { return int16(s.Sizeof()) }
