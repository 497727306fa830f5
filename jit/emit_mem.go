//go:build amd64 && linux

package jit

import (
	"math"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/skbuff"
	"github.com/dropmon/dropmon/verifier"
)

// Memory accesses are direct: the verifier proved every one in bounds, and
// every address a program holds is a real one (the record, the runner's
// stack, map values).

// loadOps are the LDX encodings: 32-bit forms zero-extend, the sign
// extending ones are 64-bit.
var loadOps = map[program.Op]struct {
	f  flags
	op []byte
}{
	program.LdxB:  {0, opMovzx8},
	program.LdxH:  {0, opMovzx6},
	program.LdxW:  {0, opMovLd},
	program.LdxDW: {fW, opMovLd},
	program.LdxSB: {fW, opMovsx8},
	program.LdxSH: {fW, opMovsx6},
	program.LdxSW: {fW, opMovsxd},
}

// emitLoad emits an LDX: dst = *(size *)(src + off).
func (c *compiler) emitLoad(in *program.Insn) {
	l := loadOps[in.Op]
	c.rm(l.f, l.op, regMap[in.Dst], regMap[in.Src], in.Off)
}

// emitCtxPointer emits a load of a pointer field of __sk_buff (t is what
// the verifier says it yields) without touching the context's pointer
// words: data and data_meta are the run's packet (pktData), data_end is
// pktData + pktLen, flow_keys the context's own struct bpf_flow_keys
// (skbuff.FlowKeysOffset from the context, which the source register
// holds unmodified, as the verifier proved), and sk NULL, as
// userspacevm.SetSkbPointers writes them for the interpreter.
func (c *compiler) emitCtxPointer(in *program.Insn, t verifier.RegType) {
	dst, src := regMap[in.Dst], regMap[in.Src]
	switch t {
	case verifier.PtrToPacket, verifier.PtrToPacketMeta:
		c.load64(dst, ctxReg, offPktData)
	case verifier.PtrToPacketEnd:
		c.load64(dst, ctxReg, offPktData)
		c.rm(fW, []byte{0x03}, dst, ctxReg, offPktLen) // add dst, [pktLen]
	case verifier.PtrToFlowKeys:
		c.rm(fW, opLea, dst, src, skbuff.FlowKeysOffset)
	default: // sk: user space has no socket
		c.aluRR(0, opXor, dst, dst)
	}
}

// emitStore emits ST (immediate) and STX (register) stores.
func (c *compiler) emitStore(in *program.Insn) {
	dst, src, off := regMap[in.Dst], regMap[in.Src], in.Off
	switch in.Op {
	case program.StxB:
		c.rm(fRex, opMovSt8, src, dst, off)
	case program.StxH:
		c.rm(f66, opMovSt, src, dst, off)
	case program.StxW:
		c.rm(0, opMovSt, src, dst, off)
	case program.StxDW:
		c.rm(fW, opMovSt, src, dst, off)
	case program.StB:
		c.rm(0, opMovI8, 0, dst, off)
		c.bytes(byte(in.Imm))
	case program.StH:
		c.rm(f66, opMovImm, 0, dst, off)
		c.imm16(int16(in.Imm))
	case program.StW:
		c.rm(0, opMovImm, 0, dst, off)
		c.imm32(int32(in.Imm))
	case program.StDW:
		c.rm(fW, opMovImm, 0, dst, off)
		c.imm32(int32(in.Imm))
	}
}

// emitAtomic emits the atomic read-modify-writes with LOCK-prefixed
// instructions. Fetch forms of or, and and xor have no x86 instruction
// and become a CMPXCHG loop in RAX (the old value) and RCX (the new).
// 32-bit forms zero-extend the value they return, as the kernel does.
// For an exclusive runner the same instructions go without the LOCK
// prefix: nothing else writes the maps while it runs, so a plain
// read-modify-write gives the same result without locking the cache line
// (about 20 cycles a run here). XCHG with memory locks implicitly either way.
func (c *compiler) emitAtomic(in *program.Insn) {
	is64 := in.Op >= program.AtomicAdd64
	f := wide(is64)
	fLock := fLock
	if c.exclusive {
		fLock = 0
	}
	base := program.AtomicAdd32
	if is64 {
		base = program.AtomicAdd64
	}
	dst, src, off := regMap[in.Dst], regMap[in.Src], in.Off
	switch d := in.Op - base; d {
	case 0, 1, 2, 3: // add, or, and, xor
		c.rm(f|fLock, [][]byte{opAdd, opOr, opAnd, opXor}[d], src, dst, off)
	case 4: // fetch add
		c.rm(f|fLock, opXadd, src, dst, off)
	case 5, 6, 7: // fetch or, and, xor
		c.rm(f, opMovLd, rax, dst, off)
		loop := c.pos()
		c.movRR(fW, rcx, rax)
		c.aluRR(f, [][]byte{opOr, opAnd, opXor}[d-5], rcx, src)
		c.rm(f|fLock, opCmpxch, rcx, dst, off)
		c.patch8To(c.jcc8(ccNE), loop)
		c.movRR(f, src, rax)
	case 8: // xchg (implicitly locked)
		c.rm(f, opXchg, src, dst, off)
	case 9: // cmpxchg: compare with R0, old value to R0
		c.movRR(fW, rax, regMap[0])
		c.rm(f|fLock, opCmpxch, src, dst, off)
		c.movRR(f, regMap[0], rax)
	}
}

// emitPacketLoad emits LD_ABS and LD_IND: R0 = the big-endian value at
// offset imm (plus src, as a signed 32-bit sum) of the run's bytes; out of
// bounds ends the program with R0 = 0 (labelAbortZero).
func (c *compiler) emitPacketLoad(in *program.Insn) {
	size := int32(in.Op.MemSize())
	if in.Op < program.LdIndB && in.Imm >= 0 && in.Imm <= int64(math.MaxInt32-size) {
		c.emitPacketLoadAbs(int32(in.Imm), size)
		return
	}
	if in.Op >= program.LdIndB {
		// A 32-bit LEA wraps as the 32-bit sum does and zero-extends,
		// so a sum that tests non-negative is its sign extension too.
		c.rm(0, opLea, rax, regMap[in.Src], int32(in.Imm))
		c.aluRR(0, opTest, rax, rax)
	} else {
		c.movRI(fW, rax, int32(in.Imm))
		c.aluRR(fW, opTest, rax, rax)
	}
	c.jumpLabel(c.jcc32(ccS), labelAbortZero)
	c.rm(fW, opLea, rdx, rax, size)
	c.rm(fW, []byte{0x3b}, rdx, ctxReg, offPktLen) // cmp rdx, [pktLen]
	c.jumpLabel(c.jcc32(ccA), labelAbortZero)
	c.rm(fW, []byte{0x03}, rax, ctxReg, offPktData) // add rax, [pktData]
	c.emitBigEndianLoad(size, rax, 0)
}

// emitPacketLoadAbs is LD_ABS at a constant offset, off+size below 2^31:
// the bound is known, so the length is compared with it directly and the
// offset becomes the load's displacement.
func (c *compiler) emitPacketLoadAbs(off, size int32) {
	c.aluMI(fW, extCmp, ctxReg, offPktLen, off+size) // cmp qword [pktLen], off+size
	c.jumpLabel(c.jcc32(ccB), labelAbortZero)
	c.load64(rax, ctxReg, offPktData)
	c.emitBigEndianLoad(size, rax, off)
}

// emitBigEndianLoad loads the big-endian value of size bytes at
// [base+disp] into R0, zero-extended.
func (c *compiler) emitBigEndianLoad(size int32, base reg, disp int32) {
	r0 := regMap[0]
	switch size {
	case 1:
		c.rm(0, opMovzx8, r0, base, disp)
	case 2:
		c.rm(0, opMovzx6, r0, base, disp)
		c.bswap(0, r0)
		c.shiftRI(0, extShr, r0, 16)
	default:
		c.rm(0, opMovLd, r0, base, disp)
		c.bswap(0, r0)
	}
}
