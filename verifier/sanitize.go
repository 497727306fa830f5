package verifier

import "github.com/dropmon/dropmon/program"

// Spectre v1 hardening of pointer arithmetic, for loaders without
// CAP_PERFMON (the kernel's !env->bypass_spec_v1). The kernel masks the
// offset of every "ptr += reg" and "ptr -= reg" at run time so that a
// mispredicted path cannot move the pointer out of its object; for that
// the pointer must be one whose bounds it knows (stack or map value), the
// offset's sign known, and every path through the instruction must need
// the same mask. After any pointer arithmetic the pointer must still point
// inside its object. dropmon does not rewrite programs, but it refuses what
// the kernel refuses, with its messages.

// aluSanitize is what the first visit of a pointer ALU instruction
// recorded (bpf_insn_aux_data's alu_state and alu_limit).
type aluSanitize struct {
	state uint8
	limit uint32
	seen  bool
}

// Bits of aluSanitize.state (BPF_ALU_*).
const (
	aluSanitizeSrc  = 1 << 0 // the pointer is the destination
	aluSanitizeDst  = 1 << 1 // the pointer is the source: scalar += ptr
	aluNegValue     = 1 << 2 // the offset is negative
	aluImmediateOff = 1 << 3 // the offset is a known constant
)

const specErr = "pointer arithmetic with it prohibited for !root"

// sanitizeInfo carries the first phase's findings to the commit.
type sanitizeInfo struct {
	maskToLeft bool
	state      uint8
	limit      uint32
}

// needSanitize reports whether "ptr op= reg" is hardened
// (sanitize_needed and can_skip_alu_sanitation).
func (e *env) needSanitize(in *program.Insn, kind aluKind) bool {
	return !e.bypassSpecV1() && isRegSource(in.Op) && (kind == aluAdd || kind == aluSub)
}

// sanitizeBefore is sanitize_ptr_alu before the operation: the offset's
// sign must be known and the pointer's room in the direction it may move
// is measured. offReg is the offset's register, ptrIsDst whether the
// pointer is the destination.
func (e *env) sanitizeBefore(pc int, in *program.Insn, kind aluKind, ptr, off *regState, ptrIsDst bool) (sanitizeInfo, error) {
	var info sanitizeInfo
	offReg, ptrReg := in.Src, in.Dst
	if !ptrIsDst {
		offReg, ptrReg = in.Dst, in.Src
	}
	offIsImm, offIsNeg := off.tn.isConst(), off.smin < 0
	if !offIsImm && (off.smin < 0) != (off.smax < 0) {
		return info, e.reject(pc, "R%d has unknown scalar with mixed signed bounds, %s", offReg, specErr)
	}
	info.maskToLeft = (kind == aluAdd && offIsNeg) || (kind == aluSub && !offIsNeg)
	limit, err := e.ptrLimit(pc, in, kind, ptr, info.maskToLeft, ptrReg)
	if err != nil {
		return info, err
	}
	info.limit = limit
	if offIsNeg {
		info.state |= aluNegValue
	}
	if offIsImm {
		info.state |= aluImmediateOff
	}
	if ptrIsDst {
		info.state |= aluSanitizeSrc
	} else {
		info.state |= aluSanitizeDst
	}
	return info, nil
}

// sanitizeCommit is sanitize_ptr_alu after the operation: the mask is how
// far the pointer moved, and every path through pc must need the same.
func (e *env) sanitizeCommit(pc int, in *program.Insn, kind aluKind, info sanitizeInfo, moved *regState) error {
	after, err := e.ptrLimit(pc, in, kind, moved, info.maskToLeft, in.Dst)
	if err != nil {
		return err
	}
	d := int32(info.limit - after)
	if d < 0 {
		d = -d
	}
	if e.aluAux == nil {
		e.aluAux = make([]aluSanitize, len(e.insns))
	}
	aux := &e.aluAux[pc]
	if aux.seen && (aux.state != info.state || aux.limit != uint32(d)) {
		return e.reject(pc, "R%d tried to %s from different maps, paths or scalars, %s", in.Dst, opVerb(kind), specErr)
	}
	*aux = aluSanitize{state: info.state, limit: uint32(d), seen: true}
	return nil
}

// ptrLimit is retrieve_ptr_limit: how far the pointer may move towards
// the start (maskToLeft) or the end of its object.
func (e *env) ptrLimit(pc int, in *program.Insn, kind aluKind, ptr *regState, maskToLeft bool, ptrReg uint8) (uint32, error) {
	var max, limit uint32
	switch ptr.typ {
	case PtrToStack:
		max = maxBPFStack + uint32(b2i(maskToLeft))
		limit = uint32(-(int64(ptr.tn.v) + int64(ptr.off)))
	case PtrToMapValue:
		max = ptr.size
		if maskToLeft {
			limit = uint32(ptr.smin + int64(ptr.off))
		} else {
			limit = uint32(ptr.umax + uint64(int64(ptr.off)))
		}
	default:
		return 0, e.reject(pc, "R%d has pointer with unsupported alu operation, %s", ptrReg, specErr)
	}
	if limit >= max {
		return 0, e.reject(pc, "R%d tried to %s beyond pointer bounds, %s", in.Dst, opVerb(kind), specErr)
	}
	return limit, nil
}

func opVerb(kind aluKind) string {
	if kind == aluAdd {
		return "add"
	}
	return "sub"
}

// sanitizeCheckBounds is sanitize_check_bounds: after arithmetic a stack
// pointer must have a constant offset inside the frame and a map value
// pointer must point inside the value.
func (e *env) sanitizeCheckBounds(pc int, regno uint8, ptr *regState) error {
	if e.bypassSpecV1() {
		return nil
	}
	switch ptr.typ {
	case PtrToStack:
		if !ptr.tn.isConst() {
			return e.reject(pc, "R%d variable stack access prohibited for !root, var_off=%s off=%d", regno, ptr.tn,
				int64(ptr.off)+int64(ptr.tn.v))
		}
		off := int64(ptr.off) + int64(ptr.tn.v)
		if off >= 0 || off < -maxBPFStack {
			return e.reject(pc, "R%d stack pointer arithmetic goes out of range, prohibited for !root; off=%d", regno, off)
		}
	case PtrToMapValue:
		lo := int64(ptr.off) + ptr.smin
		if ptr.smin < 0 || lo < 0 || ptr.umax >= maxVarOff || int64(ptr.off)+int64(ptr.umax)+1 > int64(ptr.size) {
			return e.reject(pc, "R%d pointer arithmetic of map value goes out of range, prohibited for !root", regno)
		}
	}
	return nil
}
