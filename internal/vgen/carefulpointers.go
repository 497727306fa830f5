package vgen

import "github.com/cilium/ebpf/asm"

// carefulPointerArith moves stack, ctx and map value pointers by what
// every loader may, and compares pointers with NULL only.
func (b *builder) carefulPointerArith() {
	for n := 1 + b.intn(2); n > 0; n-- {
		switch b.intn(5) {
		case 0, 1:
			b.carefulStackPointer()
		case 2:
			b.carefulCtx()
		case 3:
			b.carefulMapValuePointer()
		case 4:
			b.nullCompare()
		}
	}
}

// carefulStackPointer moves a stack pointer by constants, in one step or
// two, and reads what it wrote there. -512 is the frame's last slot; r10
// itself is past the frame (a rejection in every mode).
func (b *builder) carefulStackPointer() {
	slot := oneOf[int32](b, -8, -16, -64, -504, -512, -512, 0)
	b.emit(asm.Mov.Reg(asm.R1, asm.R10))
	if b.chance(0.4) {
		step := oneOf[int32](b, -8, 16, -64)
		b.emit(asm.Add.Imm(asm.R1, step), asm.Sub.Imm(asm.R1, step-slot))
	} else {
		b.emit(asm.Add.Imm(asm.R1, slot))
	}
	// The kernel tracks the stack by 8-byte slots and insists on
	// alignment there: reads at 0 or at the slot's last size bytes.
	size := oneOf(b, sizes...)
	at := oneOf(b, 0, 8-width(size))
	if b.chance(0.5) {
		b.emit(stImm(asm.R1, 0, int32(b.intn(100)), asm.DWord))
	} else {
		b.emit(stImm(asm.R1, at, int32(b.intn(100)), size))
	}
	b.emit(asm.LoadMem(asm.R0, asm.R1, at, size))
}

// carefulCtx reads __sk_buff fields that socket filters and cgroup_skb
// programs may both read unprivileged, at full or narrow width, and
// writes scalars to cb[]. A double-word read of a u32 field and a read
// through a moved ctx pointer are rejections in every mode.
func (b *builder) carefulCtx() {
	off := oneOf[int16](b, 0, 8, 16, 48, 52, 56, 60, 64, 68)
	if b.chance(0.25) {
		b.unknown(asm.R1)
		b.emit(asm.StoreMem(ctx, oneOf[int16](b, 48, 52, 64), asm.R1, asm.Word))
	}
	base := ctx
	if b.chance(0.15) {
		base = asm.R1
		b.emit(asm.Mov.Reg(base, ctx), asm.Add.Imm(base, int32(off)))
		off = 0
	}
	size := oneOf(b, asm.Word, asm.Word, asm.Word, asm.Half, asm.Byte, asm.DWord)
	b.emit(asm.LoadMem(asm.R0, base, off, size))
}

// carefulMapValuePointer moves a checked map value pointer by a constant
// or by a bounded scalar, sometimes one byte too far, and reads there.
func (b *builder) carefulMapValuePointer() {
	m := b.plainMap()
	vs := int32(b.maps[m].ValueSize)
	size := oneOf(b, asm.Byte, asm.Word, asm.DWord)
	w := int32(width(size))
	b.lookup(m, 8)
	b.nullCheck(asm.R0)
	switch b.intn(3) {
	case 0:
		b.emit(asm.Add.Imm(asm.R0, oneOf(b, 0, vs/2, vs-w, vs-w+1)))
	case 1:
		b.unknown(asm.R1)
		b.emit(asm.And.Imm(asm.R1, oneOf(b, vs-w, vs-w, vs-1, 3)), asm.Add.Reg(asm.R0, asm.R1))
	case 2:
		b.unknown(asm.R1)
		b.emit(asm.JGT.Imm(asm.R1, oneOf(b, vs-w, vs-w, vs-w+1), out), asm.Add.Reg(asm.R0, asm.R1))
	}
	b.emit(asm.LoadMem(asm.R1, asm.R0, 0, size), asm.Mov.Reg(asm.R0, asm.R1))
}

// nullCompare compares a map value pointer with NULL, the one comparison
// of a pointer every loader may make, either way round, and sometimes
// once more when it is known not to be NULL.
func (b *builder) nullCompare() {
	b.lookup(b.plainMap(), 8)
	if b.chance(0.5) {
		nonNull := b.label()
		b.emit(asm.JNE.Imm(asm.R0, 0, nonNull), asm.Ja.Label(out))
		b.bind(nonNull)
	} else {
		b.nullCheck(asm.R0)
	}
	if b.chance(0.3) {
		b.emit(oneOf(b, asm.JEq, asm.JNE).Imm(asm.R0, 0, out))
	}
	b.emit(asm.LoadMem(asm.R0, asm.R0, 0, asm.Byte))
}

// carefulSpillFill spills pointers or scalars and fills them back whole,
// or scalars in part.
func (b *builder) carefulSpillFill() {
	slot := oneOf[int16](b, -8, -16, -24)
	if b.chance(0.5) {
		b.carefulTwoPathSpill(slot)
	} else {
		b.carefulPartialSpill(slot)
	}
}

// carefulTwoPathSpill spills values of one kind (pointers, or scalars) on
// both sides of a branch and uses the fill as what it is: memory, a
// number, or an offset into a map value. A pointer
// filled at four bytes is a rejection in every mode ("invalid size of
// register fill"), and so, rarely, is a load through ctx on one path and
// the stack on the other.
func (b *builder) carefulTwoPathSpill(slot int16) {
	pointers := b.chance(0.5)
	kind := b.intn(3)
	if pointers {
		b.emit(stImm(asm.R10, -32, 0, asm.DWord), stImm(asm.R10, -40, 0, asm.DWord))
	}
	other, join := b.label(), b.label()
	b.unknown(asm.R2)
	b.emit(asm.JGT.Imm(asm.R2, int32(b.intn(100)), other))
	b.carefulSpillKind(slot, pointers, kind)
	b.emit(asm.Ja.Label(join))
	b.bind(other)
	if b.chance(0.1) {
		kind = b.intn(3)
	}
	b.carefulSpillKind(slot, pointers, kind)
	b.bind(join)
	size, at := asm.DWord, slot
	if b.chance(0.15) {
		size, at = asm.Word, slot+oneOf[int16](b, 0, 4)
	}
	b.emit(asm.LoadMem(asm.R1, asm.R10, at, size))
	switch {
	case pointers:
		b.emit(asm.LoadMem(asm.R0, asm.R1, 0, asm.Byte))
	case b.chance(0.5):
		b.emit(asm.Mov.Reg(asm.R0, asm.R1), asm.And.Imm(asm.R0, 1))
	default:
		b.mapOffset(asm.R1) // in bounds if both paths spilled small constants
	}
}

// carefulSpillKind spills a pointer (ctx, or the stack at -32 or -40,
// both written) or a scalar (known or not) to slot.
func (b *builder) carefulSpillKind(slot int16, pointer bool, kind int) {
	switch {
	case pointer && kind == 0:
		b.emit(asm.StoreMem(asm.R10, slot, ctx, asm.DWord))
	case pointer:
		b.emit(asm.Mov.Reg(asm.R1, asm.R10), asm.Add.Imm(asm.R1, oneOf[int32](b, -32, -40)),
			asm.StoreMem(asm.R10, slot, asm.R1, asm.DWord))
	case kind == 0:
		b.emit(asm.Mov.Imm(asm.R1, int32(b.intn(64))), asm.StoreMem(asm.R10, slot, asm.R1, asm.DWord))
	case kind == 1:
		b.emit(stImm(asm.R10, slot, int32(b.intn(64)), asm.DWord))
	default:
		b.unknown(asm.R1)
		b.emit(asm.StoreMem(asm.R10, slot, asm.R1, asm.DWord))
	}
}

// carefulPartialSpill spills a pointer and fills it whole, or spills a
// scalar at 8 or 4 bytes, perhaps overwrites part of it, and fills any
// aligned part of what was written.
func (b *builder) carefulPartialSpill(slot int16) {
	if b.chance(0.5) {
		b.carefulPointer(asm.R1)
		b.emit(asm.StoreMem(asm.R10, slot, asm.R1, asm.DWord))
		size := asm.DWord
		if b.chance(0.1) {
			size = asm.Word
		}
		b.emit(asm.LoadMem(asm.R2, asm.R10, slot, size), asm.LoadMem(asm.R0, asm.R2, 0, asm.Byte))
		return
	}
	if b.chance(0.5) {
		b.unknown(asm.R1)
	} else {
		b.emit(asm.Mov.Imm(asm.R1, int32(b.intn(100))))
	}
	spill := oneOf(b, asm.DWord, asm.DWord, asm.Word)
	b.emit(asm.StoreMem(asm.R10, slot, asm.R1, spill))
	if b.chance(0.3) {
		b.emit(stImm(asm.R10, slot, 0, oneOf(b, asm.Byte, asm.Word)))
	}
	fill := oneOf(b, asm.DWord, asm.Word, asm.Half, asm.Byte)
	if width(fill) > width(spill) {
		fill = spill
	}
	at := slot
	if b.chance(0.5) {
		at += width(spill) - width(fill)
	}
	b.emit(asm.LoadMem(asm.R2, asm.R10, at, fill))
	b.emit(asm.Mov.Reg(asm.R0, asm.R2), asm.And.Imm(asm.R0, 0xff))
}

// carefulPointer sets dst to a pointer a load may go through: the stack
// at -48 (written), ctx, or a checked map value.
func (b *builder) carefulPointer(dst asm.Register) {
	switch b.intn(3) {
	case 0:
		b.emit(stImm(asm.R10, -48, 0, asm.DWord), asm.Mov.Reg(dst, asm.R10), asm.Add.Imm(dst, -48))
	case 1:
		b.emit(asm.Mov.Reg(dst, ctx))
	case 2:
		b.lookup(b.plainMap(), 8)
		b.nullCheck(asm.R0)
		b.emit(asm.Mov.Reg(dst, asm.R0))
	}
}
