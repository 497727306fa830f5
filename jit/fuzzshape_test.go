package jit_test

import (
	"encoding/binary"
	"math"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
)

// The shaper: FuzzJITvsInterp's and TestJITvsInterpRandom's generator of
// programs the verifier mostly accepts, from fuzz bytes.

// maxChunks bounds a shaped program's length: 8 bytes of input a chunk.
const maxChunks = 64

// shapeProgram turns fuzz bytes into a mostly valid program. It starts
// with a prologue that gives every register and the stack from r10-64 up
// a value, so that what follows gets past "!read_ok": r6 is the context,
// r7 points 32 bytes into the stack, the others are scalars. Each 8 bytes
// of input then become one instruction or a short sequence (a helper call
// with its arguments set up); jumps only go forward, as unprivileged
// programs may not loop, and land on the start of a chunk's code or the
// epilogue, which folds the registers and the stack into R0.
//
// Inputs whose length is 4-7 bytes past a multiple of 8 make socket
// filters, which may use the legacy packet loads (over the run's bytes);
// the others make tracepoints.
func shapeProgram(data []byte) *program.Program {
	typ := program.Tracepoint
	if len(data)%8 >= 4 {
		typ = program.SocketFilter
	}
	s := shaper{skb: typ == program.SocketFilter}
	s.prologue()
	n := min(len(data)/8, maxChunks)
	s.chunkStart = make([]int, n+1)
	for i := range n {
		s.chunkStart[i] = len(s.insns)
		s.chunk(i, n, data[8*i:8*i+8])
	}
	s.chunkStart[n] = len(s.insns)
	s.epilogue()
	return &program.Program{Name: "fuzz", Type: typ, License: "GPL",
		Maps: fuzzMaps, Insns: s.resolve()}
}

type shaper struct {
	skb        bool // a socket filter: see memOperand and packetLoad
	insns      asm.Instructions
	jumps      []pendingJump
	chunkStart []int // index in insns of each chunk's first instruction
}

// pendingJump is a jump whose target chunk is known before its position.
type pendingJump struct{ insn, chunk int }

func (s *shaper) emit(ins ...asm.Instruction) { s.insns = append(s.insns, ins...) }

func (s *shaper) prologue() {
	s.emit(asm.Mov.Reg(asm.R6, asm.R1), asm.Mov.Reg(asm.R7, asm.RFP), asm.Add.Imm(asm.R7, -32))
	s.resetArgs(0x01020304)
	s.emit(asm.Mov.Imm(asm.R0, 0), asm.Mov.Imm(asm.R8, 7), asm.LoadImm(asm.R9, math.MinInt64, asm.DWord))
	for k := 1; k <= 8; k++ {
		// Small values, so that keys at r10-8 and r10-16 hit the array's
		// indexes and a few hash keys.
		s.emit(stDW(asm.RFP, int16(-8*k), int32(k%4)))
	}
}

// epilogue folds the scalar registers and the stack into R0 before the
// exit, so that a difference anywhere shows in R0. (A register or stack
// slot left holding a pointer makes the verifier refuse the program.)
func (s *shaper) epilogue() {
	for _, r := range []asm.Register{asm.R1, asm.R2, asm.R3, asm.R4, asm.R5, asm.R8, asm.R9} {
		s.emit(asm.Mul.Imm(asm.R0, 31), asm.Xor.Reg(asm.R0, r))
	}
	for k := int16(1); k <= 8; k++ {
		s.emit(asm.LoadMem(asm.R1, asm.RFP, -8*k, asm.DWord), asm.Mul.Imm(asm.R0, 31), asm.Add.Reg(asm.R0, asm.R1))
	}
	s.emit(asm.Return())
}

// resetArgs gives R1-R5 values again after a call made them unreadable.
func (s *shaper) resetArgs(seed uint32) {
	for r := asm.R1; r <= asm.R5; r++ {
		s.emit(asm.Mov.Imm(r, int32(int8(seed>>(4*r)))))
	}
}

func stDW(dst asm.Register, off int16, v int32) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: dst, Offset: off, Constant: int64(v)}
}

// resolve turns the pending jumps' target chunks into raw offsets.
func (s *shaper) resolve() asm.Instructions {
	raw := make([]int, len(s.insns)+1)
	for i, ins := range s.insns {
		raw[i+1] = raw[i] + int(ins.Size()/asm.InstructionSize)
	}
	for _, j := range s.jumps {
		s.insns[j.insn].Offset = int16(raw[s.chunkStart[j.chunk]] - raw[j.insn] - 1)
	}
	return s.insns
}

var (
	scalarRegs = []asm.Register{asm.R0, asm.R1, asm.R2, asm.R3, asm.R4, asm.R5, asm.R8, asm.R9}
	aluOps     = []asm.ALUOp{asm.Add, asm.Sub, asm.Mul, asm.Div, asm.Or, asm.And, asm.LSh, asm.RSh, asm.Neg,
		asm.Mod, asm.Xor, asm.Mov, asm.ArSh, asm.SDiv, asm.SMod, asm.MovSX8, asm.MovSX16, asm.MovSX32}
	jumpOps = []asm.JumpOp{asm.JEq, asm.JGT, asm.JGE, asm.JSet, asm.JNE, asm.JSGT, asm.JSGE,
		asm.JLT, asm.JLE, asm.JSLT, asm.JSLE}
	atomicOps = []asm.AtomicOp{asm.AddAtomic, asm.OrAtomic, asm.AndAtomic, asm.XorAtomic,
		asm.FetchAdd, asm.FetchOr, asm.FetchAnd, asm.FetchXor, asm.Xchg, asm.CmpXchg}
	sizes = []asm.Size{asm.Byte, asm.Half, asm.Word, asm.DWord}
	// edgeImms are immediates that exercise division, shifts and sign
	// extension corner cases.
	edgeImms = []int32{0, 1, -1, 2, 31, 32, 63, math.MinInt32, math.MaxInt32, 0x7f, 0x80, 0xffff}
)

// dst picks a destination: mostly the scalars, rarely any register but
// r10 (clobbering r6 or r7 is allowed, and is the verifier's to judge).
func dst(b byte) asm.Register {
	if b&0xf8 == 0xf8 {
		return asm.Register(b % 10)
	}
	return scalarRegs[b%8]
}

// src picks a source register among the scalars. Pointers stay in r6,
// r7 and r10 (and R0 after a lookup): copied into others, stored to the
// stack or compared, they exercise the verifier more than the engines, and
// the verifier lets one leak: an atomic fetch from a stack slot holding a
// spilled pointer returns the pointer as a scalar, so R0 then differs
// between the engines (whose stacks and contexts are at different
// addresses) with neither at fault.
func src(b byte) asm.Register { return scalarRegs[b%8] }

func imm(c []byte) int32 {
	switch c[2] & 3 {
	case 0:
		return edgeImms[int(c[4])%len(edgeImms)]
	case 1:
		return int32(binary.LittleEndian.Uint32(c[4:]))
	}
	return int32(int8(c[4]))
}

// chunk shapes chunk i of n from c.
func (s *shaper) chunk(i, n int, c []byte) {
	switch k := c[0] % 32; {
	case k < 10:
		s.alu(c)
	case k < 11:
		s.swap(c)
	case k < 15:
		s.load(c)
	case k < 18:
		s.store(c)
	case k < 20:
		s.atomic(c)
	case k < 24:
		s.condJump(i, n, c)
	case k < 25:
		s.jumpOrExit(i, n, c)
	case k < 26:
		v := binary.LittleEndian.Uint64([]byte{c[2], c[3], c[4], c[5], c[6], c[7], c[1], c[3]})
		s.emit(asm.LoadImm(dst(c[1]), int64(v), asm.DWord))
	case k < 28 && s.skb:
		s.packetLoad(c)
	default:
		s.call(c)
	}
}

func (s *shaper) alu(c []byte) {
	op := aluOps[int(c[1])%len(aluOps)]
	d, src, v := dst(c[3]), src(c[5]), imm(c)
	wide := c[0]&0x20 == 0
	switch op {
	case asm.LSh, asm.RSh, asm.ArSh:
		if wide {
			v &= 63
		} else {
			v &= 31
		}
	case asm.Neg:
		if wide {
			s.emit(op.Imm(d, 0))
		} else {
			s.emit(op.Imm32(d, 0))
		}
		return
	case asm.MovSX8, asm.MovSX16, asm.MovSX32:
		if wide {
			s.emit(op.Reg(d, src))
		} else if op != asm.MovSX32 {
			s.emit(op.Reg32(d, src))
		}
		return
	}
	switch reg := c[2]&4 != 0; {
	case reg && wide:
		s.emit(op.Reg(d, src))
	case reg:
		s.emit(op.Reg32(d, src))
	case wide:
		s.emit(op.Imm(d, v))
	default:
		s.emit(op.Imm32(d, v))
	}
}

func (s *shaper) swap(c []byte) {
	size := []asm.Size{asm.Half, asm.Word, asm.DWord}[c[1]%3]
	switch c[2] % 3 {
	case 0:
		s.emit(asm.HostTo(asm.LE, dst(c[3]), size))
	case 1:
		s.emit(asm.HostTo(asm.BE, dst(c[3]), size))
	default:
		s.emit(asm.BSwap(dst(c[3]), size))
	}
}

// memOperand picks a base register and an offset aligned to size: the
// stack through r10 or r7, the context through r6, or (rarely) any
// register at any offset. Socket filters touch their context (an
// __sk_buff) in cb[], the words they may write as well as read.
func (s *shaper) memOperand(c []byte, size asm.Size, write bool) (asm.Register, int16) {
	n := int16(size.Sizeof())
	sub := int16(c[3]%8) / n * n
	switch c[2] % 16 {
	case 0, 1, 2, 3, 4, 5:
		return asm.RFP, -8*int16(1+c[4]%8) + sub
	case 6, 7, 8, 9:
		return asm.R7, -32 + 8*int16(c[4]%8) + sub
	case 10, 11, 12, 13, 14:
		if s.skb {
			// __sk_buff's cb[0..3], which socket filters may read and
			// write with any size.
			return asm.R6, 48 + 8*int16(c[4]%2) + sub
		}
		if !write {
			return asm.R6, 8*int16(1+c[4]%7) + sub
		}
		return asm.RFP, -8 + sub
	}
	if s.skb {
		return asm.RFP, -16 + sub
	}
	return asm.Register(c[4] % 11), int16(int8(c[5]))
}

func (s *shaper) load(c []byte) {
	size := sizes[c[1]%4]
	base, off := s.memOperand(c, size, false)
	if c[1]&0x40 != 0 && size != asm.DWord {
		s.emit(asm.LoadMemSX(dst(c[6]), base, off, size))
		return
	}
	s.emit(asm.LoadMem(dst(c[6]), base, off, size))
}

func (s *shaper) store(c []byte) {
	size := sizes[c[1]%4]
	base, off := s.memOperand(c, size, true)
	if c[1]&0x40 != 0 {
		s.emit(asm.Instruction{OpCode: asm.StoreImmOp(size), Dst: base, Offset: off, Constant: int64(int8(c[6]))})
		return
	}
	s.emit(asm.StoreMem(base, off, src(c[6]), size))
}

func (s *shaper) atomic(c []byte) {
	size := []asm.Size{asm.Word, asm.DWord}[c[1]&1]
	base, off := s.memOperand(c, size, true)
	op := atomicOps[int(c[1]>>1)%len(atomicOps)]
	s.emit(op.Mem(base, scalarRegs[1+c[6]%7], size, off))
}

func jumpInsn(op asm.JumpOp, c []byte) asm.Instruction {
	class := asm.JumpClass
	if c[1]&0x10 != 0 {
		class = asm.Jump32Class
	}
	ins := asm.Instruction{OpCode: asm.OpCode(class).SetJumpOp(op), Dst: src(c[3])}
	if c[1]&0x20 != 0 {
		ins.OpCode = ins.OpCode.SetSource(asm.RegSource)
		ins.Src = src(c[6])
	} else {
		ins.Constant = int64(imm(c))
	}
	return ins
}

// condJump jumps forward to the start of a later chunk or to the exit.
func (s *shaper) condJump(i, n int, c []byte) {
	op := jumpOps[int(c[1])%len(jumpOps)]
	s.jumps = append(s.jumps, pendingJump{len(s.insns), i + 1 + int(c[7])%(n-i)})
	s.emit(jumpInsn(op, c))
}

// jumpOrExit is "if cond goto +1; goto L" or "if cond goto +1; exit":
// the unconditional jump or exit is skipped when the condition holds, so
// that what follows stays reachable.
func (s *shaper) jumpOrExit(i, n int, c []byte) {
	j := jumpInsn(jumpOps[int(c[1]>>1)%len(jumpOps)], c)
	j.Offset = 1
	s.emit(j)
	if c[1]&1 == 0 {
		s.jumps = append(s.jumps, pendingJump{len(s.insns), i + 1 + int(c[7])%(n-i)})
		s.emit(asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Ja)})
		return
	}
	s.emit(asm.Return())
}

// packetLoad is an LD_ABS or LD_IND, mostly in bounds of the run's
// bytes; like a call it clobbers R1-R5. Only socket filters get them: the
// verifier accepts them in tracepoints too, where Prepare then refuses
// them, as the kernel's verifier would have (may_access_skb).
func (s *shaper) packetLoad(c []byte) {
	size := []asm.Size{asm.Byte, asm.Half, asm.Word}[c[1]%3]
	off := int32(c[4] % (fuzzCtxSize + 8))
	if c[2]&3 == 3 {
		off = imm(c)
	}
	if c[1]&0x10 != 0 {
		s.emit(asm.LoadInd(asm.R0, src(c[3]), off, size))
	} else {
		s.emit(asm.LoadAbs(off, size))
	}
	s.resetArgs(binary.LittleEndian.Uint32(c[4:]))
}

// call sets up a helper's arguments and calls it. After a lookup, a null
// check guards one access through the value pointer, and R0 becomes a
// scalar again. R1-R5 are given values after every call.
func (s *shaper) call(c []byte) {
	m := int32(c[1] & 1)
	key := -8 * int32(1+c[2]%2)
	switch c[1] >> 1 % 8 {
	case 0, 1, 2:
		s.emit(asm.LoadMapPtr(asm.R1, int(m)), asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, key),
			asm.FnMapLookupElem.Call())
		s.emit(s.guarded(m, c)...)
	case 3, 4:
		flags := int32(c[3] % 3) // BPF_ANY, BPF_NOEXIST, BPF_EXIST
		s.emit(asm.LoadMapPtr(asm.R1, int(m)), asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, key),
			asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, -32-8*int32(c[4]%3)), asm.Mov.Imm(asm.R4, flags),
			asm.FnMapUpdateElem.Call())
	case 5:
		s.emit(asm.LoadMapPtr(asm.R1, int(m)), asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, key),
			asm.FnMapDeleteElem.Call())
	default:
		fn := []asm.BuiltinFunc{asm.FnKtimeGetNs, asm.FnGetPrandomU32, asm.FnGetSmpProcessorId}[c[3]%3]
		s.emit(fn.Call())
	}
	s.resetArgs(binary.LittleEndian.Uint32(c[4:]))
}

// guarded is "if r0 == 0 goto +1; <access through r0>; r0 = rX".
func (s *shaper) guarded(m int32, c []byte) []asm.Instruction {
	off := int16(0)
	if m == 1 { // the array's values have 16 bytes
		off = 8 * int16(c[5]&1)
	}
	reg := []asm.Register{asm.R8, asm.R9}[c[6]&1]
	var access asm.Instruction
	switch c[6] >> 1 % 4 {
	case 0:
		access = asm.LoadMem(reg, asm.R0, off, asm.DWord)
	case 1:
		access = asm.StoreMem(asm.R0, off, reg, asm.DWord)
	case 2:
		access = asm.StoreXAdd(asm.R0, reg, asm.DWord)
		access.Offset = off
	default:
		access = asm.Instruction{OpCode: asm.StoreImmOp(asm.Word), Dst: asm.R0, Offset: off + 4, Constant: int64(int8(c[7]))}
	}
	isNull := asm.Instruction{OpCode: asm.JEq.Op(asm.ImmSource), Dst: asm.R0, Offset: 1}
	return []asm.Instruction{isNull, access, asm.Mov.Reg(asm.R0, reg)}
}
