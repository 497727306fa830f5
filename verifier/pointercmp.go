package verifier

import "github.com/dropmon/dropmon/program"

// maxPacketOff is MAX_PACKET_OFF: packet offsets fit in 16 bits.
const maxPacketOff = 0xffff

// pointerJump handles a conditional jump with a pointer operand: null
// checks, packet range checks, and (privileged only) other comparisons,
// which teach nothing.
func (e *env) pointerJump(pc int, in *program.Insn, c cond, is32 bool, dst, src *regState, srcReg bool) (int, error) {
	if !is32 && (c == condEQ || c == condNE) {
		ptr := dst
		if dst.typ == Scalar {
			ptr = src
		}
		zero := (ptr == dst && src.isZero()) || (ptr == src && dst.isZero())
		if zero {
			if !ptr.typ.OrNull() {
				// A pointer that is not _or_null is never NULL.
				if c == condEQ {
					return pc + 1, nil
				}
				return in.Target(), nil
			}
			other := e.cur.clone()
			markNull(other, ptr, c == condEQ)
			markNull(e.cur, ptr, c != condEQ)
			if err := e.push(other, in.Target(), pc); err != nil {
				return -1, err
			}
			return pc + 1, nil
		}
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
	if e.opts.Unprivileged {
		r := in.Dst
		if dst.typ == Scalar {
			r = in.Src
		}
		return -1, e.reject(pc, "R%d pointer comparison prohibited", r)
	}
	if err := e.push(e.cur.clone(), in.Target(), pc); err != nil {
		return -1, err
	}
	return pc + 1, nil
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
