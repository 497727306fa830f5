package verifier

import "math"

// Scalar bounds. A register's numeric facts are a tnum plus signed and
// unsigned ranges of its 64 bits and of its low 32 bits; for a pointer
// they describe its variable offset. sync keeps them consistent, as the
// kernel's reg_bounds_sync does: ranges learn from the tnum, signed and
// unsigned ranges learn from each other when neither crosses a sign
// boundary, the 32-bit ranges learn from a 64-bit range that stays in one
// 2^32 block and teach it when the upper half is known, and the tnum
// learns from the unsigned ranges.

func (r *regState) markUnknown() {
	r.tn = tnumUnknown
	r.smin, r.smax = math.MinInt64, math.MaxInt64
	r.umin, r.umax = 0, math.MaxUint64
	r.markUnknown32()
}

func (r *regState) markUnknown32() {
	r.s32min, r.s32max = math.MinInt32, math.MaxInt32
	r.u32min, r.u32max = 0, math.MaxUint32
}

func (r *regState) markConst(v uint64) {
	r.tn = tnumConst(v)
	r.smin, r.smax = int64(v), int64(v)
	r.umin, r.umax = v, v
	r.s32min, r.s32max = int32(v), int32(v)
	r.u32min, r.u32max = uint32(v), uint32(v)
}

// setScalar turns r into a scalar with no facts and no id.
func (r *regState) setUnknownScalar() {
	*r = regState{typ: Scalar}
	r.markUnknown()
}

func (r *regState) setConstScalar(v uint64) {
	*r = regState{typ: Scalar}
	r.markConst(v)
}

// setBoundedScalar is an unknown value of size bytes, zero-extended.
func (r *regState) setBoundedScalar(size int) {
	r.setUnknownScalar()
	if size < 8 {
		r.tn = tnumUnknown.cast(size)
		r.sync()
	}
}

func (r *regState) isConst() bool { return r.typ == Scalar && r.tn.isConst() }

// isZero reports a scalar known to be 0.
func (r *regState) isZero() bool { return r.isConst() && r.tn.v == 0 }

// sync is reg_bounds_sync.
func (r *regState) sync() {
	r.boundsFromTnum()
	r.deduce()
	r.tn = r.tn.intersect(tnumRange(r.umin, r.umax)).intersect(lowRange(r.u32min, r.u32max))
	r.boundsFromTnum()
	r.deduce()
}

// lowRange is the tnum of a value whose low half is in [lo, hi] and whose
// upper half is unknown.
func lowRange(lo, hi uint32) tnum {
	t := tnumRange(uint64(lo), uint64(hi))
	return tnum{t.v, t.m | ^uint64(math.MaxUint32)}
}

func (r *regState) boundsFromTnum() {
	const sign = 1 << 63
	r.smin = max(r.smin, int64(r.tn.v|(r.tn.m&sign)))
	r.smax = min(r.smax, int64(r.tn.v|(r.tn.m&^sign)))
	r.umin = max(r.umin, r.tn.v)
	r.umax = min(r.umax, r.tn.v|r.tn.m)
	const sign32 = 1 << 31
	lo := r.tn.cast(4)
	r.s32min = max(r.s32min, int32(uint32(lo.v|(lo.m&sign32))))
	r.s32max = min(r.s32max, int32(uint32(lo.v|(lo.m&^sign32))))
	r.u32min = max(r.u32min, uint32(lo.v))
	r.u32max = min(r.u32max, uint32(lo.v|lo.m))
}

func (r *regState) deduce() {
	// 64 bits: signed and unsigned learn from each other when the one
	// teaching does not cross the other's wrap point.
	if uint64(r.smin) <= uint64(r.smax) {
		r.umin = max(r.umin, uint64(r.smin))
		r.umax = min(r.umax, uint64(r.smax))
	}
	if int64(r.umin) <= int64(r.umax) {
		r.smin = max(r.smin, int64(r.umin))
		r.smax = min(r.smax, int64(r.umax))
	}
	// 64 to 32: a range inside one 2^32 block bounds the low half.
	if r.umin>>32 == r.umax>>32 {
		r.u32min = max(r.u32min, uint32(r.umin))
		r.u32max = min(r.u32max, uint32(r.umax))
	}
	if r.smin >= math.MinInt32 && r.smax <= math.MaxInt32 { // the low half is the value
		r.s32min = max(r.s32min, int32(r.smin))
		r.s32max = min(r.s32max, int32(r.smax))
	}
	// 32 bits among themselves.
	if uint32(r.s32min) <= uint32(r.s32max) {
		r.u32min = max(r.u32min, uint32(r.s32min))
		r.u32max = min(r.u32max, uint32(r.s32max))
	}
	if int32(r.u32min) <= int32(r.u32max) {
		r.s32min = max(r.s32min, int32(r.u32min))
		r.s32max = min(r.s32max, int32(r.u32max))
	}
	// 32 to 64: with the upper half known, the low half's range is the
	// value's.
	if r.tn.m>>32 == 0 {
		hi := r.tn.v &^ math.MaxUint32
		r.umin = max(r.umin, hi|uint64(r.u32min))
		r.umax = min(r.umax, hi|uint64(r.u32max))
		if int64(r.umin) <= int64(r.umax) {
			r.smin = max(r.smin, int64(r.umin))
			r.smax = min(r.smax, int64(r.umax))
		}
	}
}

// consistent reports whether some value satisfies every fact; a
// refinement that leaves none marks a branch that cannot be taken.
func (r *regState) consistent() bool {
	if r.umin > r.umax || r.smin > r.smax || r.u32min > r.u32max || r.s32min > r.s32max {
		return false
	}
	return r.tn.umin() <= r.umax && r.tn.umax() >= r.umin
}

// zext32 truncates r to its low 32 bits, zero-extended: the result of
// every 32-bit ALU operation.
func (r *regState) zext32() {
	r.sync()
	lo, hi := uint64(r.u32min), uint64(r.u32max)
	r.tn = r.tn.cast(4)
	r.umin, r.umax = lo, hi
	r.smin, r.smax = int64(lo), int64(hi)
	r.markUnknown32()
	r.sync()
}

// sext sets r to its low size bytes, sign-extended to 64 bits.
func (r *regState) sext(size int) {
	if r.isConst() {
		v := r.tn.v
		switch size {
		case 1:
			v = uint64(int64(int8(v)))
		case 2:
			v = uint64(int64(int16(v)))
		case 4:
			v = uint64(int64(int32(v)))
		}
		r.markConst(v)
		return
	}
	half := uint64(1) << (8*size - 1)
	if r.umax < half { // a small non-negative value is its own extension
		return
	}
	if size == 4 {
		r.sync()
		lo, hi := int64(r.s32min), int64(r.s32max)
		t := r.tn.cast(4)
		switch {
		case t.m&(1<<31) != 0:
			t.m |= ^uint64(math.MaxUint32)
		case t.v&(1<<31) != 0:
			t.v |= ^uint64(math.MaxUint32)
		}
		r.markUnknown()
		r.tn, r.smin, r.smax = t, lo, hi
		r.sync()
		return
	}
	r.markUnknown()
	r.smin, r.smax = -int64(half), int64(half-1)
	r.sync()
}

// subreg returns the 32-bit view of r for JMP32: zero-extended, or
// sign-extended for signed conditions.
func (r *regState) subreg(signed bool) regState {
	c := *r
	c.zext32()
	if signed {
		c.sext(4)
	}
	return c
}

// upperZero reports that r's upper 32 bits are known zero and its low
// half is below 2^31 when signed matters, so that a 32-bit view refined by
// JMP32 may be written back.
func (r *regState) fitsSubreg(signed bool) bool {
	if signed {
		return r.umax < 1<<31
	}
	return r.umax <= math.MaxUint32
}

// rangeContains reports whether old's numeric facts cover cur's: the
// condition for pruning cur against an explored old.
func rangeContains(old, cur *regState) bool {
	return old.umin <= cur.umin && old.umax >= cur.umax &&
		old.smin <= cur.smin && old.smax >= cur.smax &&
		old.u32min <= cur.u32min && old.u32max >= cur.u32max &&
		old.s32min <= cur.s32min && old.s32max >= cur.s32max &&
		old.tn.contains(cur.tn)
}

// copyNumbers copies src's numeric facts into r.
func (r *regState) copyNumbers(src *regState) {
	r.tn, r.smin, r.smax, r.umin, r.umax = src.tn, src.smin, src.smax, src.umin, src.umax
	r.s32min, r.s32max, r.u32min, r.u32max = src.s32min, src.s32max, src.u32min, src.u32max
}
