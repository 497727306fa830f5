package vgen

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// carefulMapAccess is mapAccess with the value always checked and
// accessed at constant or bounded offsets, within the value or a byte
// past it; the maps' flags stay.
func (b *builder) carefulMapAccess() {
	m := b.newMap()
	vs := int32(b.maps[m].ValueSize)
	if b.maps[m].Type == ebpf.Array && b.chance(0.2) {
		b.emit(asm.LoadMapValue(asm.R0, m, uint32(oneOf(b, 0, vs/2, vs-4))))
	} else {
		b.lookup(m, 8)
		b.nullCheck(asm.R0)
		if b.chance(0.2) {
			b.emit(asm.Mov.Reg(asm.R7, asm.R0))
			b.nullCheck(asm.R7)
		}
	}
	b.useValue(m, vs, b.carefulValueAccess)
}

// carefulValueAccess reads or writes the value base points to at a
// constant offset or one bounded by a mask or a branch.
func (b *builder) carefulValueAccess(base asm.Register, vs int32) {
	size := oneOf(b, sizes...)
	w := int32(width(size))
	p := base
	var off int16
	switch b.intn(3) {
	case 0:
		off = int16(oneOf(b, 0, vs-w, vs-w, vs/2, vs-w+1))
	case 1:
		b.emit(asm.Mov.Reg(asm.R8, base))
		b.unknown(asm.R1)
		b.emit(asm.And.Imm(asm.R1, oneOf(b, vs-w, vs-w, vs-1, 7)), asm.Add.Reg(asm.R8, asm.R1))
		p = asm.R8
	case 2:
		b.emit(asm.Mov.Reg(asm.R8, base))
		b.unknown(asm.R1)
		b.emit(asm.JGT.Imm(asm.R1, oneOf(b, vs-w, vs-w, vs-w+1), out), asm.Add.Reg(asm.R8, asm.R1))
		p = asm.R8
	}
	b.access(p, off, size)
}

// carefulHelperStack passes helpers keys and values that are written in
// full and hold no pointers, at constant stack offsets or in map values.
func (b *builder) carefulHelperStack() {
	switch b.intn(4) {
	case 0:
		b.carefulKey()
	case 1:
		b.carefulUpdate()
	case 2:
		b.carefulLoadBytes()
	case 3:
		b.carefulValueAsKey()
	}
	if b.chance(0.3) {
		b.carefulLoadBytes()
	}
}

// carefulKey looks up a key at a constant place in a written part of the
// stack; at -4 an 8-byte key runs past the frame.
func (b *builder) carefulKey() {
	m := b.plainMap()
	if b.chance(0.6) {
		b.maps[m].Type, b.maps[m].KeySize = ebpf.Hash, 8
	}
	b.emit(stImm(asm.R10, -16, 0, asm.DWord))
	if b.chance(0.5) {
		b.unknown(asm.R1)
		b.emit(asm.StoreMem(asm.R10, -8, asm.R1, asm.DWord))
	} else {
		b.emit(stImm(asm.R10, -8, 0, asm.DWord))
	}
	b.emit(asm.LoadMapPtr(asm.R1, m), asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, oneOf[int32](b, -16, -12, -8, -4)), asm.FnMapLookupElem.Call())
	if b.chance(0.6) {
		b.nullCheck(asm.R0)
		b.emit(asm.LoadMem(asm.R0, asm.R0, 0, asm.Byte))
	}
}

// carefulUpdate updates a map with a value written in full in the stack.
func (b *builder) carefulUpdate() {
	m := b.plainMap()
	if b.chance(0.3) {
		b.maps[m].Flags = oneOf[uint32](b, FlagRDOnlyProg, FlagWROnlyProg)
	}
	vs := int16(b.maps[m].ValueSize)
	val := -16 - (vs+7)/8*8
	b.emit(stImm(asm.R10, -8, 0, asm.DWord))
	for o := int16(0); o < vs; o += 8 {
		if b.chance(0.5) {
			b.unknown(asm.R1)
			b.emit(asm.StoreMem(asm.R10, val+o, asm.R1, asm.DWord))
		} else {
			b.emit(stImm(asm.R10, val+o, 1, asm.DWord))
		}
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

// carefulLoadBytes copies n packet bytes into the stack, n constant or
// bounded to [1, n], and reads back what the helper wrote. A length that
// may be zero is a rejection in every mode. With a variable length the
// kernel wants the buffer written before the call (check_mem_size_reg:
// the helper may fill less), which only privileged loaders may skip.
func (b *builder) carefulLoadBytes() {
	n := oneOf[int32](b, 4, 8, 16)
	buf := int16(-32 - n)
	variable := b.intn(3)
	if variable > 0 {
		if n == 4 {
			b.emit(stImm(asm.R10, buf, 0, asm.Word))
		}
		for o := int16(0); o+8 <= int16(n); o += 8 {
			b.emit(stImm(asm.R10, buf+o, 0, asm.DWord))
		}
	}
	b.emit(asm.Mov.Reg(asm.R1, ctx), asm.Mov.Imm(asm.R2, 0),
		asm.Mov.Reg(asm.R3, asm.R10), asm.Add.Imm(asm.R3, int32(buf)))
	switch variable {
	case 0:
		b.emit(asm.Mov.Imm(asm.R4, n))
	case 1:
		b.unknown(asm.R4)
		b.emit(asm.JGT.Imm(asm.R4, n, out))
		if b.chance(0.8) {
			b.emit(asm.JEq.Imm(asm.R4, 0, out))
		}
	case 2:
		b.unknown(asm.R4)
		b.emit(asm.And.Imm(asm.R4, n-1), asm.Add.Imm(asm.R4, 1))
	}
	b.emit(asm.FnSkbLoadBytes.Call())
	if b.chance(0.6) {
		size := asm.Word
		if n >= 8 && b.chance(0.5) {
			size = asm.DWord
		}
		b.emit(asm.LoadMem(asm.R0, asm.R10, buf, size))
	}
}

// carefulValueAsKey uses a checked map value as another map's key, from
// its start or its end; one byte further runs past the value.
func (b *builder) carefulValueAsKey() {
	m1, m2 := b.plainMap(), b.plainMap()
	b.lookup(m1, 8)
	b.nullCheck(asm.R0)
	b.emit(asm.Mov.Reg(asm.R2, asm.R0))
	if b.chance(0.3) {
		end := int32(b.maps[m1].ValueSize) - int32(b.maps[m2].KeySize)
		b.emit(asm.Add.Imm(asm.R2, oneOf(b, end, end, end+1)))
	}
	b.emit(asm.LoadMapPtr(asm.R1, m2), asm.FnMapLookupElem.Call())
}
