package verifier

import (
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/dropmon/dropmon/program"
)

// Helper calls (check_helper_call): the prototype in program
// says what each argument register must hold and what R0 holds after.

// callMeta carries what one argument tells the check of a later one: the
// map (for key and value sizes), the size of memory to allocate.
type callMeta struct {
	m       *program.MapSpec
	memSize uint32
	// constKey is the key of an array lookup when the stack holds it as
	// a known constant, else -1 (const_map_key).
	constKey int64
}

const (
	mapKeyValueTypes = "fp, pkt, pkt_meta, map_key, map_value"
	memTypes         = "fp, pkt, pkt_meta, map_key, map_value, mem, buf"
	maxVarSize       = 1 << 29 // BPF_MAX_VAR_SIZ
)

func (e *env) checkHelperCall(pc int, in *program.Insn) error {
	id := asm.BuiltinFunc(in.Imm)
	name := program.HelperName(id)
	if name == "" {
		name = "unknown"
	}
	if name == "unknown" {
		return e.reject(pc, "invalid func %s#%d", name, id)
	}
	proto, ok := program.Helper(id)
	if !ok {
		return e.reject(pc, "unknown func %s#%d", name, id)
	}
	if !proto.Allows(e.prog.Type) || !e.helperAllowed(proto.Priv) {
		return e.reject(pc, "program of this type cannot use helper %s#%d", name, id)
	}
	if proto.GPLOnly && e.prog.License != "" && !gplCompatible(e.prog.License) {
		return e.reject(pc, "cannot call GPL-restricted function from non-GPL compatible program")
	}
	meta := callMeta{constKey: -1}
	for i, at := range proto.Args {
		if at.Base() == program.ArgNone {
			break
		}
		if err := e.checkArg(pc, id, proto, i, &meta); err != nil {
			return err
		}
	}
	if m := meta.m; m != nil && m.Flags&fRdonlyProg != 0 && helperWritesMap(id) {
		// record_func_map: the helpers that change a map's elements.
		return e.reject(pc, "write into map forbidden")
	}
	if changesPacketData(id) {
		e.cur.forEachReg(func(r *regState) {
			switch r.typ {
			case PtrToPacket, PtrToPacketMeta, PtrToPacketEnd:
				r.setUnknownScalar()
			}
		})
	}
	regs := e.regs()
	for i := 1; i <= 5; i++ {
		regs[i] = regState{}
	}
	return e.setReturn(pc, id, proto, &meta)
}

// setReturn gives R0 the prototype's return type.
func (e *env) setReturn(pc int, id asm.BuiltinFunc, proto *program.HelperProto, meta *callMeta) error {
	r0 := &e.regs()[0]
	switch proto.Ret {
	case program.RetInteger:
		r0.setUnknownScalar()
	case program.RetVoid:
		*r0 = regState{}
	case program.RetPtrToMapValue, program.RetPtrToMapValueOrNull:
		if meta.m == nil {
			return e.bug(pc, "%s returns a map value but takes no map", program.HelperName(id))
		}
		// For a map of maps this is the outer map's value; the null check
		// turns it into the inner map (mark_ptr_or_null_reg).
		*r0 = pointerReg(PtrToMapValueOrNull)
		r0.m, r0.size = meta.m, meta.m.ValueSize
		if id == asm.FnMapLookupElem && canElideNull(meta.m) && meta.constKey >= 0 && meta.constKey < int64(meta.m.MaxEntries) {
			// A lookup of a constant key inside an array cannot fail.
			r0.typ = PtrToMapValue
			return nil
		}
		if proto.Ret == program.RetPtrToMapValue {
			r0.typ = r0.typ.NotNull()
		} else {
			r0.id = e.newID()
		}
	case program.RetPtrToMemOrNull:
		*r0 = pointerReg(PtrToMemOrNull)
		r0.size, r0.id = meta.memSize, e.newID()
		e.cur.refs = append(e.cur.refs, reference{id: e.newID(), regID: r0.id, insn: pc})
	default:
		return e.bug(pc, "unknown return type %v", proto.Ret)
	}
	return nil
}

// checkArg checks argument i (register i+1) against its prototype.
func (e *env) checkArg(pc int, id asm.BuiltinFunc, proto *program.HelperProto, i int, meta *callMeta) error {
	regno := uint8(i + 1)
	at := proto.Args[i]
	r := &e.regs()[regno]
	if r.typ == NotInit {
		return e.reject(pc, "R%d !read_ok", regno)
	}
	switch at.Base() {
	case program.ArgAnything:
		if r.typ != Scalar && !e.allowPtrLeaks() {
			return e.reject(pc, "R%d leaks addr into helper function", regno)
		}
	case program.ArgConstMapPtr:
		if r.typ != ConstPtrToMap {
			return e.reject(pc, "R%d type=%s expected=map_ptr", regno, r.typ)
		}
		meta.m = r.m
		e.noteCallMap(pc, r.m)
		if id == asm.FnTailCall && r.m.Type != 3 { // BPF_MAP_TYPE_PROG_ARRAY
			return e.reject(pc, "expected prog array map for tail call")
		}
		if msg := helperMapCompatible(id, r.m); msg != "" {
			return e.reject(pc, "%s", msg)
		}
	case program.ArgPtrToCtx:
		if r.typ != PtrToCtx {
			return e.reject(pc, "R%d type=%s expected=ctx", regno, r.typ)
		}
		if r.off != 0 || !r.tn.isConst() || r.tn.v != 0 {
			return e.reject(pc, "dereference of modified ctx ptr R%d off=%d disallowed", regno, r.off)
		}
	case program.ArgPtrToMapKey, program.ArgPtrToMapValue:
		if meta.m == nil {
			return e.reject(pc, "invalid map_ptr to access map->key")
		}
		size := meta.m.KeySize
		if at.Base() == program.ArgPtrToMapValue {
			size = meta.m.ValueSize
		}
		if !isMemPointer(r.typ) || r.typ == PtrToMem {
			return e.reject(pc, "R%d type=%s expected=%s", regno, r.typ, mapKeyValueTypes)
		}
		if at.Base() == program.ArgPtrToMapKey && canElideNull(meta.m) {
			meta.constKey = e.constMapKey(r, int(size))
		}
		return e.helperMem(pc, regno, int64(size), false)
	case program.ArgPtrToMem, program.ArgPtrToUninitMem:
		if r.typ == Scalar && r.isZero() && at&program.ArgMaybeNull != 0 {
			return nil
		}
		if !isMemPointer(r.typ) {
			return e.reject(pc, "R%d type=%s expected=%s", regno, r.typ, memTypes)
		}
		if i+1 >= len(proto.Args) || !isSizeArg(proto.Args[i+1]) {
			return e.bug(pc, "%s: memory argument %d without a size", program.HelperName(id), regno)
		}
	case program.ArgConstSize, program.ArgConstSizeOrZero:
		return e.checkSizeArg(pc, proto, i, at.Base() == program.ArgConstSizeOrZero)
	case program.ArgConstAllocSizeOrZero:
		if !r.isConst() {
			return e.reject(pc, "R%d is not a known constant'", regno)
		}
		meta.memSize = uint32(min(r.tn.v, maxVarSize))
	case program.ArgPtrToAllocMem:
		if r.typ != PtrToMem {
			return e.reject(pc, "R%d type=%s expected=ringbuf_mem", regno, r.typ)
		}
		if r.off != 0 || !r.tn.isConst() || r.tn.v != 0 {
			return e.reject(pc, "R%d must have zero offset when passed to release func", regno)
		}
		id := r.id
		if !e.cur.release(id) {
			return e.reject(pc, "R%d must be referenced when passed to release function", regno)
		}
		e.cur.forEachReg(func(o *regState) {
			if o.typ == PtrToMem && o.id == id {
				o.setUnknownScalar() // the record is gone
			}
		})
	}
	return nil
}

// canElideNull is can_elide_value_nullness: the maps whose lookups of a
// key below max_entries always find a value.
func canElideNull(m *program.MapSpec) bool {
	return m != nil && (m.Type == ebpf.Array || m.Type == ebpf.PerCPUArray)
}

// constMapKey is get_constant_map_key: the key of size bytes at the
// stack pointer r when the stack holds it as a known constant (zero
// bytes, or a spilled scalar of exactly the key's size), else -1. Only
// for a loader with CAP_BPF.
func (e *env) constMapKey(r *regState, size int) int64 {
	if !e.bpfCapable() || r.typ != PtrToStack || !r.tn.isConst() {
		return -1
	}
	o := int64(r.off) + int64(r.tn.v)
	if o >= 0 || o < -maxBPFStack {
		return -1
	}
	f := e.cur.frames[r.frameno]
	slot, j := slotOf(int(o))
	if slot >= len(f.stack) {
		return -1
	}
	s := &f.stack[slot]
	zeros := 0
	for k := j; k < 8 && s.kind[k] == stackZero; k++ {
		zeros++
	}
	if zeros >= size {
		return 0
	}
	if !s.spilled() || s.spill.typ != Scalar {
		return -1
	}
	spill := 0
	for k := j; k < 8 && s.kind[k] == stackSpill; k++ {
		spill++
	}
	if spill != size || !s.spill.tn.isConst() {
		return -1
	}
	return int64(s.spill.tn.v)
}

// checkSizeArg checks a size argument and the memory argument before it
// (check_mem_size_reg).
func (e *env) checkSizeArg(pc int, proto *program.HelperProto, i int, zeroOK bool) error {
	regno := uint8(i + 1)
	r := &e.regs()[regno]
	if r.typ != Scalar {
		return e.reject(pc, "R%d type=%s expected=scalar", regno, r.typ)
	}
	if r.smin < 0 {
		return e.reject(pc, "R%d min value is negative, either use unsigned or 'var &= const'", regno)
	}
	if r.umin == 0 && !zeroOK {
		return e.reject(pc, "R%d invalid zero-sized read: u64=[%d,%d]", regno, r.umin, r.umax)
	}
	if r.umax >= maxVarSize {
		return e.reject(pc, "R%d unbounded memory access, use 'var &= const' or 'if (var < const)'", regno)
	}
	if i == 0 {
		return e.bug(pc, "size argument R1 without memory")
	}
	mem := &e.regs()[regno-1]
	if mem.typ == Scalar { // a NULL allowed by ArgMaybeNull
		if r.umax != 0 {
			return e.reject(pc, "R%d type=scalar expected=%s", regno-1, memTypes)
		}
		return nil
	}
	write := proto.Args[i-1].Base() == program.ArgPtrToUninitMem
	if write && !r.isConst() && mem.typ == PtrToStack && r.umax > 0 {
		// check_mem_size_reg: a helper may fill less than a variable
		// size, so the bytes must be initialised already (no raw mode).
		lo := int64(mem.off) + mem.smin
		if lo >= -maxBPFStack && lo+int64(r.umax) <= 0 {
			f := e.cur.frames[mem.frameno]
			if err := e.stackInitialised(pc, f, int(lo), int(lo)+int(r.umax), int(regno-1), !mem.tn.isConst()); err != nil {
				return err
			}
		}
	}
	return e.helperMem(pc, regno-1, int64(r.umax), write)
}

func isSizeArg(a program.ArgType) bool {
	return a.Base() == program.ArgConstSize || a.Base() == program.ArgConstSizeOrZero
}

func isMemPointer(t RegType) bool {
	switch t {
	case PtrToStack, PtrToPacket, PtrToPacketMeta, PtrToMapKey, PtrToMapValue, PtrToMem:
		return true
	}
	return false
}

// helperMem checks that a helper may read (or, write, fill) size bytes at
// the pointer in regno (check_helper_mem_access).
func (e *env) helperMem(pc int, regno uint8, size int64, write bool) error {
	ptr := e.regs()[regno]
	if size == 0 {
		return nil
	}
	switch ptr.typ {
	case PtrToStack:
		f := e.cur.frames[ptr.frameno]
		lo := int64(ptr.off) + ptr.smin
		hi := int64(ptr.off) + ptr.smax + size
		if lo < -maxBPFStack || hi > 0 || ptr.smin < -maxBPFStack || ptr.smax > maxBPFStack {
			dir := "read from"
			if write {
				dir = "write to"
			}
			return e.reject(pc, "invalid %s stack R%d off=%d size=%d", dir, regno, lo, size)
		}
		return e.stackRange(pc, f, int(lo), int(hi), write, int(regno), !ptr.tn.isConst())
	case PtrToMapValue:
		if err := e.mapAccessType(pc, &ptr, ptr.off, size, write); err != nil {
			return err
		}
		return e.regionAccess(pc, regno, &ptr, 0, int(size), int64(ptr.size), "map value", "value_size")
	case PtrToMem:
		return e.regionAccess(pc, regno, &ptr, 0, int(size), int64(ptr.size), "memory", "mem_size")
	case PtrToPacket, PtrToPacketMeta:
		return e.packetAccess(pc, regno, &ptr, 0, int(size), write)
	case PtrToMapKey:
		return nil
	}
	return e.reject(pc, "R%d type=%s expected=%s", regno, ptr.typ, memTypes)
}

// helperWritesMap lists the helpers that change the elements of the map
// they take, which a BPF_F_RDONLY_PROG map refuses.
func helperWritesMap(id asm.BuiltinFunc) bool {
	return helperIn(id, asm.FnMapUpdateElem, asm.FnMapDeleteElem, asm.FnMapPushElem, asm.FnMapPopElem)
}

// gplCompatible is the kernel's license_is_gpl_compatible.
func gplCompatible(license string) bool {
	switch strings.TrimRight(license, "\x00") {
	case "GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL":
		return true
	}
	return false
}

// changesPacketData lists the helpers after which packet pointers are
// stale (bpf_helper_changes_pkt_data): they may move or resize the packet.
func changesPacketData(id asm.BuiltinFunc) bool {
	switch id {
	case asm.FnSkbStoreBytes, asm.FnL3CsumReplace, asm.FnL4CsumReplace, asm.FnCloneRedirect,
		asm.FnSkbVlanPush, asm.FnSkbVlanPop, asm.FnSkbChangeProto, asm.FnSkbChangeTail,
		asm.FnSkbPullData, asm.FnSkbChangeHead, asm.FnXdpAdjustHead, asm.FnSkbAdjustRoom,
		asm.FnXdpAdjustMeta, asm.FnXdpAdjustTail, asm.FnMsgPullData, asm.FnMsgPushData,
		asm.FnMsgPopData, asm.FnLwtPushEncap, asm.FnLwtSeg6StoreBytes, asm.FnLwtSeg6AdjustSrh,
		asm.FnLwtSeg6Action:
		return true
	}
	return false
}

// Values of env.callMaps besides map indexes.
const (
	callMapVaries = -1
	callMapUnseen = -2
)

// noteCallMap records that the helper call at pc takes map m: its index
// in the program's maps the first time, callMapVaries when a later path
// brings another map, or a map that is not one of the program's own
// (an inner map of a map-in-map) or not one entry alone.
func (e *env) noteCallMap(pc int, m *program.MapSpec) {
	if e.callMaps == nil {
		e.callMaps = make([]int, len(e.insns))
		for i := range e.callMaps {
			e.callMaps[i] = callMapUnseen
		}
	}
	idx := callMapVaries
	for i, pm := range e.prog.Maps {
		if pm == m {
			if idx != callMapVaries {
				idx = callMapVaries // one spec in two entries: which map is unknown
				break
			}
			idx = i
		}
		if pm.InnerMap == m {
			idx = callMapVaries
			break
		}
	}
	switch prev := e.callMaps[pc]; {
	case prev == callMapUnseen:
		e.callMaps[pc] = idx
	case prev != idx:
		e.callMaps[pc] = callMapVaries
	}
}

// finalCallMaps is Verified.CallMaps: -1 for every slot no call visited.
func (e *env) finalCallMaps() []int {
	out := make([]int, len(e.insns))
	for i := range out {
		out[i] = callMapVaries
		if e.callMaps != nil && e.callMaps[i] >= 0 {
			out[i] = e.callMaps[i]
		}
	}
	return out
}
