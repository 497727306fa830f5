//go:build amd64 && linux

package jit

import "encoding/binary"

// Encoding flags of one instruction: operand size and prefixes.
type flags uint8

const (
	fW    flags = 1 << iota // REX.W: 64-bit operand
	f66                     // operand-size prefix: 16-bit operand
	fRex                    // a REX prefix even when empty (byte registers SIL, DIL)
	fLock                   // LOCK prefix
)

// wide returns fW for 64-bit operations.
func wide(is64 bool) flags {
	if is64 {
		return fW
	}
	return 0
}

// emitter appends machine code.
type emitter struct {
	b []byte
}

func (e *emitter) pos() int { return len(e.b) }

func (e *emitter) bytes(bs ...byte) { e.b = append(e.b, bs...) }

func (e *emitter) imm32(v int32) { e.b = binary.LittleEndian.AppendUint32(e.b, uint32(v)) }

func (e *emitter) imm16(v int16) { e.b = binary.LittleEndian.AppendUint16(e.b, uint16(v)) }

func (e *emitter) imm64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }

// prefixes emits LOCK, 66 and REX (which must come last) for an
// instruction whose ModRM reg field is r and r/m (or base) field is b.
func (e *emitter) prefixes(f flags, r, b reg) {
	if f&fLock != 0 {
		e.bytes(0xf0)
	}
	if f&f66 != 0 {
		e.bytes(0x66)
	}
	rex := byte(0x40)
	if f&fW != 0 {
		rex |= 8
	}
	if r >= 8 {
		rex |= 4
	}
	if b >= 8 {
		rex |= 1
	}
	if rex != 0x40 || f&fRex != 0 {
		e.bytes(rex)
	}
}

// rr emits op with a register-direct ModRM: reg field r, r/m field rm.
func (e *emitter) rr(f flags, op []byte, r, rm reg) {
	e.prefixes(f, r, rm)
	e.bytes(op...)
	e.bytes(0xc0 | byte(r&7)<<3 | byte(rm&7))
}

// rm emits op with a memory ModRM [base+disp32]: reg field r. Every access
// uses a 32-bit displacement (mod 10), so RBP and R13 need no special
// case; RSP and R12 as a base need a SIB byte.
func (e *emitter) rm(f flags, op []byte, r, base reg, disp int32) {
	e.prefixes(f, r, base)
	e.bytes(op...)
	e.bytes(0x80 | byte(r&7)<<3 | byte(base&7))
	if base&7 == 4 {
		e.bytes(0x24)
	}
	e.imm32(disp)
}

// Opcodes (Intel SDM vol. 2). The "ext" values are ModRM reg-field
// extensions of the group opcodes.
var (
	opAdd    = []byte{0x01}
	opOr     = []byte{0x09}
	opAnd    = []byte{0x21}
	opSub    = []byte{0x29}
	opXor    = []byte{0x31}
	opCmp    = []byte{0x39}
	opTest   = []byte{0x85}
	opMovSt  = []byte{0x89} // mov r/m, r
	opMovSt8 = []byte{0x88}
	opMovLd  = []byte{0x8b} // mov r, r/m
	opLea    = []byte{0x8d}
	opImul   = []byte{0x0f, 0xaf}
	opMovzx8 = []byte{0x0f, 0xb6}
	opMovzx6 = []byte{0x0f, 0xb7}
	opMovsx8 = []byte{0x0f, 0xbe}
	opMovsx6 = []byte{0x0f, 0xbf}
	opMovsxd = []byte{0x63}
	opXadd   = []byte{0x0f, 0xc1}
	opCmpxch = []byte{0x0f, 0xb1}
	opXchg   = []byte{0x87}
	opGrp1   = []byte{0x81} // ALU r/m, imm32
	opGrp2   = []byte{0xc1} // shift r/m, imm8
	opGrp2CL = []byte{0xd3} // shift r/m, CL
	opGrp3   = []byte{0xf7} // test imm32, neg, div, idiv
	opMovImm = []byte{0xc7} // mov r/m, imm32
	opMovI8  = []byte{0xc6} // mov r/m8, imm8
	opGrp5   = []byte{0xff} // jmp r/m
)

const (
	extAdd, extOr, extAnd, extSub, extXor, extCmp = 0, 1, 4, 5, 6, 7
	extShl, extShr, extSar                        = 4, 5, 7
	extTest, extNeg, extDiv, extIdiv              = 0, 3, 6, 7
	extJmp                                        = 4
	extRol                                        = 0
)

// aluRR emits "op dst, src" for the ALU ops whose r/m is the destination.
func (e *emitter) aluRR(f flags, op []byte, dst, src reg) { e.rr(f, op, src, dst) }

// aluRI emits a group-1 op "op dst, imm32" (sign-extended when 64-bit).
func (e *emitter) aluRI(f flags, ext reg, dst reg, imm int32) {
	e.rr(f, opGrp1, ext, dst)
	e.imm32(imm)
}

// movRR copies src to dst; a 32-bit copy zero-extends.
func (e *emitter) movRR(f flags, dst, src reg) { e.rr(f, opMovSt, src, dst) }

// movRI loads an immediate: sign-extended imm32 when 64-bit, zero-extended
// when 32-bit.
func (e *emitter) movRI(f flags, dst reg, imm int32) {
	e.rr(f, opMovImm, 0, dst)
	e.imm32(imm)
}

// movabs loads a 64-bit immediate (REX.W B8+r).
func (e *emitter) movabs(dst reg, v uint64) {
	e.prefixes(fW, 0, dst)
	e.bytes(0xb8 | byte(dst&7))
	e.imm64(v)
}

// load64 and store64 move a register from and to [base+disp].
func (e *emitter) load64(dst, base reg, disp int32)      { e.rm(fW, opMovLd, dst, base, disp) }
func (e *emitter) store64(base reg, disp int32, src reg) { e.rm(fW, opMovSt, src, base, disp) }

// storeImm64 stores a sign-extended imm32 to the qword at [base+disp].
func (e *emitter) storeImm64(base reg, disp int32, imm int32) {
	e.rm(fW, opMovImm, 0, base, disp)
	e.imm32(imm)
}

// shiftRI shifts dst by a constant count.
func (e *emitter) shiftRI(f flags, ext reg, dst reg, n uint8) {
	e.rr(f, opGrp2, ext, dst)
	e.bytes(n)
}

// bswap reverses the bytes of a 32- or 64-bit register.
func (e *emitter) bswap(f flags, r reg) {
	e.prefixes(f, 0, r)
	e.bytes(0x0f, 0xc8|byte(r&7))
}

// nops are the recommended multi-byte NOPs (Intel SDM vol. 2, NOP), by
// length.
var nops = [...][]byte{
	1: {0x90},
	2: {0x66, 0x90},
	3: {0x0f, 0x1f, 0x00},
	4: {0x0f, 0x1f, 0x40, 0x00},
	5: {0x0f, 0x1f, 0x44, 0x00, 0x00},
	6: {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
	7: {0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
	8: {0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
	9: {0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
}

// align pads with NOPs up to a multiple of n (a power of two), the
// fewest NOP instructions that fill the gap.
func (e *emitter) align(n int) {
	for pad := -e.pos() & (n - 1); pad > 0; {
		k := min(pad, len(nops)-1)
		e.bytes(nops[k]...)
		pad -= k
	}
}

// returnToGo returns from callJIT on its behalf: R0 (RBX) and the exit
// code (EAX) to its results, Go's RBP back, RET.
func (e *emitter) returnToGo() {
	e.store64(rsp, retR0, rbx)
	e.store64(rsp, retExit, rax)
	e.load64(rbp, rbp, offSavedBP)
	e.bytes(0xc3)
}

// Condition codes of Jcc (0F 80+cc).
const (
	ccB  = 0x2
	ccAE = 0x3
	ccE  = 0x4
	ccNE = 0x5
	ccBE = 0x6
	ccA  = 0x7
	ccS  = 0x8
	ccL  = 0xc
	ccGE = 0xd
	ccLE = 0xe
	ccG  = 0xf
)

// jcc32 emits a Jcc with a rel32 to be patched; it returns the position of
// the rel32 field.
func (e *emitter) jcc32(cc byte) int {
	e.bytes(0x0f, 0x80|cc)
	e.imm32(0)
	return e.pos() - 4
}

// jmp32 emits a JMP rel32 to be patched and returns the rel32's position.
func (e *emitter) jmp32() int {
	e.bytes(0xe9)
	e.imm32(0)
	return e.pos() - 4
}

// jcc8 and jmp8 emit short jumps inside one instruction's sequence; they
// return the rel8's position for patch8.
func (e *emitter) jcc8(cc byte) int {
	e.bytes(0x70|cc, 0)
	return e.pos() - 1
}

func (e *emitter) jmp8() int {
	e.bytes(0xeb, 0)
	return e.pos() - 1
}

// patch8 points the rel8 at at the current position.
func (e *emitter) patch8(at int) { e.patch8To(at, e.pos()) }

func (e *emitter) patch8To(at, target int) {
	rel := target - (at + 1)
	if rel < -128 || rel > 127 {
		panic("BUG: short jump out of range")
	}
	e.b[at] = byte(int8(rel))
}

// patch32 points the rel32 at at target.
func (e *emitter) patch32(at, target int) {
	binary.LittleEndian.PutUint32(e.b[at:], uint32(int32(target-(at+4))))
}

// leaRIP emits "lea dst, [rip+rel32]" and returns the rel32's position.
func (e *emitter) leaRIP(dst reg) int {
	e.prefixes(fW, dst, 0)
	e.bytes(opLea[0], 0x05|byte(dst&7)<<3)
	e.imm32(0)
	return e.pos() - 4
}
