package verifier

import (
	"math"

	"github.com/dropmon/dropmon/program"
)

// Conditional jumps (check_cond_jmp_op). When the registers' facts decide
// the outcome, only that side is followed: this is what lets bounded loops
// end. Otherwise both are, each with what its condition teaches: scalar
// ranges narrowed on both sides (for every copy sharing an id), an
// _or_null pointer tested against 0 made non-null on one side and the
// scalar 0 on the other, a packet pointer compared with pkt_end given its
// proven range.

// cond is a comparison without width or source.
type cond uint8

const (
	condEQ cond = iota
	condNE
	condGT
	condGE
	condLT
	condLE
	condSGT
	condSGE
	condSLT
	condSLE
	condSET
	condNSET // not in the instruction set: the false side of JSET
)

var condOf = map[program.Op]cond{}

func init() {
	order := []cond{condEQ, condNE, condGT, condGE, condLT, condLE, condSGT, condSGE, condSLT, condSLE, condSET}
	for i, c := range order {
		condOf[program.JEqImm+program.Op(2*i)] = c
		condOf[program.JEqReg+program.Op(2*i)] = c
		condOf[program.JEq32Imm+program.Op(2*i)] = c
		condOf[program.JEq32Reg+program.Op(2*i)] = c
	}
}

func (c cond) negate() cond {
	return [...]cond{condNE, condEQ, condLE, condLT, condGE, condGT, condSLE, condSLT, condSGE, condSGT, condNSET, condSET}[c]
}

// swap gives the condition with its operands exchanged.
func (c cond) swap() cond {
	return [...]cond{condEQ, condNE, condLT, condLE, condGT, condGE, condSLT, condSLE, condSGT, condSGE, condSET, condNSET}[c]
}

func (c cond) signed() bool { return c >= condSGT && c <= condSLE }

// checkCondJump returns the next instruction of the path it continues;
// the other side, when possible, is pushed.
func (e *env) checkCondJump(pc int, in *program.Insn) (int, error) {
	if err := e.checkRead(pc, in.Dst); err != nil {
		return -1, err
	}
	regs := e.regs()
	c, is32 := condOf[in.Op], in.Op.IsJump32()
	var src regState
	srcReg := isRegSource(in.Op)
	if srcReg {
		if err := e.checkRead(pc, in.Src); err != nil {
			return -1, err
		}
		src = regs[in.Src]
	} else if is32 {
		src.setConstScalar(uint64(uint32(in.Imm)))
	} else {
		src.setConstScalar(uint64(in.Imm))
	}
	dst := regs[in.Dst]
	if dst.typ != Scalar || src.typ != Scalar {
		return e.pointerJump(pc, in, c, is32, &dst, &src, srcReg)
	}
	switch taken := branchTaken(&dst, &src, c, is32); taken {
	case 1:
		return in.Target(), e.pushSpeculative(pc, in, pc+1)
	case 0:
		return pc + 1, e.pushSpeculative(pc, in, in.Target())
	}
	other := e.cur.clone()
	// The jump side gets c, the fall-through side its negation.
	okJump := e.refine(other, in, c, is32, srcReg)
	okFall := e.refine(e.cur, in, c.negate(), is32, srcReg)
	switch {
	case okJump && okFall:
		if err := e.push(other, in.Target(), pc); err != nil {
			return -1, err
		}
		return pc + 1, nil
	case okJump:
		e.cur = other
		return in.Target(), nil
	case okFall:
		return pc + 1, nil
	}
	return -1, nil // neither side is possible: this path cannot happen
}

// refine narrows dst (and src) in st by c holding; false if it cannot.
func (e *env) refine(st *vstate, in *program.Insn, c cond, is32, srcReg bool) bool {
	regs := &st.cur().regs
	a := &regs[in.Dst]
	var bv regState
	b := &bv
	if srcReg {
		b = &regs[in.Src]
	} else if is32 {
		b.setConstScalar(uint64(uint32(in.Imm)))
	} else {
		b.setConstScalar(uint64(in.Imm))
	}
	if is32 {
		// Refine the 32-bit views and write back only where a view is
		// the whole register.
		signed := c.signed()
		av, bw := a.subreg(signed), b.subreg(signed)
		if !refineScalars(&av, &bw, c) {
			return false
		}
		writeBack(a, &av, signed)
		if srcReg {
			writeBack(b, &bw, signed)
		}
	} else if !refineScalars(a, b, c) {
		return false
	}
	propagateLinked(st, a)
	if srcReg {
		propagateLinked(st, b)
	}
	return true
}

// writeBack stores what a JMP32 taught about r's low half (view): all of
// it when the view is the whole register, else the low 32 bits of its
// tnum, which carry the refined range in a weaker form.
func writeBack(r, view *regState, signed bool) {
	if r.fitsSubreg(signed) {
		keep := r.id
		*r = *view
		r.id = keep
		return
	}
	const lo = math.MaxUint32
	r.tn = tnum{r.tn.v&^lo | view.tn.v&lo, r.tn.m&^lo | view.tn.m&lo}
	r.u32min, r.u32max = max(r.u32min, view.u32min), min(r.u32max, view.u32max)
	r.s32min, r.s32max = max(r.s32min, view.s32min), min(r.s32max, view.s32max)
	r.sync()
}

// propagateLinked copies r's facts to every scalar with its id.
func propagateLinked(st *vstate, r *regState) {
	if r.id == 0 {
		return
	}
	v := *r
	st.forEachReg(func(o *regState) {
		if o.typ == Scalar && o.id == v.id {
			*o = v
		}
	})
}

// refineScalars narrows a and b by "a c b" holding (reg_set_min_max).
func refineScalars(a, b *regState, c cond) bool {
	switch c {
	case condEQ:
		a.umin, a.umax = max(a.umin, b.umin), min(a.umax, b.umax)
		a.smin, a.smax = max(a.smin, b.smin), min(a.smax, b.smax)
		a.tn = a.tn.intersect(b.tn)
		a.u32min, a.u32max = max(a.u32min, b.u32min), min(a.u32max, b.u32max)
		a.s32min, a.s32max = max(a.s32min, b.s32min), min(a.s32max, b.s32max)
		b.copyNumbers(a)
		if a.tn.conflicts(b.tn) {
			return false
		}
	case condNE:
		if b.isConst() {
			excludeConst(a, b.tn.v)
		} else if a.isConst() {
			excludeConst(b, a.tn.v)
		}
	case condGT:
		if a.umax == 0 || b.umin == math.MaxUint64 {
			return false
		}
		a.umin = max(a.umin, b.umin+1)
		b.umax = min(b.umax, a.umax-1)
	case condGE:
		a.umin = max(a.umin, b.umin)
		b.umax = min(b.umax, a.umax)
	case condSGT:
		if a.smax == math.MinInt64 || b.smin == math.MaxInt64 {
			return false
		}
		a.smin = max(a.smin, b.smin+1)
		b.smax = min(b.smax, a.smax-1)
	case condSGE:
		a.smin = max(a.smin, b.smin)
		b.smax = min(b.smax, a.smax)
	case condLT, condLE, condSLT, condSLE:
		return refineScalars(b, a, c.swap())
	case condSET:
		if b.isConst() && b.tn.v != 0 && b.tn.v&(b.tn.v-1) == 0 {
			a.tn = a.tn.or(b.tn) // the one bit is set
		}
	case condNSET:
		if b.isConst() {
			a.tn = tnum{a.tn.v &^ b.tn.v, a.tn.m &^ b.tn.v}
			if a.tn.v&b.tn.v != 0 {
				return false
			}
		}
	}
	a.sync()
	b.sync()
	return a.consistent() && b.consistent()
}

// excludeConst narrows r by r != v where v is at an end of its range.
func excludeConst(r *regState, v uint64) {
	if r.isConst() {
		if r.tn.v == v {
			r.umin, r.umax = 1, 0 // impossible
		}
		return
	}
	if r.umin == v {
		r.umin++
	} else if r.umax == v {
		r.umax--
	}
	if r.smin == int64(v) {
		r.smin++
	} else if r.smax == int64(v) {
		r.smax--
	}
}

// branchTaken decides "a c b" from the facts: 1 always, 0 never, -1
// unknown (is_branch_taken).
func branchTaken(a, b *regState, c cond, is32 bool) int {
	if is32 {
		av, bv := a.subreg(c.signed()), b.subreg(c.signed())
		return branchTaken(&av, &bv, c, false)
	}
	switch c {
	case condEQ, condNE:
		t := -1
		switch {
		case a.isConst() && b.isConst():
			t = b2i(a.tn.v == b.tn.v)
		case a.umin > b.umax || a.umax < b.umin || a.smin > b.smax || a.smax < b.smin || a.tn.conflicts(b.tn):
			t = 0
		}
		if c == condNE && t >= 0 {
			t = 1 - t
		}
		return t
	case condGT:
		return decide(a.umin > b.umax, a.umax <= b.umin)
	case condGE:
		return decide(a.umin >= b.umax, a.umax < b.umin)
	case condSGT:
		return decide(a.smin > b.smax, a.smax <= b.smin)
	case condSGE:
		return decide(a.smin >= b.smax, a.smax < b.smin)
	case condLT, condLE, condSLT, condSLE:
		return branchTaken(b, a, c.swap(), false)
	case condSET:
		return decide(a.tn.v&b.tn.v != 0, a.tn.umax()&b.tn.umax() == 0)
	case condNSET:
		return decide(a.tn.umax()&b.tn.umax() == 0, a.tn.v&b.tn.v != 0)
	}
	return -1
}

func decide(always, never bool) int {
	switch {
	case always:
		return 1
	case never:
		return 0
	}
	return -1
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
