//go:build amd64 && linux

package jit

import (
	"fmt"

	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/userspacevm/program"
)

// compiler turns a verified program into machine code in one pass over
// its slots. Every jump is emitted with a rel32 and recorded in a fix-up
// list; the fix-ups are resolved once addrs holds every slot's offset.
type compiler struct {
	emitter
	insns  []program.Insn
	addrs  []int   // code offset of each slot; addrs[len(insns)] is the end of the body
	fixups []fixup // rel32 fields that point at slots
	labels [nLabels][]int

	// inlineArrayLookup: map_lookup_elem is bound to the default helper,
	// so array lookups may be inlined (emitArrayLookup).
	inlineArrayLookup bool
}

// fixup is a rel32 field at code offset at that must point at slot.
type fixup struct {
	at   int
	slot int
}

// Shared stubs after the body, reached by jumps from many slots.
const (
	labelExitMain  = iota // store R0, exit done
	labelAbortZero        // LD_ABS/LD_IND out of range: R0 = 0, exit done
	labelCallDepth        // too many nested calls
	nLabels
)

// compile emits the entry stub, the body and the stubs.
func compile(insns []program.Insn, inlineArrayLookup bool) (code []byte, addrs []int, entry int, err error) {
	c := &compiler{insns: insns, addrs: make([]int, len(insns)+1), inlineArrayLookup: inlineArrayLookup}
	c.emitEntry()
	for i := range insns {
		c.addrs[i] = c.pos()
		if err := c.insn(i, &insns[i]); err != nil {
			return nil, nil, 0, &program.InsnError{Insn: i, Err: err}
		}
	}
	c.addrs[len(insns)] = c.pos()
	c.emitStubs()
	for _, f := range c.fixups {
		c.patch32(f.at, c.addrs[f.slot])
	}
	return c.b, c.addrs, 0, nil
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
		c.jumpTo(c.jmp32(), in.Target())
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

// emitStubs emits the shared exits and resolves the jumps to them.
func (c *compiler) emitStubs() {
	at := [nLabels]int{}
	at[labelAbortZero] = c.pos()
	// RFC 9669 / the kernel: a packet load out of bounds ends the program
	// with R0 = 0, whatever the call depth.
	c.aluRR(0, opXor, regMap[0], regMap[0])
	at[labelExitMain] = c.pos()
	c.store64(ctxReg, offRegs, regMap[0])
	c.storeImm64(ctxReg, offExit, int32(exitDone))
	c.ret()
	at[labelCallDepth] = c.pos()
	c.storeImm64(ctxReg, offExit, int32(exitCallDepth))
	c.ret()
	for l, sites := range c.labels {
		for _, s := range sites {
			c.patch32(s, at[l])
		}
	}
}
