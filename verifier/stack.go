package verifier

// The stack: 512 bytes per frame below R10, tracked byte by byte. An
// aligned 8-byte store of a register spills it whole (type, bounds and id
// survive the round trip); any other store makes its bytes STACK_MISC (or
// STACK_ZERO for a known zero) and turns a partly overwritten spill into
// plain bytes, so a pointer cannot be rebuilt from pieces.

// slotOf locates the stack byte at offset o (negative, from the frame
// pointer): its slot and its index in the slot.
func slotOf(o int) (slot, j int) {
	slot = (-o - 1) / 8
	return slot, o + 8*(slot+1)
}

func (f *funcState) grow(o int) {
	if n := (-o + 7) / 8; n > len(f.stack) {
		f.stack = append(f.stack, make([]stackSlot, n-len(f.stack))...)
	}
}

// stackAccess checks a load or store through a stack pointer.
func (e *env) stackAccess(pc int, regno uint8, ptr *regState, off int32, size int, write bool, val *regState) (regState, error) {
	var out regState
	f := e.cur.frames[ptr.frameno]
	dir := "read from"
	if write {
		dir = "write to"
	}
	if !ptr.tn.isConst() {
		// check_ptr_alignment: stack accesses are always aligned.
		t := ptr.tn.add(tnum{v: uint64(int64(ptr.off) + int64(off))})
		if size > 1 && (t.v|t.m)&uint64(size-1) != 0 {
			return out, e.reject(pc, "misaligned stack access off (%#x; %#x)+%d+%d size %d", ptr.tn.v, ptr.tn.m, ptr.off, off, size)
		}
		lo := int64(ptr.off) + int64(off) + ptr.smin
		hi := int64(ptr.off) + int64(off) + ptr.smax
		if !e.bypassSpecV1() || lo < -maxBPFStack || hi+int64(size) > 0 {
			return out, e.reject(pc, "invalid variable-offset %s stack R%d var_off=%s off=%d size=%d", dir, regno, ptr.tn, ptr.off+off, size)
		}
		if err := e.stackRange(pc, f, int(lo), int(hi)+size, write, int(regno), true); err != nil {
			return out, err
		}
		out.setBoundedScalar(size)
		return out, nil
	}
	o := int64(ptr.off) + int64(off) + int64(ptr.tn.v)
	if o < -maxBPFStack || o+int64(size) > 0 {
		return out, e.reject(pc, "invalid %s stack R%d off=%d size=%d", dir, regno, o, size)
	}
	if o%int64(size) != 0 {
		return out, e.reject(pc, "misaligned stack access off %d+%d+%d size %d", ptr.tn.v, ptr.off, off, size)
	}
	e.noteDepth(f, int(o))
	if write {
		return out, e.stackWrite(pc, f, int(o), size, val)
	}
	return e.stackRead(pc, regno, f, int(o), size)
}

func (e *env) noteDepth(f *funcState, o int) {
	sp := &e.subprogs[f.subprog]
	sp.stackDepth = max(sp.stackDepth, -o)
}

func (e *env) stackWrite(pc int, f *funcState, o, size int, val *regState) error {
	f.grow(o)
	slot, j := slotOf(o)
	s := &f.stack[slot]
	e.noteStackStore(pc, s, size, val.typ != Scalar)
	if val.typ == PtrToStack && int(val.frameno) > f.frameno {
		// It would outlive the frame it points into.
		return e.reject(pc, "cannot spill pointers to stack into stack frame of the caller")
	}
	if size == 8 && (val.typ != Scalar || e.bpfCapable()) {
		// Without CAP_BPF a scalar is not spilled: its bytes are
		// STACK_MISC (STACK_ZERO for 0), and a fill reads an unknown.
		s.spill = *val
		s.kind = [8]uint8{stackSpill, stackSpill, stackSpill, stackSpill, stackSpill, stackSpill, stackSpill, stackSpill}
		return nil
	}
	if val.typ != Scalar {
		return e.reject(pc, "invalid size of register spill")
	}
	if size != 8 && s.spilled() && s.spill.typ != Scalar && !e.allowPtrLeaks() {
		return e.reject(pc, "attempt to corrupt spilled pointer on stack")
	}
	s.unspill()
	if j == 0 && e.bpfCapable() && val.umax < 1<<(8*size) {
		// A narrow spill of a scalar that fits keeps its facts, as the
		// kernel keeps them for privileged loaders.
		s.spill = *val
		for i := 0; i < size; i++ {
			s.kind[i] = stackSpill
		}
		return nil
	}
	k := stackMisc
	if val.isZero() {
		k = stackZero
	}
	for i := 0; i < size; i++ {
		s.kind[j+i] = k
	}
	return nil
}

// noteStackStore marks a stack store the kernel follows with a barrier
// against Spectre v4 (nospec_result, for loaders without bypass_spec_v4):
// a spill of a pointer, or a store into a slot whose first size bytes (in
// the kernel's order, from the slot's top) are not all STACK_MISC or
// STACK_ZERO. The barrier also ends speculation, so a speculative path
// ends after such a store (doCheck).
func (e *env) noteStackStore(pc int, s *stackSlot, size int, pointer bool) {
	if e.bypassSpecV4() {
		return
	}
	fence := pointer
	for i := 0; i < size && !fence; i++ {
		k := s.kind[7-i]
		fence = k != stackMisc && k != stackZero
	}
	if !fence {
		return
	}
	if e.nospecResult == nil {
		e.nospecResult = make([]bool, len(e.insns))
	}
	e.nospecResult[pc] = true
}

// fill reads a spilled register back: whole, or a part of a spilled
// scalar (its facts survive when its value fits the read). ok false
// leaves the read to the byte kinds.
func (e *env) fill(pc int, s *stackSlot, j, size int) (regState, bool, error) {
	var out regState
	w := s.spillWidth()
	if s.spill.typ != Scalar {
		if size != 8 {
			return out, false, e.reject(pc, "invalid size of register fill")
		}
		return s.spill, true, nil
	}
	// A narrow fill keeps the register's facts only from the spill's low
	// bytes (the kernel's bpf_stack_narrow_access_ok, little-endian); a
	// read of other bytes of a spilled scalar knows only that a spilled 0
	// gives 0, and leaves the rest to the byte kinds (unknown).
	switch {
	case j == 0 && size <= w && s.spill.umax <= sizeMask(size):
		return s.spill, true, nil
	case j == 0 && size <= w && s.spill.isConst():
		out.setConstScalar(s.spill.tn.v & sizeMask(size))
		return out, true, nil
	case j+size <= w && s.spill.isConst() && s.spill.tn.v == 0:
		out.setConstScalar(0)
		return out, true, nil
	}
	return out, false, nil
}

// sizeMask is the largest value of size bytes.
func sizeMask(size int) uint64 {
	if size >= 8 {
		return ^uint64(0)
	}
	return 1<<(8*size) - 1
}

// unspill turns a spilled register's bytes into plain initialised ones.
func (s *stackSlot) unspill() {
	if !s.spilled() {
		return
	}
	s.spill = regState{}
	for i := range s.kind {
		if s.kind[i] == stackSpill {
			s.kind[i] = stackMisc
		}
	}
}

func (e *env) stackRead(pc int, regno uint8, f *funcState, o, size int) (regState, error) {
	var out regState
	slot, j := slotOf(o)
	if slot >= len(f.stack) {
		if e.allowUninitStack() {
			out.setBoundedScalar(size)
			return out, nil
		}
		// Below the stack the frame has used so far
		// (check_stack_slot_within_bounds).
		return out, e.reject(pc, "invalid read from stack R%d off=%d size=%d", regno, o, size)
	}
	s := &f.stack[slot]
	if s.spilled() {
		if v, ok, err := e.fill(pc, s, j, size); ok || err != nil {
			return v, err
		}
	}
	zero := true
	for i := 0; i < size; i++ {
		switch s.kind[j+i] {
		case stackSpill:
			zero = false
		case stackInvalid:
			if !e.allowUninitStack() {
				return out, e.reject(pc, "invalid read from stack off %d+%d size %d", o, i, size)
			}
			zero = false
		case stackMisc:
			zero = false
		}
	}
	if zero {
		out.setConstScalar(0)
	} else {
		out.setBoundedScalar(size)
	}
	return out, nil
}

// stackRange checks the bytes [lo, hi) of a frame's stack for a helper
// argument or a variable-offset access through R[regno]: a read needs
// them initialised (unless the loader is privileged: the kernel's
// allow_uninit_stack), a write makes them STACK_MISC.
func (e *env) stackRange(pc int, f *funcState, lo, hi int, write bool, regno int, varOff bool) error {
	if lo >= hi {
		return nil
	}
	e.noteDepth(f, lo)
	if write {
		f.grow(lo)
		for o := lo; o < hi; o++ {
			slot, j := slotOf(o)
			s := &f.stack[slot]
			if !varOff {
				e.noteStackStore(pc, s, 1, false) // the helper's bytes are stores of their own
			}
			if s.spilled() && s.spill.typ != Scalar && !e.allowPtrLeaks() {
				// The helper's bytes are stores of their own.
				return e.reject(pc, "attempt to corrupt spilled pointer on stack")
			}
			s.unspill()
			s.kind[j] = stackMisc
		}
		return nil
	}
	if e.allowUninitStack() {
		return nil
	}
	if slot, _ := slotOf(lo); slot >= len(f.stack) && !varOff {
		return e.reject(pc, "invalid read from stack R%d off=%d size=%d", regno, lo, hi-lo)
	}
	return e.stackInitialised(pc, f, lo, hi, regno, varOff)
}

// stackInitialised checks that the bytes [lo, hi) hold data a helper may
// read (the byte loop of check_stack_range_initialized).
func (e *env) stackInitialised(pc int, f *funcState, lo, hi, regno int, varOff bool) error {
	if e.allowUninitStack() {
		return nil
	}
	for o := lo; o < hi; o++ {
		slot, j := slotOf(o)
		if slot < len(f.stack) && f.stack[slot].spilled() {
			// A spilled scalar makes its whole slot initialised for a
			// helper, a narrow one too; a spilled pointer is none for a
			// loader that may not leak it (check_stack_range_initialized).
			if f.stack[slot].spill.typ == Scalar {
				continue
			}
			if e.allowPtrLeaks() {
				continue
			}
		}
		if slot >= len(f.stack) || f.stack[slot].kind[j] == stackInvalid || f.stack[slot].kind[j] == stackSpill {
			if varOff {
				return e.reject(pc, "invalid variable-offset read from stack R%d off %d+%d size %d", regno, lo, o-lo, hi-lo)
			}
			return e.reject(pc, "invalid read from stack R%d off %d+%d size %d", regno, lo, o-lo, hi-lo)
		}
	}
	return nil
}

// checkStackDepth checks every chain of bpf-to-bpf calls: at most 8
// frames, and at most 512 bytes of stack in all (check_max_stack_depth).
// Each frame counts rounded up to 16 bytes, as for a JIT-compiled program.
func (e *env) checkStackDepth() error {
	var walk func(sp, depth, frames int) error
	walk = func(sp, depth, frames int) error {
		if frames > maxCallFrames {
			return e.reject(e.subprogs[sp].start, "the call stack of %d frames is too deep !", frames)
		}
		depth += roundUp(e.subprogs[sp].stackDepth, 16)
		if depth > maxBPFStack {
			return e.reject(e.subprogs[sp].start, "combined stack size of %d calls is %d. Too large", frames, depth)
		}
		for _, c := range e.subprogs[sp].callees {
			if err := walk(c, depth, frames+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(0, 0, 1)
}
