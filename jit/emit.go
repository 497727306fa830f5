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

// rm emits op with a memory ModRM [base+disp]: reg field r. The
// displacement takes its shortest form: none (mod 00) for 0, disp8 (mod
// 01) when it fits in an int8, else disp32 (mod 10); the kernel's JIT
// stops at disp8, a byte more for 0. Two bases are special (SDM vol. 2,
// table 2-2): r/m 100 (RSP, R12) means that a SIB byte follows, so they
// take SIB 0x24 (no index, base RSP/R12); mod 00 with r/m 101 (RBP, R13)
// means RIP-relative, so they take a disp8 of 0 instead.
func (e *emitter) rm(f flags, op []byte, r, base reg, disp int32) {
	e.prefixes(f, r, base)
	e.bytes(op...)
	modrm := byte(r&7)<<3 | byte(base&7)
	size := dispSize(base, disp)
	switch size {
	case 1:
		modrm |= 0x40 // mod 01: disp8
	case 4:
		modrm |= 0x80 // mod 10: disp32
	}
	e.bytes(modrm)
	if base&7 == 4 {
		e.bytes(0x24)
	}
	switch size {
	case 1:
		e.bytes(byte(disp))
	case 4:
		e.imm32(disp)
	}
}

// dispSize is the size of the displacement rm gives [base+disp].
func dispSize(base reg, disp int32) int {
	switch {
	case disp == 0 && base&7 != 5:
		return 0
	case isImm8(disp):
		return 1
	default:
		return 4
	}
}

// isImm8 reports whether v survives as an int8: whether an instruction
// may carry it as a disp8 or a sign-extended imm8.
func isImm8(v int32) bool { return v == int32(int8(v)) }

// Opcodes (Intel SDM vol. 2). The "ext" values are ModRM reg-field
// extensions of the group opcodes.
var (
	opAdd     = []byte{0x01}
	opOr      = []byte{0x09}
	opAnd     = []byte{0x21}
	opSub     = []byte{0x29}
	opXor     = []byte{0x31}
	opCmp     = []byte{0x39}
	opTest    = []byte{0x85}
	opMovSt   = []byte{0x89} // mov r/m, r
	opMovSt8  = []byte{0x88}
	opMovLd   = []byte{0x8b} // mov r, r/m
	opLea     = []byte{0x8d}
	opImul    = []byte{0x0f, 0xaf}
	opMovzx8  = []byte{0x0f, 0xb6}
	opMovzx6  = []byte{0x0f, 0xb7}
	opMovsx8  = []byte{0x0f, 0xbe}
	opMovsx6  = []byte{0x0f, 0xbf}
	opMovsxd  = []byte{0x63}
	opXadd    = []byte{0x0f, 0xc1}
	opCmpxch  = []byte{0x0f, 0xb1}
	opXchg    = []byte{0x87}
	opGrp1    = []byte{0x81} // ALU r/m, imm32
	opGrp1I8  = []byte{0x83} // ALU r/m, sign-extended imm8
	opImulI   = []byte{0x69} // imul r, r/m, imm32
	opImulI8  = []byte{0x6b} // imul r, r/m, sign-extended imm8
	opTestI8  = []byte{0xf6} // test r/m8, imm8 (group 3, byte)
	opGrp2    = []byte{0xc1} // shift r/m, imm8
	opGrp2CL  = []byte{0xd3} // shift r/m, CL
	opGrp2By1 = []byte{0xd1} // shift r/m, 1
	opGrp3    = []byte{0xf7} // test imm32, neg, div, idiv
	opMovImm  = []byte{0xc7} // mov r/m, imm32
	opMovI8   = []byte{0xc6} // mov r/m8, imm8
	opGrp5    = []byte{0xff} // jmp r/m
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

// aluRI emits a group-1 op "op dst, imm" (imm sign-extended when
// 64-bit): the imm8 form (83 /ext ib) when imm fits in an int8, else
// imm32 (81 /ext id). Both forms set the same flags.
func (e *emitter) aluRI(f flags, ext reg, dst reg, imm int32) {
	if isImm8(imm) {
		e.rr(f, opGrp1I8, ext, dst)
		e.bytes(byte(imm))
		return
	}
	e.rr(f, opGrp1, ext, dst)
	e.imm32(imm)
}

// aluMI is aluRI with a memory destination [base+disp].
func (e *emitter) aluMI(f flags, ext reg, base reg, disp int32, imm int32) {
	if isImm8(imm) {
		e.rm(f, opGrp1I8, ext, base, disp)
		e.bytes(byte(imm))
		return
	}
	e.rm(f, opGrp1, ext, base, disp)
	e.imm32(imm)
}

// imulRI sets dst = src * imm, with imm sign-extended: 6B /r ib when imm
// fits in an int8, else 69 /r id.
func (e *emitter) imulRI(f flags, dst, src reg, imm int32) {
	if isImm8(imm) {
		e.rr(f, opImulI8, dst, src)
		e.bytes(byte(imm))
		return
	}
	e.rr(f, opImulI, dst, src)
	e.imm32(imm)
}

// movRR copies src to dst; a 32-bit copy zero-extends.
func (e *emitter) movRR(f flags, dst, src reg) { e.rr(f, opMovSt, src, dst) }

// movRI loads an immediate: sign-extended imm32 when 64-bit, zero-extended
// when 32-bit. It leaves the flags alone (callers may emit it between a
// compare and its jump), so 0 is a MOV too (setRI uses XOR). Where the
// result is the same, it is mov r32, imm32 (B8+r id, zero-extending: 5
// bytes, 6 with REX.B), as the kernel's JIT does; only a negative imm for
// a 64-bit register needs REX.W C7 /0 id (7 bytes).
func (e *emitter) movRI(f flags, dst reg, imm int32) {
	if f&fW != 0 && imm < 0 {
		e.rr(f, opMovImm, 0, dst)
		e.imm32(imm)
		return
	}
	e.prefixes(f&^fW, 0, dst)
	e.bytes(0xb8 | byte(dst&7))
	e.imm32(imm)
}

// setRI is movRI for code where the flags are dead: 0 becomes xor r32,
// r32 (2 bytes, 3 with REX; zero-extends, so right for both widths, and
// the idiom CPUs recognise as dependency-free).
func (e *emitter) setRI(f flags, dst reg, imm int32) {
	if imm == 0 {
		e.aluRR(0, opXor, dst, dst)
		return
	}
	e.movRI(f, dst, imm)
}

// movabs loads a 64-bit constant without touching the flags, in the
// shortest form that yields it: mov r32, imm32 (zero-extending) below
// 2^32, REX.W C7 /0 (sign-extending) for [-2^31, 0), else the 10-byte
// REX.W B8+r io.
func (e *emitter) movabs(dst reg, v uint64) {
	switch {
	case v <= 0xffffffff:
		e.prefixes(0, 0, dst)
		e.bytes(0xb8 | byte(dst&7))
		e.imm32(int32(uint32(v)))
	case int64(v) == int64(int32(v)): // negative: sign-extends
		e.movRI(fW, dst, int32(int64(v)))
	default:
		e.prefixes(fW, 0, dst)
		e.bytes(0xb8 | byte(dst&7))
		e.imm64(v)
	}
}

// load64 and store64 move a register from and to [base+disp].
func (e *emitter) load64(dst, base reg, disp int32)      { e.rm(fW, opMovLd, dst, base, disp) }
func (e *emitter) store64(base reg, disp int32, src reg) { e.rm(fW, opMovSt, src, base, disp) }

// storeImm64 stores a sign-extended imm32 to the qword at [base+disp].
func (e *emitter) storeImm64(base reg, disp int32, imm int32) {
	e.rm(fW, opMovImm, 0, base, disp)
	e.imm32(imm)
}

// shiftRI shifts dst by a constant count; a count of 1 takes the form
// without an immediate (D1 /ext), a byte shorter, with the same result
// and flags (OF is defined for a count of 1 in either form).
func (e *emitter) shiftRI(f flags, ext reg, dst reg, n uint8) {
	if n == 1 {
		e.rr(f, opGrp2By1, ext, dst)
		return
	}
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

// jmpBack and jccBack jump back to target, code already emitted: rel8
// when it reaches, else rel32.
func (e *emitter) jmpBack(target int) {
	if target-(e.pos()+2) >= -128 {
		e.patch8To(e.jmp8(), target)
		return
	}
	e.patch32(e.jmp32(), target)
}

func (e *emitter) jccBack(cc byte, target int) {
	if target-(e.pos()+2) >= -128 {
		e.patch8To(e.jcc8(cc), target)
		return
	}
	e.patch32(e.jcc32(cc), target)
}

// leaRIP emits "lea dst, [rip+rel32]" and returns the rel32's position.
func (e *emitter) leaRIP(dst reg) int {
	e.prefixes(fW, dst, 0)
	e.bytes(opLea[0], 0x05|byte(dst&7)<<3)
	e.imm32(0)
	return e.pos() - 4
}
