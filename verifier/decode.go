package verifier

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/cilium/ebpf/asm"
	"github.com/dropmon/dropmon/program"
)

// decode is program.Decode; its *InsnError becomes an *Error that unwraps
// to it, with the message the kernel would give where it has one (the
// decoder speaks its own, more explicit, words: those go in the log).
func (e *env) decode() error {
	insns, err := program.Decode(e.prog.Insns)
	if err != nil {
		var ie *program.InsnError
		if !errors.As(err, &ie) {
			r := e.reject(-1, "%v", err)
			r.cause = err
			return r
		}
		msg := ie.Err.Error()
		if k := e.kernelWords(ie.Insn, msg); k != "" {
			e.logf("%d: %s\n", ie.Insn, msg)
			msg = k
		}
		r := e.reject(ie.Insn, "%s", msg)
		r.cause = err
		return r
	}
	e.insns = insns
	return nil
}

var (
	reBadReg    = regexp.MustCompile(`^invalid (?:dst|src) register r(\d+)`)
	reMiddle    = regexp.MustCompile(`^jump into the middle of lddw at insn (\d+)`)
	reUnknownOp = regexp.MustCompile(`^unknown opcode 0x([0-9a-f]{2})`)
)

// kernelWords translates a decoder message about the instruction at slot
// pc into the kernel's, or returns "".
func (e *env) kernelWords(pc int, msg string) string {
	ins := e.rawAt(pc)
	if m := reBadReg.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("R%s is invalid", m[1])
	}
	if m := reMiddle.FindStringSubmatch(msg); m != nil {
		return "jump into the middle of ldimm64 insn " + m[1]
	}
	if strings.HasPrefix(msg, "last instruction") {
		return "last insn is not an exit or jmp"
	}
	if ins == nil {
		return ""
	}
	op := uint8(ins.OpCode)
	cls := op & 7
	if m := reUnknownOp.FindStringSubmatch(msg); m != nil {
		if cls == 3 && op&0xe0 == 0xc0 && op&0x18 != 0x18 && op&0x18 != 0 { // BPF_STX|BPF_ATOMIC, B or H
			return "invalid atomic operand size"
		}
		return "unknown opcode " + m[1]
	}
	if strings.HasPrefix(msg, "invalid src register") && cls == 0 {
		return "unrecognized bpf_ld_imm64 insn"
	}
	if strings.HasPrefix(msg, "non-zero") || strings.HasPrefix(msg, "invalid width") {
		return reservedFields(op) + " uses reserved fields"
	}
	return ""
}

// reservedFields names an instruction's kind as the kernel's "uses
// reserved fields" messages do.
func reservedFields(op uint8) string {
	switch cls := op & 7; cls {
	case 4, 7: // ALU, ALU64
		switch op & 0xf0 {
		case 0xb0:
			return "BPF_MOV"
		case 0x80:
			return "BPF_NEG"
		case 0xd0:
			return "BPF_END"
		}
		return "BPF_ALU"
	case 5, 6: // JMP, JMP32
		switch op & 0xf0 {
		case 0x90:
			return "BPF_EXIT"
		case 0x80:
			return "BPF_CALL"
		case 0x00:
			return "BPF_JA"
		}
		if cls == 6 {
			return "BPF_JMP32"
		}
		return "BPF_JMP"
	case 0:
		if op&0xe0 == 0x20 || op&0xe0 == 0x40 {
			return "BPF_LD_[ABS|IND]"
		}
		return "BPF_LD"
	case 1:
		return "BPF_LDX"
	case 2:
		return "BPF_ST"
	}
	return "BPF_STX"
}

// rawAt returns the instruction at raw slot pc.
func (e *env) rawAt(pc int) *asm.Instruction {
	iter := e.prog.Insns.Iterate()
	for iter.Next() {
		if int(iter.Offset) == pc {
			return iter.Ins
		}
	}
	return nil
}
