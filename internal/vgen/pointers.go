package vgen

import "github.com/cilium/ebpf/asm"

// pointerArith: arithmetic on stack, ctx and map value pointers, r10
// arithmetic, pointer comparisons, leaks of pointers.
func (b *builder) pointerArith() {
	for n := 1 + b.intn(2); n > 0; n-- {
		switch b.intn(9) {
		case 0, 1:
			b.stackPointer()
		case 2:
			b.pointerCompare()
		case 3:
			b.ctxPointer()
		case 4:
			b.mapValuePointer()
		case 5:
			b.pointerLeak()
		case 6:
			b.pointerMinusPointer()
		case 7:
			b.forbiddenPointerALU()
		case 8:
			b.pointerCompare()
		}
	}
}

// stackPointer derives a pointer from r10 and accesses the stack through it.
func (b *builder) stackPointer() {
	if b.chance(0.04) {
		b.emit(asm.Add.Imm(asm.R10, -8)) // the frame pointer is read only
	}
	b.emit(asm.Mov.Reg(asm.R1, asm.R10))
	off := oneOf[int32](b, -8, -16, -24, -64, -504, -512, -520, -4, -1, 0, 8)
	b.emit(asm.Add.Imm(asm.R1, off))
	if b.chance(0.3) {
		b.emit(asm.Sub.Imm(asm.R1, oneOf[int32](b, -8, 8, 16)))
	}
	if b.chance(0.25) { // variable offset
		b.unknown(asm.R2)
		b.emit(asm.And.Imm(asm.R2, oneOf[int32](b, 7, 8, 15, 0x1f8)))
		b.emit(oneOf(b, asm.Sub.Reg(asm.R1, asm.R2), asm.Add.Reg(asm.R1, asm.R2)))
	}
	size := oneOf(b, sizes...)
	at := oneOf[int16](b, 0, 0, -8, 4, -width(size))
	if b.chance(0.6) {
		b.emit(stImm(asm.R1, at, int32(b.intn(100)), size))
	}
	b.emit(asm.LoadMem(asm.R0, asm.R1, at, size))
}

// pointer returns a register holding a pointer of a random kind (stack,
// ctx, map value or map), set up with what it needs.
func (b *builder) pointer(dst asm.Register) {
	switch b.intn(4) {
	case 0:
		b.emit(asm.Mov.Reg(dst, asm.R10), asm.Add.Imm(dst, -8))
	case 1:
		b.emit(asm.Mov.Reg(dst, ctx))
	case 2:
		b.lookup(b.plainMap(), 8)
		if b.chance(0.85) {
			b.nullCheck(asm.R0)
		}
		b.emit(asm.Mov.Reg(dst, asm.R0))
	case 3:
		b.emit(asm.LoadMapPtr(dst, b.plainMap()))
	}
}

// pointerCompare compares a pointer with a constant, a scalar or another
// pointer; unprivileged loaders may only test against NULL.
func (b *builder) pointerCompare() {
	b.pointer(asm.R7)
	skip := b.label()
	switch b.intn(5) {
	case 0:
		b.emit(oneOf(b, asm.JEq, asm.JNE, asm.JGT, asm.JSLT).Imm(asm.R7, oneOf[int32](b, 0, 1, -1, 100), skip))
	case 1:
		b.emit(asm.JEq.Imm(asm.R7, 0, skip))
	case 2:
		b.pointer(asm.R8)
		b.emit(oneOf(b, asm.JEq, asm.JGT, asm.JGE, asm.JLT).Reg(asm.R7, asm.R8, skip))
	case 3:
		b.emit(oneOf(b, asm.JGT, asm.JNE).Reg(asm.R7, asm.R10, skip))
	case 4:
		b.unknown(asm.R8)
		b.emit(oneOf(b, asm.JGT, asm.JEq).Reg(asm.R8, asm.R7, skip))
	}
	b.emit(asm.Mov.Imm(asm.R0, 1))
	b.bind(skip)
	b.emit(asm.Mov.Imm(asm.R0, 0))
}

// ctxPointer accesses the context through a moved or offset pointer.
func (b *builder) ctxPointer() {
	b.emit(asm.Mov.Reg(asm.R1, ctx))
	off := oneOf[int16](b, 0, 8, 48, 52, 60, 64, 76, 80, 140)
	if b.chance(0.5) {
		b.emit(asm.Add.Imm(asm.R1, int32(oneOf[int16](b, 0, 4, 8, 48))))
	}
	if b.chance(0.3) {
		b.emit(asm.StoreMem(asm.R1, off, asm.R6, oneOf(b, asm.Word, asm.DWord)))
		return
	}
	b.emit(asm.LoadMem(asm.R0, asm.R1, off, oneOf(b, asm.Word, asm.Word, asm.Half, asm.DWord)))
}

// mapValuePointer moves a map value pointer by constants and bounded or
// unbounded scalars and accesses it.
func (b *builder) mapValuePointer() {
	m := b.plainMap()
	vs := int32(b.maps[m].ValueSize)
	b.lookup(m, 8)
	if b.chance(0.9) {
		b.nullCheck(asm.R0)
	}
	switch b.intn(3) {
	case 0:
		b.emit(asm.Add.Imm(asm.R0, oneOf(b, 0, vs/2, vs-4, vs, -4)))
	case 1:
		b.unknown(asm.R1)
		if b.chance(0.7) {
			b.emit(asm.And.Imm(asm.R1, oneOf(b, vs-1, vs-8, vs, 3)))
		}
		b.emit(asm.Add.Reg(asm.R0, asm.R1))
	case 2:
		b.emit(asm.Sub.Imm(asm.R0, oneOf[int32](b, 0, 4, -8)))
	}
	size := oneOf(b, asm.Byte, asm.Word, asm.DWord)
	b.emit(asm.LoadMem(asm.R1, asm.R0, 0, size), asm.Mov.Reg(asm.R0, asm.R1))
}

// pointerLeak stores a pointer where a program's user can see it: a map
// value, the context, the return value.
func (b *builder) pointerLeak() {
	src := oneOf(b, asm.R10, ctx)
	switch b.intn(3) {
	case 0:
		b.lookup(b.plainMap(), 8)
		b.nullCheck(asm.R0)
		b.emit(asm.StoreMem(asm.R0, 0, src, asm.DWord))
	case 1:
		b.emit(asm.StoreMem(ctx, oneOf[int16](b, 48, 8), src, asm.Word))
	case 2:
		b.emit(asm.Mov.Reg(asm.R0, src))
		if b.chance(0.5) {
			b.emit(asm.Add.Imm(asm.R0, 4))
		}
		b.emit(asm.Return())
	}
}

// pointerMinusPointer subtracts or adds two pointers.
func (b *builder) pointerMinusPointer() {
	b.pointer(asm.R7)
	b.emit(asm.Mov.Reg(asm.R1, asm.R10), asm.Add.Imm(asm.R1, -16))
	if b.chance(0.7) {
		b.emit(asm.Sub.Reg(asm.R1, oneOf(b, asm.R7, asm.R10)))
	} else {
		b.emit(asm.Add.Reg(asm.R1, asm.R7))
	}
	b.emit(asm.Mov.Reg(asm.R0, asm.R1))
	if b.chance(0.5) {
		b.emit(asm.And.Imm(asm.R0, 1))
	}
}

// forbiddenPointerALU applies what only scalars allow to a pointer.
func (b *builder) forbiddenPointerALU() {
	b.pointer(asm.R1)
	b.emit(oneOf(b,
		asm.Mul.Imm(asm.R1, 2), asm.And.Imm(asm.R1, -8), asm.LSh.Imm(asm.R1, 1),
		asm.Add.Imm32(asm.R1, 4), asm.Neg.Imm(asm.R1, 0), asm.Or.Imm(asm.R1, 0),
		asm.Add.Imm(asm.R1, 0), asm.Mov.Reg32(asm.R1, asm.R1)))
	b.emit(asm.Mov.Imm(asm.R0, 0))
	if b.chance(0.5) {
		b.emit(asm.LoadMem(asm.R0, asm.R1, 0, asm.Byte))
	}
}

// spillFill spills values of different kinds to one slot on two paths
// and fills them back, whole, in part, or 32 bits at a time.
func (b *builder) spillFill() {
	slot := oneOf[int16](b, -8, -16, -24)
	if b.chance(0.5) {
		b.twoPathSpill(slot)
	} else {
		b.partialSpill(slot)
	}
	if b.chance(0.3) {
		b.partialSpill(oneOf[int16](b, -32, -40))
	}
}

// spillKind stores a value of a random kind into slot.
func (b *builder) spillKind(slot int16) {
	switch b.intn(6) {
	case 0:
		b.emit(asm.StoreMem(asm.R10, slot, asm.R10, asm.DWord))
	case 1:
		b.emit(asm.StoreMem(asm.R10, slot, ctx, asm.DWord))
	case 2:
		b.emit(asm.Mov.Imm(asm.R1, int32(b.intn(64))), asm.StoreMem(asm.R10, slot, asm.R1, asm.DWord))
	case 3:
		b.emit(stImm(asm.R10, slot, int32(b.intn(64)), asm.DWord))
	case 4:
		b.unknown(asm.R1)
		b.emit(asm.StoreMem(asm.R10, slot, asm.R1, oneOf(b, asm.DWord, asm.Word)))
	case 5:
		b.emit(asm.LoadMapPtr(asm.R1, b.plainMap()), asm.StoreMem(asm.R10, slot, asm.R1, asm.DWord))
	}
}

// twoPathSpill spills different kinds on the two sides of a branch and
// uses the fill as memory or as a number.
func (b *builder) twoPathSpill(slot int16) {
	other, join := b.label(), b.label()
	b.unknown(asm.R2)
	b.emit(asm.JGT.Imm(asm.R2, int32(b.intn(100)), other))
	b.spillKind(slot)
	b.emit(asm.Ja.Label(join))
	b.bind(other)
	b.spillKind(slot)
	b.bind(join)
	size := asm.DWord
	if b.chance(0.2) {
		size = oneOf(b, asm.Word, asm.Byte)
	}
	b.emit(asm.LoadMem(asm.R1, asm.R10, slot+oneOf[int16](b, 0, 0, 0, 4), size))
	switch b.intn(3) {
	case 0:
		b.emit(asm.LoadMem(asm.R0, asm.R1, 0, asm.Word)) // used as a pointer
	case 1:
		b.emit(asm.Mov.Reg(asm.R0, asm.R1), asm.And.Imm(asm.R0, 1)) // used as a number
	case 2:
		b.emit(asm.Mov.Reg(asm.R0, asm.R1), asm.Return()) // returned
	}
}

// partialSpill spills one width and fills another, or overwrites part of
// a spilled register before the fill.
func (b *builder) partialSpill(slot int16) {
	b.pointerOrScalar(asm.R1)
	b.emit(asm.StoreMem(asm.R10, slot, asm.R1, oneOf(b, asm.DWord, asm.DWord, asm.Word)))
	if b.chance(0.3) {
		b.emit(stImm(asm.R10, slot+oneOf[int16](b, 0, 4), 0, oneOf(b, asm.Byte, asm.Word)))
	}
	size := oneOf(b, asm.DWord, asm.DWord, asm.Word, asm.Half)
	at := slot
	if size != asm.DWord && b.chance(0.5) {
		at += 4
	}
	b.emit(asm.LoadMem(asm.R2, asm.R10, at, size))
	if b.chance(0.5) {
		b.emit(asm.LoadMem(asm.R0, asm.R2, 0, asm.Byte))
	} else {
		b.emit(asm.Mov.Reg(asm.R0, asm.R2), asm.And.Imm(asm.R0, 0xff))
	}
}

func (b *builder) pointerOrScalar(dst asm.Register) {
	if b.chance(0.5) {
		b.pointer(dst)
		return
	}
	if b.chance(0.5) {
		b.unknown(dst)
	} else {
		b.emit(asm.Mov.Imm(dst, int32(b.intn(100))))
	}
}
