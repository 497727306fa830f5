package verifier

import (
	"fmt"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/skbuff"
)

// Context layouts, as include/uapi/linux/bpf.h and x86-64's struct pt_regs
// lay them out. Offsets are bytes from the start of the context.
const (
	// sizeofPtRegs is struct pt_regs on x86-64: 21 u64 registers (r15 ...
	// ss).
	sizeofPtRegs = 21 * 8

	// struct bpf_perf_event_data: regs, then two u64.
	peSamplePeriod     = sizeofPtRegs
	peAddr             = peSamplePeriod + 8
	sizeofPerfEventCtx = peAddr + 8

	// perfMaxTraceSize is PERF_MAX_TRACE_SIZE, the largest tracepoint
	// record.
	perfMaxTraceSize = 8192
	// maxBPFFuncArgs is MAX_BPF_FUNC_ARGS: a raw tracepoint's context is
	// that many u64 arguments at most.
	maxBPFFuncArgs = 12
)

// struct __sk_buff (uapi), as package skbuff lays it out for the engines.
const (
	skbLen            = skbuff.OffLen
	skbPktType        = skbuff.OffPktType
	skbMark           = skbuff.OffMark
	skbQueueMapping   = skbuff.OffQueueMapping
	skbProtocol       = skbuff.OffProtocol
	skbVlanPresent    = skbuff.OffVlanPresent
	skbVlanTCI        = skbuff.OffVlanTCI
	skbVlanProto      = skbuff.OffVlanProto
	skbPriority       = skbuff.OffPriority
	skbIngressIfindex = skbuff.OffIngressIfindex
	skbIfindex        = skbuff.OffIfindex
	skbTCIndex        = skbuff.OffTCIndex
	skbCB             = skbuff.OffCB
	skbHash           = skbuff.OffHash
	skbTCClassid      = skbuff.OffTCClassid
	skbData           = skbuff.OffData
	skbDataEnd        = skbuff.OffDataEnd
	skbNapiID         = skbuff.OffNapiID
	skbFamily         = skbuff.OffFamily
	skbRemoteIP4      = skbuff.OffRemoteIP4
	skbLocalIP4       = skbuff.OffLocalIP4
	skbRemoteIP6      = skbuff.OffRemoteIP6
	skbLocalIP6       = skbuff.OffLocalIP6
	skbRemotePort     = skbuff.OffRemotePort
	skbLocalPort      = skbuff.OffLocalPort
	skbDataMeta       = skbuff.OffDataMeta
	skbFlowKeys       = skbuff.OffFlowKeys
	skbTstamp         = skbuff.OffTstamp
	skbWireLen        = skbuff.OffWireLen
	skbGSOSegs        = skbuff.OffGSOSegs
	skbSk             = skbuff.OffSk
	skbGSOSize        = skbuff.OffGSOSize
	skbTstampType     = skbuff.OffTstampType
	skbHwtstamp       = skbuff.OffHwtstamp
	sizeofSkBuff      = skbuff.SkBuffSize
)

// struct xdp_md: six u32.
const (
	xdpData           = 0
	xdpDataEnd        = 4
	xdpDataMeta       = 8
	xdpIngressIfindex = 12
	xdpRxQueueIndex   = 16
	xdpEgressIfindex  = 20
	sizeofXDPMd       = 24
)

// contextAccess decides, as the kernel's is_valid_access callbacks do
// (net/core/filter.c, kernel/trace/bpf_trace.c), whether a program of type
// t may load (or, with write, store) size bytes at offset off of its
// context, and what type a loaded register gets: Scalar for plain fields,
// PtrToPacket, PtrToPacketEnd or PtrToPacketMeta for the packet bounds,
// PtrToSockCommonOrNull for __sk_buff.sk. The caller has checked that the
// context pointer is unmodified apart from the constant offset, and size is
// 1, 2, 4 or 8.
func contextAccess(t program.Type, off, size int, write bool, opts *Options) CtxAccess {
	if t == program.Conformance {
		return CtxAccess{Reason: "conformance programs have no context"}
	}
	var res RegType
	ok := false
	switch t {
	case program.Tracepoint:
		ok = tracepointAccess(off, size, write, opts)
		res = Scalar
	case program.Kprobe:
		ok = kprobeAccess(off, size, write)
		res = Scalar
	case program.PerfEvent:
		ok = perfEventAccess(off, size, write)
		res = Scalar
	case program.RawTracepoint:
		ok = rawTracepointAccess(off, size, write, opts)
		res = Scalar
	case program.SocketFilter:
		res, ok = socketFilterAccess(off, size, write)
	case program.SchedCLS, program.SchedACT:
		res, ok = tcAccess(off, size, write)
	case program.CgroupSKB:
		res, ok = cgroupSKBAccess(off, size, write, opts != nil && opts.Unprivileged) // data, data_end need CAP_BPF
	case program.XDP:
		res, ok = xdpAccess(off, size, write)
	case program.FlowDissector:
		res, ok = flowDissectorAccess(off, size, write)
	default:
		return CtxAccess{Reason: fmt.Sprintf("program type %s has no known context", t)}
	}
	if !ok {
		return CtxAccess{Reason: fmt.Sprintf("invalid bpf_context access off=%d size=%d", off, size)}
	}
	return CtxAccess{OK: true, Result: res}
}

// ctxAligned is the check every is_valid_access callback makes: "off % size
// != 0" refuses.
func ctxAligned(off, size int) bool { return size > 0 && off%size == 0 }

// tracepointAccess follows tp_prog_is_valid_access: reads at or past
// sizeof(void *) (the first 8 bytes are the record's common fields) and
// below PERF_MAX_TRACE_SIZE, aligned to their size. When the caller knows
// the record's size (opts.ContextSize), dropmon also refuses reads past it,
// since its engines hand the program exactly that many bytes.
func tracepointAccess(off, size int, write bool, opts *Options) bool {
	if write || off < 8 || off >= perfMaxTraceSize || !ctxAligned(off, size) {
		return false
	}
	if opts != nil && opts.ContextSize > 0 && off+size > opts.ContextSize {
		return false
	}
	return true
}

// kprobeAccess follows kprobe_prog_is_valid_access: aligned reads of any
// size inside struct pt_regs.
func kprobeAccess(off, size int, write bool) bool {
	return !write && off >= 0 && ctxAligned(off, size) && off+size <= sizeofPtRegs
}

// perfEventAccess follows pe_prog_is_valid_access: regs are read as whole
// u64 registers; sample_period and addr also allow narrow loads, which on
// little-endian read the low bytes.
func perfEventAccess(off, size int, write bool) bool {
	if write || off < 0 || off >= sizeofPerfEventCtx || !ctxAligned(off, size) {
		return false
	}
	if off >= peSamplePeriod {
		return narrowOK(off, size, 8)
	}
	return size == 8
}

// rawTracepointAccess follows raw_tp_prog_is_valid_access: aligned reads
// of the u64 arguments, at most MAX_BPF_FUNC_ARGS of them (and at most
// opts.ContextSize bytes when set; the kernel checks the tracepoint's real
// argument count at attach time).
func rawTracepointAccess(off, size int, write bool, opts *Options) bool {
	if write || off < 0 || off >= maxBPFFuncArgs*8 || !ctxAligned(off, size) {
		return false
	}
	if opts != nil && opts.ContextSize > 0 && off+size > opts.ContextSize {
		return false
	}
	return true
}

// narrowOK is bpf_ctx_narrow_access_ok: a load of a whole field of
// fieldSize bytes, or a smaller one inside it.
func narrowOK(off, size, fieldSize int) bool {
	return size == fieldSize || (size < fieldSize && off%fieldSize+size <= fieldSize)
}

// xdpAccess follows xdp_is_valid_access for programs not attached to a
// devmap (so egress_ifindex is refused): u32 reads only, never writes.
func xdpAccess(off, size int, write bool) (RegType, bool) {
	if write || off == xdpEgressIfindex {
		return 0, false
	}
	if off < 0 || off >= sizeofXDPMd || !ctxAligned(off, size) || size != 4 {
		return 0, false
	}
	switch off {
	case xdpData:
		return PtrToPacket, true
	case xdpDataEnd:
		return PtrToPacketEnd, true
	case xdpDataMeta:
		return PtrToPacketMeta, true
	}
	return Scalar, true
}

// inField reports whether off falls in the field [start, start+size), the
// kernel's bpf_ctx_range.
func inField(off, start, size int) bool { return off >= start && off < start+size }

// skbAccess follows bpf_skb_is_valid_access, the checks every __sk_buff
// program type shares once its own list has let the access through. Fields
// are u32 unless listed: their reads may be narrow, their writes may not.
func skbAccess(off, size int, write bool) (RegType, bool) {
	if off < 0 || off >= sizeofSkBuff || !ctxAligned(off, size) {
		return 0, false
	}
	switch {
	case inField(off, skbCB, 5*4):
		return Scalar, off+size <= skbCB+5*4
	case inField(off, skbRemoteIP6, 16), inField(off, skbLocalIP6, 16),
		inField(off, skbRemoteIP4, 4), inField(off, skbLocalIP4, 4),
		inField(off, skbData, 4), inField(off, skbDataMeta, 4), inField(off, skbDataEnd, 4):
		return Scalar, size == 4
	case inField(off, skbFlowKeys, 8):
		return 0, false // only the flow dissector sees flow_keys
	case inField(off, skbHwtstamp, 8):
		return Scalar, !write && size == 8
	case inField(off, skbTstamp, 8):
		return Scalar, size == 8
	case inField(off, skbSk, 8):
		return PtrToSockCommonOrNull, !write && size == 8
	case off == skbTstampType:
		return 0, false // only tc may read it
	case off > skbTstampType && off < skbHwtstamp:
		return 0, false // padding
	}
	if write {
		return Scalar, size == 4
	}
	return Scalar, narrowOK(off, size, 4)
}

// packetField gives the pointer type a load of __sk_buff's data, data_end
// or data_meta produces, for the types that may read them.
func packetField(off int) (RegType, bool) {
	switch {
	case inField(off, skbData, 4):
		return PtrToPacket, true
	case inField(off, skbDataEnd, 4):
		return PtrToPacketEnd, true
	case inField(off, skbDataMeta, 4):
		return PtrToPacketMeta, true
	}
	return 0, false
}

// withPacket runs skbAccess and, when it allows the access, gives packet
// fields their pointer type.
func withPacket(off, size int, write bool) (RegType, bool) {
	res, ok := skbAccess(off, size, write)
	if !ok {
		return 0, false
	}
	if p, isPkt := packetField(off); isPkt {
		return p, true
	}
	return res, true
}

// socketFilterAccess follows sk_filter_is_valid_access: no direct packet
// access (socket filters read the packet with LD_ABS/LD_IND or
// bpf_skb_load_bytes), no socket address fields, and only cb[] is
// writable.
func socketFilterAccess(off, size int, write bool) (RegType, bool) {
	switch {
	case inField(off, skbTCClassid, 4), inField(off, skbData, 4), inField(off, skbDataMeta, 4),
		inField(off, skbDataEnd, 4), inField(off, skbFamily, skbDataMeta-skbFamily),
		inField(off, skbTstamp, 8), inField(off, skbWireLen, 4), inField(off, skbHwtstamp, 8):
		return 0, false
	}
	if write && !inField(off, skbCB, 5*4) {
		return 0, false
	}
	return skbAccess(off, size, write)
}

// sizeofFlowKeys is sizeof(struct bpf_flow_keys), what flow_keys points to.
const sizeofFlowKeys = skbuff.FlowKeysSize

// flowDissectorAccess follows flow_dissector_is_valid_access: the program
// reads data and data_end (u32 loads, not sign-extending) and flow_keys (a
// u64 load), nothing else, and writes nothing.
func flowDissectorAccess(off, size int, write bool) (RegType, bool) {
	if write || off < 0 || off >= sizeofSkBuff || !ctxAligned(off, size) {
		return 0, false
	}
	switch {
	case inField(off, skbData, 4):
		return PtrToPacket, size == 4
	case inField(off, skbDataEnd, 4):
		return PtrToPacketEnd, size == 4
	case inField(off, skbFlowKeys, 8):
		return PtrToFlowKeys, size == 8
	}
	return 0, false
}

// tcAccess follows tc_cls_act_is_valid_access: direct packet access
// including data_meta, a byte read of tstamp_type, no socket address
// fields, and writes to the fields tc may change.
func tcAccess(off, size int, write bool) (RegType, bool) {
	if write {
		switch {
		case inField(off, skbMark, 4), inField(off, skbTCIndex, 4), inField(off, skbPriority, 4),
			inField(off, skbTCClassid, 4), inField(off, skbCB, 5*4), inField(off, skbTstamp, 8),
			inField(off, skbQueueMapping, 4):
		default:
			return 0, false
		}
	}
	switch {
	case inField(off, skbFamily, skbDataMeta-skbFamily):
		return 0, false
	case off == skbTstampType:
		return Scalar, !write && size == 1
	}
	return withPacket(off, size, write)
}

// cgroupSKBAccess follows cg_skb_is_valid_access: no data_meta,
// tc_classid or wire_len; data and data_end (and writing tstamp) need
// CAP_BPF; mark, priority and cb[] are writable.
func cgroupSKBAccess(off, size int, write, unprivileged bool) (RegType, bool) {
	switch {
	case inField(off, skbTCClassid, 4), inField(off, skbDataMeta, 4), inField(off, skbWireLen, 4):
		return 0, false
	case inField(off, skbData, 4), inField(off, skbDataEnd, 4):
		if unprivileged {
			return 0, false
		}
	}
	if write {
		switch {
		case inField(off, skbMark, 4), inField(off, skbPriority, 4), inField(off, skbCB, 5*4):
		case inField(off, skbTstamp, 8):
			if unprivileged {
				return 0, false
			}
		default:
			return 0, false
		}
	}
	return withPacket(off, size, write)
}
