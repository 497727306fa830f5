package dropcount

import (
	"encoding/binary"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/tracepoint"
)

// StackMapName names StackProgram's stack trace map: call chains by id.
const StackMapName = "drop_stacks"

// StackDepth is the most frames StackProgram keeps of a call chain (the
// stack map's value is StackDepth u64 addresses, 0-terminated when
// shorter): the kernel's PERF_MAX_STACK_DEPTH, the default of
// kernel.perf_event_max_stack.
const StackDepth = 127

// StackEntries is the number of ids (buckets) of StackProgram's stack map.
// The kernel allocates every bucket up front (StackDepth*8 bytes each, 4
// MiB in all); a drop whose chain hashes to a bucket another chain holds
// is still counted, under a negative stack id (-EEXIST).
const StackEntries = 4096

// StackProgram is Program with the drop's kernel call chain in the key:
// bpf_get_stackid(ctx, &drop_stacks, 0) goes where Program has padding,
// so the key stays KeySize bytes and Key.StackID decodes it. Flags 0, not
// BPF_F_FAST_STACK_CMP: the kernel then compares the frames when hashes
// match, so an id never stands for two chains, at the cost of a memcmp
// on the few drops whose chain is already stored. On the user-space
// engines the chain is the record's PERF_SAMPLE_CALLCHAIN, the one the
// kernel takes for bpf_get_stackid from the same tracepoint registers.
func StackProgram(format *tracepoint.Format, maxEntries uint32) (*program.Program, error) {
	return build(format, maxEntries, true)
}

// stackID calls bpf_get_stackid with the context in r6 and leaves the id
// (or -errno) in r7's upper 32 bits, for the key's second word.
func stackID() asm.Instructions {
	return asm.Instructions{
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.LoadMapPtr(asm.R2, 0).WithReference(StackMapName),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnGetStackid.Call(),
		asm.Mov.Reg(asm.R7, asm.R0),
		asm.LSh.Imm(asm.R7, 32),
	}
}

func stackMapSpec() *program.MapSpec {
	return &program.MapSpec{
		Name:       StackMapName,
		Type:       ebpf.StackTrace,
		KeySize:    4,
		ValueSize:  StackDepth * 8,
		MaxEntries: StackEntries,
	}
}

// DecodeStack returns the frames of a stack map value: addresses up to the
// first 0, innermost first.
func DecodeStack(value []byte) []uint64 {
	var frames []uint64
	for i := 0; i+8 <= len(value); i += 8 {
		ip := binary.NativeEndian.Uint64(value[i:])
		if ip == 0 {
			break
		}
		frames = append(frames, ip)
	}
	return frames
}
