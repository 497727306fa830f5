package verifier

// State pruning. At each prune point the verifier keeps some of the
// states it reached there (checkpoints). A path that arrives in a state
// that a finished checkpoint covers is safe: every path from the
// checkpoint was proven, and the new state allows fewer behaviours
// (scalar ranges and tnums inside the old ones, the same pointers with
// at least the proven packet range, ids linked the same way, stack bytes
// at least as initialised). Only registers live at the point count.
//
// A checkpoint whose paths are still being explored (branches > 0) is an
// ancestor of the current path: arriving there in exactly the same state
// means the loop makes no progress ("infinite loop detected"). Such
// checkpoints cannot prune; and, as in the kernel, while a loop runs new
// checkpoints are added only every 100 instructions or 20 jumps, and a
// checkpoint that keeps failing to match is dropped, so a bounded loop
// costs memory in proportion to its length / 100.

// A speculative checkpoint (pushSpeculative) proves nothing for a path
// that really runs, so it prunes only speculative ones.

// checkpoint is an explored state at an instruction.
type checkpoint struct {
	st        *vstate
	parent    *checkpoint
	branches  int // paths from here not yet finished
	hit, miss int
	pc        int
}

// updateBranchCounts records that a path below cp finished.
func (e *env) updateBranchCounts(cp *checkpoint) {
	for cp != nil {
		cp.branches--
		if cp.branches > 0 {
			return
		}
		cp = cp.parent
	}
}

// isStateVisited reports whether the current state at pc is covered by an
// explored one, and otherwise may add it as a checkpoint.
func (e *env) isStateVisited(pc int) (bool, error) {
	add := e.jmpsSeen >= 2 && e.sinceCkpt >= 8
	list := e.explored[pc]
	for i := 0; i < len(list); i++ {
		cp := list[i]
		if cp.branches > 0 {
			if e.looping(cp.st, e.cur) {
				e.explored[pc] = list
				return false, e.reject(pc, "infinite loop detected at insn %d", pc)
			}
			if e.jmpsSeen < 20 && e.sinceCkpt < 100 {
				add = false
			}
		} else if !(cp.st.speculative && !e.cur.speculative) && e.statesEqual(cp.st, e.cur, pc) {
			cp.hit++
			e.explored[pc] = list
			return true, nil
		}
		if add {
			// Only a miss that adds a state counts: otherwise a loop's
			// iterations would evict the states kept from earlier ones.
			cp.miss++
		}
		if n := 3; cp.miss > cp.hit*n+n {
			list[i] = list[len(list)-1]
			list[len(list)-1] = nil
			list = list[:len(list)-1]
			i--
			e.curStates--
		}
	}
	e.explored[pc] = list
	if !add || (!e.bpfCapable() && len(list) > complexityLimitStates) {
		// Without CAP_BPF an instruction keeps at most 64 states
		// (BPF_COMPLEXITY_LIMIT_STATES).
		return false, nil
	}
	cp := &checkpoint{st: e.cur.clone(), parent: e.cur.parent, branches: 1, pc: pc}
	e.cur.parent = cp
	e.explored[pc] = append(list, cp)
	e.jmpsSeen, e.sinceCkpt = 0, 0
	e.totalStates++
	e.curStates++
	e.peakStates = max(e.peakStates, e.curStates)
	e.maxStatesPerInsn = max(e.maxStatesPerInsn, len(e.explored[pc]))
	return false, nil
}

// looping reports that cur is old exactly: the same frames, registers and
// stack.
func (e *env) looping(old, cur *vstate) bool {
	if len(old.frames) != len(cur.frames) || len(old.refs) != len(cur.refs) {
		return false
	}
	for i, of := range old.frames {
		cf := cur.frames[i]
		if of.regs != cf.regs || of.callsite != cf.callsite || len(of.stack) != len(cf.stack) {
			return false
		}
		for j := range of.stack {
			if of.stack[j] != cf.stack[j] {
				return false
			}
		}
	}
	return true
}

// idPairs maps old ids to current ones during one comparison.
type idPairs []struct{ old, cur uint32 }

// check reports whether old maps to cur consistently with earlier pairs.
func (m *idPairs) check(old, cur uint32) bool {
	for _, p := range *m {
		if p.old == old {
			return p.cur == cur
		}
	}
	*m = append(*m, struct{ old, cur uint32 }{old, cur})
	return true
}

// statesEqual reports whether old covers cur at pc.
func (e *env) statesEqual(old, cur *vstate, pc int) bool {
	if len(old.frames) != len(cur.frames) {
		return false
	}
	if len(old.refs) != len(cur.refs) {
		return false
	}
	ids := idPairs(make([]struct{ old, cur uint32 }, 0, 8))
	for i := range old.refs {
		if !ids.check(old.refs[i].id, cur.refs[i].id) {
			return false
		}
	}
	last := len(old.frames) - 1
	for i, of := range old.frames {
		cf := cur.frames[i]
		if of.callsite != cf.callsite {
			return false
		}
		live := e.live[pc] | 1<<10
		if i < last {
			// A caller's frame resumes after its call: R0-R5 are
			// rewritten there, R6-R9 are what it may read.
			live = e.live[cur.frames[i+1].callsite+1] &^ regsCallerS
		}
		for r := range of.regs {
			if live&(1<<r) != 0 && !regSafe(&of.regs[r], &cf.regs[r], &ids) {
				return false
			}
		}
		if !stackSafe(of, cf, &ids) {
			return false
		}
	}
	return true
}

// regSafe reports whether old covers cur for one register.
func regSafe(old, cur *regState, ids *idPairs) bool {
	switch {
	case old.typ == NotInit:
		return true
	case cur.typ != old.typ:
		return false
	case old.typ == Scalar:
		return rangeContains(old, cur) && (old.id == 0 || ids.check(old.id, cur.id))
	}
	if old.off != cur.off || old.m != cur.m || old.size != cur.size || old.frameno != cur.frameno {
		return false
	}
	if (old.typ == PtrToPacket || old.typ == PtrToPacketMeta) && old.rng > cur.rng {
		return false
	}
	return rangeContains(old, cur) && ids.check(old.id, cur.id)
}

// stackSafe reports whether old's stack covers cur's.
func stackSafe(old, cur *funcState, ids *idPairs) bool {
	var empty stackSlot
	for i := range old.stack {
		os, cs := &old.stack[i], &empty
		if i < len(cur.stack) {
			cs = &cur.stack[i]
		}
		okind := os.kind
		if os.spilled() {
			w := os.spillWidth()
			switch {
			case cs.spilled() && cs.spillWidth() == w:
				if !regSafe(&os.spill, &cs.spill, ids) {
					return false
				}
			case os.spill.typ == Scalar && os.spill.tn == tnumUnknown:
				// An unknown spilled scalar is no more than
				// initialised bytes.
				for j := 0; j < w; j++ {
					okind[j] = stackMisc
				}
			default:
				return false
			}
		}
		for j, ok := range okind {
			ck := cs.kind[j]
			switch ok {
			case stackSpill: // compared as a register above
				if ck != stackSpill {
					return false
				}
			case stackInvalid:
			case stackMisc:
				if ck == stackInvalid || (ck == stackSpill && cs.spill.typ != Scalar) {
					return false
				}
			case stackZero:
				if ck != stackZero && !(ck == stackSpill && cs.spill.isZero()) {
					return false
				}
			}
		}
	}
	return true
}
