package verifier

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
	"github.com/dropmon/dropmon/program"
)

// insnString prints a decoded instruction in the syntax of the kernel's
// verifier log ("r1 += -8", "if r2 > r3 goto pc+4", "*(u32 *)(r10 -4) =
// r1"), so that logs read like the kernel's.
func (e *env) insnString(pc int) string {
	in := &e.insns[pc]
	op := in.Op
	switch {
	case op.IsALU64() || op.IsALU32():
		return aluString(in)
	case op.IsSwap():
		return swapString(in)
	case op == program.JA:
		return fmt.Sprintf("goto pc%+d", in.Target()-pc-1)
	case op.IsCondJump():
		r, src := "r", ""
		if op.IsJump32() {
			r = "w"
		}
		if isRegSource(op) {
			src = fmt.Sprintf("%s%d", r, in.Src)
		} else {
			src = fmt.Sprint(in.Imm)
		}
		return fmt.Sprintf("if %s%d %s %s goto pc%+d", r, in.Dst, condSymbols[condOf[op]], src, in.Target()-pc-1)
	case op == program.CallHelper:
		return fmt.Sprintf("call %s#%d", program.HelperName(asm.BuiltinFunc(in.Imm)), in.Imm)
	case op == program.CallLocal:
		return fmt.Sprintf("call pc%+d", in.Target()-pc-1)
	case op == program.Exit:
		return "exit"
	case op == program.LdDW:
		return fmt.Sprintf("r%d = %#x ll", in.Dst, uint64(in.Imm))
	case op == program.LdMapFD:
		return fmt.Sprintf("r%d = map[%s] ll", in.Dst, e.prog.Maps[e.mapOf[pc]].Name)
	case op == program.LdMapValue:
		return fmt.Sprintf("r%d = map_value[%s]+%d ll", in.Dst, e.prog.Maps[e.mapOf[pc]].Name, e.mapValue[pc])
	case op >= program.LdAbsB && op <= program.LdAbsW:
		return fmt.Sprintf("r0 = *(u%d *)skb[%d]", 8*op.MemSize(), in.Imm)
	case op.IsPacketLoad():
		return fmt.Sprintf("r0 = *(u%d *)skb[r%d + %d]", 8*op.MemSize(), in.Src, in.Imm)
	case op.IsLoadX():
		sign := "u"
		if op >= program.LdxSB {
			sign = "s"
		}
		return fmt.Sprintf("r%d = *(%s%d *)(r%d %+d)", in.Dst, sign, 8*op.MemSize(), in.Src, in.Off)
	case op >= program.StB && op <= program.StDW:
		return fmt.Sprintf("*(u%d *)(r%d %+d) = %d", 8*op.MemSize(), in.Dst, in.Off, in.Imm)
	case op.IsStore():
		return fmt.Sprintf("*(u%d *)(r%d %+d) = r%d", 8*op.MemSize(), in.Dst, in.Off, in.Src)
	case op.IsAtomic():
		return fmt.Sprintf("%s *(u%d *)(r%d %+d), r%d", op, 8*op.MemSize(), in.Dst, in.Off, in.Src)
	}
	return op.String()
}

var condSymbols = [...]string{"==", "!=", ">", ">=", "<", "<=", "s>", "s>=", "s<", "s<=", "&", "!&"}

func aluString(in *program.Insn) string {
	r := "r"
	if in.Op.IsALU32() {
		r = "w"
	}
	switch in.Op {
	case program.Neg64, program.Neg32:
		return fmt.Sprintf("%s%d = -%s%d", r, in.Dst, r, in.Dst)
	case program.MovSX8To64, program.MovSX16To64, program.MovSX32To64, program.MovSX8To32, program.MovSX16To32:
		bits := map[program.Op]int{program.MovSX8To64: 8, program.MovSX8To32: 8, program.MovSX16To64: 16,
			program.MovSX16To32: 16, program.MovSX32To64: 32}[in.Op]
		return fmt.Sprintf("%s%d = (s%d)%s%d", r, in.Dst, bits, r, in.Src)
	}
	src := fmt.Sprint(in.Imm)
	if isRegSource(in.Op) {
		src = fmt.Sprintf("%s%d", r, in.Src)
	}
	return fmt.Sprintf("%s%d %s %s", r, in.Dst, aluSymbols[aluKindOf(in.Op)], src)
}

func swapString(in *program.Insn) string {
	name := map[program.Op]string{program.Le16: "le16", program.Le32: "le32", program.Le64: "le64",
		program.Be16: "be16", program.Be32: "be32", program.Be64: "be64",
		program.BSwap16: "bswap16", program.BSwap32: "bswap32", program.BSwap64: "bswap64"}[in.Op]
	return fmt.Sprintf("r%d = %s r%d", in.Dst, name, in.Dst)
}
