package program

import "github.com/cilium/ebpf/asm"

// Program type sets for prototypes, after the kernel's *_func_proto
// functions: bpf_base_func_proto serves every type, bpf_tracing_func_proto
// the tracing ones, and the networking types have their own lists.
var (
	allTypes = []Type{SocketFilter, Kprobe, SchedCLS, SchedACT, Tracepoint, XDP, PerfEvent,
		CgroupSKB, RawTracepoint, Conformance}
	tracingTypes = []Type{Kprobe, Tracepoint, PerfEvent, RawTracepoint, Conformance}
	// perf_event_output exists for tracing (bpf_perf_event_output), for
	// skb programs (bpf_skb_event_output) and for XDP.
	eventOutputTypes = []Type{Kprobe, Tracepoint, PerfEvent, RawTracepoint, SocketFilter,
		SchedCLS, SchedACT, CgroupSKB, XDP, Conformance}
)

const memRO = ArgPtrToMem | ArgReadOnly

// probeRead is the prototype shared by the probe_read family: (dst, size,
// unsafe_ptr).
func probeRead(id asm.BuiltinFunc) *HelperProto {
	return &HelperProto{Func: id, Ret: RetInteger, GPLOnly: true, Types: tracingTypes,
		Args: [5]ArgType{ArgPtrToUninitMem, ArgConstSizeOrZero, ArgAnything}}
}

// noArgs is the prototype of a helper without arguments that returns a
// scalar.
func noArgs(id asm.BuiltinFunc, gpl bool, types []Type) *HelperProto {
	return &HelperProto{Func: id, Ret: RetInteger, GPLOnly: gpl, Types: types}
}

// helperProtos holds the prototypes dropmon knows, from the kernel's
// bpf_func_proto definitions (kernel/bpf/helpers.c,
// kernel/trace/bpf_trace.c). The verifier checks calls against them; the
// user-space engines implement a subset (userspacevm.DefaultHelpers).
var helperProtos = map[asm.BuiltinFunc]*HelperProto{
	asm.FnMapLookupElem: {Func: asm.FnMapLookupElem, Ret: RetPtrToMapValueOrNull, Types: allTypes,
		Args: [5]ArgType{ArgConstMapPtr, ArgPtrToMapKey}},
	asm.FnMapUpdateElem: {Func: asm.FnMapUpdateElem, Ret: RetInteger, Types: allTypes,
		Args: [5]ArgType{ArgConstMapPtr, ArgPtrToMapKey, ArgPtrToMapValue, ArgAnything}},
	asm.FnMapDeleteElem: {Func: asm.FnMapDeleteElem, Ret: RetInteger, Types: allTypes,
		Args: [5]ArgType{ArgConstMapPtr, ArgPtrToMapKey}},
	asm.FnProbeRead:         probeRead(asm.FnProbeRead),
	asm.FnKtimeGetNs:        noArgs(asm.FnKtimeGetNs, false, allTypes),
	asm.FnGetPrandomU32:     noArgs(asm.FnGetPrandomU32, false, allTypes),
	asm.FnGetSmpProcessorId: noArgs(asm.FnGetSmpProcessorId, false, allTypes),
	asm.FnTracePrintk: {Func: asm.FnTracePrintk, Ret: RetInteger, GPLOnly: true, Types: allTypes,
		Args: [5]ArgType{memRO, ArgConstSize, ArgAnything, ArgAnything, ArgAnything}},
	asm.FnGetCurrentPidTgid: noArgs(asm.FnGetCurrentPidTgid, false, tracingTypes),
	asm.FnGetCurrentUidGid:  noArgs(asm.FnGetCurrentUidGid, false, tracingTypes),
	asm.FnGetCurrentComm: {Func: asm.FnGetCurrentComm, Ret: RetInteger, Types: tracingTypes,
		Args: [5]ArgType{ArgPtrToUninitMem, ArgConstSize}},
	// The tracing variant is GPL-only; the networking ones are not. One
	// prototype keeps the stricter rule.
	asm.FnPerfEventOutput: {Func: asm.FnPerfEventOutput, Ret: RetInteger, GPLOnly: true, Types: eventOutputTypes,
		Args: [5]ArgType{ArgPtrToCtx, ArgConstMapPtr, ArgAnything, memRO, ArgConstSizeOrZero}},
	asm.FnGetStackid: {Func: asm.FnGetStackid, Ret: RetInteger, GPLOnly: true, Types: tracingTypes,
		Args: [5]ArgType{ArgPtrToCtx, ArgConstMapPtr, ArgAnything}},
	asm.FnGetCurrentTask:     noArgs(asm.FnGetCurrentTask, true, tracingTypes),
	asm.FnProbeReadStr:       probeRead(asm.FnProbeReadStr),
	asm.FnProbeReadUser:      probeRead(asm.FnProbeReadUser),
	asm.FnProbeReadKernel:    probeRead(asm.FnProbeReadKernel),
	asm.FnProbeReadUserStr:   probeRead(asm.FnProbeReadUserStr),
	asm.FnProbeReadKernelStr: probeRead(asm.FnProbeReadKernelStr),
	asm.FnKtimeGetBootNs:     noArgs(asm.FnKtimeGetBootNs, false, allTypes),
	asm.FnGetCurrentCgroupId: noArgs(asm.FnGetCurrentCgroupId, false, tracingTypes),
	asm.FnKtimeGetCoarseNs:   noArgs(asm.FnKtimeGetCoarseNs, false, allTypes),
	asm.FnJiffies64:          noArgs(asm.FnJiffies64, false, allTypes),
	asm.FnGetNumaNodeId:      noArgs(asm.FnGetNumaNodeId, false, allTypes),
	asm.FnKtimeGetTaiNs:      noArgs(asm.FnKtimeGetTaiNs, false, allTypes),
	asm.FnGetCurrentAncestorCgroupId: {Func: asm.FnGetCurrentAncestorCgroupId, Ret: RetInteger,
		Types: tracingTypes, Args: [5]ArgType{ArgAnything}},
}
