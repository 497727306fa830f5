//go:build amd64 && linux

package jit

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"unsafe"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/userspacevm/maps"
)

// Runner runs compiled code, one record at a time, on one goroutine at a
// time. It owns the context the code works in and an eBPF stack.
type Runner struct {
	prog    *userspacevm.Prepared
	code    *Code
	ownCode bool
	ctx     *jitContext
	stack   []byte
	start   uintptr // absolute addresses of the start and resume stubs
	resume  uintptr
	helpers []userspacevm.HelperFunc
	mem     userspacevm.Memory
	call    userspacevm.Call
	noRC    userspacevm.RunContext
	guard   *maps.Guard
	minCtx  int // bytes a run's context must have (Prepared.MinContext)
	// Copies of Prepared.SkBuff and Code.readsCPU, read by every run.
	skb, readsCPU bool
	flow          bool                    // a flow dissector: Go checks each packet's length (emitFlowEnter)
	batchEntry    uintptr                 // absolute address of the batch entry
	batch         []userspacevm.BatchItem // the batch running
	batchRC       userspacevm.RunContext  // a batch's rc with the running item's packet, for helpers
	exits         uint64
	cleanup       runtime.Cleanup
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
		prog:       p,
		code:       code,
		ctx:        new(jitContext),
		stack:      stack,
		start:      uintptr(code.addr(0)),
		resume:     uintptr(code.addr(code.resume)),
		batchEntry: uintptr(code.addr(code.batch)),
		minCtx:     p.MinContext,
		skb:        p.SkBuff,
		flow:       p.Program.Type == program.FlowDissector,
		readsCPU:   code.readsCPU,
	}
	r.ctx.top = uint64(uintptr(unsafe.Pointer(unsafe.SliceData(stack)))) + stackSize
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
		// The code enters and leaves the guard itself (emitStart,
		// emitDone) through its address; the runner keeps it alive.
		r.guard = new(maps.Guard)
		r.ctx.guard = uint64(r.guard.Addr())
		// The update and delete helpers pause it around an LRU map's
		// insert, as the interpreter's do (maps.Guard.Pause).
		r.call.Guard = r.guard
		for _, m := range p.Maps {
			m.Register(r.guard)
		}
	}
	r.cleanup = runtime.AddCleanup(r, func(m []byte) { _ = freeMemory(m) }, stack)
	return r, nil
}

// Run runs the program over ctx: R1 holds ctx's address (0 when empty)
// and, for the Conformance type, R2 its length. No reference to ctx is
// kept after the run.
//
// A run that stays in machine code costs a call through the trampoline
// and a couple of stores; Go's side of helper calls (the run context, the
// helpers' view of memory, which then holds ctx) is set up at the first
// helper exit.
func (r *Runner) Run(ctx []byte, rc *userspacevm.RunContext) (uint64, error) {
	// Generated code reads the context without checks, as the verifier
	// proved: the context must be as long as the proof assumed. A closed
	// runner's minCtx is beyond any context.
	if len(ctx) < r.minCtx {
		return 0, r.refuse(ctx)
	}
	var base uint64
	if len(ctx) > 0 {
		base = uint64(uintptr(unsafe.Pointer(unsafe.SliceData(ctx))))
	}
	x := r.ctx
	if r.skb {
		// The code computes data, data_end and flow_keys from these
		// (emitCtxPointer): the context's pointer words stay as they are.
		var pkt []byte
		if rc != nil {
			pkt = rc.Packet
		}
		if r.flow && len(pkt) < userspacevm.EthHeaderLen {
			return 0, fmt.Errorf("run: flow dissector: %d bytes: %w", len(pkt), userspacevm.ErrShortPacket)
		}
		x.pktData, x.pktLen = uint64(uintptr(unsafe.Pointer(unsafe.SliceData(pkt)))), uint64(len(pkt))
	}
	if r.readsCPU {
		// Only when the code reads it: the store costs about 1 ns a run
		// otherwise (measured on ctx-read).
		r.setCPU(rc)
	}
	r.exits = 0
	// ctx needs no KeepAlive: this goroutine cannot stop inside the code,
	// so no garbage collection starts or scans its stack before callJIT
	// returns, and the caller's ctx was live when it was last scanned.
	r0, exit := callJIT(r.start, unsafe.Pointer(x), base, uint64(len(ctx)))
	if exit != exitDone {
		return r.serve(ctx, rc, exit, nil)
	}
	return r0, nil
}

// RunBatch runs the program over each item in turn, as Run would with rc
// and the item's Packet, writing each R0 (userspacevm.BatchRunner): one
// entry into machine code for the whole batch, whose code goes from one
// run's end to the next item's start. It returns how many items ran; on an
// error, the failing item and the ones after it are left as they were.
func (r *Runner) RunBatch(items []userspacevm.BatchItem, rc *userspacevm.RunContext) (int, error) {
	for i := range items {
		short := len(items[i].Ctx) < r.minCtx
		if short || r.flow && len(items[i].Packet) < userspacevm.EthHeaderLen {
			n, err := r.runBatch(items[:i], rc)
			if err != nil {
				return n, err
			}
			if short {
				return i, r.refuse(items[i].Ctx)
			}
			return i, fmt.Errorf("run: flow dissector: %d bytes: %w", len(items[i].Packet), userspacevm.ErrShortPacket)
		}
	}
	return r.runBatch(items, rc)
}

func (r *Runner) runBatch(items []userspacevm.BatchItem, rc *userspacevm.RunContext) (int, error) {
	if len(items) == 0 {
		return 0, nil
	}
	x := r.ctx
	if r.readsCPU {
		r.setCPU(rc)
	}
	r.exits = 0
	// The runner holds the items while the code runs: a helper exit runs
	// Go code, which must not find them on a stack that may move.
	r.batch = items
	x.batchItem = uint64(uintptr(unsafe.Pointer(unsafe.SliceData(items))))
	x.batchEnd = x.batchItem + uint64(len(items))*itemSize
	_, exit := callJIT(r.batchEntry, unsafe.Pointer(x), 0, 0)
	var err error
	if exit != exitDone {
		_, err = r.serve(nil, rc, exit, items)
	}
	n := len(items)
	if err != nil {
		n = r.batchIndex()
	}
	x.batchItem, x.batchEnd = 0, 0
	r.batch = nil
	return n, err
}

// setCPU gives the code the run's CPU, for per-CPU lookups.
func (r *Runner) setCPU(rc *userspacevm.RunContext) {
	var cpu uint64
	if rc != nil {
		cpu = uint64(rc.CPU)
	}
	r.ctx.cpu = cpu
}

// batchIndex is the index of the batch item running.
func (r *Runner) batchIndex() int {
	return int((r.ctx.batchItem - uint64(uintptr(unsafe.Pointer(unsafe.SliceData(r.batch))))) / itemSize)
}

// refuse is Run's error for a context shorter than the proof assumed, or
// for a closed runner.
func (r *Runner) refuse(ctx []byte) error {
	if r.ctx == nil {
		return errors.New("run: jit runner is closed")
	}
	return r.prog.CheckContext(ctx)
}

// serve handles the exits of a run that left machine code before its
// end: it calls helpers and resumes the code until the run is done or
// fails. The helpers' view of memory gets the context only here: runs
// that stay in machine code never pay for it.
func (r *Runner) serve(ctx []byte, rc *userspacevm.RunContext, exit exitCode, batch []userspacevm.BatchItem) (uint64, error) {
	if rc == nil {
		rc = &r.noRC
	}
	x := r.ctx
	r.call.RunContext, r.call.Err = rc, nil
	r.mem.SetContext(ctx)
	if r.skb {
		r.mem.SetPacket(rc.Packet)
	}
	defer func() {
		r.mem.SetContext(nil) // keep no reference to the record
		r.mem.SetPacket(nil)
		r.call.RunContext = nil
	}()
	for {
		switch exit {
		case exitDone:
			return x.regs[0], nil
		case exitHelper:
			r.exits++
			if batch != nil {
				// The helper sees the item running: its context, its
				// packet.
				it := &batch[r.batchIndex()]
				r.batchRC = *rc
				r.batchRC.Packet = it.Packet
				r.call.RunContext = &r.batchRC
				r.mem.SetContext(it.Ctx)
				r.mem.SetPacket(it.Packet)
			}
			g := &x.regs
			g[0] = r.helpers[x.helper](&r.call, g[1], g[2], g[3], g[4], g[5])
			if r.call.Err != nil {
				r.abort()
				return 0, &userspacevm.RunError{PC: int(x.pc), Err: r.call.Err}
			}
			g[0], exit = callJIT(r.resume, unsafe.Pointer(x), 0, 0)
		case exitCallDepth:
			r.abort()
			return 0, &userspacevm.RunError{PC: int(x.pc), Err: userspacevm.ErrCallDepth}
		default:
			panic(fmt.Sprintf("BUG: jit exit code %d", exit))
		}
	}
}

// abort resets what a run that ends with an error leaves behind: its call
// frames and the guard the code entered.
func (r *Runner) abort() {
	r.ctx.depth = 0
	r.ctx.batchEnd = 0
	if r.guard != nil {
		r.guard.Exit()
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
	r.stack, r.ctx, r.minCtx = nil, nil, math.MaxInt
	if r.ownCode {
		err = errors.Join(err, r.code.Close())
	}
	return err
}
