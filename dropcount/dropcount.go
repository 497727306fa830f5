package dropcount

import (
	"encoding/binary"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/tracepoint"
)

// MapName names the hash map in which Program counts drops.
const MapName = "drop_counts"

// KeySize is the size of the drop counter's key: the location (u64),
// the reason (u32, 0 when the kernel gives none) and 4 bytes of padding that
// the program zeroes, so that equal drops make equal keys.
const KeySize = 16

// Key is the drop counter's map key, decoded.
type Key struct {
	Location uint64
	Reason   uint32
	// StackID is what StackProgram keeps where Program has padding: the
	// bpf_get_stackid result, an id in StackMapName or a negative errno.
	// Program's keys have 0 there.
	StackID int32
}

// DecodeKey decodes a key of the drop counter's map.
func DecodeKey(b []byte) (Key, error) {
	if len(b) != KeySize {
		return Key{}, fmt.Errorf("drop key of %d bytes, want %d", len(b), KeySize)
	}
	return Key{Location: binary.NativeEndian.Uint64(b), Reason: binary.NativeEndian.Uint32(b[8:]),
		StackID: int32(binary.NativeEndian.Uint32(b[12:]))}, nil
}

// Stack slots of the drop counter.
const (
	keyOff   = -16 // the key: location at -16, reason at -8, padding at -4
	valueOff = -24 // the value 1 for a first insert
)

// Program builds the seed's second sample: a tracepoint program for
// skb:kfree_skb that counts drops per location and reason in a hash map of
// maxEntries keys. It reads the fields at the offsets the given format (the
// running kernel's) gives, never at hard-coded ones, and leaves the reason
// out on kernels that have none. It adds 1 atomically to an existing count,
// or inserts 1; when another CPU inserted the key first, it adds to theirs.
func Program(format *tracepoint.Format, maxEntries uint32) (*program.Program, error) {
	return build(format, maxEntries, false)
}

func build(format *tracepoint.Format, maxEntries uint32, stacks bool) (*program.Program, error) {
	location, err := format.Field("location")
	if err != nil {
		return nil, fmt.Errorf("build drop counter: %w", err)
	}
	if location.Size != 8 {
		return nil, fmt.Errorf("build drop counter: location field is %d bytes, want 8 (a 64-bit kernel)", location.Size)
	}
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R2, asm.R6, int16(location.Offset), asm.DWord),
		asm.StoreMem(asm.RFP, keyOff, asm.R2, asm.DWord),
	}
	if stacks {
		insns = append(insns, stackID()...)
	}
	if reason, err := format.Field("reason"); err == nil {
		size, ok := loadSize(reason.Size)
		if !ok {
			return nil, fmt.Errorf("build drop counter: reason field is %d bytes", reason.Size)
		}
		insns = append(insns, asm.LoadMem(asm.R3, asm.R6, int16(reason.Offset), size))
	} else {
		insns = append(insns, asm.Mov.Imm(asm.R3, 0))
	}
	// One 8-byte store writes the reason (zero-extended by its load) and
	// the padding: lookups read the key in 8-byte words, and a load that
	// spans two smaller stores cannot be forwarded from them (a stall of
	// about a dozen cycles on x86, measured in BenchmarkPipeline).
	// StackProgram's stack id is the upper half of that word.
	if stacks {
		insns = append(insns, asm.Or.Reg(asm.R3, asm.R7))
	}
	insns = append(insns, asm.StoreMem(asm.RFP, keyOff+8, asm.R3, asm.DWord))
	insns = append(insns, lookupAndAdd("add")...)
	insns = append(insns,
		// Not found: insert 1, unless another CPU got there first.
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreMem(asm.RFP, valueOff, asm.R1, asm.DWord),
		asm.LoadMapPtr(asm.R1, 0).WithReference(MapName),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, keyOff),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, valueOff),
		asm.Mov.Imm(asm.R4, int32(ebpf.UpdateNoExist)),
		asm.FnMapUpdateElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
	)
	insns = append(insns, lookupAndAdd("add2")...)
	insns = append(insns,
		asm.Ja.Label("out"),
		asm.Mov.Imm(asm.R1, 1).WithSymbol("add"),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Ja.Label("out"),
		asm.Mov.Imm(asm.R1, 1).WithSymbol("add2"),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	)
	prog := &program.Program{
		Name:    "count_drops",
		Type:    program.Tracepoint,
		Insns:   insns,
		License: "GPL",
		Maps: []*program.MapSpec{{
			Name:       MapName,
			Type:       ebpf.Hash,
			KeySize:    KeySize,
			ValueSize:  8,
			MaxEntries: maxEntries,
		}},
	}
	if stacks {
		prog.Name = "count_drop_stacks"
		prog.Maps = append(prog.Maps, stackMapSpec())
	}
	return prog, nil
}

// lookupAndAdd looks the key up and jumps to label with the value pointer
// in R0 when it is there.
func lookupAndAdd(label string) asm.Instructions {
	return asm.Instructions{
		asm.LoadMapPtr(asm.R1, 0).WithReference(MapName),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, keyOff),
		asm.FnMapLookupElem.Call(),
		asm.JNE.Imm(asm.R0, 0, label),
	}
}

func loadSize(n int) (asm.Size, bool) {
	switch n {
	case 1:
		return asm.Byte, true
	case 2:
		return asm.Half, true
	case 4:
		return asm.Word, true
	case 8:
		return asm.DWord, true
	}
	return 0, false
}
