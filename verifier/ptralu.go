package verifier

import (
	"math"

	"github.com/dropmon/dropmon/program"
)

// maxVarOff is BPF_MAX_VAR_OFF: pointer offsets stay well inside 32 bits.
const maxVarOff = 1 << 29

// pointerALU handles an ALU operation with a pointer operand
// (adjust_ptr_min_max_vals). Map values, stack, packet, memory and context
// pointers take scalar additions and subtractions, tracked as a fixed
// offset plus a variable one; everything else is refused, in the kernel's
// words.
func (e *env) pointerALU(pc int, in *program.Insn, kind aluKind, is32 bool, src regState) error {
	regs := e.regs()
	dst := &regs[in.Dst]
	sym := aluSymbols[kind]
	if dst.typ != Scalar && src.typ != Scalar {
		if kind == aluSub && e.allowPtrLeaks() {
			dst.setUnknownScalar() // pointer - pointer: a number
			return nil
		}
		return e.reject(pc, "R%d pointer %s pointer prohibited", in.Dst, sym)
	}
	if is32 {
		if kind == aluSub && e.allowPtrLeaks() {
			dst.setUnknownScalar()
			return nil
		}
		return e.reject(pc, "R%d 32-bit pointer arithmetic prohibited", in.Dst)
	}
	ptr, off := *dst, src
	ptrIsDst := dst.typ != Scalar
	if !ptrIsDst { // scalar += pointer
		ptr, off = src, *dst
	}
	if ptr.typ.OrNull() {
		return e.reject(pc, "R%d pointer arithmetic on %s prohibited, null-check it first", in.Dst, ptr.typ)
	}
	if err := e.pointerTypeALU(pc, in.Dst, kind, &ptr, &off); err != nil {
		return err
	}
	if err := e.saneOffset(pc, &off, ptr.typ); err != nil {
		return err
	}
	var info sanitizeInfo
	sanitize := e.needSanitize(in, kind)
	if sanitize {
		var err error
		if info, err = e.sanitizeBefore(pc, in, kind, &ptr, &off, ptrIsDst); err != nil {
			return err
		}
	}
	switch {
	case kind == aluSub && !ptrIsDst:
		return e.reject(pc, "R%d tried to subtract pointer from scalar", in.Dst)
	case kind == aluSub && ptr.typ == PtrToStack:
		// The kernel refuses it: JITs might not handle it correctly.
		return e.reject(pc, "R%d subtraction from stack pointer prohibited", in.Dst)
	case kind == aluAnd || kind == aluOr || kind == aluXor:
		return e.reject(pc, "R%d bitwise operator %s on pointer prohibited", in.Dst, sym)
	case kind != aluAdd && kind != aluSub:
		return e.reject(pc, "R%d pointer arithmetic with %s operator prohibited", in.Dst, sym)
	}
	moved, err := e.movePointer(pc, in.Dst, kind, ptr, &off)
	if err != nil {
		return err
	}
	if err := e.sanitizeCheckBounds(pc, in.Dst, &moved); err != nil {
		return err
	}
	if sanitize {
		if err := e.sanitizeCommit(pc, in, kind, info, &moved); err != nil {
			return err
		}
	}
	*dst = moved
	return nil
}

// pointerTypeALU refuses arithmetic on the pointers that allow none, or
// only a known offset (the type switch of adjust_ptr_min_max_vals).
func (e *env) pointerTypeALU(pc int, regno uint8, kind aluKind, ptr, off *regState) error {
	known := off.isConst()
	switch ptr.typ {
	case PtrToCtx, PtrToMapValue, PtrToMapKey, PtrToStack, PtrToPacket, PtrToPacketMeta, PtrToMem:
	case PtrToFlowKeys:
		if !known {
			return e.reject(pc, "R%d pointer arithmetic on %s prohibited", regno, ptr.typ)
		}
	case ConstPtrToMap:
		if !(known && off.tn.v == 0 && kind == aluAdd) {
			return e.reject(pc, "R%d pointer arithmetic on %s prohibited", regno, ptr.typ)
		}
	default:
		return e.reject(pc, "R%d pointer arithmetic on %s prohibited", regno, ptr.typ)
	}
	return nil
}

// saneOffset is check_reg_sane_offset for the offset's register, which
// the kernel checks before anything else about the arithmetic.
func (e *env) saneOffset(pc int, off *regState, t RegType) error {
	if off.isConst() {
		if v := int64(off.tn.v); v >= maxVarOff || v <= -maxVarOff {
			return e.reject(pc, "math between %s pointer and %d is not allowed", t, v)
		}
		return nil
	}
	if off.smin == math.MinInt64 {
		return e.reject(pc, "math between %s pointer and register with unbounded min value is not allowed", t)
	}
	if off.smin >= maxVarOff || off.smin <= -maxVarOff {
		return e.reject(pc, "value %d makes %s pointer be out of bounds", off.smin, t)
	}
	return nil
}

// movePointer adds (or subtracts) the scalar off to ptr where the
// pointer's type allows it, for the instruction's dst register regno.
func (e *env) movePointer(pc int, regno uint8, kind aluKind, ptr regState, off *regState) (regState, error) {
	if off.isConst() {
		v := int64(off.tn.v)
		if v >= maxVarOff || v <= -maxVarOff {
			return ptr, e.reject(pc, "math between %s pointer and %d is not allowed", ptr.typ, v)
		}
		if kind == aluSub {
			v = -v
		}
		n := int64(ptr.off) + v
		if n >= maxVarOff || n <= -maxVarOff {
			return ptr, e.reject(pc, "%s pointer offset %d is not allowed", ptr.typ, n)
		}
		ptr.off = int32(n)
		return ptr, nil
	}
	if off.smin == math.MinInt64 {
		return ptr, e.reject(pc, "math between %s pointer and register with unbounded min value is not allowed", ptr.typ)
	}
	if off.smin >= maxVarOff || off.smin <= -maxVarOff {
		return ptr, e.reject(pc, "value %d makes %s pointer be out of bounds", off.smin, ptr.typ)
	}
	varOff := ptr
	varOff.typ = Scalar
	scalarALU(&varOff, off, kind, false)
	ptr.copyNumbers(&varOff)
	if ptr.typ == PtrToPacket || ptr.typ == PtrToPacketMeta {
		ptr.id, ptr.rng = e.newID(), 0 // a new base: ranges must be proven again
	}
	return ptr, nil
}
