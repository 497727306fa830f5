package program

import (
	"github.com/cilium/ebpf/asm"
)

// fields says which raw fields an operation uses (every other one must be
// zero) and what it writes.
type fields uint8

const (
	useDst fields = 1 << iota
	useSrc
	useOff
	useImm
	writesDst // the operation writes dst, so dst may not be R10
	wideImm   // the immediate is 64 bits (LDDW)
)

// maxReg is R10, the read-only frame pointer.
const maxReg = 10

// simple checks ins's fields against use and builds the Insn. Following the
// kernel's do_check and RFC 9669, fields an operation does not use must be
// zero.
func simple(ins *asm.Instruction, op Op, use fields) (Insn, error) {
	if err := checkUnused(ins, op, use); err != nil {
		return Insn{}, err
	}
	if err := checkRegs(ins, op, use); err != nil {
		return Insn{}, err
	}
	imm := ins.Constant
	if use&wideImm == 0 {
		if !fitsImm32(imm) {
			return Insn{}, invalidf("immediate %d out of 32-bit range in %s", imm, op)
		}
		imm = int64(int32(imm))
	}
	in := Insn{Op: op, Dst: uint8(ins.Dst), Src: uint8(ins.Src), Off: int32(ins.Offset), Imm: imm}
	if use&useImm == 0 {
		in.Imm = 0
	}
	return in, nil
}

func checkUnused(ins *asm.Instruction, op Op, use fields) error {
	switch {
	case use&useDst == 0 && ins.Dst != 0:
		return invalidf("non-zero dst register in %s", op)
	case use&useSrc == 0 && ins.Src != 0:
		return invalidf("non-zero src register in %s", op)
	case use&useOff == 0 && ins.Offset != 0:
		return invalidf("non-zero offset in %s", op)
	case use&useImm == 0 && ins.Constant != 0:
		return invalidf("non-zero immediate in %s", op)
	}
	return nil
}

func checkRegs(ins *asm.Instruction, op Op, use fields) error {
	switch {
	case use&useDst != 0 && ins.Dst > maxReg:
		return invalidf("invalid dst register r%d in %s", ins.Dst, op)
	case use&useSrc != 0 && ins.Src > maxReg && !op.IsLoad64():
		return invalidf("invalid src register r%d in %s", ins.Src, op)
	case use&writesDst != 0 && ins.Dst == maxReg:
		return invalidf("%s writes to the read-only frame pointer r10", op)
	}
	return nil
}

// checkFlow checks what needs every slot decoded: no jump lands on the
// second slot of a 64-bit load, and the last instruction cannot fall off
// the end of the program (the kernel's "last insn is not an exit or jmp").
func checkFlow(insns []Insn) error {
	for pc := range insns {
		in := &insns[pc]
		if in.Op.HasTarget() && insns[in.Off].Op == LdDWHi {
			return insnErr(pc, invalidf("jump into the middle of lddw at insn %d", in.Off-1))
		}
	}
	last := len(insns) - 1
	if op := insns[last].Op; op != Exit && op != JA {
		if op == LdDWHi {
			last--
		}
		return insnErr(last, invalidf("last instruction %s is not exit or ja: execution would fall off the end", insns[last].Op))
	}
	return nil
}

// unknownOpcode reports an opcode outside RFC 9669's set.
func unknownOpcode(ins *asm.Instruction) error {
	return invalidf("unknown opcode 0x%02x", rawOpcode(ins))
}

// rawOpcode recovers the opcode byte: cilium/ebpf keeps it in the low byte
// of its OpCode and puts what it derives from other fields above it.
func rawOpcode(ins *asm.Instruction) uint8 { return uint8(ins.OpCode) }

// opName names an instruction for messages before it has an Op.
func opName(ins *asm.Instruction) string { return ins.OpCode.String() }
