package program

import (
	"math"

	"github.com/cilium/ebpf/asm"
)

// Decode validates insns and decodes them into a slice indexed by raw
// instruction offset. Symbolic jump and call targets (an asm Reference with
// the -1 placeholder, as cilium/ebpf's builders make them) are resolved
// against the instructions' Symbols. Errors are *InsnError values that match
// ErrInvalid or ErrNotSupported.
func Decode(insns asm.Instructions) ([]Insn, error) {
	n := int(insns.Size() / asm.InstructionSize)
	if n == 0 {
		return nil, invalidf("program has no instructions")
	}
	symbols, err := symbolSlots(insns)
	if err != nil {
		return nil, err
	}
	out := make([]Insn, n)
	d := decoder{n: n, symbols: symbols}
	iter := insns.Iterate()
	for iter.Next() {
		d.pc = int(iter.Offset)
		in, err := d.decode(iter.Ins)
		if err != nil {
			return nil, insnErr(d.pc, err)
		}
		out[d.pc] = in
		if in.Op.IsLoad64() {
			out[d.pc+1] = Insn{Op: LdDWHi}
		}
	}
	if err := checkFlow(out); err != nil {
		return nil, err
	}
	return out, nil
}

// symbolSlots maps each Symbol() to its raw offset.
func symbolSlots(insns asm.Instructions) (map[string]int, error) {
	var symbols map[string]int
	iter := insns.Iterate()
	for iter.Next() {
		sym := iter.Ins.Symbol()
		if sym == "" {
			continue
		}
		if symbols == nil {
			symbols = make(map[string]int)
		}
		if _, dup := symbols[sym]; dup {
			return nil, insnErr(int(iter.Offset), invalidf("duplicate symbol %q", sym))
		}
		symbols[sym] = int(iter.Offset)
	}
	return symbols, nil
}

// decoder decodes one instruction at a time; pc is the current slot.
type decoder struct {
	pc      int
	n       int
	symbols map[string]int
}

func (d *decoder) decode(ins *asm.Instruction) (Insn, error) {
	if ins.OpCode == asm.InvalidOpCode {
		return Insn{}, invalidf("invalid opcode (an asm builder refused its arguments)")
	}
	switch ins.OpCode.Class() {
	case asm.ALUClass, asm.ALU64Class:
		return decodeALU(ins)
	case asm.JumpClass, asm.Jump32Class:
		return d.decodeJump(ins)
	case asm.LdClass:
		return decodeLd(ins)
	case asm.LdXClass:
		return decodeLdX(ins)
	case asm.StClass:
		return decodeSt(ins)
	default: // asm.StXClass
		return decodeStX(ins)
	}
}

// target turns a relative jump or call into an absolute slot, resolving a
// symbolic reference when the relative value is the -1 placeholder.
func (d *decoder) target(ins *asm.Instruction, rel int64) (int32, error) {
	if ref := ins.Reference(); ref != "" && rel == -1 {
		slot, ok := d.symbols[ref]
		if !ok {
			return 0, invalidf("%v: undefined symbol %q", opName(ins), ref)
		}
		return int32(slot), nil
	}
	t := int64(d.pc) + 1 + rel
	if t < 0 || t >= int64(d.n) {
		return 0, invalidf("jump out of range: %v to insn %d (the program has %d)", opName(ins), t, d.n)
	}
	return int32(t), nil
}

func decodeALU(ins *asm.Instruction) (Insn, error) {
	is64 := ins.OpCode.Class() == asm.ALU64Class
	aop := ins.OpCode.ALUOp()
	switch aop {
	case asm.Swap:
		return decodeSwap(ins, is64)
	case asm.Neg:
		op := pick(is64, Neg64, Neg32)
		if ins.OpCode.Source() != asm.ImmSource {
			return Insn{}, unknownOpcode(ins)
		}
		return simple(ins, op, useDst|writesDst)
	case asm.MovSX8, asm.MovSX16, asm.MovSX32:
		return decodeMovSX(ins, is64)
	}
	ops, ok := aluOps[aop]
	if !ok {
		return Insn{}, unknownOpcode(ins)
	}
	if ins.OpCode.Source() == asm.ImmSource {
		return simple(ins, ops[pickIdx(is64, 0, 2)], useDst|useImm|writesDst)
	}
	return simple(ins, ops[pickIdx(is64, 1, 3)], useDst|useSrc|writesDst)
}

// decodeMovSX handles the sign-extending moves, which cilium/ebpf decodes
// from a mov with offset 8, 16 or 32 whatever its source bit says.
func decodeMovSX(ins *asm.Instruction, is64 bool) (Insn, error) {
	mov := aluOps[asm.Mov]
	if ins.OpCode.Source() == asm.ImmSource {
		return Insn{}, invalidf("non-zero offset in %s", mov[pickIdx(is64, 0, 2)])
	}
	op := movsxOps[ins.OpCode.ALUOp()][pickIdx(is64, 0, 1)]
	if op == Invalid {
		return Insn{}, invalidf("invalid offset 32 in %s (movsx32 is 64-bit only)", mov[3])
	}
	return simple(ins, op, useDst|useSrc|writesDst)
}

// decodeSwap: le and be are ALU-class, bswap is ALU64-class with the
// source bit clear; the width is the immediate.
func decodeSwap(ins *asm.Instruction, is64 bool) (Insn, error) {
	kind := 0 // le
	switch {
	case is64 && ins.OpCode.Endianness() != asm.LE:
		return Insn{}, unknownOpcode(ins)
	case is64:
		kind = 2
	case ins.OpCode.Endianness() == asm.BE:
		kind = 1
	}
	ops, ok := swapOps[ins.Constant]
	if !ok {
		return Insn{}, invalidf("invalid width %d in %s (want 16, 32 or 64)", ins.Constant, opName(ins))
	}
	return simple(ins, ops[kind], useDst|useImm|writesDst)
}

func (d *decoder) decodeJump(ins *asm.Instruction) (Insn, error) {
	is32 := ins.OpCode.Class() == asm.Jump32Class
	imm := ins.OpCode.Source() == asm.ImmSource
	switch jop := ins.OpCode.JumpOp(); jop {
	case asm.Ja:
		return d.decodeJA(ins, is32)
	case asm.Call:
		return d.decodeCall(ins)
	case asm.Exit:
		if !imm {
			return Insn{}, unknownOpcode(ins)
		}
		return simple(ins, Exit, 0)
	case asm.JCOND:
		return Insn{}, unsupportedf("may_goto (opcode 0x%02x) is not supported", rawOpcode(ins))
	default:
		ops, ok := jumpOps[jop]
		if !ok {
			return Insn{}, unknownOpcode(ins)
		}
		use, op := useDst|useOff|useImm, ops[pickIdx(!is32, 0, 2)]
		if !imm {
			use, op = useDst|useSrc|useOff, ops[pickIdx(!is32, 1, 3)]
		}
		in, err := simple(ins, op, use)
		if err != nil {
			return in, err
		}
		in.Off, err = d.target(ins, int64(ins.Offset))
		return in, err
	}
}

// decodeJA: ja takes its target from the offset, ja32 (JMP32 class, RFC
// 9669 "gotol") from the immediate.
func (d *decoder) decodeJA(ins *asm.Instruction, is32 bool) (Insn, error) {
	if ins.OpCode.Source() != asm.ImmSource {
		return Insn{}, unknownOpcode(ins)
	}
	use, rel := fields(useOff), int64(ins.Offset)
	if is32 {
		use, rel = useImm, ins.Constant
	}
	in, err := simple(ins, JA, use)
	if err != nil {
		return in, err
	}
	in.Imm = 0
	in.Off, err = d.target(ins, rel)
	return in, err
}

func (d *decoder) decodeCall(ins *asm.Instruction) (Insn, error) {
	if ins.OpCode.Source() != asm.ImmSource {
		return Insn{}, unknownOpcode(ins) // callx: not in Linux
	}
	switch ins.Src {
	case 0:
		in, err := simple(ins, CallHelper, useImm)
		if err == nil && (ins.Constant <= 0 || ins.Constant >= 1<<28) {
			err = invalidf("invalid helper %d", ins.Constant)
		}
		return in, err
	case asm.PseudoCall:
		in, err := simple(ins, CallLocal, useSrc|useImm)
		if err != nil {
			return in, err
		}
		in.Imm, in.Src = 0, 0
		in.Off, err = d.target(ins, ins.Constant)
		return in, err
	case asm.PseudoKfuncCall:
		return Insn{}, unsupportedf("kfunc calls are not supported")
	}
	return Insn{}, invalidf("invalid src register %d in call", ins.Src)
}

func decodeLd(ins *asm.Instruction) (Insn, error) {
	switch ins.OpCode.Mode() {
	case asm.ImmMode:
		if !ins.OpCode.IsDWordLoad() {
			return Insn{}, unknownOpcode(ins)
		}
		return decodeLdDW(ins)
	case asm.AbsMode:
		if op, ok := ldAbsOps[ins.OpCode.Size()]; ok {
			return simple(ins, op, useImm)
		}
	case asm.IndMode:
		if op, ok := ldIndOps[ins.OpCode.Size()]; ok {
			return simple(ins, op, useSrc|useImm)
		}
	}
	return Insn{}, unknownOpcode(ins)
}

func decodeLdDW(ins *asm.Instruction) (Insn, error) {
	op := LdDW
	switch ins.Src {
	case 0:
	case asm.PseudoMapFD:
		op = LdMapFD
	case asm.PseudoMapValue:
		op = LdMapValue
	default:
		if name, ok := pseudoLoads[ins.Src]; ok {
			return Insn{}, unsupportedf("lddw with src %d (%s) is not supported", ins.Src, name)
		}
		return Insn{}, invalidf("invalid src register %d in lddw", ins.Src)
	}
	in, err := simple(ins, op, useDst|useSrc|useImm|writesDst|wideImm)
	in.Src = 0
	return in, err
}

func decodeLdX(ins *asm.Instruction) (Insn, error) {
	var op Op
	switch ins.OpCode.Mode() {
	case asm.MemMode:
		op = ldxOps[ins.OpCode.Size()]
	case asm.MemSXMode:
		op = ldxsxOps[ins.OpCode.Size()]
	}
	if op == Invalid {
		return Insn{}, unknownOpcode(ins)
	}
	return simple(ins, op, useDst|useSrc|useOff|writesDst)
}

func decodeSt(ins *asm.Instruction) (Insn, error) {
	if ins.OpCode.Mode() != asm.MemMode {
		return Insn{}, unknownOpcode(ins)
	}
	return simple(ins, stOps[ins.OpCode.Size()], useDst|useOff|useImm)
}

func decodeStX(ins *asm.Instruction) (Insn, error) {
	switch ins.OpCode.Mode() {
	case asm.MemMode:
		return simple(ins, stxOps[ins.OpCode.Size()], useDst|useSrc|useOff)
	case asm.AtomicMode:
		return decodeAtomic(ins)
	}
	return Insn{}, unknownOpcode(ins)
}

// decodeAtomic accepts the RFC 9669 atomics. cilium/ebpf folds the raw
// immediate into the OpCode and keeps it in Constant too (instructions
// built in Go leave Constant zero); any other bit left in Constant is an
// operation it does not know.
func decodeAtomic(ins *asm.Instruction) (Insn, error) {
	size := ins.OpCode.Size()
	if size != asm.Word && size != asm.DWord {
		return Insn{}, unknownOpcode(ins)
	}
	aop := ins.OpCode.AtomicOp()
	imm := int64(aop >> 8)
	ops, ok := atomicOps[aop]
	switch {
	case ins.Constant != 0 && ins.Constant != imm:
		return Insn{}, invalidf("invalid atomic operation %#x", ins.Constant)
	case !ok && (imm == 0xe0 || imm == 0xf0):
		return Insn{}, invalidf("atomic %s without BPF_FETCH", map[int64]string{0xe0: "xchg", 0xf0: "cmpxchg"}[imm])
	case !ok:
		return Insn{}, unsupportedf("atomic operation %#x is not supported", imm)
	}
	op := ops[pickIdx(size == asm.Word, 0, 1)]
	in, err := simple(ins, op, useDst|useSrc|useOff|useImm)
	if err == nil && ins.Src == 10 && aop&0x100 != 0 && aop != asm.CmpXchg {
		err = invalidf("%s writes to the read-only frame pointer r10", op)
	}
	in.Imm = 0
	return in, err
}

func pick(first bool, a, b Op) Op {
	if first {
		return a
	}
	return b
}

func pickIdx(first bool, a, b int) int {
	if first {
		return a
	}
	return b
}

// fitsImm32 reports whether c is an encodable 32-bit immediate; cilium/ebpf
// instructions built in Go can hold wider constants.
func fitsImm32(c int64) bool { return c >= math.MinInt32 && c <= math.MaxUint32 }
