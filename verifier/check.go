package verifier

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/dropmon/dropmon/program"
)

// pendingState is a branch not yet explored: the state to resume at pc,
// having come from the jump at from.
type pendingState struct {
	st       *vstate
	pc, from int
}

// doCheck simulates every path of the program from its first instruction
// (the kernel's do_check): one path at a time, depth first, pushing the
// other side of each conditional jump whose outcome is unknown, and
// pruning a path when it reaches a prune point in a state that an
// explored state already covers.
func (e *env) doCheck() error {
	e.explored = make([][]*checkpoint, len(e.insns))
	e.cur = e.initState()
	e.pc = 0
	for {
		if e.processed >= e.maxProcessed {
			return e.reject(e.pc, "BPF program is too large. Processed %d insn", e.processed+1)
		}
		e.processed++
		e.sinceCkpt++
		pc := e.pc
		if e.prune[pc] {
			pruned, err := e.isStateVisited(pc)
			if err != nil {
				return err
			}
			if pruned {
				if e.opts.LogLevel > 0 {
					e.logf("%d: safe\n", pc)
				}
				if !e.endPath() {
					return nil
				}
				continue
			}
		}
		if e.opts.LogLevel > 0 {
			e.logInsn(pc)
		}
		logLen, logFull := e.log.Len(), e.logFull
		next, err := e.step(pc)
		if err != nil && !e.speculativeError(err, logLen, logFull) {
			return err
		}
		if err != nil || next < 0 || (e.cur.speculative && e.nospecResult != nil && e.nospecResult[pc]) {
			// The path ends: at an exit, at an error the speculation
			// cannot reach, or at the barrier after a fenced store.
			if !e.endPath() {
				return nil
			}
			continue
		}
		e.pc = next
	}
}

// speculativeError reports whether err, met on a speculative path, only
// ends that path: the kernel then makes the instruction unreachable by
// speculation (nospec). The log keeps the message, not the statistics
// that the rejection appended: the log is put back as it was before the
// step (logLen, logFull).
func (e *env) speculativeError(err error, logLen int, logFull bool) bool {
	var verr *Error
	if !e.cur.speculative || !errors.As(err, &verr) || verr.Internal {
		return false
	}
	e.log.Truncate(logLen)
	e.logFull = logFull
	if e.opts.LogLevel > 0 {
		e.logf("%s\n", verr.Msg)
	}
	return true
}

func (e *env) logInsn(pc int) {
	e.logf("%d: %s\n", pc, e.insnString(pc))
	if e.opts.LogLevel > 1 {
		e.logf("%d:%s\n", pc, e.cur.String())
	}
}

// initState is the state at the program's entry: R1 the context, R10 the
// frame pointer, everything else unreadable.
func (e *env) initState() *vstate {
	f := &funcState{callsite: -1}
	f.regs[1] = pointerReg(PtrToCtx)
	f.regs[10] = pointerReg(PtrToStack)
	if e.prog.Type == program.Conformance {
		// dropmon's own type (bpf_conformance): R1 points to
		// ContextSize bytes of writable memory, or is 0 when there is
		// none, and R2 holds that length.
		n := e.opts.ContextSize
		if n > 0 {
			f.regs[1] = pointerReg(PtrToMem)
			f.regs[1].size = uint32(n)
		} else {
			f.regs[1].setConstScalar(0)
		}
		f.regs[2].setConstScalar(uint64(n))
	}
	return &vstate{frames: []*funcState{f}}
}

// pointerReg is a pointer of type t at offset 0.
func pointerReg(t RegType) regState {
	r := regState{typ: t}
	r.markConst(0)
	return r
}

// pushSpeculative is sanitize_speculative_path: for a loader without
// CAP_PERFMON (!bypass_spec_v1) the side of a decided jump that is never
// taken may still run speculatively, so it is explored too, with the
// compared registers unknown and as a speculative path.
func (e *env) pushSpeculative(pc int, in *program.Insn, next int) error {
	if e.bypassSpecV1() {
		return nil
	}
	st := e.cur.clone()
	st.speculative = true
	regs := &st.cur().regs
	regs[in.Dst].setUnknownScalar()
	if isRegSource(in.Op) {
		regs[in.Src].setUnknownScalar()
	}
	return e.push(st, next, pc)
}

// push saves the state for the other side of a branch.
func (e *env) push(st *vstate, pc, from int) error {
	if len(e.pending) >= complexityLimitJmps {
		return e.reject(from, "The sequence of %d jumps is too complex.", len(e.pending))
	}
	if st.parent != nil {
		st.parent.branches++
	}
	e.pending = append(e.pending, pendingState{st: st, pc: pc, from: from})
	return nil
}

// endPath finishes the current path and resumes the latest pending one;
// false when none is left.
func (e *env) endPath() bool {
	e.updateBranchCounts(e.cur.parent)
	if len(e.pending) == 0 {
		return false
	}
	p := e.pending[len(e.pending)-1]
	e.pending[len(e.pending)-1] = pendingState{}
	e.pending = e.pending[:len(e.pending)-1]
	e.cur, e.pc = p.st, p.pc
	if e.opts.LogLevel > 0 {
		e.logf("from %d to %d:%s\n", p.from, p.pc, e.cur.String())
	}
	return true
}

func (e *env) newID() uint32 {
	e.idGen++
	return e.idGen
}

// regs returns the current frame's registers.
func (e *env) regs() *[11]regState { return &e.cur.cur().regs }

// checkRead is check_reg_arg for a source: the register must be written.
func (e *env) checkRead(pc int, r uint8) error {
	if e.regs()[r].typ == NotInit {
		return e.reject(pc, "R%d !read_ok", r)
	}
	return nil
}

// checkWrite is check_reg_arg for a destination: R10 is read only.
func (e *env) checkWrite(pc int, r uint8) error {
	if r == 10 {
		return e.reject(pc, "frame pointer is read only")
	}
	return nil
}

// step simulates one instruction and returns the next slot, or -1 when
// the path ends.
func (e *env) step(pc int) (int, error) {
	in := &e.insns[pc]
	op := in.Op
	var err error
	switch {
	case op.IsALU64() || op.IsALU32() || op.IsSwap():
		err = e.checkALU(pc, in)
	case op.IsLoad64():
		err = e.checkLoad64(pc, in)
		return pc + 2, err
	case op.IsPacketLoad():
		err = e.checkPacketLoad(pc, in)
	case op.IsLoadX():
		err = e.checkLoadX(pc, in)
	case op.IsStore():
		err = e.checkStore(pc, in)
	case op.IsAtomic():
		err = e.checkAtomic(pc, in)
	case op == program.JA:
		e.jmpsSeen++
		return in.Target(), nil
	case op.IsCondJump():
		e.jmpsSeen++
		return e.checkCondJump(pc, in)
	case op == program.CallHelper:
		e.jmpsSeen++
		err = e.checkHelperCall(pc, in)
	case op == program.CallLocal:
		e.jmpsSeen++
		return e.checkLocalCall(pc, in)
	case op == program.Exit:
		e.jmpsSeen++
		return e.checkExit(pc)
	default:
		return -1, e.bug(pc, "unexpected op %v", op)
	}
	return pc + 1, err
}

// checkLoad64 handles LDDW: a constant, a map, or a map value address.
func (e *env) checkLoad64(pc int, in *program.Insn) error {
	if err := e.checkWrite(pc, in.Dst); err != nil {
		return err
	}
	r := &e.regs()[in.Dst]
	switch in.Op {
	case program.LdDW:
		r.setConstScalar(uint64(in.Imm))
	case program.LdMapFD:
		*r = pointerReg(ConstPtrToMap)
		r.m = e.prog.Maps[e.mapOf[pc]]
	case program.LdMapValue:
		m := e.prog.Maps[e.mapOf[pc]]
		*r = pointerReg(PtrToMapValue)
		r.m, r.size, r.off = m, m.ValueSize, int32(e.mapValue[pc])
	}
	return nil
}

// checkExit ends a function: the main program's path ends, a
// subprogram returns to its caller.
func (e *env) checkExit(pc int) (int, error) {
	r0 := &e.regs()[0]
	if r0.typ == NotInit {
		return -1, e.reject(pc, "R0 !read_ok")
	}
	if len(e.cur.frames) == 1 {
		if r0.typ != Scalar && !e.allowPtrLeaks() {
			return -1, e.reject(pc, "R0 leaks addr as return value")
		}
		if err := e.checkReturnCode(pc, r0); err != nil {
			return -1, err
		}
		if len(e.cur.refs) > 0 {
			r := e.cur.refs[0]
			return -1, e.reject(pc, "Unreleased reference id=%d alloc_insn=%d", r.id, r.insn)
		}
		return -1, nil
	}
	if r0.typ == PtrToStack {
		return -1, e.reject(pc, "cannot return stack pointer to the caller")
	}
	callee := e.cur.cur()
	e.cur.frames = e.cur.frames[:len(e.cur.frames)-1]
	caller := e.cur.cur()
	caller.regs[0] = callee.regs[0]
	for i := 1; i <= 5; i++ {
		caller.regs[i] = regState{}
	}
	if e.opts.LogLevel > 0 {
		e.logf("returning from callee to caller at %d\n", callee.callsite+1)
	}
	return callee.callsite + 1, nil
}

// checkLocalCall enters a bpf-to-bpf call: a new frame with R1-R5 passed
// and its own frame pointer.
func (e *env) checkLocalCall(pc int, in *program.Insn) (int, error) {
	if len(e.cur.frames) >= maxCallFrames {
		return -1, e.reject(pc, "the call stack of %d frames is too deep", len(e.cur.frames)+1)
	}
	caller := e.cur.cur()
	f := &funcState{callsite: pc, subprog: e.subprogOf[in.Target()], frameno: len(e.cur.frames)}
	for i := 1; i <= 5; i++ {
		f.regs[i] = caller.regs[i]
	}
	f.regs[10] = pointerReg(PtrToStack)
	f.regs[10].frameno = uint8(f.frameno)
	e.cur.frames = append(e.cur.frames, f)
	return in.Target(), nil
}

// checkReturnCode checks R0 at the main program's exit against the range
// the program type's attach point understands (check_return_code). Of the
// types dropmon loads only cgroup_skb has one: 0 drops, 1 allows.
func (e *env) checkReturnCode(pc int, r0 *regState) error {
	var lo, hi int64
	switch e.prog.Type {
	case program.CgroupSKB:
		lo, hi = 0, 1
	default:
		return nil
	}
	if r0.typ != Scalar {
		return e.reject(pc, "At program exit the register R0 is not a known value (%s)", r0.typ)
	}
	if r0.smin >= lo && r0.smax <= hi {
		return nil
	}
	var b strings.Builder
	if r0.smin > math.MinInt64 {
		fmt.Fprintf(&b, " smin=%d", r0.smin)
	}
	if r0.smax < math.MaxInt64 {
		fmt.Fprintf(&b, " smax=%d", r0.smax)
	}
	if b.Len() == 0 {
		b.WriteString(" unknown scalar value")
	}
	return e.reject(pc, "At program exit the register R0 has%s should have been in [%d, %d]", b.String(), lo, hi)
}
