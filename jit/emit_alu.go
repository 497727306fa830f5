//go:build amd64 && linux

package jit

import (
	"math/bits"

	"github.com/dropmon/dropmon/program"
)

// aluKind is an arithmetic operation independent of width and operand.
type aluKind uint8

const (
	kAdd aluKind = iota
	kSub
	kMul
	kDiv
	kSDiv
	kOr
	kAnd
	kLsh
	kRsh
	kMod
	kSMod
	kXor
	kMov
	kArsh
	kNeg
	kMovSX8
	kMovSX16
	kMovSX32
)

// aluOf decodes an ALU op into kind, width and operand form, relying on
// the Op enum's order: each kind has an Imm then a Reg op, 64-bit first.
func aluOf(op program.Op) (k aluKind, is64, isReg bool) {
	base, is64 := program.Add64Imm, true
	if op.IsALU32() {
		base, is64 = program.Add32Imm, false
	}
	d := int(op - base)
	switch {
	case d < 2*int(kNeg):
		return aluKind(d / 2), is64, d%2 == 1
	default:
		return kNeg + aluKind(d-2*int(kNeg)), is64, true
	}
}

// group-1 extensions and register opcodes of the simple kinds.
var (
	aluExt = map[aluKind]reg{kAdd: extAdd, kSub: extSub, kOr: extOr, kAnd: extAnd, kXor: extXor}
	aluOp  = map[aluKind][]byte{kAdd: opAdd, kSub: opSub, kOr: opOr, kAnd: opAnd, kXor: opXor}
	shExt  = map[aluKind]reg{kLsh: extShl, kRsh: extShr, kArsh: extSar}
)

// emitALU emits the ALU and ALU64 classes. 32-bit x86 operations
// zero-extend their result, as eBPF's ALU class requires.
func (c *compiler) emitALU(in *program.Insn) {
	k, is64, isReg := aluOf(in.Op)
	f := wide(is64)
	dst, src := regMap[in.Dst], regMap[in.Src]
	imm := int32(in.Imm)
	switch k {
	case kAdd, kSub, kOr, kAnd, kXor:
		switch {
		case isReg:
			c.aluRR(f, aluOp[k], dst, src)
		case k == kAnd:
			c.emitAndImm(f, dst, imm)
		default:
			c.aluRI(f, aluExt[k], dst, imm)
		}
	case kMov:
		if isReg {
			c.movRR(f, dst, src)
		} else {
			c.setRI(f, dst, imm) // flags are dead: each JMP sets its own
		}
	case kMul:
		if isReg {
			c.rr(f, opImul, dst, src)
		} else {
			c.imulRI(f, dst, dst, imm)
		}
	case kLsh, kRsh, kArsh:
		c.emitShift(f, is64, shExt[k], dst, src, isReg, uint8(imm))
	case kDiv, kMod, kSDiv, kSMod:
		if isReg {
			c.emitDiv(k, f, dst, src)
		} else {
			c.emitDivImm(k, f, dst, imm)
		}
	case kNeg:
		c.rr(f, opGrp3, extNeg, dst)
	case kMovSX8:
		c.rr(f|fRex, opMovsx8, dst, src) // REX so that SIL and DIL are addressable
	case kMovSX16:
		c.rr(f, opMovsx6, dst, src)
	case kMovSX32:
		c.rr(fW, opMovsxd, dst, src)
	}
}

// emitShift shifts by a constant or by a register through CL (RCX is a
// scratch register, so nothing needs saving). x86 masks the count to 5 or
// 6 bits exactly as eBPF does.
func (c *compiler) emitShift(f flags, is64 bool, ext, dst, src reg, isReg bool, n uint8) {
	if isReg {
		c.movRR(0, rcx, src) // the count is CL's low bits
		c.rr(f, opGrp2CL, ext, dst)
		if !is64 {
			c.movRR(0, dst, dst) // zero-extend even for a count of 0
		}
		return
	}
	if is64 {
		n &= 63
	} else {
		n &= 31
	}
	if n == 0 {
		if !is64 {
			c.movRR(0, dst, dst)
		}
		return
	}
	c.shiftRI(f, ext, dst, n)
}

// emitDiv emits division and modulo by a register with RFC 9669
// results. x86 DIV and IDIV raise #DE for a zero divisor and IDIV also
// for INT_MIN / -1, so both are tested first:
//
//	x / 0 = 0, x % 0 = x (the low half, zero-extended, for 32 bits);
//	x s/ -1 = -x (wraps for INT_MIN), x s% -1 = 0.
func (c *compiler) emitDiv(k aluKind, f flags, dst, src reg) {
	signed := k == kSDiv || k == kSMod
	c.aluRR(f, opTest, src, src)
	nonZero := c.jcc8(ccNE)
	c.emitDivByZero(k, f, dst)
	var done []int
	done = append(done, c.jmp8())
	c.patch8(nonZero)
	if signed {
		c.aluRI(f, extCmp, src, -1)
		notMinus1 := c.jcc8(ccNE)
		c.emitDivByMinus1(k, f, dst)
		done = append(done, c.jmp8())
		c.patch8(notMinus1)
	}
	c.emitDivOp(k, f, dst, src)
	for _, d := range done {
		c.patch8(d)
	}
}

// emitDivImm emits division and modulo by a constant, whose special
// cases are known at compile time: 0 and, signed, -1 give emitDiv's
// results without a test, unsigned powers of two become a shift or a
// mask, and any other divisor needs no test before DIV or IDIV. A
// 64-bit divisor is the imm sign-extended, as in the interpreter.
func (c *compiler) emitDivImm(k aluKind, f flags, dst reg, imm int32) {
	signed := k == kSDiv || k == kSMod
	switch {
	case imm == 0:
		c.emitDivByZero(k, f, dst)
	case signed && imm == -1:
		c.emitDivByMinus1(k, f, dst)
	case !signed && imm > 0 && imm&(imm-1) == 0:
		// x / 2^n = x >> n and x % 2^n = x & (2^n - 1), for 32 and 64
		// bits alike (imm > 0: its sign extension is itself).
		if k == kMod {
			c.emitAndImm(f, dst, imm-1)
			return
		}
		n := uint8(bits.TrailingZeros32(uint32(imm)))
		switch {
		case n > 0:
			c.shiftRI(f, extShr, dst, n)
		case f&fW == 0:
			c.movRR(0, dst, dst) // x / 1, zero-extended
		}
	default:
		c.movRI(f, rcx, imm)
		c.emitDivOp(k, f, dst, rcx)
	}
}

// emitDivByZero sets dst to x / 0 = 0 or x % 0 = x (zero-extended for
// 32 bits).
func (c *compiler) emitDivByZero(k aluKind, f flags, dst reg) {
	switch {
	case k == kDiv || k == kSDiv:
		c.aluRR(0, opXor, dst, dst)
	case f&fW == 0:
		c.movRR(0, dst, dst)
	}
}

// emitDivByMinus1 sets dst to x s/ -1 = -x or x s% -1 = 0.
func (c *compiler) emitDivByMinus1(k aluKind, f flags, dst reg) {
	if k == kSMod {
		c.aluRR(0, opXor, dst, dst)
		return
	}
	c.rr(f, opGrp3, extNeg, dst)
}

// emitDivOp divides dst by src, a divisor neither 0 nor (signed) -1,
// through RDX:RAX.
func (c *compiler) emitDivOp(k aluKind, f flags, dst, src reg) {
	c.movRR(f, rax, dst)
	if k == kSDiv || k == kSMod {
		c.prefixes(f, 0, 0)
		c.bytes(0x99) // cdq / cqo
		c.rr(f, opGrp3, extIdiv, src)
	} else {
		c.aluRR(0, opXor, rdx, rdx)
		c.rr(f, opGrp3, extDiv, src)
	}
	if k == kMod || k == kSMod {
		c.movRR(f, dst, rdx)
	} else {
		c.movRR(f, dst, rax)
	}
}

// emitAndImm emits dst &= imm. Masks of 0xff and 0xffff, for either
// width, are movzx dst32, dst8 or dst16 (3 or 4 bytes instead of an AND
// with an imm32, 6 or 7): a 32-bit result zero-extends to 64 bits, as
// the 64-bit AND with the positive mask clears them. SIL and DIL need a
// REX prefix.
func (c *compiler) emitAndImm(f flags, dst reg, imm int32) {
	switch imm {
	case 0xff:
		c.rr(byteReg(dst), opMovzx8, dst, dst)
	case 0xffff:
		c.rr(0, opMovzx6, dst, dst)
	default:
		c.aluRI(f, extAnd, dst, imm)
	}
}

// byteReg is fRex for a register whose low byte needs a REX prefix to be
// addressed (SPL, BPL, SIL, DIL; without one the encodings mean AH-BH),
// else 0.
func byteReg(r reg) flags {
	if r >= rsp && r <= rdi {
		return fRex
	}
	return 0
}

// emitSwap emits le, be and bswap on a little-endian host.
func (c *compiler) emitSwap(in *program.Insn) {
	dst := regMap[in.Dst]
	switch in.Op {
	case program.Le16:
		c.rr(0, opMovzx6, dst, dst)
	case program.Le32:
		c.movRR(0, dst, dst)
	case program.Le64:
	case program.Be16, program.BSwap16:
		c.shiftRI(f66, extRol, dst, 8) // rol r16, 8
		c.rr(0, opMovzx6, dst, dst)
	case program.Be32, program.BSwap32:
		c.bswap(0, dst)
	case program.Be64, program.BSwap64:
		c.bswap(fW, dst)
	}
}

// jumpCC maps each comparison to its condition code, by the index of its
// Imm form among the JMP-class ops (JEq first).
var jumpCC = [...]byte{ccE, ccNE, ccA, ccAE, ccB, ccBE, ccG, ccGE, ccL, ccLE, ccNE}

// emitCondJump compares (CMP, or TEST for JSET) and jumps. Shorter
// forms set the flags the jump reads as the long ones would:
//
//   - cmp dst, 0 is test dst, dst. Both clear CF and OF and set ZF, SF
//     and PF from dst (they differ in AF only, which no Jcc reads), so
//     every condition in jumpCC, unsigned (A, AE, B, BE) and signed (G,
//     GE, L, LE) alike, decides the same (the kernel's JIT does this).
//   - cmp dst, imm takes the imm8 form when imm fits (aluRI).
//   - JSET's test dst, imm tests the low byte alone (F6 /0 ib) when imm
//     is in [0, 255]: dst & imm, sign-extended or not, has no other bits,
//     so ZF, which JNE reads, is the same.
func (c *compiler) emitCondJump(in *program.Insn) {
	base, f := program.JEqImm, flags(fW)
	if in.Op.IsJump32() {
		base, f = program.JEq32Imm, 0
	}
	d := int(in.Op - base)
	isSet, isReg := d/2 == 10, d%2 == 1
	dst, imm := regMap[in.Dst], int32(in.Imm)
	switch {
	case isSet && isReg:
		c.aluRR(f, opTest, dst, regMap[in.Src])
	case isSet && imm >= 0 && imm <= 0xff:
		c.rr(byteReg(dst), opTestI8, extTest, dst)
		c.bytes(byte(imm))
	case isSet:
		c.rr(f, opGrp3, extTest, dst)
		c.imm32(imm)
	case isReg:
		c.aluRR(f, opCmp, dst, regMap[in.Src])
	case imm == 0:
		c.aluRR(f, opTest, dst, dst)
	default:
		c.aluRI(f, extCmp, dst, imm)
	}
	c.jumpIf(jumpCC[d/2], in.Target())
}
