//go:build amd64 && linux

package jit

import "github.com/dropmon/dropmon/program"

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
		if isReg {
			c.aluRR(f, aluOp[k], dst, src)
		} else {
			c.aluRI(f, aluExt[k], dst, imm)
		}
	case kMov:
		if isReg {
			c.movRR(f, dst, src)
		} else {
			c.movRI(f, dst, imm)
		}
	case kMul:
		if isReg {
			c.rr(f, opImul, dst, src)
		} else {
			c.rr(f, []byte{0x69}, dst, dst) // imul dst, dst, imm32
			c.imm32(imm)
		}
	case kLsh, kRsh, kArsh:
		c.emitShift(f, is64, shExt[k], dst, src, isReg, uint8(imm))
	case kDiv, kMod, kSDiv, kSMod:
		if !isReg {
			c.movRI(f, rcx, imm)
			src = rcx
		}
		c.emitDiv(k, f, dst, src)
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
		c.movRR(fW, rcx, src)
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

// emitDiv emits division and modulo with RFC 9669 results. x86 DIV and
// IDIV raise #DE for a zero divisor and IDIV also for INT_MIN / -1, so
// both are tested first:
//
//	x / 0 = 0, x % 0 = x (the low half, zero-extended, for 32 bits);
//	x s/ -1 = -x (wraps for INT_MIN), x s% -1 = 0.
func (c *compiler) emitDiv(k aluKind, f flags, dst, src reg) {
	signed := k == kSDiv || k == kSMod
	isMod := k == kMod || k == kSMod
	c.aluRR(f, opTest, src, src)
	nonZero := c.jcc8(ccNE)
	if isMod {
		if f&fW == 0 {
			c.movRR(0, dst, dst)
		}
	} else {
		c.aluRR(0, opXor, dst, dst)
	}
	var done []int
	done = append(done, c.jmp8())
	c.patch8(nonZero)
	if signed {
		c.aluRI(f, extCmp, src, -1)
		notMinus1 := c.jcc8(ccNE)
		if isMod {
			c.aluRR(0, opXor, dst, dst)
		} else {
			c.rr(f, opGrp3, extNeg, dst)
		}
		done = append(done, c.jmp8())
		c.patch8(notMinus1)
	}
	c.movRR(f, rax, dst)
	if signed {
		c.prefixes(f, 0, 0)
		c.bytes(0x99) // cdq / cqo
		c.rr(f, opGrp3, extIdiv, src)
	} else {
		c.aluRR(0, opXor, rdx, rdx)
		c.rr(f, opGrp3, extDiv, src)
	}
	if isMod {
		c.movRR(f, dst, rdx)
	} else {
		c.movRR(f, dst, rax)
	}
	for _, d := range done {
		c.patch8(d)
	}
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

// emitCondJump compares (CMP, or TEST for JSET) and jumps.
func (c *compiler) emitCondJump(in *program.Insn) {
	base, f := program.JEqImm, flags(fW)
	if in.Op.IsJump32() {
		base, f = program.JEq32Imm, 0
	}
	d := int(in.Op - base)
	isSet, isReg := d/2 == 10, d%2 == 1
	dst := regMap[in.Dst]
	switch {
	case isSet && isReg:
		c.aluRR(f, opTest, dst, regMap[in.Src])
	case isSet:
		c.rr(f, opGrp3, extTest, dst)
		c.imm32(int32(in.Imm))
	case isReg:
		c.aluRR(f, opCmp, dst, regMap[in.Src])
	default:
		c.aluRI(f, extCmp, dst, int32(in.Imm))
	}
	c.jumpIf(jumpCC[d/2], in.Target())
}
