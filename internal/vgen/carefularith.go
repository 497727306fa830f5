package vgen

import "github.com/cilium/ebpf/asm"

// carefulShift32 shifts within the width, and uses the results as
// offsets into map values, or into the stack when they are constants.
func (b *builder) carefulShift32() {
	for n := 1 + b.intn(2); n > 0; n-- {
		if b.chance(0.6) {
			b.carefulShift()
		} else {
			b.alu32Value()
			b.carefulOffset(asm.R1)
		}
	}
}

// carefulShift leaves in r1 a value whose bounds come from a shift: an
// unknown u32 narrowed by a right shift, a small unknown widened by a
// left shift, a masked register count, or constants shifted both ways.
func (b *builder) carefulShift() {
	is32 := b.chance(0.5)
	shift := func(op asm.ALUOp, k int32) {
		if is32 {
			b.emit(op.Imm32(asm.R1, k))
		} else {
			b.emit(op.Imm(asm.R1, k))
		}
	}
	switch b.intn(4) {
	case 0:
		b.unknown(asm.R1)
		shift(oneOf(b, asm.RSh, asm.RSh, asm.ArSh), oneOf[int32](b, 24, 27, 28, 29, 30, 31))
	case 1:
		b.unknown(asm.R1)
		b.emit(asm.And.Imm(asm.R1, oneOf[int32](b, 3, 7)))
		shift(asm.LSh, oneOf[int32](b, 1, 2, 3, 4))
	case 2:
		b.unknown(asm.R2)
		count := int32(63)
		if is32 {
			count = 31
		}
		b.emit(asm.And.Imm(asm.R2, count), asm.Mov.Imm(asm.R1, int32(b.intn(1000))))
		if is32 {
			b.emit(oneOf(b, shiftOps...).Reg32(asm.R1, asm.R2))
		} else {
			b.emit(oneOf(b, shiftOps...).Reg(asm.R1, asm.R2))
		}
		b.emit(asm.And.Imm(asm.R1, oneOf[int32](b, 7, 15, 31)))
	case 3:
		b.emit(asm.Mov.Imm(asm.R1, int32(1+b.intn(15))))
		shift(asm.LSh, int32(b.intn(4)))
		shift(oneOf(b, asm.RSh, asm.ArSh), int32(b.intn(4)))
		b.constStackOffset(asm.R1)
		return
	}
	b.carefulOffset(asm.R1)
}

// carefulOffset uses reg as a number or as an offset into a map value.
func (b *builder) carefulOffset(reg asm.Register) {
	if b.chance(0.25) {
		b.emit(asm.Mov.Reg(asm.R0, reg), asm.And.Imm(asm.R0, 1))
		return
	}
	b.mapOffset(reg)
}

// constStackOffset adds reg, a constant the verifier must have computed,
// to a stack pointer, then writes and reads there: a variable offset
// would be refused to loaders without CAP_PERFMON.
func (b *builder) constStackOffset(reg asm.Register) {
	b.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, oneOf[int32](b, -128, -128, -64)),
		asm.Add.Reg(asm.R2, reg), stImm(asm.R2, 0, 1, asm.Byte), asm.LoadMem(asm.R0, asm.R2, 0, asm.Byte))
}

// carefulLoop makes loops that loaders with CAP_BPF but without
// CAP_PERFMON may load (no variable stack offsets, no pointer
// comparisons), and, for loaders without CAP_BPF, which may not jump
// back, unrolled loops and programs at the 4096-instruction limit.
func (b *builder) carefulLoop() {
	switch b.intn(6) {
	case 0, 1:
		b.unrolledLoop()
	case 2:
		b.nearLimit()
	case 3, 4:
		b.carefulCountedLoop()
	case 5:
		b.carefulUnknownLoop()
	}
}

// unrolledLoop is a loop with an unknown count of at most 3, 7 or 15,
// unrolled as a compiler does for loaders that may not jump back: copies
// of the body, each leaving when the count runs out, so that the
// verifier walks (and prunes) a path per count. The body reads a map
// value at twice the copy's index, which runs past a small value in the
// later copies.
func (b *builder) unrolledLoop() {
	m := -1
	if b.chance(0.4) {
		m = b.plainMap()
	}
	b.unknown(asm.R7)
	b.emit(asm.And.Imm(asm.R7, oneOf[int32](b, 3, 7, 15)), asm.Mov.Imm(asm.R8, 0),
		stImm(asm.R10, -16, 0, asm.DWord))
	for i := range oneOf(b, 2, 4, 8) {
		b.emit(asm.JEq.Imm(asm.R7, 0, out), asm.Sub.Imm(asm.R7, 1))
		switch {
		case m >= 0:
			b.lookup(m, 8)
			b.nullCheck(asm.R0)
			b.emit(asm.LoadMem(asm.R1, asm.R0, int16(2*i), asm.Word), asm.Add.Reg(asm.R8, asm.R1))
		case b.chance(0.5):
			b.emit(asm.Add.Reg(asm.R8, asm.R7), stImm(asm.R10, int16(-16+i%2*8), int32(i), asm.DWord))
		default:
			b.emit(asm.LoadMem(asm.R1, asm.R10, -16, asm.DWord), asm.Add.Reg(asm.R8, asm.R1))
		}
	}
	b.emit(asm.Mov.Reg(asm.R0, asm.R8), asm.And.Imm(asm.R0, 1))
}

// nearLimit is straight-line code up to the 4096 instructions an
// unprivileged loader may load, or a few short of it.
func (b *builder) nearLimit() {
	b.emit(asm.Mov.Imm(asm.R0, 0))
	// The epilogue adds two instructions.
	n := 4096 - 2 - len(b.insns) - oneOf(b, 0, 0, 1, 8, 100)
	for range n {
		b.emit(asm.Add.Imm(asm.R0, 1))
	}
}

// carefulCountedLoop counts to a constant, by steps that reach it, with
// a map lookup or a stack store at a constant offset in the body, or
// both. (Under Spectre v1 hardening the kernel rejects a loop whose body
// is the counter alone, "infinite loop detected": that is left to loop.)
func (b *builder) carefulCountedLoop() {
	top := b.label()
	bound := oneOf[int32](b, 2, 4, 16, 100)
	b.emit(asm.Mov.Imm(asm.R7, 0), stImm(asm.R10, -8, 0, asm.DWord))
	b.bind(top)
	body := 1 + b.intn(3)
	if body&1 != 0 {
		b.lookup(b.plainMap(), 8)
		b.nullCheck(asm.R0)
		b.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.Byte))
	}
	if body&2 != 0 {
		b.emit(asm.StoreMem(asm.R10, -16, asm.R7, asm.DWord), asm.LoadMem(asm.R1, asm.R10, -16, asm.Word))
	}
	b.emit(asm.Add.Imm(asm.R7, oneOf[int32](b, 1, 1, 2)))
	b.emit(oneOf(b, asm.JLT, asm.JNE, asm.JSLT).Imm(asm.R7, bound, top))
}

// carefulUnknownLoop counts down from a small unknown start, storing the
// count at a constant stack offset. (Under Spectre v1 hardening the
// kernel gives up on the loop of the counter alone, "BPF program is too
// large": that is left to loop.)
func (b *builder) carefulUnknownLoop() {
	top := b.label()
	b.unknown(asm.R7)
	b.emit(asm.And.Imm(asm.R7, oneOf[int32](b, 3, 7, 31)))
	b.bind(top)
	b.emit(asm.Sub.Imm(asm.R7, 1), asm.StoreMem(asm.R10, -16, asm.R7, asm.DWord))
	b.emit(asm.JSGT.Imm(asm.R7, 0, top))
	b.emit(asm.LoadMem(asm.R0, asm.R10, -16, asm.DWord), asm.And.Imm(asm.R0, 1))
}
