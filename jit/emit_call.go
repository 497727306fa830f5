//go:build amd64 && linux

package jit

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/userspacevm/maps"
	"github.com/dropmon/dropmon/userspacevm/program"
)

// Generated code never touches the goroutine stack: no PUSH, POP or CALL.
// The trampoline CALLs the entry stub with the context in RBP; the code
// returns to it with RET whenever Go must act (exit, helper call, error),
// after storing its registers and the reason in the context.

// emitEntry emits the entry stub at offset 0: load R0-R10 from the
// context and jump to the resume address (slot 0's code for a new run, the
// instruction after a helper call when Go re-enters).
func (c *compiler) emitEntry() {
	for i, r := range regMap {
		c.load64(r, ctxReg, offRegs+8*int32(i))
	}
	c.rm(0, opGrp5, extJmp, ctxReg, offResume) // jmp [rbp+resume]
}

// emitHelperCall exits to Go: R1-R10 to the context (R0 is the result, Go
// writes it), the helper number, the slot, the resume address, then RET.
// Go calls the helper and re-enters through the entry stub, which reloads
// every register, so the x86 registers Go clobbers do not matter.
func (c *compiler) emitHelperCall(pc int, in *program.Insn) {
	if c.inlineArrayLookup && in.Imm == int64(asm.FnMapLookupElem) {
		c.emitArrayLookup(pc, in)
		return
	}
	c.emitHelperExit(pc, in)
}

func (c *compiler) emitHelperExit(pc int, in *program.Insn) {
	for i := 1; i < len(regMap); i++ {
		c.store64(ctxReg, offRegs+8*int32(i), regMap[i])
	}
	c.storeImm64(ctxReg, offExit, int32(exitHelper))
	c.storeImm64(ctxReg, offHelper, int32(in.Imm))
	c.storeImm64(ctxReg, offPC, int32(pc))
	lea := c.leaRIP(rax)
	c.store64(ctxReg, offResume, rax)
	c.ret()
	c.patch32(lea, c.pos())
}

// emitLocalCall emits a bpf-to-bpf call natively: the caller's R6-R10 and
// the return address go to the next frame of the context (not the
// goroutine stack), R10 moves one eBPF frame down, and a JMP enters the
// callee. The verifier bounds the depth; the check is a net that turns a
// broken bound into an error instead of a write past the frames.
func (c *compiler) emitLocalCall(pc int, in *program.Insn) {
	c.load64(rax, ctxReg, offDepth)
	c.aluRI(fW, extCmp, rax, (maxFrames-1)*frameBytes)
	c.storeImm64(ctxReg, offPC, int32(pc))
	c.jumpLabel(c.jcc32(ccAE), labelCallDepth)
	c.rm(fW, opLea, rcx, rax, frameBytes)
	c.store64(ctxReg, offDepth, rcx)
	c.aluRR(fW, opAdd, rax, ctxReg)
	for i := 6; i <= 10; i++ {
		c.store64(rax, offFrames+offFrameSaved+8*int32(i-6), regMap[i])
	}
	lea := c.leaRIP(rcx)
	c.store64(rax, offFrames+offFrameRet, rcx)
	c.aluRI(fW, extSub, regMap[10], frameSize)
	c.jumpTo(c.jmp32(), in.Target())
	c.patch32(lea, c.pos())
}

// emitExit returns from a bpf-to-bpf call (restoring R6-R10 and jumping to
// the saved address), or, in the main frame, ends the run.
func (c *compiler) emitExit() {
	c.load64(rax, ctxReg, offDepth)
	c.aluRR(fW, opTest, rax, rax)
	c.jumpLabel(c.jcc32(ccE), labelExitMain)
	c.aluRI(fW, extSub, rax, frameBytes)
	c.store64(ctxReg, offDepth, rax)
	c.aluRR(fW, opAdd, rax, ctxReg)
	for i := 6; i <= 10; i++ {
		c.load64(regMap[i], rax, offFrames+offFrameSaved+8*int32(i-6))
	}
	c.rm(0, opGrp5, extJmp, rax, offFrames+offFrameRet)
}

// emitArrayLookup inlines bpf_map_lookup_elem for array maps, reading the
// map's Header (maps/layout.go) through R1, which holds its address:
//
//	R0 = key < MaxEntries ? R1 + SlotsOff + key*SlotStride : 0
//
// plus cpu*PerCPUStride for a per-CPU array (0 when the run's CPU is not
// below NumCPUs, as maps.LookupAddr). Which map R1 holds is known only at
// run time, so the code checks the header's type and goes on to the hash
// lookup, then to the helper exit, for other maps.
func (c *compiler) emitArrayLookup(pc int, in *program.Insn) {
	m, key, r0 := regMap[1], regMap[2], regMap[0]
	var done, null []int
	for _, typ := range []ebpf.MapType{ebpf.Array, ebpf.PerCPUArray} {
		c.rm(0, opGrp1, extCmp, m, maps.HeaderOffType)
		c.imm32(int32(typ))
		other := c.jcc32(ccNE)
		c.rm(0, opMovLd, rax, key, 0)
		c.rm(0, []byte{0x3b}, rax, m, maps.HeaderOffMaxEntries) // cmp eax, [MaxEntries]
		null = append(null, c.jcc32(ccAE))
		c.rm(fW, opImul, rax, m, maps.HeaderOffSlotStride)
		if typ == ebpf.PerCPUArray {
			c.load64(rdx, ctxReg, offCPU)
			c.rm(0, opMovLd, rcx, m, maps.HeaderOffNumCPUs)
			c.aluRR(fW, opCmp, rdx, rcx)
			null = append(null, c.jcc32(ccAE))
			c.rm(fW, opImul, rdx, m, maps.HeaderOffPerCPUStride)
			c.aluRR(fW, opAdd, rax, rdx)
		}
		c.rm(fW, []byte{0x03}, rax, m, maps.HeaderOffSlotsOff) // add rax, [SlotsOff]
		c.aluRR(fW, opAdd, rax, m)
		c.movRR(fW, r0, rax)
		done = append(done, c.jmp32())
		c.patch32(other, c.pos())
	}
	c.emitHashLookup(pc, in, &done)
	c.emitHelperExit(pc, in)
	done = append(done, c.jmp32())
	for _, n := range null {
		c.patch32(n, c.pos())
	}
	c.aluRR(0, opXor, r0, r0)
	for _, d := range done {
		c.patch32(d, c.pos())
	}
}
