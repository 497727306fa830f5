package verifier

import "github.com/dropmon/dropmon/program"

// maxPacketOff is MAX_PACKET_OFF: packet offsets fit in 16 bits.
const maxPacketOff = 0xffff

// pointerJump handles a conditional jump with a pointer operand, in the
// kernel's order (check_cond_jmp_op): a pointer source is refused first
// to loaders that may not leak pointers (unless both are packet
// pointers); then a comparison whose outcome is known (a pointer that
// cannot be NULL against 0) goes one way; then null checks ("if r0 == 0",
// 64-bit, immediate 0) and packet range checks teach both sides; any
// other comparison of a pointer teaches nothing, and only loaders that
// may leak pointers may make it.
func (e *env) pointerJump(pc int, in *program.Insn, c cond, is32 bool, dst, src *regState, srcReg bool) (int, error) {
	if srcReg && src.typ != Scalar && !(isPacketPtr(dst.typ) && isPacketPtr(src.typ)) && !e.allowPtrLeaks() {
		return -1, e.reject(pc, "R%d pointer comparison prohibited", in.Src)
	}
	switch pointerBranchTaken(dst, src, c, is32) {
	case 1:
		return in.Target(), e.pushSpeculative(pc, in, pc+1)
	case 0:
		return pc + 1, e.pushSpeculative(pc, in, in.Target())
	}
	if !is32 && !srcReg && in.Imm == 0 && (c == condEQ || c == condNE) && dst.typ.OrNull() {
		other := e.cur.clone()
		markNull(other, dst, c == condEQ)
		markNull(e.cur, dst, c != condEQ)
		if err := e.push(other, in.Target(), pc); err != nil {
			return -1, err
		}
		return pc + 1, nil
	}
	if srcReg && !is32 {
		if data, end, cc, ok := packetCompare(dst, src, c); ok {
			other := e.cur.clone()
			switch cc {
			case condGT: // data > end: in range on the fall-through side
				markPacketRange(e.cur, data, false)
			case condGE:
				markPacketRange(e.cur, data, true)
			case condLT: // data < end: in range on the jump side
				markPacketRange(other, data, true)
			case condLE:
				markPacketRange(other, data, false)
			}
			_ = end
			if err := e.push(other, in.Target(), pc); err != nil {
				return -1, err
			}
			return pc + 1, nil
		}
	}
	if dst.typ != Scalar && !e.allowPtrLeaks() {
		return -1, e.reject(pc, "R%d pointer comparison prohibited", in.Dst)
	}
	if err := e.push(e.cur.clone(), in.Target(), pc); err != nil {
		return -1, err
	}
	return pc + 1, nil
}

// pointerBranchTaken decides a 64-bit "if ptr == 0" or "if ptr != 0",
// in either operand order, for a pointer that cannot be NULL (the
// pointer half of is_branch_taken): 1 taken, 0 not, -1 unknown. Linux
// 6.18 decides no JMP32 comparison of a pointer.
func pointerBranchTaken(dst, src *regState, c cond, is32 bool) int {
	if is32 || (c != condEQ && c != condNE) {
		return -1
	}
	ptr, k := dst, src
	if !k.isConst() {
		ptr, k = src, dst
	}
	if !k.isConst() || k.tn.v != 0 || !notNull(ptr.typ) {
		return -1
	}
	return b2i(c == condNE)
}

// notNull lists the pointers that are never NULL (reg_not_null): the
// stack, context and packet pointers are not among them, so comparing
// those with 0 teaches nothing.
func notNull(t RegType) bool {
	switch t {
	case PtrToMapValue, PtrToMapKey, ConstPtrToMap, PtrToMem, PtrToSocket, PtrToSockCommon:
		return true
	}
	return false
}

// isPacketPtr is reg_is_pkt_pointer_any.
func isPacketPtr(t RegType) bool {
	return t == PtrToPacket || t == PtrToPacketMeta || t == PtrToPacketEnd
}

// markNull settles every copy of an _or_null pointer (same id): the scalar
// 0 on the side where it is NULL, the pointer itself on the other.
func markNull(st *vstate, ptr *regState, isNull bool) {
	id, t := ptr.id, ptr.typ
	if isNull {
		st.release(id) // a NULL reservation holds nothing
	}
	st.forEachReg(func(r *regState) {
		if r.typ != t || r.id != id {
			return
		}
		if isNull {
			r.setConstScalar(0)
			return
		}
		r.typ = r.typ.NotNull()
		if r.typ == PtrToMapValue && r.m != nil && r.m.InnerMap != nil {
			r.typ, r.m, r.size = ConstPtrToMap, r.m.InnerMap, 0
		}
		if r.typ != PtrToMem && r.typ != PtrToSocket {
			r.id = 0 // only references keep their id
		}
	})
}

// packetCompare recognises "data c end" (pkt against pkt_end, or
// pkt_meta against pkt) in either operand order, and returns the
// condition with data on the left.
func packetCompare(dst, src *regState, c cond) (data, end *regState, cc cond, ok bool) {
	isPair := func(a, b *regState) bool {
		return (a.typ == PtrToPacket && b.typ == PtrToPacketEnd) || (a.typ == PtrToPacketMeta && b.typ == PtrToPacket)
	}
	switch {
	case isPair(dst, src):
		return dst, src, c, c >= condGT && c <= condLE
	case isPair(src, dst):
		return src, dst, c.swap(), c >= condGT && c <= condLE
	}
	return nil, nil, c, false
}

// markPacketRange records that data's fixed offset (one more when the
// comparison was strict) is inside the packet, for every pointer sharing
// its base (find_good_pkt_pointers).
func markPacketRange(st *vstate, data *regState, open bool) {
	if data.off < 0 || (data.off == 0 && open) {
		return
	}
	if data.umax > maxPacketOff || data.umax+uint64(data.off) > maxPacketOff {
		return
	}
	rng := data.off
	if open {
		rng++
	}
	id, t := data.id, data.typ
	st.forEachReg(func(r *regState) {
		if r.typ == t && r.id == id {
			r.rng = max(r.rng, rng)
		}
	})
}
