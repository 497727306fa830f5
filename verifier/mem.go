package verifier

import (
	"fmt"

	"github.com/dropmon/dropmon/program"
)

// Memory access checks (check_mem_access): every load and store must stay
// inside the region its pointer register points into.

// checkLoadX simulates an LDX load.
func (e *env) checkLoadX(pc int, in *program.Insn) error {
	if err := e.checkRead(pc, in.Src); err != nil {
		return err
	}
	if err := e.checkWrite(pc, in.Dst); err != nil {
		return err
	}
	size := in.Op.MemSize()
	typ := e.regs()[in.Src].typ
	v, err := e.access(pc, in.Src, in.Off, size, false, nil)
	if err != nil {
		return err
	}
	if err := e.savePtrType(pc, typ); err != nil {
		return err
	}
	if in.Op >= program.LdxSB && v.typ == Scalar {
		v.sext(size)
	}
	e.regs()[in.Dst] = v
	return nil
}

// checkStore simulates ST (immediate) and STX (register) stores.
func (e *env) checkStore(pc int, in *program.Insn) error {
	if err := e.checkRead(pc, in.Dst); err != nil {
		return err
	}
	var val regState
	if in.Op >= program.StxB {
		if err := e.checkRead(pc, in.Src); err != nil {
			return err
		}
		val = e.regs()[in.Src]
	} else {
		val.setConstScalar(uint64(in.Imm))
	}
	if val.typ != Scalar && !e.allowPtrLeaks() {
		switch t := e.regs()[in.Dst].typ; t {
		case PtrToStack:
		case PtrToMapValue:
			return e.reject(pc, "R%d leaks addr into map", in.Src)
		case PtrToCtx:
			return e.reject(pc, "R%d leaks addr into ctx", in.Src)
		case PtrToFlowKeys:
			return e.reject(pc, "R%d leaks addr into flow keys", in.Src)
		default:
			return e.reject(pc, "R%d leaks addr into mem", in.Src)
		}
	}
	typ := e.regs()[in.Dst].typ
	if _, err := e.access(pc, in.Dst, in.Off, in.Op.MemSize(), true, &val); err != nil {
		return err
	}
	return e.savePtrType(pc, typ)
}

// savePtrType records the pointer type a load or store used, and refuses
// an instruction that paths use with a context (or socket) pointer and
// with another pointer (save_aux_ptr_type): the kernel rewrites context
// accesses, so one instruction cannot serve both.
func (e *env) savePtrType(pc int, t RegType) error {
	if e.ptrType == nil {
		e.ptrType = make([]RegType, len(e.insns))
	}
	prev := &e.ptrType[pc]
	switch {
	case *prev == NotInit:
		*prev = t
	case *prev != t && (!ptrTypeMismatchOK(t) || !ptrTypeMismatchOK(*prev)):
		return e.reject(pc, "same insn cannot be used with different pointers")
	}
	return nil
}

// ptrTypeMismatchOK is reg_type_mismatch_ok: the pointers whose accesses
// the kernel does not rewrite.
func ptrTypeMismatchOK(t RegType) bool {
	switch t {
	case PtrToCtx, PtrToSocket, PtrToSockCommon:
		return false
	}
	return true
}

// checkAtomic simulates an atomic read-modify-write: allowed on the stack
// and in map values and memory; the fetch forms load into src, cmpxchg
// compares with and loads into R0.
func (e *env) checkAtomic(pc int, in *program.Insn) error {
	for _, r := range []uint8{in.Src, in.Dst} {
		if err := e.checkRead(pc, r); err != nil {
			return err
		}
	}
	regs := e.regs()
	cmpxchg := in.Op == program.AtomicCmpXchg32 || in.Op == program.AtomicCmpXchg64
	if cmpxchg {
		if err := e.checkRead(pc, 0); err != nil {
			return err
		}
		if regs[0].typ != Scalar && !e.allowPtrLeaks() {
			return e.reject(pc, "R0 leaks addr into mem")
		}
	}
	if regs[in.Src].typ != Scalar && !e.allowPtrLeaks() {
		return e.reject(pc, "R%d leaks addr into mem", in.Src)
	}
	switch t := regs[in.Dst].typ; t {
	case PtrToStack, PtrToMapValue, PtrToMem:
	default:
		if t == Scalar || t.OrNull() {
			return e.reject(pc, "R%d invalid mem access '%s'", in.Dst, t)
		}
		return e.reject(pc, "BPF_ATOMIC stores into R%d %s is not allowed", in.Dst, t)
	}
	size := in.Op.MemSize()
	if err := e.strictAlignment(pc, &regs[in.Dst], in.Off, size); err != nil {
		return err
	}
	old, err := e.access(pc, in.Dst, in.Off, size, false, nil)
	if err != nil {
		return err
	}
	var unknown regState
	unknown.setBoundedScalar(size)
	if _, err := e.access(pc, in.Dst, in.Off, size, true, &unknown); err != nil {
		return err
	}
	if old.typ != Scalar {
		// The slot held a spilled pointer. The fetch gives it back as
		// that pointer, as a fill would; the slot now holds pointer
		// arithmetic no one may read as a number without privileges.
		if !e.allowPtrLeaks() {
			return e.reject(pc, "attempt to corrupt spilled pointer on stack")
		}
		if size != 8 {
			old.setBoundedScalar(size)
		}
	}
	switch {
	case cmpxchg:
		e.regs()[0] = old
	case isFetch(in.Op):
		e.regs()[in.Src] = old
	}
	return nil
}

// strictAlignment is check_ptr_alignment with strict set, as for atomics:
// the access must be aligned to its size whatever the architecture
// allows. (Stack accesses are always checked, in stackAccess.)
func (e *env) strictAlignment(pc int, ptr *regState, off int32, size int) error {
	var desc string
	switch ptr.typ {
	case PtrToMapValue:
		desc = "value "
	case PtrToMem:
	default:
		return nil
	}
	if size == 1 {
		return nil
	}
	// The low bits of var_off + off must be known zero.
	c := uint64(int64(ptr.off) + int64(off))
	t := ptr.tn.add(tnum{v: c})
	if (t.v|t.m)&uint64(size-1) != 0 {
		return e.reject(pc, "misaligned %saccess off (%#x; %#x)+%d+%d size %d", desc, ptr.tn.v, ptr.tn.m, ptr.off, off, size)
	}
	return nil
}

// checkPacketLoad simulates LD_ABS and LD_IND: socket programs only, R6
// the context; the packet read is checked at run time. R1-R5 are
// clobbered.
func (e *env) checkPacketLoad(pc int, in *program.Insn) error {
	switch e.prog.Type {
	case program.SocketFilter, program.SchedCLS, program.SchedACT:
	default:
		return e.reject(pc, "BPF_LD_[ABS|IND] instructions not allowed for this program type")
	}
	if e.subprogOf[pc] != 0 {
		return e.reject(pc, "LD_ABS is not allowed in subprogs without BTF")
	}
	regs := e.regs()
	if err := e.checkRead(pc, 6); err != nil {
		return err
	}
	if regs[6].typ != PtrToCtx {
		return e.reject(pc, "at the time of BPF_LD_ABS|IND R6 != pointer to skb")
	}
	if in.Op >= program.LdIndB {
		if err := e.checkRead(pc, in.Src); err != nil {
			return err
		}
		if regs[in.Src].typ != Scalar {
			return e.reject(pc, "R%d pointer arithmetic prohibited", in.Src)
		}
	}
	for i := 1; i <= 5; i++ {
		regs[i] = regState{}
	}
	regs[0].setBoundedScalar(in.Op.MemSize())
	return nil
}

// access checks a load (val nil) or store of size bytes at R[regno]+off
// and returns what a load reads.
func (e *env) access(pc int, regno uint8, off int32, size int, write bool, val *regState) (regState, error) {
	ptr := e.regs()[regno]
	var out regState
	var err error
	switch ptr.typ {
	case PtrToStack:
		return e.stackAccess(pc, regno, &ptr, off, size, write, val)
	case PtrToMapValue:
		if err := e.mapAccessType(pc, &ptr, ptr.off+off, int64(size), write); err != nil {
			return out, err
		}
		err = e.regionAccess(pc, regno, &ptr, off, size, int64(ptr.size), "map value", "value_size")
	case PtrToMem:
		err = e.regionAccess(pc, regno, &ptr, off, size, int64(ptr.size), "memory", "mem_size")
	case PtrToCtx:
		return e.ctxAccess(pc, regno, &ptr, off, size, write)
	case PtrToPacket, PtrToPacketMeta:
		err = e.packetAccess(pc, regno, &ptr, off, size, write)
	case PtrToFlowKeys:
		// check_flow_keys_access: the fixed offset (pointer arithmetic on
		// flow keys takes constants only) inside struct bpf_flow_keys.
		if o := int64(ptr.off) + int64(off) + int64(ptr.tn.v); o < 0 || o+int64(size) > sizeofFlowKeys {
			err = e.reject(pc, "invalid access to flow keys off=%d size=%d", o, size)
		}
	case ConstPtrToMap:
		if write {
			return out, e.reject(pc, "only read from %s is supported", mapStructName(ptr.m))
		}
		return out, e.reject(pc, "R%d invalid mem access '%s'", regno, ptr.typ)
	default:
		return out, e.reject(pc, "R%d invalid mem access '%s'", regno, ptr.typ)
	}
	if err != nil {
		return out, err
	}
	out.setBoundedScalar(size)
	return out, nil
}

// mapStructName is the kernel's struct behind a map, as its messages
// name it.
func mapStructName(m *program.MapSpec) string {
	switch m.Type {
	case 1, 5, 9, 10:
		return "bpf_htab"
	case 2, 6:
		return "bpf_array"
	}
	return "bpf_map"
}

// mapAccessType refuses a program's write into a map created
// BPF_F_RDONLY_PROG and its read from one created BPF_F_WRONLY_PROG
// (check_map_access_type); off is the access's fixed offset.
func (e *env) mapAccessType(pc int, ptr *regState, off int32, size int64, write bool) error {
	if ptr.m == nil {
		return nil
	}
	switch {
	case write && ptr.m.Flags&fRdonlyProg != 0:
		return e.reject(pc, "write into map forbidden, value_size=%d off=%d size=%d", ptr.size, off, size)
	case !write && ptr.m.Flags&fWronlyProg != 0:
		return e.reject(pc, "read from map forbidden, value_size=%d off=%d size=%d", ptr.size, off, size)
	}
	return nil
}

// regionAccess checks an access into a region of known size through a
// pointer with a fixed and a variable offset (check_mem_region_access).
func (e *env) regionAccess(pc int, regno uint8, ptr *regState, off int32, size int, limit int64, what, sizeName string) error {
	base := int64(ptr.off) + int64(off)
	if ptr.smin < 0 || base+ptr.smin < 0 {
		if ptr.tn.isConst() {
			return e.reject(pc, "invalid access to %s, %s=%d off=%d size=%d", what, sizeName, limit, base+ptr.smin, size)
		}
		return e.reject(pc, "R%d min value is negative, either use unsigned index or do a if (index >=0) check.", regno)
	}
	if ptr.umax >= maxVarOff {
		return e.reject(pc, "R%d unbounded memory access, make sure to bounds check any such access", regno)
	}
	if hi := base + int64(ptr.umax); hi+int64(size) > limit {
		if !ptr.tn.isConst() {
			return e.rejectWith(pc, fmt.Sprintf("R%d max value is outside of the allowed memory range", regno),
				"invalid access to %s, %s=%d off=%d size=%d", what, sizeName, limit, hi, size)
		}
		return e.reject(pc, "invalid access to %s, %s=%d off=%d size=%d", what, sizeName, limit, hi, size)
	}
	return nil
}

// packetAccess checks an access through a packet pointer against the
// range that comparisons with pkt_end proved.
func (e *env) packetAccess(pc int, regno uint8, ptr *regState, off int32, size int, write bool) error {
	if write && !e.packetWritable() {
		return e.reject(pc, "cannot write into packet")
	}
	if ptr.smin < 0 {
		return e.reject(pc, "R%d min value is negative, either use unsigned index or do a if (index >=0) check.", regno)
	}
	o := int64(ptr.off) + int64(off)
	if o < 0 || o+int64(size) > int64(ptr.rng) {
		return e.rejectWith(pc, fmt.Sprintf("R%d offset is outside of the packet", regno),
			"invalid access to packet, off=%d size=%d, R%d(id=%d,off=%d,r=%d)", o, size, regno, ptr.id, o, ptr.rng)
	}
	return nil
}

func (e *env) packetWritable() bool {
	switch e.prog.Type {
	case program.XDP, program.SchedCLS, program.SchedACT:
		return true
	}
	return false
}

// ctxAccess checks a context access with the program type's rules
// (contextAccess, in ctx.go) and types what a load yields.
func (e *env) ctxAccess(pc int, regno uint8, ptr *regState, off int32, size int, write bool) (regState, error) {
	var out regState
	if ptr.off != 0 || !ptr.tn.isConst() || ptr.tn.v != 0 {
		if !ptr.tn.isConst() {
			return out, e.reject(pc, "variable ctx access var_off=%s disallowed", ptr.tn)
		}
		return out, e.reject(pc, "dereference of modified ctx ptr R%d off=%d disallowed", regno, ptr.off+int32(ptr.tn.v))
	}
	acc := contextAccess(e.prog.Type, int(off), size, write, e.opts)
	if !acc.OK {
		if acc.Reason != "" {
			return out, e.reject(pc, "%s", acc.Reason)
		}
		return out, e.reject(pc, "invalid bpf_context access off=%d size=%d", off, size)
	}
	if write {
		e.ctxWrites = true
		return out, nil
	}
	e.maxCtxOffset = max(e.maxCtxOffset, int(off)+size)
	switch acc.Result {
	case Scalar, NotInit:
		out.setBoundedScalar(size)
	default:
		if e.ctxPointers == nil {
			e.ctxPointers = make([]RegType, len(e.insns))
		}
		e.ctxPointers[pc] = acc.Result
		out = pointerReg(acc.Result)
		if acc.Result.OrNull() {
			out.id = e.newID()
		}
	}
	return out, nil
}
