//go:build amd64 && linux

package jit

import (
	"fmt"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/userspacevm/maps"
	"github.com/dropmon/dropmon/verifier"
)

// compiler turns a verified program into machine code in one pass over
// its slots. Every forward jump is emitted with a rel32 and recorded in a
// fix-up list; the fix-ups are resolved once addrs holds every slot's
// offset.
type compiler struct {
	emitter
	options
	insns  []program.Insn
	cur    int     // the slot being compiled
	addrs  []int   // code offset of each slot; addrs[len(insns)] is the end of the body
	fixups []fixup // rel32 fields that point at slots
	labels [nLabels][]int

	localCalls bool // the program has bpf-to-bpf calls
	packet     bool // the program has LD_ABS or LD_IND
	readsCPU   bool // the code reads the run's CPU (per-CPU lookups)
	batch      int  // offset of the batch entry
}

// options are what the code depends on besides the instructions.
type options struct {
	// inlineLookup: map_lookup_elem is bound to the default helper, so
	// lookups may be inlined (emitMapLookup).
	inlineLookup bool
	// maps are the program's maps, by index, for lookups of a map known
	// at the call site.
	maps []*maps.Map
	// callMaps gives, per slot, the index of the map R1 holds at a helper
	// call (verifier.Verified.CallMaps).
	callMaps []int
	// conformance: R2 holds the length of the memory at R1.
	conformance bool
	// skb: the context is an __sk_buff and the packet for LD_ABS/LD_IND
	// is RunContext.Packet, which Go writes into the context (pktData,
	// pktLen) before the run.
	skb bool
	// ctxPointers gives, per slot, the pointer a load of an __sk_buff
	// field yields (verifier.Verified.CtxPointer): the code computes it
	// from pktData, pktLen and the context's address instead of loading
	// it, so runs need not write the context's pointer words.
	ctxPointers []verifier.RegType
	// flowDissector: the runs follow the flow dissector's calling
	// convention (userspacevm's flowDissectorEnter and Exit, in machine
	// code: emitFlowEnter, emitFlowExit).
	flowDissector bool
	// guard: the runs enter and leave the runner's maps.Guard, entering
	// with a plain increment when lockFreeGuard (maps.AsymmetricFences),
	// else with a locked one.
	guard, lockFreeGuard bool
	// exclusive: the runner is the only writer of the program's maps
	// (Engine.Exclusive), so atomic read-modify-writes need no bus lock.
	exclusive bool
}

// fixup is a rel32 field at code offset at that must point at slot.
type fixup struct {
	at   int
	slot int
}

// Shared stubs after the body, reached by jumps from many slots.
const (
	labelExitMain  = iota // exit done, R0 in RBX
	labelAbortZero        // LD_ABS/LD_IND out of range: R0 = 0, exit done
	labelCallDepth        // too many nested calls
	labelBatchNext        // a run of a batch ended: on to the next item
	nLabels
)

// compiled is the output of compile: the code, the offset of each slot,
// the offset of the resume stub (a new run enters at offset 0), and
// whether the code reads the run's CPU from the context.
type compiled struct {
	code     []byte
	addrs    []int
	resume   int
	batch    int // the entry of RunBatch (emitBatch)
	readsCPU bool
}

// compile emits the start stub, the body and the stubs.
func compile(insns []program.Insn, opts options) (*compiled, error) {
	c := &compiler{insns: insns, addrs: make([]int, len(insns)+1), options: opts}
	for i := range insns {
		c.localCalls = c.localCalls || insns[i].Op == program.CallLocal
		c.packet = c.packet || insns[i].Op.IsPacketLoad()
	}
	c.emitStart()
	loopHeads := backwardTargets(insns)
	for i := range insns {
		if loopHeads[i] {
			c.align(loopAlign)
		}
		c.addrs[i], c.cur = c.pos(), i
		if err := c.insn(i, &insns[i]); err != nil {
			return nil, &program.InsnError{Insn: i, Err: err}
		}
	}
	c.addrs[len(insns)] = c.pos()
	resume := c.emitStubs()
	for _, f := range c.fixups {
		c.patch32(f.at, c.addrs[f.slot])
	}
	return &compiled{code: c.b, addrs: c.addrs, resume: resume, batch: c.batch, readsCPU: c.readsCPU}, nil
}

// loopAlign is the alignment of loop heads: a loop body that starts on a
// 32-byte boundary spans the fewest instruction-fetch blocks and decoded
// µop-cache lines.
const loopAlign = 32

// backwardTargets marks the slots that a jump at or after them reaches:
// the heads of loops.
func backwardTargets(insns []program.Insn) []bool {
	heads := make([]bool, len(insns))
	for pc := range insns {
		op := insns[pc].Op
		if op != program.JA && !op.IsCondJump() {
			continue
		}
		if t := insns[pc].Target(); t >= 0 && t <= pc {
			heads[t] = true
		}
	}
	return heads
}

// jump emits a jump to slot, jumpIf a conditional one: backward jumps
// (the slot's code is known) take the short form when it reaches, forward
// jumps a rel32 fixed up at the end.
func (c *compiler) jump(slot int) {
	if slot <= c.cur {
		if rel := c.addrs[slot] - (c.pos() + 2); rel >= -128 {
			c.patch8To(c.jmp8(), c.addrs[slot])
			return
		}
		c.patch32(c.jmp32(), c.addrs[slot])
		return
	}
	c.jumpTo(c.jmp32(), slot)
}

func (c *compiler) jumpIf(cc byte, slot int) {
	if slot <= c.cur {
		if rel := c.addrs[slot] - (c.pos() + 2); rel >= -128 {
			c.patch8To(c.jcc8(cc), c.addrs[slot])
			return
		}
		c.patch32(c.jcc32(cc), c.addrs[slot])
		return
	}
	c.jumpTo(c.jcc32(cc), slot)
}

// jumpTo records a rel32 at at that must reach slot.
func (c *compiler) jumpTo(at, slot int) { c.fixups = append(c.fixups, fixup{at: at, slot: slot}) }

// jumpLabel records a rel32 at at that must reach a stub.
func (c *compiler) jumpLabel(at, label int) { c.labels[label] = append(c.labels[label], at) }

// insn emits one slot: one switch over the decoded operations, each case
// one emit helper.
func (c *compiler) insn(pc int, in *program.Insn) error {
	op := in.Op
	switch {
	case op.IsALU64() || op.IsALU32():
		c.emitALU(in)
	case op.IsSwap():
		c.emitSwap(in)
	case op == program.JA:
		c.jump(in.Target())
	case op.IsCondJump():
		c.emitCondJump(in)
	case op == program.CallHelper:
		c.emitHelperCall(pc, in)
	case op == program.CallLocal:
		c.emitLocalCall(pc, in)
	case op == program.Exit:
		c.emitExit()
	case op == program.LdDW:
		c.movabs(regMap[in.Dst], uint64(in.Imm))
	case op == program.LdDWHi:
		// The second slot of an LDDW: never executed, no code.
	case op.IsLoadX() && c.ctxPointers != nil && c.ctxPointers[pc] != verifier.NotInit:
		c.emitCtxPointer(in, c.ctxPointers[pc])
	case op.IsLoadX():
		c.emitLoad(in)
	case op.IsStore():
		c.emitStore(in)
	case op.IsAtomic():
		c.emitAtomic(in)
	case op.IsPacketLoad():
		c.emitPacketLoad(in)
	default:
		return fmt.Errorf("%s: %w", op, userspacevm.ErrInvalid)
	}
	return nil
}

// emitStubs emits the shared exits and the resume stub, resolves the
// jumps to the exits, and returns the resume stub's offset.
func (c *compiler) emitStubs() int {
	at := [nLabels]int{}
	at[labelAbortZero] = c.pos()
	// RFC 9669 / the kernel: a packet load out of bounds ends the program
	// with R0 = 0, whatever the call depth.
	c.aluRR(0, opXor, regMap[0], regMap[0])
	c.storeImm64(ctxReg, offDepth, 0)
	at[labelExitMain] = c.pos()
	c.emitDone()
	at[labelCallDepth] = c.pos()
	c.movRI(0, rax, int32(exitCallDepth))
	c.returnToGo()
	at[labelBatchNext] = c.pos()
	c.batch = c.emitBatch()
	for l, sites := range c.labels {
		for _, s := range sites {
			c.patch32(s, at[l])
		}
	}
	return c.emitResume()
}
