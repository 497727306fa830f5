package program

import (
	"bytes"
	"encoding/binary"

	"github.com/cilium/ebpf/asm"
)

// Raw encoding facts (RFC 9669, little-endian host order).
const (
	opLDDW   = 0x18 // BPF_LD | BPF_IMM | BPF_DW
	opCall   = 0x85 // BPF_JMP | BPF_CALL
	maxHelpr = 1 << 28
)

// FromBytes decodes raw little-endian bytecode (as the conformance plugin
// protocol and the bpf(2) ABI carry it) into instructions. It first checks
// the raw facts that cilium/ebpf's decoder would report without a location
// (a 64-bit load cut short or with non-zero reserved fields in its second
// slot, a helper number it cannot represent), then decodes. It does not
// validate the rest: Decode does, with the same messages for programs that
// come from ELF objects or Go code.
func FromBytes(raw []byte) (asm.Instructions, error) {
	if len(raw) == 0 {
		return nil, invalidf("program has no instructions")
	}
	if len(raw)%asm.InstructionSize != 0 {
		return nil, invalidf("program length %d is not a multiple of %d bytes", len(raw), asm.InstructionSize)
	}
	if err := checkRaw(raw); err != nil {
		return nil, err
	}
	insns, err := asm.AppendInstructions(nil, bytes.NewReader(raw), binary.LittleEndian, "linux")
	if err != nil {
		// checkRaw covers what the decoder rejects; this is a bug or a
		// decoder change, so keep its message.
		return nil, invalidf("decode: %v", err)
	}
	return insns, nil
}

func checkRaw(raw []byte) error {
	if err := checkLDDW(raw); err != nil {
		return err
	}
	n := len(raw) / asm.InstructionSize
	for pc := 0; pc < n; pc++ {
		slot := raw[pc*asm.InstructionSize:]
		switch slot[0] {
		case opLDDW:
			pc++ // checkLDDW saw the second slot
		case opCall:
			imm := binary.LittleEndian.Uint32(slot[4:8])
			if slot[1] == 0 && imm >= maxHelpr {
				return insnErr(pc, invalidf("invalid helper %d", int32(imm)))
			}
		}
	}
	return nil
}

// checkLDDW finds an lddw whose second slot is missing or has anything but
// the immediate set. The kernel refuses it with EINVAL and "invalid
// bpf_ld_imm64 insn" in the pass of kernel/bpf/verifier.c that resolves
// ldimm64 map references, before the verifier proper; the error is located
// here at the lddw's first slot, where the kernel's loop finds it.
func checkLDDW(raw []byte) error {
	n := len(raw) / asm.InstructionSize
	for pc := 0; pc < n; pc++ {
		if raw[pc*asm.InstructionSize] != opLDDW {
			continue
		}
		if pc+1 >= n {
			return insnErr(pc, invalidf("invalid bpf_ld_imm64 insn: the program ends before its second slot"))
		}
		next := raw[(pc+1)*asm.InstructionSize:]
		if binary.LittleEndian.Uint32(next[0:4]) != 0 {
			return insnErr(pc, invalidf("invalid bpf_ld_imm64 insn: its second slot has a non-zero opcode, register or offset"))
		}
		pc++
	}
	return nil
}
