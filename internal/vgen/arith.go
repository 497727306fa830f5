package vgen

import "github.com/cilium/ebpf/asm"

// shift32 shifts by counts near and at the width, by constants and
// registers, and uses 32-bit results as offsets.
func (b *builder) shift32() {
	for n := 1 + b.intn(2); n > 0; n-- {
		if b.chance(0.55) {
			b.shift()
		} else {
			b.alu32Offset()
		}
	}
}

var shiftOps = []asm.ALUOp{asm.LSh, asm.RSh, asm.ArSh}

// shift shifts a known or unknown value by a constant or register count.
func (b *builder) shift() {
	is32 := b.chance(0.5)
	if b.chance(0.5) {
		b.unknown(asm.R1)
	} else {
		b.emit(asm.Mov.Imm(asm.R1, int32(b.intn(1000))-10))
	}
	op := oneOf(b, shiftOps...)
	if b.chance(0.5) {
		count := oneOf[int32](b, 0, 1, 31, 32, 33, 63, 64, 65, -1)
		if is32 {
			b.emit(op.Imm32(asm.R1, count))
		} else {
			b.emit(op.Imm(asm.R1, count))
		}
	} else {
		if b.chance(0.5) {
			b.emit(asm.Mov.Imm(asm.R2, oneOf[int32](b, 1, 31, 32, 63, 64, 100)))
		} else {
			b.unknown(asm.R2)
			b.emit(asm.And.Imm(asm.R2, oneOf[int32](b, 31, 63, 127)))
		}
		if is32 {
			b.emit(op.Reg32(asm.R1, asm.R2))
		} else {
			b.emit(op.Reg(asm.R1, asm.R2))
		}
	}
	b.useAsOffset(asm.R1)
}

// alu32Offset computes an offset in a 32-bit subregister.
func (b *builder) alu32Offset() {
	b.alu32Value()
	b.useAsOffset(asm.R1)
}

// alu32Value leaves in r1 an unknown value narrowed (or not) in 32 bits.
func (b *builder) alu32Value() {
	b.unknown(asm.R1)
	switch b.intn(5) {
	case 0:
		b.emit(asm.And.Imm32(asm.R1, oneOf[int32](b, 7, 15, 0xff)))
	case 1:
		b.emit(asm.And.Imm32(asm.R1, 15), asm.Sub.Imm32(asm.R1, oneOf[int32](b, 1, 16)))
	case 2:
		b.emit(asm.LSh.Imm(asm.R1, 32), asm.ArSh.Imm(asm.R1, 32), asm.And.Imm(asm.R1, 7))
	case 3:
		b.emit(asm.JGT.Imm32(asm.R1, oneOf[int32](b, 7, 15), out))
	case 4:
		b.emit(asm.Mov.Imm32(asm.R2, -1), asm.Add.Reg32(asm.R1, asm.R2), asm.And.Imm32(asm.R1, 7))
	}
}

// useAsOffset adds reg to a stack or map value pointer and reads there.
func (b *builder) useAsOffset(reg asm.Register) {
	if b.chance(0.25) {
		b.emit(asm.Mov.Reg(asm.R0, reg), asm.And.Imm(asm.R0, 1))
		return
	}
	if b.chance(0.5) {
		b.mapOffset(reg)
		return
	}
	b.emit(asm.Mov.Reg(asm.R9, reg))
	b.emit(stImm(asm.R10, -64, 0, asm.DWord), stImm(asm.R10, -56, 0, asm.DWord))
	b.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -64),
		asm.Add.Reg(asm.R2, asm.R9), asm.LoadMem(asm.R0, asm.R2, 0, asm.Byte))
}

// mapOffset adds reg to a map value pointer and reads a byte there.
func (b *builder) mapOffset(reg asm.Register) {
	b.emit(asm.Mov.Reg(asm.R9, reg)) // the call clobbers r1-r5
	b.lookup(b.plainMap(), 8)
	b.nullCheck(asm.R0)
	b.emit(asm.Add.Reg(asm.R0, asm.R9), asm.LoadMem(asm.R0, asm.R0, 0, asm.Byte))
}

// loop makes bounded loops, loops the verifier cannot bound, and plain
// back-edges.
func (b *builder) loop() {
	switch b.intn(6) {
	case 0, 1:
		b.countedLoop()
	case 2:
		b.unknownLoop()
	case 3:
		b.stackWalk()
	case 4:
		top := b.label()
		b.emit(asm.Mov.Imm(asm.R1, 0))
		b.bind(top)
		b.emit(asm.Add.Imm(asm.R1, 1))
		if b.chance(0.5) {
			b.emit(asm.JEq.Imm(asm.R1, 3, out))
		}
		b.emit(asm.Ja.Label(top))
	case 5:
		if b.chance(0.1) {
			b.longProgram()
		} else {
			b.countedLoop()
			b.countedLoop()
		}
	}
}

// countedLoop counts a register to a constant bound, sometimes with a
// map lookup or stack store in the body.
func (b *builder) countedLoop() {
	top := b.label()
	bound := oneOf[int32](b, 2, 4, 16, 100)
	b.emit(asm.Mov.Imm(asm.R7, 0), stImm(asm.R10, -8, 0, asm.DWord))
	b.bind(top)
	if b.chance(0.3) {
		b.lookup(b.plainMap(), 8)
		if b.chance(0.7) {
			b.nullCheck(asm.R0)
		}
		b.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.Byte))
	}
	if b.chance(0.3) {
		b.emit(asm.Mov.Reg(asm.R1, asm.R10), asm.Add.Imm(asm.R1, -64), asm.Add.Reg(asm.R1, asm.R7),
			stImm(asm.R1, 0, 0, asm.Byte))
	}
	b.emit(asm.Add.Imm(asm.R7, oneOf[int32](b, 1, 1, 2, 0)))
	b.emit(oneOf(b, asm.JLT, asm.JNE, asm.JSLT).Imm(asm.R7, bound, top))
}

// unknownLoop counts down from an unknown value. The kernel explores a
// loop until its state repeats, so only a small start converges: the
// start is masked, and the signed test shrinks the range every round.
func (b *builder) unknownLoop() {
	top := b.label()
	b.unknown(asm.R7)
	b.emit(asm.And.Imm(asm.R7, oneOf[int32](b, 3, 7, 31)))
	b.bind(top)
	b.emit(asm.Sub.Imm(asm.R7, 1))
	if b.chance(0.3) {
		b.emit(asm.Mov.Reg(asm.R1, asm.R10), asm.Add.Imm(asm.R1, -32), asm.Add.Reg(asm.R1, asm.R7),
			stImm(asm.R1, 0, 0, asm.Byte))
	}
	b.emit(asm.JSGT.Imm(asm.R7, 0, top))
}

// stackWalk steps a stack pointer in a loop bounded by a pointer
// comparison.
func (b *builder) stackWalk() {
	top := b.label()
	b.emit(asm.Mov.Reg(asm.R7, asm.R10), asm.Add.Imm(asm.R7, oneOf[int32](b, -16, -64)))
	b.bind(top)
	b.emit(stImm(asm.R7, 0, 0, asm.Byte), asm.Add.Imm(asm.R7, 1))
	if b.chance(0.5) {
		b.emit(asm.Mov.Reg(asm.R8, asm.R10), asm.Add.Imm(asm.R8, oneOf[int32](b, -8, 0)))
		b.emit(asm.JLT.Reg(asm.R7, asm.R8, top))
	} else {
		b.emit(asm.JLT.Reg(asm.R7, asm.R10, top))
	}
}

// longProgram is straight-line code past the 4096 instructions an
// unprivileged loader may load.
func (b *builder) longProgram() {
	for range 4090 + b.intn(20) {
		b.emit(asm.Add.Imm(asm.R0, 1))
	}
}
