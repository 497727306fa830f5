//go:build amd64 && linux

package jit

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/skbuff"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/userspacevm/maps"
)

// Generated code never touches the goroutine stack: no PUSH, POP or CALL.
// The trampoline jumps to the start or the resume stub with the context in
// RBP and R1, R2 in RDI, RSI; the code returns to Go (returnToGo) whenever
// Go must act (exit, helper call, error), with R0 and the exitCode.

// emitStart emits the start stub at offset 0, which falls through into
// slot 0: R10 at the top of the eBPF stack, the packet bytes for
// LD_ABS/LD_IND (the run's bytes; for an __sk_buff program Go has set
// RunContext.Packet), R2 = 0 unless the program takes a length, and the
// guard entered. R1 and R2 come from the trampoline; no other register
// is read before it is written (the verifier proves it).
func (c *compiler) emitStart() {
	c.load64(regMap[10], ctxReg, offTop)
	if c.packet && !c.skb {
		c.store64(ctxReg, offPktData, regMap[1])
		c.store64(ctxReg, offPktLen, regMap[2])
	}
	if !c.conformance {
		c.aluRR(0, opXor, regMap[2], regMap[2])
	}
	if c.flowDissector {
		c.emitFlowEnter()
	}
	if c.guard {
		// Entering must be ordered before the run's loads of buckets: a
		// locked increment is a full barrier (maps.Guard.Enter's atomic
		// add). With lockFreeGuard the maps' writers make every thread
		// execute that barrier instead (membarrier), before they read
		// guards. Leaving needs none (emitDone).
		c.load64(rax, ctxReg, offGuard)
		f := fW | fLock
		if c.lockFreeGuard {
			f = fW
		}
		c.rm(f, opGrp5, 0, rax, 0) // [lock] inc qword [rax]
	}
}

// emitDone ends the run in the main frame: the guard left (a plain
// increment: x86 keeps the run's loads and stores before a later store),
// exitDone in EAX, R0 in RBX.
func (c *compiler) emitDone() {
	if c.flowDissector {
		c.emitFlowExit()
	}
	if c.guard {
		c.load64(rax, ctxReg, offGuard)
		c.rm(fW, opGrp5, 0, rax, 0) // inc qword [rax]
	}
	// In a batch, on to the next item (emitBatch).
	c.rm(fW, opGrp1, extCmp, ctxReg, offBatchEnd) // cmp qword [batchEnd], 0
	c.imm32(0)
	c.jumpLabel(c.jcc32(ccNE), labelBatchNext)
	c.aluRR(0, opXor, rax, rax) // exitDone
	c.returnToGo()
}

// emitFlowEnter sets up the flow keys of a flow dissector's run as
// bpf_flow_dissect does (userspacevm's flowDissectorEnter): the struct
// bpf_flow_keys in the context (R1 + skbuff.FlowKeysOffset, remembered in
// flowKeys for emitFlowExit) zeroed, n_proto the frame's EtherType (Go
// checked that the packet has 14 bytes), nhoff = thoff = 14. R1 is kept.
func (c *compiler) emitFlowEnter() {
	keys := rax
	c.rm(fW, opLea, keys, regMap[1], skbuff.FlowKeysOffset)
	c.store64(ctxReg, offFlowKeys, keys)
	c.aluRR(0, opXor, rcx, rcx)
	for off := int32(0); off < skbuff.FlowKeysSize; off += 8 {
		c.store64(keys, off, rcx)
	}
	c.load64(rcx, ctxReg, offPktData)
	c.rm(0, opMovzx6, rcx, rcx, 12)                                  // movzx ecx, word [pkt+12]
	c.rm(f66, opMovSt, rcx, keys, fkNProto)                          // mov [keys+n_proto], cx
	c.rm(0, []byte{0xc7}, 0, keys, fkNhoff)                          // mov dword [keys], imm32
	c.imm32(userspacevm.EthHeaderLen<<16 | userspacevm.EthHeaderLen) // nhoff and thoff
}

// emitFlowExit clamps the flow keys after a flow dissector's run, as
// bpf_flow_dissect does (userspacevm's flowDissectorExit): nhoff to
// [14, packet length], thoff to [nhoff, packet length]. It keeps R0.
func (c *compiler) emitFlowExit() {
	keys, nhoff, t := rax, rcx, rdx
	c.load64(keys, ctxReg, offFlowKeys)
	c.rm(0, opMovzx6, nhoff, keys, fkNhoff)
	c.aluRI(0, extCmp, nhoff, userspacevm.EthHeaderLen)
	j := c.jcc8(ccAE)
	c.movRI(0, nhoff, userspacevm.EthHeaderLen)
	c.patch8(j)
	c.rm(fW, []byte{0x3b}, nhoff, ctxReg, offPktLen) // cmp rcx, [pktLen]
	j = c.jcc8(ccBE)
	c.load64(nhoff, ctxReg, offPktLen)
	c.patch8(j)
	c.rm(f66, opMovSt, nhoff, keys, fkNhoff)
	c.rm(0, opMovzx6, t, keys, fkThoff)
	c.aluRR(fW, opCmp, t, nhoff)
	j = c.jcc8(ccAE)
	c.movRR(fW, t, nhoff)
	c.patch8(j)
	c.rm(fW, []byte{0x3b}, t, ctxReg, offPktLen) // cmp rdx, [pktLen]
	j = c.jcc8(ccBE)
	c.load64(t, ctxReg, offPktLen)
	c.patch8(j)
	c.rm(f66, opMovSt, t, keys, fkThoff)
}

// Offsets in struct bpf_flow_keys that emitFlowEnter and emitFlowExit use.
const (
	fkNhoff  = skbuff.FlowKeysNhoff
	fkThoff  = skbuff.FlowKeysThoff
	fkNProto = skbuff.FlowKeysNProto
)

// emitBatch emits the batch stubs at the current position (labelBatchNext
// first) and returns the offset of the entry Go calls for RunBatch, with
// batchItem at the first item and batchEnd past the last. The entry loads
// the item's context into R1 and R2 (its address and length, as callJIT
// passes them for a single run) and its packet into pktData and pktLen,
// and jumps to the start stub; each run's end (emitDone) comes back to
// batchNext, which writes R0 into the item and goes on to the next, or
// returns to Go after the last one with exitDone. Nothing is counted down
// in memory: the only value carried from item to item is batchItem.
// Helper exits within a batch return to Go and resume as in a single run.
func (c *compiler) emitBatch() (entry int) {
	item := rax
	// batchNext: R0 into the item, then the next one.
	c.load64(item, ctxReg, offBatchItem)
	c.store64(item, itemR0, regMap[0])
	c.aluRI(fW, extAdd, item, itemSize)
	c.store64(ctxReg, offBatchItem, item)
	c.rm(fW, []byte{0x3b}, item, ctxReg, offBatchEnd) // cmp rax, [batchEnd]
	more := c.jcc32(ccNE)
	c.aluRR(0, opXor, rax, rax) // exitDone
	c.returnToGo()
	entry = c.pos()
	c.load64(item, ctxReg, offBatchItem)
	c.patch32(more, c.pos())
	c.load64(regMap[1], item, itemCtx)
	c.load64(regMap[2], item, itemCtxLen)
	c.load64(rcx, item, itemPkt)
	c.store64(ctxReg, offPktData, rcx)
	c.load64(rcx, item, itemPktLen)
	c.store64(ctxReg, offPktLen, rcx)
	c.patch32(c.jmp32(), 0) // the start stub
	return entry
}

// emitResume emits the stub Go re-enters through after a helper: R0 (the
// helper's result, which Go wrote) and R6-R10 from the context, R1-R5
// cleared (the verifier proves them unread), then a jump to the
// instruction after the call. It returns the stub's offset.
func (c *compiler) emitResume() int {
	at := c.pos()
	c.load64(regMap[0], ctxReg, offRegs)
	for i := 6; i <= 10; i++ {
		c.load64(regMap[i], ctxReg, offRegs+8*int32(i))
	}
	for i := 1; i <= 5; i++ {
		c.aluRR(0, opXor, regMap[i], regMap[i])
	}
	c.rm(0, opGrp5, extJmp, ctxReg, offResume) // jmp [rbp+resume]
	return at
}

// emitHelperCall emits a helper call: inline for the map lookups the JIT
// knows, else an exit to Go.
func (c *compiler) emitHelperCall(pc int, in *program.Insn) {
	if c.inlineLookup && in.Imm == int64(asm.FnMapLookupElem) {
		c.emitMapLookup(pc, in)
		return
	}
	c.emitHelperExit(pc, in)
}

// emitHelperExit exits to Go: R1-R10 to the context, the helper number,
// the slot and the resume address, exitHelper in EAX, then RET. Go calls
// the helper, writes R0 and re-enters through the resume stub.
func (c *compiler) emitHelperExit(pc int, in *program.Insn) {
	for i := 1; i < len(regMap); i++ {
		c.store64(ctxReg, offRegs+8*int32(i), regMap[i])
	}
	c.storeImm64(ctxReg, offHelper, int32(in.Imm))
	c.storeImm64(ctxReg, offPC, int32(pc))
	lea := c.leaRIP(rax)
	c.store64(ctxReg, offResume, rax)
	c.movRI(0, rax, int32(exitHelper))
	c.returnToGo()
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
	c.jump(in.Target())
	c.patch32(lea, c.pos())
}

// emitExit returns from a bpf-to-bpf call (restoring R6-R10 and jumping to
// the saved address), or, in the main frame, ends the run. A program
// without local calls is always in the main frame: it ends the run
// inline.
func (c *compiler) emitExit() {
	if !c.localCalls {
		c.emitDone()
		return
	}
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

// emitGenericLookup inlines bpf_map_lookup_elem for array maps, reading the
// map's Header (maps/layout.go) through R1, which holds its address:
//
//	R0 = key < MaxEntries ? R1 + SlotsOff + key*SlotStride : 0
//
// plus cpu*PerCPUStride for a per-CPU array (0 when the run's CPU is not
// below NumCPUs, as maps.LookupAddr). Which map R1 holds is known only at
// run time, so the code checks the header's type and goes on to the hash
// lookup, then to the helper exit, for other maps.
func (c *compiler) emitGenericLookup(pc int, in *program.Insn) {
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
			c.loadCPU(rdx)
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
