package userspacevm

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"time"

	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	bpfmaps "github.com/dropmon/dropmon/userspacevm/maps"
)

// The helpers the user-space engines implement, by the kernel's numbers
// (include/uapi/linux/bpf.h). Every other helper is refused when a program
// is loaded, by name.
var defaultHelpers = Helpers{
	asm.FnMapLookupElem:     helperMapLookupElem,
	asm.FnMapUpdateElem:     helperMapUpdateElem,
	asm.FnMapDeleteElem:     helperMapDeleteElem,
	asm.FnKtimeGetNs:        helperKtimeGetNs,
	asm.FnTracePrintk:       helperTracePrintk,
	asm.FnGetPrandomU32:     helperGetPrandomU32,
	asm.FnGetSmpProcessorId: helperGetSmpProcessorID,
	asm.FnGetCurrentPidTgid: helperGetCurrentPidTgid,
	asm.FnPerfEventOutput:   helperPerfEventOutput,
	asm.FnGetStackid:        helperGetStackID,
	asm.FnSkbLoadBytes:      helperSkbLoadBytes,
}

// DefaultHelpers returns a copy of the table of helpers the user-space
// engines implement; the caller may change its copy.
func DefaultHelpers() Helpers { return maps.Clone(defaultHelpers) }

// errno returns -e as R0, the way kernel helpers report errors.
func errno(e unix.Errno) uint64 { return uint64(-int64(e)) }

// mapArg resolves a helper's map argument.
func mapArg(c *Call, helper string, ptr uint64) (*bpfmaps.Map, bool) {
	if c.Maps == nil {
		c.Fail(fmt.Errorf("helper %s: the program has no maps, R1 %#x is not a map", helper, ptr))
		return nil, false
	}
	m, ok := c.Maps.MapAt(ptr)
	if !ok {
		c.Fail(fmt.Errorf("helper %s: R1 %#x is not a map of the program", helper, ptr))
		return nil, false
	}
	return m, true
}

// memArg resolves a helper's pointer-to-memory argument of size bytes.
func memArg(c *Call, helper string, addr, size uint64, write bool) ([]byte, bool) {
	b, ok := c.Mem.Slice(addr, size, write)
	if !ok {
		c.Fail(c.Mem.Check(-1, helper, addr, size, write))
	}
	return b, ok
}

// mapKeyArgs resolves the (map, key) arguments the map helpers share.
func mapKeyArgs(c *Call, helper string, mapPtr, keyPtr uint64) (*bpfmaps.Map, []byte, bool) {
	m, ok := mapArg(c, helper, mapPtr)
	if !ok {
		return nil, nil, false
	}
	key, ok := memArg(c, helper, keyPtr, uint64(m.Spec().KeySize), false)
	return m, key, ok
}

// bpf_map_lookup_elem(map, key): the address of the value (this CPU's
// value for per-CPU maps), or 0.
func helperMapLookupElem(c *Call, r1, r2, _, _, _ uint64) uint64 {
	m, key, ok := mapKeyArgs(c, "bpf_map_lookup_elem", r1, r2)
	if !ok {
		return 0
	}
	return m.LookupAddr(key, c.CPU)
}

// bpf_map_update_elem(map, key, value, flags): 0 or -errno.
func helperMapUpdateElem(c *Call, r1, r2, r3, r4, _ uint64) uint64 {
	const name = "bpf_map_update_elem"
	m, key, ok := mapKeyArgs(c, name, r1, r2)
	if !ok {
		return 0
	}
	value, ok := memArg(c, name, r3, uint64(m.Spec().ValueSize), false)
	if !ok {
		return 0
	}
	paused := c.pause(m)
	code := m.UpdateFromProgram(key, value, r4, c.CPU)
	c.resume(paused)
	return uint64(code)
}

// bpf_map_delete_elem(map, key): 0 or -errno.
func helperMapDeleteElem(c *Call, r1, r2, _, _, _ uint64) uint64 {
	m, key, ok := mapKeyArgs(c, "bpf_map_delete_elem", r1, r2)
	if !ok {
		return 0
	}
	paused := c.pause(m)
	code := m.DeleteFromProgram(key)
	c.resume(paused)
	return uint64(code)
}

// bpf_ktime_get_ns(): CLOCK_MONOTONIC in ns. A record stamped with
// CLOCK_MONOTONIC gives its own time, the time the kernel would have seen.
func helperKtimeGetNs(c *Call, _, _, _, _, _ uint64) uint64 {
	if c.RunContext != nil && c.TimeIsMonotonic && c.Time != 0 {
		return c.Time
	}
	return monotonicNow()
}

// monotonicNow reads CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns.
func monotonicNow() uint64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return uint64(time.Now().UnixNano())
	}
	return uint64(ts.Nano())
}

// bpf_skb_load_bytes(skb, offset, to, len): copies len bytes of the
// packet (RunContext.Packet) from offset into the program's memory at to:
// 0, or -EFAULT with to zeroed when they are not all in the packet, as the
// kernel's skb_header_pointer fails.
func helperSkbLoadBytes(c *Call, _, r2, r3, r4, _ uint64) uint64 {
	off, n := uint64(uint32(r2)), uint64(uint32(r4))
	to, ok := memArg(c, "bpf_skb_load_bytes", r3, n, true)
	if !ok {
		return 0
	}
	var pkt []byte
	if c.RunContext != nil {
		pkt = c.Packet
	}
	if off > math.MaxInt32 || off+n > uint64(len(pkt)) {
		clear(to)
		return errno(unix.EFAULT)
	}
	copy(to, pkt[off:off+n])
	return 0
}

// bpf_get_prandom_u32(): a pseudo-random 32-bit number.
func helperGetPrandomU32(_ *Call, _, _, _, _, _ uint64) uint64 {
	return uint64(rand.Uint32())
}

// bpf_get_smp_processor_id(): the CPU whose ring the record came from.
func helperGetSmpProcessorID(c *Call, _, _, _, _, _ uint64) uint64 {
	if c.RunContext == nil {
		return 0
	}
	return uint64(uint32(c.CPU))
}

// bpf_get_current_pid_tgid(): tgid<<32 | tid, from the sample.
func helperGetCurrentPidTgid(c *Call, _, _, _, _, _ uint64) uint64 {
	if c.RunContext == nil {
		return 0
	}
	return uint64(c.Pid)<<32 | uint64(c.Tid)
}

// bpf_perf_event_output(ctx, map, flags, data, size): copies data to the
// perf event array's channel; -ENOSPC when user space is behind.
func helperPerfEventOutput(c *Call, _, r2, r3, r4, r5 uint64) uint64 {
	const name = "bpf_perf_event_output"
	m, ok := mapArg(c, name, r2)
	if !ok {
		return 0
	}
	data, ok := memArg(c, name, r4, r5, false)
	if !ok {
		return 0
	}
	return uint64(m.Output(c.CPU, r3, data))
}

// bpf_get_stackid(ctx, map, flags): the id of the record's kernel call
// chain in a stack trace map, or -errno.
func helperGetStackID(c *Call, _, r2, r3, _, _ uint64) uint64 {
	m, ok := mapArg(c, "bpf_get_stackid", r2)
	if !ok {
		return 0
	}
	var chain []uint64
	if c.RunContext != nil {
		chain = c.Callchain
	}
	return uint64(m.GetStackID(chain, r3))
}
