//go:build amd64 && linux

package jit

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/userspacevm/maps"
	"github.com/dropmon/dropmon/userspacevm/program"
)

// Runner runs compiled code, one record at a time, on one goroutine at a
// time. It owns the context the code works in and an eBPF stack.
type Runner struct {
	prog    *userspacevm.Prepared
	code    *Code
	ownCode bool
	ctx     *jitContext
	stack   []byte
	top     uint64
	entry   uintptr
	start   uint64 // absolute address of slot 0's code
	helpers []userspacevm.HelperFunc
	mem     userspacevm.Memory
	call    userspacevm.Call
	noRC    userspacevm.RunContext
	guard   *maps.Guard
	conf    bool
	minCtx  int // bytes a run's context must have (Prepared.MinContext)
	exits   uint64
	cleanup runtime.Cleanup
}

// NewRunner makes a runner of compiled code; several runners (one per
// CPU) may share code and p. Close the runners before code.
func NewRunner(p *userspacevm.Prepared, code *Code) (*Runner, error) {
	return newRunner(p, code)
}

func newRunner(p *userspacevm.Prepared, code *Code) (*Runner, error) {
	if code == nil || code.mem == nil {
		return nil, errors.New("jit: new runner: code is closed")
	}
	stack, err := stackMemory()
	if err != nil {
		return nil, fmt.Errorf("jit: %w", err)
	}
	r := &Runner{
		prog:   p,
		code:   code,
		ctx:    new(jitContext),
		stack:  stack,
		top:    uint64(uintptr(unsafe.Pointer(unsafe.SliceData(stack)))) + stackSize,
		entry:  uintptr(code.addr(code.entry)),
		start:  code.addr(code.addrs[0]),
		conf:   p.Program.Type == program.Conformance,
		minCtx: p.MinContext,
	}
	for _, in := range p.Insns {
		if in.Op != program.CallHelper {
			continue
		}
		id := int(in.Imm)
		if id >= len(r.helpers) {
			r.helpers = append(r.helpers, make([]userspacevm.HelperFunc, id+1-len(r.helpers))...)
		}
		if r.helpers[id] = p.HelperFunc(asm.BuiltinFunc(id)); r.helpers[id] == nil {
			freeMemory(stack)
			return nil, fmt.Errorf("jit: helper %d not bound (use Prepare): %w", id, userspacevm.ErrInvalid)
		}
	}
	r.mem = userspacevm.RunMemory(p, stack)
	r.call = userspacevm.Call{Mem: &r.mem, Maps: p}
	if p.HasHashMaps {
		r.guard = new(maps.Guard)
		for _, m := range p.Maps {
			m.Register(r.guard)
		}
	}
	r.cleanup = runtime.AddCleanup(r, func(m []byte) { _ = freeMemory(m) }, stack)
	return r, nil
}

// Run runs the program over ctx: R1 holds ctx's address (0 when empty)
// and, for the Conformance type, R2 its length. ctx stays referenced (by
// the helpers' memory map) for the run, so its address stays valid.
func (r *Runner) Run(ctx []byte, rc *userspacevm.RunContext) (uint64, error) {
	if r.ctx == nil {
		return 0, errors.New("run: jit runner is closed")
	}
	// Generated code reads the context without checks, as the verifier
	// proved: the context must be as long as the proof assumed.
	if len(ctx) < r.minCtx {
		return 0, r.prog.CheckContext(ctx)
	}
	if rc == nil {
		rc = &r.noRC
	}
	r.call.RunContext = rc
	r.call.Err = nil
	r.exits = 0
	x := r.ctx
	var base uint64
	if len(ctx) > 0 {
		base = uint64(uintptr(unsafe.Pointer(unsafe.SliceData(ctx))))
	}
	x.regs[1], x.regs[2], x.regs[10] = base, 0, r.top
	if r.conf {
		x.regs[2] = uint64(len(ctx))
	}
	x.pktData, x.pktLen = base, uint64(len(ctx))
	x.depth, x.resume, x.cpu = 0, r.start, uint64(rc.CPU)
	if r.guard != nil {
		r.guard.Enter()
	}
	r0, err := r.loop(ctx)
	if r.guard != nil {
		r.guard.Exit()
	}
	runtime.KeepAlive(ctx)
	if r.exits > 0 {
		r.mem.SetContext(nil) // keep no reference to the record
	}
	r.call.RunContext = nil
	return r0, err
}

// loop enters the code until it exits, serving helper calls. The helpers'
// view of memory gets the context only at the first exit: runs that stay
// in machine code never pay for it.
func (r *Runner) loop(ctx []byte) (uint64, error) {
	x := r.ctx
	for {
		callJIT(r.entry, unsafe.Pointer(x))
		switch exitCode(x.exit) {
		case exitDone:
			return x.regs[0], nil
		case exitHelper:
			if r.exits == 0 {
				r.mem.SetContext(ctx)
			}
			r.exits++
			g := &x.regs
			x.regs[0] = r.helpers[x.helper](&r.call, g[1], g[2], g[3], g[4], g[5])
			if r.call.Err != nil {
				return 0, &userspacevm.RunError{PC: int(x.pc), Err: r.call.Err}
			}
		case exitCallDepth:
			return 0, &userspacevm.RunError{PC: int(x.pc), Err: userspacevm.ErrCallDepth}
		default:
			panic(fmt.Sprintf("BUG: jit exit code %d", x.exit))
		}
	}
}

// Exits returns how many times the last run exited to Go for a helper:
// one per helper call, except the map lookups compiled inline.
func (r *Runner) Exits() uint64 { return r.exits }

// Code returns the code the runner runs.
func (r *Runner) Code() *Code { return r.code }

// Close releases the stack, the maps' registration and, for a runner from
// Engine.Load, the code.
func (r *Runner) Close() error {
	if r.ctx == nil {
		return nil
	}
	if r.guard != nil {
		for _, m := range r.prog.Maps {
			m.Unregister(r.guard)
		}
	}
	r.cleanup.Stop()
	err := freeMemory(r.stack)
	r.stack, r.ctx = nil, nil
	if r.ownCode {
		err = errors.Join(err, r.code.Close())
	}
	return err
}
