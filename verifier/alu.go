package verifier

import (
	"math"
	"math/bits"

	"github.com/dropmon/dropmon/program"
)

// aluKind is an ALU operation without width or source: the dense Op enum
// lists them in this order, imm form then reg form, for both widths.
type aluKind uint8

const (
	aluAdd aluKind = iota
	aluSub
	aluMul
	aluDiv
	aluSDiv
	aluOr
	aluAnd
	aluLsh
	aluRsh
	aluMod
	aluSMod
	aluXor
	aluMov
	aluArsh
)

var aluSymbols = [...]string{"+=", "-=", "*=", "/=", "s/=", "|=", "&=", "<<=", ">>=", "%=", "s%=", "^=", "=", "s>>="}

func aluKindOf(op program.Op) aluKind {
	if op.IsALU64() {
		return aluKind((op - program.Add64Imm) / 2)
	}
	return aluKind((op - program.Add32Imm) / 2)
}

// checkALU simulates an ALU, ALU64 or byte swap instruction
// (check_alu_op).
func (e *env) checkALU(pc int, in *program.Insn) error {
	op := in.Op
	if err := e.checkWrite(pc, in.Dst); err != nil {
		return err
	}
	regs := e.regs()
	dst := &regs[in.Dst]
	switch op {
	case program.Mov64Imm:
		dst.setConstScalar(uint64(in.Imm))
		return nil
	case program.Mov32Imm:
		dst.setConstScalar(uint64(uint32(in.Imm)))
		return nil
	case program.Mov64Reg, program.Mov32Reg, program.MovSX8To64, program.MovSX16To64, program.MovSX32To64,
		program.MovSX8To32, program.MovSX16To32:
		return e.checkMov(pc, in)
	}
	if err := e.checkRead(pc, in.Dst); err != nil {
		return err
	}
	if op.IsSwap() || op == program.Neg64 || op == program.Neg32 {
		if dst.typ != Scalar {
			if !e.allowPtrLeaks() {
				return e.reject(pc, "R%d pointer arithmetic prohibited", in.Dst)
			}
			dst.setUnknownScalar() // privileged: a pointer's bits as a number
		}
		unaryALU(dst, op)
		return nil
	}
	kind, is32 := aluKindOf(op), op.IsALU32()
	var src regState
	if isRegSource(op) {
		if err := e.checkRead(pc, in.Src); err != nil {
			return err
		}
		src = regs[in.Src]
	} else {
		imm := uint64(in.Imm)
		if is32 {
			imm = uint64(uint32(in.Imm))
		}
		src.setConstScalar(imm)
		if (kind == aluDiv || kind == aluSDiv || kind == aluMod || kind == aluSMod) && in.Imm == 0 {
			return e.reject(pc, "div by zero")
		}
		// RFC 9669 masks shift amounts, and the conformance suite tests
		// that; Linux refuses immediates out of range, so only dropmon's
		// conformance type may use them (every engine masks).
		if (kind == aluLsh || kind == aluRsh || kind == aluArsh) && (in.Imm < 0 || in.Imm >= int64(width(is32))) &&
			e.prog.Type != program.Conformance {
			return e.reject(pc, "invalid shift %d", in.Imm)
		}
	}
	if dst.typ != Scalar || src.typ != Scalar {
		return e.pointerALU(pc, in, kind, is32, src)
	}
	scalarALU(dst, &src, kind, is32)
	return nil
}

func width(is32 bool) uint {
	if is32 {
		return 32
	}
	return 64
}

// checkMov copies a register: a 64-bit move keeps everything and links
// the two scalars (one id), a 32-bit move truncates, movsx sign-extends.
func (e *env) checkMov(pc int, in *program.Insn) error {
	if err := e.checkRead(pc, in.Src); err != nil {
		return err
	}
	regs := e.regs()
	src, dst := &regs[in.Src], &regs[in.Dst]
	switch in.Op {
	case program.Mov64Reg:
		if src.typ == Scalar && src.id == 0 && !src.tn.isConst() {
			src.id = e.newID()
		}
		*dst = *src
		return nil
	case program.Mov32Reg:
		if src.typ != Scalar {
			if !e.allowPtrLeaks() {
				return e.reject(pc, "R%d partial copy of pointer", in.Src)
			}
			dst.setBoundedScalar(4)
			return nil
		}
		linked := src.umax <= math.MaxUint32 && !src.tn.isConst()
		if linked && src.id == 0 {
			src.id = e.newID()
		}
		*dst = *src
		if !linked {
			dst.id = 0
		}
		dst.zext32()
		return nil
	}
	if src.typ != Scalar {
		if !e.allowPtrLeaks() {
			return e.reject(pc, "R%d sign-extension part of pointer", in.Src)
		}
		dst.setUnknownScalar()
		return nil
	}
	v := *src
	v.id = 0
	switch in.Op {
	case program.MovSX8To64, program.MovSX8To32:
		v.sext(1)
	case program.MovSX16To64, program.MovSX16To32:
		v.sext(2)
	default:
		v.sext(4)
	}
	if in.Op.IsALU32() {
		v.zext32()
	}
	*dst = v
	return nil
}

// unaryALU handles neg and the byte swaps: exact for constants, otherwise
// only the width of the result is known.
func unaryALU(r *regState, op program.Op) {
	r.id = 0
	size := 8
	switch op {
	case program.Neg32, program.Le32, program.Be32, program.BSwap32:
		size = 4
	case program.Le16, program.Be16, program.BSwap16:
		size = 2
	}
	if !r.isConst() {
		if op == program.Le64 {
			return // a no-op on a little-endian machine
		}
		r.setBoundedScalar(size)
		return
	}
	v := r.tn.v
	switch op {
	case program.Neg64:
		v = -v
	case program.Neg32:
		v = uint64(uint32(-int32(v)))
	case program.Le16, program.Le32:
		v &= 1<<(8*size) - 1
	case program.Be16, program.BSwap16:
		v = uint64(bits.ReverseBytes16(uint16(v)))
	case program.Be32, program.BSwap32:
		v = uint64(bits.ReverseBytes32(uint32(v)))
	case program.Be64, program.BSwap64:
		v = bits.ReverseBytes64(v)
	}
	r.setConstScalar(v)
}

// scalarALU computes dst op= src on scalars (adjust_scalar_min_max_vals).
// A 32-bit operation works on the zero-extended low halves (sign-extended
// for arsh) and truncates the result: for every operation here the low 32
// bits of the 64-bit result are the 32-bit result.
func scalarALU(dst, src *regState, kind aluKind, is32 bool) {
	a, b := *dst, *src
	if is32 {
		a.zext32()
		b.zext32()
		if kind == aluArsh || kind == aluSDiv || kind == aluSMod {
			a.sext(4)
			b.sext(4)
		}
	}
	if (kind == aluLsh || kind == aluRsh || kind == aluArsh) && b.umax >= uint64(width(is32)) {
		// is_safe_to_compute_dst_reg_range: a shift count that may reach
		// the width gives an unknown result, a constant one included
		// (the engines mask it, as RFC 9669 says; the kernel's JITs
		// need not). The kernel gives up before the 32-bit zero
		// extension: all 64 bits are unknown.
		dst.setUnknownScalar()
		return
	}
	if a.isConst() && b.isConst() {
		dst.setConstScalar(evalALU(kind, a.tn.v, b.tn.v, is32))
		return
	}
	r := regState{typ: Scalar}
	r.markUnknown()
	switch kind {
	case aluAdd:
		r.tn = a.tn.add(b.tn)
		if s, o1 := bits.Add64(a.umin, b.umin, 0); o1 == 0 {
			if t, o2 := bits.Add64(a.umax, b.umax, 0); o2 == 0 {
				r.umin, r.umax = s, t
			}
		}
		if lo, ok := addS(a.smin, b.smin); ok {
			if hi, ok := addS(a.smax, b.smax); ok {
				r.smin, r.smax = lo, hi
			}
		}
	case aluSub:
		r.tn = a.tn.sub(b.tn)
		if a.umin >= b.umax {
			r.umin, r.umax = a.umin-b.umax, a.umax-b.umin
		}
		if lo, ok := addS(a.smin, -b.smax); ok && b.smax != math.MinInt64 {
			if hi, ok := addS(a.smax, -b.smin); ok && b.smin != math.MinInt64 {
				r.smin, r.smax = lo, hi
			}
		}
	case aluMul:
		r.tn = a.tn.mul(b.tn)
		if a.umax <= math.MaxUint32 && b.umax <= math.MaxUint32 {
			r.umin, r.umax = a.umin*b.umin, a.umax*b.umax
		}
	case aluAnd:
		r.tn = a.tn.and(b.tn)
		r.umax = min(a.umax, b.umax)
	case aluOr:
		r.tn = a.tn.or(b.tn)
		r.umin = max(a.umin, b.umin)
	case aluXor:
		r.tn = a.tn.xor(b.tn)
	case aluLsh, aluRsh, aluArsh:
		shiftALU(&r, &a, &b, kind, is32)
	}
	// Division and modulo of unknown values teach nothing: the kernel
	// tracks no bounds for them, and programs it accepts must not rely
	// on more.
	r.sync()
	if is32 {
		r.zext32()
	}
	*dst = r
}

func shiftALU(r, a, b *regState, kind aluKind, is32 bool) {
	if !b.isConst() || b.tn.v >= uint64(width(is32)) {
		return
	}
	s := uint(b.tn.v)
	switch kind {
	case aluLsh:
		r.tn = a.tn.lsh(s)
		if s == 0 || a.umax>>(64-s) == 0 {
			r.umin, r.umax = a.umin<<s, a.umax<<s
		}
	case aluRsh:
		r.tn = a.tn.rsh(s)
		r.umin, r.umax = a.umin>>s, a.umax>>s
	case aluArsh:
		r.tn = a.tn.arsh(s)
		r.smin, r.smax = a.smin>>s, a.smax>>s
	}
}

func addS(a, b int64) (int64, bool) {
	s := a + b
	return s, (s > a) == (b > 0)
}

// evalALU computes a constant result with RFC 9669 semantics: division
// by zero gives 0, modulo by zero leaves dst, shifts mask their amount.
func evalALU(kind aluKind, a, b uint64, is32 bool) uint64 {
	if is32 {
		a32, b32 := uint32(a), uint32(b)
		var r uint32
		switch kind {
		case aluSDiv:
			if b32 != 0 {
				r = uint32(int32(a32) / int32(b32))
				if int32(b32) == -1 {
					r = -a32
				}
			}
			return uint64(r)
		case aluSMod:
			r = a32
			if b32 != 0 {
				r = uint32(int32(a32) % int32(b32))
				if int32(b32) == -1 {
					r = 0
				}
			}
			return uint64(r)
		case aluArsh:
			return uint64(uint32(int32(a32) >> (b32 & 31)))
		case aluLsh:
			return uint64(a32 << (b32 & 31))
		case aluRsh:
			return uint64(a32 >> (b32 & 31))
		}
		return evalALU(kind, uint64(a32), uint64(b32), false) & math.MaxUint32
	}
	switch kind {
	case aluAdd:
		return a + b
	case aluSub:
		return a - b
	case aluMul:
		return a * b
	case aluDiv:
		if b == 0 {
			return 0
		}
		return a / b
	case aluSDiv:
		switch int64(b) {
		case 0:
			return 0
		case -1:
			return -a
		}
		return uint64(int64(a) / int64(b))
	case aluMod:
		if b == 0 {
			return a
		}
		return a % b
	case aluSMod:
		switch int64(b) {
		case 0:
			return a
		case -1:
			return 0
		}
		return uint64(int64(a) % int64(b))
	case aluOr:
		return a | b
	case aluAnd:
		return a & b
	case aluXor:
		return a ^ b
	case aluLsh:
		return a << (b & 63)
	case aluRsh:
		return a >> (b & 63)
	case aluArsh:
		return uint64(int64(a) >> (b & 63))
	case aluMov:
		return b
	}
	return 0
}
