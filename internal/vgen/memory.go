package vgen

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// mapAccess looks a value up, checks it (once, twice, or not at all)
// and reads or writes it at constant, bounded and unbounded offsets,
// in maps that programs may only read or only write.
func (b *builder) mapAccess() {
	m := b.newMap()
	vs := int32(b.maps[m].ValueSize)
	if b.maps[m].Type == ebpf.Array && b.chance(0.2) {
		b.emit(asm.LoadMapValue(asm.R0, m, uint32(oneOf(b, 0, vs/2, vs-4, vs))))
	} else {
		b.lookup(m, 8)
		switch n := b.intn(10); {
		case n == 0: // no check
		case n <= 2: // checked twice
			b.nullCheck(asm.R0)
			if b.chance(0.5) {
				b.emit(asm.Mov.Reg(asm.R7, asm.R0))
				b.nullCheck(asm.R7)
			} else {
				b.emit(oneOf(b, asm.JEq, asm.JNE).Imm(asm.R0, 0, out))
			}
		default:
			b.nullCheck(asm.R0)
		}
	}
	b.useValue(m, vs, b.valueAccess)
}

// valueAccess reads or writes the value that base points to.
func (b *builder) valueAccess(base asm.Register, vs int32) {
	size := oneOf(b, sizes...)
	w := int32(width(size))
	p := base
	var off int16
	switch b.intn(4) {
	case 0, 1: // constant
		off = int16(oneOf(b, 0, vs-w, vs-w+1, vs, -1, vs/2))
	case 2: // bounded
		b.emit(asm.Mov.Reg(asm.R8, base))
		b.unknown(asm.R1)
		if b.chance(0.5) {
			b.emit(asm.And.Imm(asm.R1, oneOf(b, vs-w, vs-1, 7, vs)))
		} else {
			b.emit(asm.JGT.Imm(asm.R1, oneOf(b, vs-w, vs-w+1, vs), out))
		}
		b.emit(asm.Add.Reg(asm.R8, asm.R1))
		p = asm.R8
	case 3: // unbounded
		b.emit(asm.Mov.Reg(asm.R8, base))
		b.unknown(asm.R1)
		if b.chance(0.5) {
			b.emit(asm.JSGT.Imm(asm.R1, vs-w, out)) // a lower bound is missing
		}
		b.emit(asm.Add.Reg(asm.R8, asm.R1))
		p = asm.R8
	}
	b.access(p, off, size)
}

// helperStack passes helpers keys and values in the stack, partly
// initialised or holding pointers, and pointers of other kinds.
func (b *builder) helperStack() {
	switch b.intn(5) {
	case 0:
		b.partialKey()
	case 1:
		b.keyPointer()
	case 2:
		b.updateFromStack()
	case 3:
		b.loadBytes()
	case 4:
		b.valueAsKey()
	}
	if b.chance(0.3) {
		b.loadBytes()
	}
}

// partialKey initialises part of a key, or spills a pointer into it.
func (b *builder) partialKey() {
	m := b.plainMap()
	if b.chance(0.6) {
		b.maps[m].Type, b.maps[m].KeySize = ebpf.Hash, 8
	}
	switch b.intn(4) {
	case 0:
		b.emit(stImm(asm.R10, -8, 0, asm.Word))
	case 1:
		b.emit(stImm(asm.R10, -4, 0, asm.Word))
	case 2:
		b.emit(asm.StoreMem(asm.R10, -8, oneOf(b, asm.R10, ctx), asm.DWord))
	case 3: // nothing written
	}
	b.emit(asm.LoadMapPtr(asm.R1, m), asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -8),
		asm.FnMapLookupElem.Call())
	if b.chance(0.5) {
		b.nullCheck(asm.R0)
		b.emit(asm.LoadMem(asm.R0, asm.R0, 0, asm.Byte))
	}
}

// keyPointer passes a key pointer of a random kind and place.
func (b *builder) keyPointer() {
	m := b.plainMap()
	b.emit(stImm(asm.R10, -16, 0, asm.DWord))
	b.emit(asm.LoadMapPtr(asm.R1, m))
	switch b.intn(5) {
	case 0:
		b.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, oneOf[int32](b, -16, -2, -12, -513, 8, 0)))
	case 1:
		b.emit(asm.Mov.Reg(asm.R2, ctx))
	case 2:
		b.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -16))
		b.unknown(asm.R3)
		b.emit(asm.And.Imm(asm.R3, oneOf[int32](b, 4, 8, 12)), asm.Add.Reg(asm.R2, asm.R3))
	case 3:
		b.emit(asm.Mov.Imm(asm.R2, 0))
	case 4:
		b.emit(asm.Mov.Reg(asm.R2, asm.R1))
	}
	b.emit(asm.FnMapLookupElem.Call())
}

// updateFromStack updates a map with a value built in the stack.
func (b *builder) updateFromStack() {
	m := b.plainMap()
	if b.chance(0.3) {
		b.maps[m].Flags = oneOf[uint32](b, FlagRDOnlyProg, FlagWROnlyProg)
	}
	vs := int16(b.maps[m].ValueSize)
	val := -16 - (vs+7)/8*8
	b.emit(stImm(asm.R10, -8, 0, asm.Word))
	for o := int16(0); o < vs; o += 8 {
		if b.chance(0.85) {
			b.emit(stImm(asm.R10, val+o, 1, asm.DWord))
		}
	}
	if b.chance(0.4) {
		b.emit(asm.StoreMem(asm.R10, val+8*int16(b.intn(int(vs+7)/8)), oneOf(b, asm.R10, ctx), asm.DWord))
	}
	b.emit(asm.LoadMapPtr(asm.R1, m), asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -8),
		asm.Mov.Reg(asm.R3, asm.R10), asm.Add.Imm(asm.R3, int32(val)))
	if b.chance(0.8) {
		b.emit(asm.Mov.Imm(asm.R4, 0))
	} else {
		b.unknown(asm.R4)
	}
	b.emit(asm.FnMapUpdateElem.Call())
}

// loadBytes copies packet bytes into the stack with skb_load_bytes, whose
// length must be a bounded, non-zero constant or scalar.
func (b *builder) loadBytes() {
	n := oneOf[int32](b, 4, 8, 16)
	b.emit(asm.Mov.Reg(asm.R1, ctx), asm.Mov.Imm(asm.R2, 0),
		asm.Mov.Reg(asm.R3, asm.R10), asm.Add.Imm(asm.R3, -32-n))
	switch b.intn(4) {
	case 0:
		b.emit(asm.Mov.Imm(asm.R4, oneOf(b, n, n, n+1, 0)))
	case 1:
		b.unknown(asm.R4)
		b.emit(asm.And.Imm(asm.R4, oneOf(b, n-1, n, 2*n-1)))
	case 2:
		b.unknown(asm.R4)
		b.emit(asm.JGT.Imm(asm.R4, oneOf(b, n, n+1), out))
		if b.chance(0.5) {
			b.emit(asm.JEq.Imm(asm.R4, 0, out))
		}
	case 3:
		b.unknown(asm.R4)
	}
	b.emit(asm.FnSkbLoadBytes.Call())
	if b.chance(0.6) {
		b.emit(asm.LoadMem(asm.R0, asm.R10, int16(-32-n), oneOf(b, asm.Word, asm.DWord)))
	}
}

// valueAsKey uses one map's value as another map's key.
func (b *builder) valueAsKey() {
	m1, m2 := b.plainMap(), b.plainMap()
	b.lookup(m1, 8)
	if b.chance(0.85) {
		b.nullCheck(asm.R0)
	}
	b.emit(asm.Mov.Reg(asm.R2, asm.R0))
	if b.chance(0.3) {
		b.emit(asm.Add.Imm(asm.R2, int32(b.maps[m1].ValueSize)-4))
	}
	b.emit(asm.LoadMapPtr(asm.R1, m2), asm.FnMapLookupElem.Call())
}

// access loads from or stores to p+off: a load, a store of an immediate or
// of a register, or an atomic add (whose width is its own).
func (b *builder) access(p asm.Register, off int16, size asm.Size) {
	switch b.intn(5) {
	case 0, 1:
		b.emit(asm.LoadMem(asm.R0, p, off, size))
	case 2:
		b.emit(stImm(p, off, int32(b.intn(256)), size))
	case 3:
		b.emit(asm.Mov.Imm(asm.R1, 7), asm.StoreMem(p, off, asm.R1, size))
	case 4:
		b.emit(asm.Mov.Imm(asm.R1, 1), asm.StoreXAdd(p, asm.R1, oneOf(b, asm.Word, asm.DWord)))
	}
}

// useValue keeps the checked value pointer in R7, accesses it one to three
// times with access, and now and then writes it back with an update.
func (b *builder) useValue(m int, vs int32, access func(base asm.Register, vs int32)) {
	b.emit(asm.Mov.Reg(asm.R7, asm.R0))
	for n := 1 + b.intn(3); n > 0; n-- {
		access(asm.R7, vs)
	}
	if b.chance(0.15) {
		b.emit(asm.LoadMapPtr(asm.R1, m), asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -8),
			asm.Mov.Reg(asm.R3, asm.R7), asm.Mov.Imm(asm.R4, 0), asm.FnMapUpdateElem.Call())
	}
}
