package jit

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/cilium/ebpf/asm"
	"golang.org/x/arch/x86/x86asm"
)

// Syntax selects how Disassemble prints x86-64 instructions.
type Syntax int

const (
	// GNU is AT&T syntax, close to what objdump prints: mov 0x10(%rdi),%rax.
	GNU Syntax = iota
	// Intel is Intel syntax: mov rax, qword ptr [rdi+0x10].
	Intel
)

// Disassemble lists code, compiled from insns (the program's instructions
// as the loader read them, so that map references keep their names): each
// eBPF instruction in cilium/ebpf's syntax, then the x86-64 instructions
// generated for it, with their offsets in the code and their bytes. Code
// before the first instruction is listed as the prologue, code after the
// last (the exits the instructions share) as the stubs.
func Disassemble(w io.Writer, code *Code, insns asm.Instructions, syntax Syntax) error {
	buf, addrs := code.Bytes(), code.Addrs()
	d := disassembler{w: w, code: buf, syntax: syntax}
	slots := int(insns.Size() / asm.InstructionSize)
	if len(addrs) < slots {
		return fmt.Errorf("disassemble: code has offsets for %d slots, the program has %d", len(addrs), slots)
	}
	// end returns where slot's code ends: at the next slot's start, or,
	// for the last, at the offset after it if Addrs has one, else at the
	// end of the code.
	end := func(slot int) int {
		if slot < len(addrs) {
			return addrs[slot]
		}
		return len(buf)
	}
	if slots > 0 && addrs[0] > 0 {
		d.header("prologue")
		d.x86(0, addrs[0])
	}
	labels := labelSlots(insns)
	iter := insns.Iterate()
	var lastSource string
	for iter.Next() {
		slot := int(iter.Offset)
		next := slot + int(iter.Ins.Size()/asm.InstructionSize)
		if sym := iter.Ins.Symbol(); sym != "" {
			d.header(sym + ":")
		}
		if src := iter.Ins.Source(); src != nil {
			if line := strings.TrimSpace(src.String()); line != "" && line != lastSource {
				d.header("      ; " + line)
				lastSource = line
			}
		}
		d.header(fmt.Sprintf("%4d: %v", slot, eBPFText(iter.Ins, slot, labels)))
		d.x86(addrs[slot], end(next))
	}
	if last := end(slots); last < len(buf) {
		d.header("stubs")
		d.x86(last, len(buf))
	}
	return d.err
}

// eBPFText is cilium's text for an instruction, with the target slot of
// a jump or local call added: an offset alone is hard to follow, and
// programs built in Go hold references to labels rather than offsets.
func eBPFText(ins *asm.Instruction, slot int, labels map[string]int) string {
	s := fmt.Sprintf("%v", ins)
	op := ins.OpCode
	var rel int
	switch {
	case op.JumpOp() == asm.Ja && op.Class() == asm.Jump32Class: // gotol: the offset is in imm
		rel = int(ins.Constant)
	case ins.IsFunctionCall():
		rel = int(ins.Constant)
	case op.Class().IsJump() && op.JumpOp() != asm.Exit && op.JumpOp() != asm.Call:
		rel = int(ins.Offset)
	default:
		return s
	}
	if target, ok := labels[ins.Reference()]; ok {
		return fmt.Sprintf("%s -> %d", s, target)
	}
	return fmt.Sprintf("%s -> %d", s, slot+1+rel)
}

// labelSlots maps the program's symbols to their slots.
func labelSlots(insns asm.Instructions) map[string]int {
	labels := make(map[string]int)
	iter := insns.Iterate()
	for iter.Next() {
		if sym := iter.Ins.Symbol(); sym != "" {
			labels[sym] = int(iter.Offset)
		}
	}
	return labels
}

type disassembler struct {
	w      io.Writer
	code   []byte
	syntax Syntax
	err    error
}

func (d *disassembler) printf(format string, args ...any) {
	if d.err == nil {
		_, d.err = fmt.Fprintf(d.w, format, args...)
	}
}

func (d *disassembler) header(s string) { d.printf("%s\n", s) }

// x86 lists the instructions in code[start:end]. Bytes x86asm cannot
// decode are listed one at a time as (bad), as objdump does.
func (d *disassembler) x86(start, end int) {
	if start < 0 || end > len(d.code) || start > end {
		d.printf("\t(code offsets %#x-%#x outside the code's %#x bytes)\n", start, end, len(d.code))
		return
	}
	for pc := start; pc < end; {
		inst, err := x86asm.Decode(d.code[pc:end], 64)
		n, text := inst.Len, ""
		if err != nil || n == 0 {
			n, text = 1, "(bad)"
		} else {
			text = d.format(inst, pc)
		}
		d.printf("\t%6x:\t%-32s\t%s\n", pc, spacedHex(d.code[pc:pc+n]), text)
		pc += n
	}
}

func (d *disassembler) format(inst x86asm.Inst, pc int) string {
	if d.syntax == Intel {
		return x86asm.IntelSyntax(inst, uint64(pc), nil)
	}
	return x86asm.GNUSyntax(inst, uint64(pc), nil)
}

// spacedHex prints bytes as objdump does: "48 8b 47 10".
func spacedHex(b []byte) string {
	s := hex.EncodeToString(b)
	var sb strings.Builder
	for i := 0; i < len(s); i += 2 {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(s[i : i+2])
	}
	return sb.String()
}
