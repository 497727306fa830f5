package program

// reachable reports, per slot of a decoded program, whether some path may
// execute it, given what constant propagation knows of the registers: the
// CO-RE guards clang emits for bpf_core_field_exists and its kin are a
// relocated constant moved into a register and tested a few instructions
// later ("r3 = 0; if r3 == 0 goto +1"), and the kernel's verifier follows
// only the taken side of such a jump (is_branch_taken), as dropmon's does.
//
// It is a forward data-flow analysis over the slots: each register is a
// known 64-bit constant or unknown, states meet where paths join (a
// register stays known only if every path agrees), and a conditional jump
// whose operands are both known has one successor. Calls leave R0-R5
// unknown; a local call's callee starts with no register known. It
// over-approximates: a slot it calls unreachable is dead on every path.
func reachable(insns []Insn) []bool {
	r := reach{insns: insns, in: make([]regConsts, len(insns)), seen: make([]bool, len(insns))}
	r.flow(0, regConsts{})
	for len(r.work) > 0 {
		pc := r.work[len(r.work)-1]
		r.work = r.work[:len(r.work)-1]
		r.step(pc)
	}
	return r.seen
}

// regConsts holds a constant per register R0-R10, where known[i] says so.
type regConsts struct {
	known [11]bool
	val   [11]uint64
}

func (s *regConsts) set(reg uint8, v uint64) { s.known[reg], s.val[reg] = true, v }

func (s *regConsts) forget(regs ...uint8) {
	for _, r := range regs {
		s.known[r] = false
	}
}

// meet keeps the constants s and o agree on, and reports a change of s.
func (s *regConsts) meet(o *regConsts) bool {
	changed := false
	for i := range s.known {
		if s.known[i] && (!o.known[i] || o.val[i] != s.val[i]) {
			s.known[i], changed = false, true
		}
	}
	return changed
}

type reach struct {
	insns []Insn
	in    []regConsts
	seen  []bool
	work  []int
}

// flow merges state st into the entry of slot pc.
func (r *reach) flow(pc int, st regConsts) {
	if pc < 0 || pc >= len(r.insns) {
		return // Decode has checked the targets; nothing to do
	}
	if !r.seen[pc] {
		r.seen[pc], r.in[pc] = true, st
		r.work = append(r.work, pc)
		return
	}
	if r.in[pc].meet(&st) {
		r.work = append(r.work, pc)
	}
}

func (r *reach) step(pc int) {
	in := &r.insns[pc]
	st := r.in[pc]
	switch op := in.Op; {
	case op == Exit:
		return
	case op == JA:
		r.flow(in.Target(), st)
		return
	case op.IsCondJump():
		taken, known := decideJump(in, &st)
		if !known || taken {
			r.flow(in.Target(), st)
		}
		if !known || !taken {
			r.flow(pc+1, st)
		}
		return
	case op == CallLocal:
		r.flow(in.Target(), regConsts{})
		st.forget(0, 1, 2, 3, 4, 5)
	case op == CallHelper:
		st.forget(0, 1, 2, 3, 4, 5)
	case op == Mov64Imm, op == LdDW:
		st.set(in.Dst, uint64(in.Imm))
	case op == Mov32Imm:
		st.set(in.Dst, uint64(uint32(in.Imm)))
	case op == Mov64Reg && st.known[in.Src]:
		st.set(in.Dst, st.val[in.Src])
	case op == Mov32Reg && st.known[in.Src]:
		st.set(in.Dst, uint64(uint32(st.val[in.Src])))
	case op.IsAtomic():
		st.forget(0, in.Src) // the fetching forms write these
	case op.IsStore():
	default:
		st.forget(in.Dst) // whatever else writes dst: loads, ALU
	}
	next := pc + 1
	if in.Op.IsLoad64() {
		next++ // over the LdDWHi filler
	}
	r.flow(next, st)
}

// decideJump evaluates a conditional jump when both operands are known.
func decideJump(in *Insn, st *regConsts) (taken, known bool) {
	if !st.known[in.Dst] {
		return false, false
	}
	k := int(in.Op - JEqImm)
	is32 := in.Op.IsJump32()
	if is32 {
		k = int(in.Op - JEq32Imm)
	}
	a, b := st.val[in.Dst], uint64(in.Imm)
	if k%2 == 1 { // the Reg form of each Imm, Reg pair
		if !st.known[in.Src] {
			return false, false
		}
		b = st.val[in.Src]
	}
	if is32 {
		a, b = uint64(uint32(a)), uint64(uint32(b))
		return compare(k/2, a, b, int64(int32(a)), int64(int32(b))), true
	}
	return compare(k/2, a, b, int64(a), int64(b)), true
}

// compare applies comparison k, in the order of the Op enum: eq, ne, gt,
// ge, lt, le, sgt, sge, slt, sle, set.
func compare(k int, a, b uint64, sa, sb int64) bool {
	switch k {
	case 0:
		return a == b
	case 1:
		return a != b
	case 2:
		return a > b
	case 3:
		return a >= b
	case 4:
		return a < b
	case 5:
		return a <= b
	case 6:
		return sa > sb
	case 7:
		return sa >= sb
	case 8:
		return sa < sb
	case 9:
		return sa <= sb
	}
	return a&b != 0 // set
}
