package verifier

import (
	"sort"

	"github.com/cilium/ebpf/asm"
	"github.com/dropmon/dropmon/program"
)

// findSubprogs splits the program into functions at the targets of
// bpf-to-bpf calls and checks that no jump leaves its function and that
// every function ends in exit or ja (the kernel's check_subprogs).
func (e *env) findSubprogs() error {
	starts := []int{0}
	for pc := range e.insns {
		if e.insns[pc].Op == program.CallLocal {
			if !e.bpfCapable() {
				return e.reject(pc, "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN")
			}
			starts = append(starts, e.insns[pc].Target())
		}
	}
	sort.Ints(starts)
	e.subprogs = e.subprogs[:0]
	for i, s := range starts {
		if i > 0 && s == starts[i-1] {
			continue
		}
		e.subprogs = append(e.subprogs, subprog{start: s})
	}
	e.subprogOf = make([]int, len(e.insns))
	for i := range e.subprogs {
		end := len(e.insns)
		if i+1 < len(e.subprogs) {
			end = e.subprogs[i+1].start
		}
		e.subprogs[i].end = end
		for pc := e.subprogs[i].start; pc < end; pc++ {
			e.subprogOf[pc] = i
		}
	}
	for i := range e.subprogs {
		sp := &e.subprogs[i]
		for pc := sp.start; pc < sp.end; pc++ {
			in := &e.insns[pc]
			switch {
			case in.Op == program.CallLocal:
				sp.callees = append(sp.callees, e.subprogOf[in.Target()])
			case in.Op.HasTarget() && (in.Target() < sp.start || in.Target() >= sp.end):
				return e.reject(pc, "jump out of range from insn %d to %d", pc, in.Target())
			}
		}
		if op := e.insns[sp.end-1].Op; op != program.Exit && op != program.JA {
			return e.reject(sp.end-1, "last insn is not an exit or jmp")
		}
	}
	return e.checkAbnormalReturn()
}

// checkAbnormalReturn refuses LD_ABS and tail calls outside the main
// function (check_abnormal_return): both may leave the program from a
// subprogram, which the kernel allows only when BTF describes the
// functions, and dropmon's programs carry no function BTF.
func (e *env) checkAbnormalReturn() error {
	for i := 1; i < len(e.subprogs); i++ {
		sp := &e.subprogs[i]
		for pc := sp.start; pc < sp.end; pc++ {
			if op := e.insns[pc].Op; op.IsPacketLoad() {
				return e.reject(pc, "LD_ABS is not allowed in subprogs without BTF")
			}
		}
		for pc := sp.start; pc < sp.end; pc++ {
			if in := &e.insns[pc]; in.Op == program.CallHelper && asm.BuiltinFunc(in.Imm) == asm.FnTailCall {
				return e.reject(pc, "tail_call is not allowed in subprogs without BTF")
			}
		}
	}
	return nil
}

// successors returns where execution may go after pc within its function
// (a call continues after itself; the callee is its own function).
func (e *env) successors(pc int, buf []int) []int {
	in := &e.insns[pc]
	switch {
	case in.Op == program.Exit:
		return buf[:0]
	case in.Op == program.JA:
		return append(buf[:0], in.Target())
	case in.Op.IsCondJump():
		return append(buf[:0], pc+1, in.Target())
	case in.Op.IsLoad64():
		return append(buf[:0], pc+2)
	}
	return append(buf[:0], pc+1)
}

// checkCFG walks the control flow graph depth first from every function's
// entry (the kernel's check_cfg): loops are reported as back-edges for
// unprivileged programs (privileged ones may loop when simulation proves
// the loop ends), and an instruction no path reaches is an error. It also
// marks the prune points, where simulation compares states: jump targets,
// the instruction after a conditional jump, after a call.
func (e *env) checkCFG() error {
	const (
		white = iota
		grey
		black
	)
	n := len(e.insns)
	color := make([]uint8, n)
	e.prune = make([]bool, n)
	type frame struct{ pc, next int }
	var buf [2]int
	stack := []frame{}
	for _, sp := range e.subprogs {
		if color[sp.start] != white {
			continue
		}
		stack = append(stack[:0], frame{pc: sp.start})
		color[sp.start] = grey
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			succ := e.successors(top.pc, buf[:])
			if top.next >= len(succ) {
				color[top.pc] = black
				stack = stack[:len(stack)-1]
				continue
			}
			to := succ[top.next]
			top.next++
			from := top.pc
			in := &e.insns[from]
			if in.Op.HasTarget() || in.Op == program.CallLocal {
				e.prune[to] = true
			}
			switch color[to] {
			case white:
				color[to] = grey
				stack = append(stack, frame{pc: to})
			case grey:
				if !e.bpfCapable() {
					return e.reject(from, "back-edge from insn %d to %d", from, to)
				}
			}
		}
	}
	for pc := range e.insns {
		if color[pc] == white && e.insns[pc].Op != program.LdDWHi {
			return e.reject(pc, "unreachable insn %d", pc)
		}
	}
	return nil
}

// Register liveness: which registers an instruction's successors may read
// before writing them. States are compared at prune points only in live
// registers, as the kernel's liveness marks let it do.
func (e *env) computeLiveness() error {
	n := len(e.insns)
	e.live = make([]uint16, n)
	var buf [2]int
	for changed := true; changed; {
		changed = false
		for pc := n - 1; pc >= 0; pc-- {
			in := &e.insns[pc]
			if in.Op == program.LdDWHi {
				continue
			}
			var out uint16
			for _, s := range e.successors(pc, buf[:]) {
				out |= e.live[s]
			}
			use, def := e.useDef(pc, in)
			l := use | out&^def
			if l != e.live[pc] {
				e.live[pc] = l
				changed = true
			}
		}
	}
	return nil
}

const (
	regsArgs    uint16 = 0b111110 // R1-R5
	regsCallerS uint16 = 0b111111 // R0-R5: clobbered by calls
)

func reg(r uint8) uint16 { return 1 << r }

// useDef returns the registers an instruction reads and writes.
func (e *env) useDef(pc int, in *program.Insn) (use, def uint16) {
	op := in.Op
	switch {
	case op == program.Mov64Imm || op == program.Mov32Imm || op.IsLoad64():
		return 0, reg(in.Dst)
	case op == program.Mov64Reg || op == program.Mov32Reg || (op >= program.MovSX8To64 && op <= program.MovSX32To64) ||
		op == program.MovSX8To32 || op == program.MovSX16To32:
		return reg(in.Src), reg(in.Dst)
	case op.IsALU64() || op.IsALU32():
		if isRegSource(op) {
			return reg(in.Dst) | reg(in.Src), reg(in.Dst)
		}
		return reg(in.Dst), reg(in.Dst)
	case op.IsSwap():
		return reg(in.Dst), reg(in.Dst)
	case op.IsCondJump():
		if isRegSource(op) {
			return reg(in.Dst) | reg(in.Src), 0
		}
		return reg(in.Dst), 0
	case op == program.Exit:
		return reg(0), 0
	case op == program.CallLocal:
		return regsArgs, regsCallerS
	case op == program.CallHelper:
		args := regsArgs
		if p, ok := program.Helper(asm.BuiltinFunc(in.Imm)); ok {
			args = uint16(1)<<(p.NumArgs()+1) - 2
		}
		return args, regsCallerS
	case op.IsPacketLoad():
		use = reg(6)
		if op >= program.LdIndB {
			use |= reg(in.Src)
		}
		return use, regsCallerS
	case op.IsLoadX():
		return reg(in.Src), reg(in.Dst)
	case op >= program.StB && op <= program.StDW:
		return reg(in.Dst), 0
	case op.IsStore():
		return reg(in.Dst) | reg(in.Src), 0
	case op.IsAtomic():
		use = reg(in.Dst) | reg(in.Src)
		if op == program.AtomicCmpXchg32 || op == program.AtomicCmpXchg64 {
			return use | reg(0), reg(0)
		}
		if isFetch(op) {
			return use, reg(in.Src)
		}
		return use, 0
	}
	return 0, 0
}

// isRegSource reports the register-source form of an ALU or jump op: the
// dense enum lists every imm form right before its reg form.
func isRegSource(op program.Op) bool {
	switch op {
	case program.Neg64, program.Neg32:
		return false
	}
	if op.IsALU64() {
		return (op-program.Add64Imm)%2 == 1 && op < program.Neg64
	}
	if op.IsALU32() {
		return (op-program.Add32Imm)%2 == 1 && op < program.Neg32
	}
	if op.IsCondJump() {
		return (op-program.JEqImm)%2 == 1
	}
	return false
}

func isFetch(op program.Op) bool {
	switch op {
	case program.AtomicFetchAdd32, program.AtomicFetchOr32, program.AtomicFetchAnd32, program.AtomicFetchXor32,
		program.AtomicXchg32, program.AtomicCmpXchg32,
		program.AtomicFetchAdd64, program.AtomicFetchOr64, program.AtomicFetchAnd64, program.AtomicFetchXor64,
		program.AtomicXchg64, program.AtomicCmpXchg64:
		return true
	}
	return false
}
