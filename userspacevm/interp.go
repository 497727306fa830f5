package userspacevm

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm/maps"
)

// DefaultMaxInsns is the instruction budget of one run unless
// InterpOptions say otherwise: far more than any verified program executes
// (the kernel's limit is one million instructions verified, and loops are
// bounded), small enough that an endless loop fails within a second.
const DefaultMaxInsns = 1 << 26

// InterpOptions tune the interpreter.
type InterpOptions struct {
	// MaxInsns bounds the instructions one run executes; a run that would
	// execute more ends with ErrInsnLimit. 0 means DefaultMaxInsns.
	MaxInsns uint64
	// RunUnverified lets the interpreter run a program that no verifier
	// has accepted (Prepare instead of PrepareVerified), relying on checked
	// mode alone. It exists for tests and fuzzing of the interpreter
	// itself; programs from users must go through the verifier.
	RunUnverified bool
}

// Interpreter runs a Prepared program one instruction at a time, in checked
// mode: every memory access is checked against the run's regions. It is a
// Runner, used by one goroutine at a time.
type Interpreter struct {
	prog     *Prepared
	insns    []program.Insn
	helpers  []HelperFunc
	maxInsns uint64

	stack *stack
	fp    uint64 // R10 of the main frame: the stack's top
	mem   Memory
	call  Call
	noRC  RunContext // for runs without a RunContext
	guard *maps.Guard
	pkt   []byte // the packet for LD_ABS and LD_IND: RunContext.Packet, or the run's bytes
	conf  bool   // Conformance type: R2 = len(ctx)
	flow  bool   // FlowDissector type: flowDissectorEnter and Exit around runs

	frames   [MaxFrames]frame
	executed uint64
}

// regs are R0-R10.
type regs = [11]uint64

// frame is what a bpf-to-bpf call saves: where to return, the caller's
// frame pointer and its callee-saved R6-R9.
type frame struct {
	ret   int
	fp    uint64
	saved [4]uint64
}

// NewInterpreter makes an interpreter runner of p. Each runner has its own
// stack (mmap'd) and registers, and shares p's maps with every other.
func NewInterpreter(p *Prepared, opts *InterpOptions) (*Interpreter, error) {
	if opts == nil {
		opts = &InterpOptions{}
	}
	if err := checkPrepared(p); err != nil {
		return nil, err
	}
	if p.Verified() == nil && !opts.RunUnverified {
		return nil, fmt.Errorf("interpreter: program %s: %w", progName(p.Program), ErrNotVerified)
	}
	st, err := newStack()
	if err != nil {
		return nil, err
	}
	it := &Interpreter{
		prog:     p,
		insns:    p.Insns,
		helpers:  p.helpers,
		maxInsns: opts.MaxInsns,
		stack:    st,
		fp:       st.top(),
		guard:    guardMaps(p),
		conf:     p.Program.Type == program.Conformance,
		flow:     p.Program.Type == program.FlowDissector,
	}
	if it.maxInsns == 0 {
		it.maxInsns = DefaultMaxInsns
	}
	it.mem = runMemory(p, st)
	it.call = Call{Mem: &it.mem, Maps: p, Guard: it.guard}
	return it, nil
}

// checkPrepared makes sure p came from Prepare: every helper call bound, no
// map load left unresolved. The loop relies on both.
func checkPrepared(p *Prepared) error {
	if p == nil || p.Program == nil || len(p.Insns) == 0 {
		return fmt.Errorf("interpreter: %w: not a prepared program", ErrInvalid)
	}
	for pc, in := range p.Insns {
		switch {
		case in.Op == program.CallHelper && p.HelperFunc(asm.BuiltinFunc(in.Imm)) == nil,
			in.Op == program.LdMapFD, in.Op == program.LdMapValue:
			return fmt.Errorf("interpreter: insn %d: %s not resolved (use Prepare): %w", pc, in.Op, ErrInvalid)
		}
	}
	return nil
}

// Run runs the program over ctx: R1 holds ctx's address (0 when it is
// empty) and, for the Conformance type, R2 its length. The Conformance
// type's programs may write ctx; __sk_buff programs (Prepared.SkBuff) get
// an skbuff.Context's bytes, whose pointer words Run fills, and
// rc.Packet as their packet; others only read ctx. Run allocates nothing.
func (it *Interpreter) Run(ctx []byte, rc *RunContext) (uint64, error) {
	if it.stack == nil {
		return 0, errors.New("run: interpreter is closed")
	}
	if len(ctx) < it.prog.MinContext {
		return 0, it.prog.CheckContext(ctx)
	}
	ctxRegion(&it.mem.Regions[0], ctx)
	it.pkt = ctx
	if rc == nil {
		rc = &it.noRC
	}
	if it.prog.SkBuff {
		it.pkt = rc.Packet
		SetSkbPointers(ctx, rc.Packet)
		ctxRegion(&it.mem.Regions[1], rc.Packet)
		if it.flow {
			if err := flowDissectorEnter(ctx, rc.Packet); err != nil {
				it.pkt = nil
				ctxRegion(&it.mem.Regions[0], nil)
				ctxRegion(&it.mem.Regions[1], nil)
				return 0, err
			}
		}
	}
	it.call.RunContext = rc
	it.call.Err = nil
	var r2 uint64
	if it.conf {
		r2 = uint64(len(ctx))
	}
	if it.guard != nil {
		it.guard.Enter()
	}
	r0, err := it.exec(it.mem.Regions[0].Start, r2)
	if it.guard != nil {
		it.guard.Exit()
	}
	if it.flow && err == nil {
		flowDissectorExit(ctx, it.pkt)
	}
	ctxRegion(&it.mem.Regions[0], nil) // keep no reference to the record
	ctxRegion(&it.mem.Regions[1], nil)
	it.pkt = nil
	it.call.RunContext = nil
	return r0, err
}

// Executed returns how many instructions the last successful run executed.
func (it *Interpreter) Executed() uint64 { return it.executed }

// Close releases the runner's stack and its registration with the maps.
func (it *Interpreter) Close() error {
	if it.stack == nil {
		return nil
	}
	unguardMaps(it.prog, it.guard)
	err := it.stack.close()
	it.stack = nil
	return err
}

// push saves the caller's state for a bpf-to-bpf call and gives the callee
// its frame: R10 one frame lower, R1-R5 passed as they are.
func (it *Interpreter) push(r *regs, depth, ret int) {
	it.frames[depth] = frame{ret: ret, fp: r[10], saved: [4]uint64{r[6], r[7], r[8], r[9]}}
	r[10] -= FrameSize
}

// pop restores the caller's R6-R9 and R10 and returns where to go on.
func (it *Interpreter) pop(r *regs, depth int) int {
	f := &it.frames[depth]
	r[6], r[7], r[8], r[9], r[10] = f.saved[0], f.saved[1], f.saved[2], f.saved[3], f.fp
	return f.ret
}
