package verifier

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cilium/ebpf/asm"
	"github.com/dropmon/dropmon/program"
)

// env is one verification: the program, what the phases learned about it,
// and the simulation's bookkeeping (the kernel's bpf_verifier_env).
type env struct {
	prog  *program.Program
	opts  *Options
	insns []program.Insn

	mapOf    []int32  // per slot of a map load: index in prog.Maps, else -1
	mapValue []uint32 // per slot of a BPF_PSEUDO_MAP_VALUE load: the offset

	subprogs  []subprog
	subprogOf []int // per slot
	prune     []bool
	live      []uint16 // per slot: registers read before written on some path

	explored [][]*checkpoint
	pending  []pendingState
	cur      *vstate
	pc       int

	processed    int
	maxProcessed int
	jmpsSeen     int // jumps, calls and exits since the last checkpoint
	sinceCkpt    int // instructions since the last checkpoint
	idGen        uint32
	maxCtxOffset int
	callMaps     []int // per slot of a helper call: the map in R1 (see Verified.CallMaps); callMapUnseen until visited
	ctxWrites    bool
	aluAux       []aluSanitize // per slot: Spectre v1 masking of pointer ALU (sanitize.go); nil until needed
	ptrType      []RegType     // per slot of a load or store: the pointer type it first used; nil until needed
	ctxPointers  []RegType     // per slot of a context load: the pointer type it yields (data, flow_keys, ...); nil until one
	nospecResult []bool        // per slot: a stack store the kernel fences against Spectre v4 (stack.go); nil until needed

	totalStates, curStates, peakStates, maxStatesPerInsn int

	log     bytes.Buffer
	logFull bool
}

// subprog is a function of a program with bpf-to-bpf calls.
type subprog struct {
	start, end int // slots [start, end)
	stackDepth int // deepest stack byte used, as simulation found it
	callees    []int
}

func newEnv(p *program.Program, opts *Options) *env {
	e := &env{prog: p, opts: opts, maxProcessed: opts.MaxProcessed}
	if e.maxProcessed <= 0 {
		e.maxProcessed = complexityLimitInsns
	}
	return e
}

// reject makes the error for a rejection at insn pc.
func (e *env) reject(pc int, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	e.logf("%s\n", msg)
	return &Error{Insn: pc, Msg: msg, Log: e.finalLog()}
}

// rejectWith is reject with a second log line after the message, for the
// kernel's two-line reports ("invalid access to packet, ..." then "R2
// offset is outside of the packet").
func (e *env) rejectWith(pc int, extra string, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	e.logf("%s\n%s\n", msg, extra)
	return &Error{Insn: pc, Msg: msg, Log: e.finalLog()}
}

// bug makes the error for a broken invariant of the verifier itself.
func (e *env) bug(pc int, format string, args ...any) *Error {
	msg := "BUG: " + fmt.Sprintf(format, args...)
	e.logf("%s\n", msg)
	return &Error{Insn: pc, Msg: msg, Log: e.finalLog(), Internal: true}
}

func (e *env) logf(format string, args ...any) {
	if e.logFull {
		return
	}
	fmt.Fprintf(&e.log, format, args...)
	if e.log.Len() > maxLogBytes {
		e.log.WriteString("... log truncated\n")
		e.logFull = true
	}
}

func (e *env) finalLog() string {
	e.logStats()
	return e.log.String()
}

func (e *env) logStats() {
	if e.logFull {
		e.logFull = false // the statistics line always goes in
	}
	fmt.Fprintf(&e.log, "processed %d insns (limit %d) max_states_per_insn %d total_states %d peak_states %d mark_read %d\n",
		e.processed, e.maxProcessed, e.maxStatesPerInsn, e.totalStates, e.peakStates, 0)
	e.logFull = true
}

// checkJumpRanges reports a jump that leaves the program, and a write to
// R10, in the kernel's words, before the decoder reports them in its own.
func (e *env) checkJumpRanges() error {
	n := int(e.prog.Insns.Size() / asm.InstructionSize)
	iter := e.prog.Insns.Iterate()
	for iter.Next() {
		ins, pc := iter.Ins, int(iter.Offset)
		cls := ins.OpCode.Class()
		switch cls {
		case asm.ALUClass, asm.ALU64Class, asm.LdXClass, asm.LdClass:
			if ins.Dst == asm.R10 && (cls != asm.LdClass || ins.OpCode.IsDWordLoad()) {
				return e.reject(pc, "frame pointer is read only")
			}
		}
		if cls != asm.JumpClass && cls != asm.Jump32Class {
			continue
		}
		op := ins.OpCode.JumpOp()
		if op == asm.Call || op == asm.Exit || (ins.Reference() != "" && ins.Offset == -1) {
			continue
		}
		rel := int64(ins.Offset)
		if cls == asm.Jump32Class && op == asm.Ja {
			rel = ins.Constant
		}
		if t := int64(pc) + 1 + rel; t < 0 || t >= int64(n) {
			return e.reject(pc, "jump out of range from insn %d to %d", pc, t)
		}
	}
	return nil
}

// resolveMaps resolves every LDDW map load to a program map and checks
// what the load itself implies (the kernel's resolve_pseudo_ldimm64).
func (e *env) resolveMaps() error {
	e.mapOf = make([]int32, len(e.insns))
	e.mapValue = make([]uint32, len(e.insns))
	for i := range e.mapOf {
		e.mapOf[i] = -1
	}
	refs, err := e.prog.MapRefs()
	if err != nil {
		var ie *program.InsnError
		if errors.As(err, &ie) {
			r := e.reject(ie.Insn, "%v: fd is not pointing to valid bpf_map", ie.Err)
			r.cause = err
			return r
		}
		return e.reject(-1, "%v", err)
	}
	for _, ref := range refs {
		m := e.prog.Maps[ref.Map]
		if msg := checkMapSpec(m); msg != "" {
			return e.reject(ref.Slot, "%s", msg)
		}
		if msg := e.checkMapPrivilege(m); msg != "" {
			return e.reject(ref.Slot, "%s", msg)
		}
		if ref.Value {
			if m.Type != program.MapType(2) { // BPF_MAP_TYPE_ARRAY
				return e.reject(ref.Slot, "no direct value access support for this map type")
			}
			// array_map_direct_value_addr: an array of one value only.
			if ref.Offset >= m.ValueSize || m.MaxEntries != 1 {
				return e.reject(ref.Slot, "invalid access to map value pointer, value_size=%d off=%d", m.ValueSize, ref.Offset)
			}
		}
		e.mapOf[ref.Slot] = int32(ref.Map)
		e.mapValue[ref.Slot] = ref.Offset
	}
	return nil
}

// The loader's capabilities, as the kernel derives them from CAP_BPF and
// CAP_PERFMON in bpf_check. bpfCapable allows bounded loops, the large
// instruction limit and CAP_BPF helpers; the others follow CAP_PERFMON.
func (e *env) bpfCapable() bool { return !e.opts.Unprivileged }

// allowPtrLeaks is the kernel's env->allow_ptr_leaks: pointers may be
// compared, stored where user space can read them, and turned to scalars.
func (e *env) allowPtrLeaks() bool { return !e.opts.Unprivileged && !e.opts.WithoutPerfmon }

// allowUninitStack is env->allow_uninit_stack.
func (e *env) allowUninitStack() bool { return e.allowPtrLeaks() }

// bypassSpecV1 is env->bypass_spec_v1: no Spectre v1 hardening of pointer
// arithmetic and of the paths a mispredicted branch could take.
func (e *env) bypassSpecV1() bool { return e.allowPtrLeaks() }

// bypassSpecV4 is env->bypass_spec_v4: no Spectre v4 (store bypass)
// hardening of stack spills.
func (e *env) bypassSpecV4() bool { return e.allowPtrLeaks() }

// helperAllowed reports whether the loader has the capability a helper
// needs (bpf_base_func_proto's CAP_BPF and CAP_PERFMON groups).
func (e *env) helperAllowed(p program.Privilege) bool {
	switch p {
	case program.PrivNone:
		return true
	case program.PrivBPF:
		return e.bpfCapable()
	}
	return e.allowPtrLeaks() // CAP_PERFMON
}
