package program

import "github.com/cilium/ebpf/asm"

// Program type sets for prototypes, after the kernel's *_func_proto
// functions (net/core/filter.c, kernel/trace/bpf_trace.c,
// kernel/bpf/helpers.c, kernel/bpf/cgroup.c):
//
//   - bpf_base_func_proto serves every type (allTypes), some helpers only
//     to privileged loaders (HelperProto.Priv);
//   - bpf_tracing_func_proto serves kprobe, tracepoint, perf_event and
//     raw_tracepoint (tracingTypes);
//   - sk_filter_func_proto adds a few skb readers for socket filters, and
//     cg_skb_func_proto falls back to it;
//   - tc_cls_act_func_proto serves sched_cls and sched_act with the skb
//     writers; xdp_func_proto serves XDP.
//
// Conformance, dropmon's own type, gets the base and tracing helpers that
// need no context, as before.
var (
	allTypes = []Type{SocketFilter, Kprobe, SchedCLS, SchedACT, Tracepoint, XDP, PerfEvent,
		CgroupSKB, RawTracepoint, FlowDissector, Conformance}
	tracingTypes = []Type{Kprobe, Tracepoint, PerfEvent, RawTracepoint, Conformance}
	// perf_event_output exists for tracing (bpf_perf_event_output), for
	// skb programs (bpf_skb_event_output) and for XDP.
	eventOutputTypes = []Type{Kprobe, Tracepoint, PerfEvent, RawTracepoint, SocketFilter,
		SchedCLS, SchedACT, CgroupSKB, XDP, Conformance}
	tcTypes = []Type{SchedCLS, SchedACT}
	// skbReadTypes read an skb through helpers: sk_filter_func_proto and
	// the types that fall back to it or repeat its cases.
	skbReadTypes = []Type{SocketFilter, SchedCLS, SchedACT, CgroupSKB}
	// The flow dissector reads its packet with bpf_skb_load_bytes (its own
	// version of it, bpf_flow_dissector_load_bytes) and has no other skb
	// helper.
	skbLoadTypes = []Type{SocketFilter, SchedCLS, SchedACT, CgroupSKB, FlowDissector}
	xdpTypes     = []Type{XDP}
	tcXDPTypes   = []Type{SchedCLS, SchedACT, XDP}
	// noTypes marks helpers of program types dropmon does not load
	// (sock_ops, sk_skb, sk_msg, sock_addr): known, never allowed.
	noTypes []Type
)

const memRO = ArgPtrToMem | ArgReadOnly

// proto builds a prototype that returns a scalar.
func proto(id asm.BuiltinFunc, gpl bool, types []Type, args ...ArgType) *HelperProto {
	p := &HelperProto{Func: id, Ret: RetInteger, GPLOnly: gpl, Types: types}
	copy(p.Args[:], args)
	return p
}

// priv sets the capability tier of p.
func priv(p *HelperProto, level Privilege) *HelperProto {
	p.Priv = level
	return p
}

// ret sets the return type of p.
func ret(p *HelperProto, r RetType) *HelperProto {
	p.Ret = r
	return p
}

// probeRead is the prototype shared by the probe_read family: (dst, size,
// unsafe_ptr).
func probeRead(id asm.BuiltinFunc, types []Type) *HelperProto {
	return priv(proto(id, true, types, ArgPtrToUninitMem, ArgConstSizeOrZero, ArgAnything), PrivPerfmon)
}

// noArgs is the prototype of a helper without arguments that returns a
// scalar.
func noArgs(id asm.BuiltinFunc, gpl bool, types []Type) *HelperProto {
	return proto(id, gpl, types)
}

// ctxAnd is the prototype of an skb or xdp helper taking the context and
// n - 1 plain values.
func ctxAnd(id asm.BuiltinFunc, types []Type, n int) *HelperProto {
	p := proto(id, false, types, ArgPtrToCtx)
	for i := 1; i < n; i++ {
		p.Args[i] = ArgAnything
	}
	return p
}

// helperProtos holds the prototypes dropmon knows, from the kernel's
// bpf_func_proto definitions. The verifier checks calls against them; the
// user-space engines implement a subset (userspacevm.DefaultHelpers).
var helperProtos = map[asm.BuiltinFunc]*HelperProto{
	// Maps, bpf_base_func_proto.
	asm.FnMapLookupElem: ret(proto(asm.FnMapLookupElem, false, allTypes, ArgConstMapPtr, ArgPtrToMapKey),
		RetPtrToMapValueOrNull),
	asm.FnMapUpdateElem: proto(asm.FnMapUpdateElem, false, allTypes,
		ArgConstMapPtr, ArgPtrToMapKey, ArgPtrToMapValue, ArgAnything),
	asm.FnMapDeleteElem: proto(asm.FnMapDeleteElem, false, allTypes, ArgConstMapPtr, ArgPtrToMapKey),
	asm.FnTailCall:      ret(proto(asm.FnTailCall, false, allTypes, ArgPtrToCtx, ArgConstMapPtr, ArgAnything), RetVoid),

	// Time, randomness, CPU: bpf_base_func_proto, unprivileged unless
	// marked.
	asm.FnKtimeGetNs:        noArgs(asm.FnKtimeGetNs, false, allTypes),
	asm.FnKtimeGetBootNs:    noArgs(asm.FnKtimeGetBootNs, false, allTypes),
	asm.FnKtimeGetCoarseNs:  noArgs(asm.FnKtimeGetCoarseNs, false, allTypes),
	asm.FnKtimeGetTaiNs:     noArgs(asm.FnKtimeGetTaiNs, false, allTypes),
	asm.FnJiffies64:         priv(noArgs(asm.FnJiffies64, false, allTypes), PrivBPF),
	asm.FnGetPrandomU32:     noArgs(asm.FnGetPrandomU32, false, allTypes),
	asm.FnGetSmpProcessorId: noArgs(asm.FnGetSmpProcessorId, false, allTypes),
	asm.FnGetNumaNodeId:     noArgs(asm.FnGetNumaNodeId, false, allTypes),
	// The kernel types only fmt and fmt_size (bpf_trace_printk_proto): the
	// three values after them are optional and may be left unwritten.
	asm.FnTracePrintk: priv(proto(asm.FnTracePrintk, true, allTypes,
		memRO, ArgConstSize), PrivPerfmon),

	// Ring buffers, bpf_base_func_proto. bpf_ringbuf_reserve returns
	// memory of arg 2's constant size, or NULL; whatever is reserved must
	// be submitted or discarded on every path.
	asm.FnRingbufOutput: proto(asm.FnRingbufOutput, false, allTypes,
		ArgConstMapPtr, memRO, ArgConstSizeOrZero, ArgAnything),
	asm.FnRingbufReserve: ret(proto(asm.FnRingbufReserve, false, allTypes,
		ArgConstMapPtr, ArgConstAllocSizeOrZero, ArgAnything), RetPtrToMemOrNull),
	asm.FnRingbufSubmit:  ret(proto(asm.FnRingbufSubmit, false, allTypes, ArgPtrToAllocMem, ArgAnything), RetVoid),
	asm.FnRingbufDiscard: ret(proto(asm.FnRingbufDiscard, false, allTypes, ArgPtrToAllocMem, ArgAnything), RetVoid),
	asm.FnRingbufQuery:   proto(asm.FnRingbufQuery, false, allTypes, ArgConstMapPtr, ArgAnything),

	// Kernel and user memory. probe_read and probe_read_str are
	// bpf_tracing_func_proto's (x86 has non-overlapping address spaces);
	// the _user/_kernel ones are also in bpf_base_func_proto for
	// CAP_PERFMON loaders.
	asm.FnProbeRead:          probeRead(asm.FnProbeRead, tracingTypes),
	asm.FnProbeReadStr:       probeRead(asm.FnProbeReadStr, tracingTypes),
	asm.FnProbeReadUser:      probeRead(asm.FnProbeReadUser, allTypes),
	asm.FnProbeReadKernel:    probeRead(asm.FnProbeReadKernel, allTypes),
	asm.FnProbeReadUserStr:   probeRead(asm.FnProbeReadUserStr, allTypes),
	asm.FnProbeReadKernelStr: probeRead(asm.FnProbeReadKernelStr, allTypes),
	asm.FnProbeWriteUser: priv(proto(asm.FnProbeWriteUser, true, tracingTypes,
		ArgAnything, memRO, ArgConstSize), PrivPerfmon),

	// The current task. Since Linux 6.10 (get_current_pid_tgid) and 6.16
	// (the rest) bpf_base_func_proto offers these to every program type,
	// in its unprivileged, CAP_BPF and CAP_PERFMON tiers; before, they
	// were bpf_tracing_func_proto's and cgroup_current_func_proto's.
	asm.FnGetCurrentPidTgid: noArgs(asm.FnGetCurrentPidTgid, false, allTypes),
	asm.FnGetCurrentUidGid:  noArgs(asm.FnGetCurrentUidGid, false, allTypes),
	asm.FnGetCurrentComm: priv(proto(asm.FnGetCurrentComm, false, allTypes,
		ArgPtrToUninitMem, ArgConstSize), PrivPerfmon),
	asm.FnGetCurrentCgroupId: priv(noArgs(asm.FnGetCurrentCgroupId, false, allTypes), PrivBPF),
	asm.FnGetCurrentAncestorCgroupId: priv(proto(asm.FnGetCurrentAncestorCgroupId, false, allTypes,
		ArgAnything), PrivBPF),
	asm.FnCurrentTaskUnderCgroup: priv(proto(asm.FnCurrentTaskUnderCgroup, false, allTypes,
		ArgConstMapPtr, ArgAnything), PrivBPF),
	asm.FnGetCurrentTask: priv(noArgs(asm.FnGetCurrentTask, true, allTypes), PrivPerfmon),

	// Perf events and stacks, tracing.
	// The tracing variant of perf_event_output is GPL-only; the networking
	// ones are not. One prototype keeps the stricter rule.
	asm.FnPerfEventOutput: proto(asm.FnPerfEventOutput, true, eventOutputTypes,
		ArgPtrToCtx, ArgConstMapPtr, ArgAnything, memRO, ArgConstSizeOrZero),
	// perf_event_read and perf_event_read_value moved to
	// bpf_base_func_proto's CAP_PERFMON tier in 6.16.
	asm.FnPerfEventRead: priv(proto(asm.FnPerfEventRead, true, allTypes, ArgConstMapPtr, ArgAnything), PrivPerfmon),
	asm.FnPerfEventReadValue: priv(proto(asm.FnPerfEventReadValue, true, allTypes,
		ArgConstMapPtr, ArgAnything, ArgPtrToUninitMem, ArgConstSize), PrivPerfmon),
	asm.FnPerfProgReadValue: proto(asm.FnPerfProgReadValue, true, []Type{PerfEvent},
		ArgPtrToCtx, ArgPtrToUninitMem, ArgConstSize),
	asm.FnGetStackid: proto(asm.FnGetStackid, true, tracingTypes, ArgPtrToCtx, ArgConstMapPtr, ArgAnything),
	asm.FnGetStack: proto(asm.FnGetStack, true, tracingTypes,
		ArgPtrToCtx, ArgPtrToUninitMem, ArgConstSizeOrZero, ArgAnything),
	// bpf_override_return needs CONFIG_BPF_KPROBE_OVERRIDE and a kprobe.
	asm.FnOverrideReturn: proto(asm.FnOverrideReturn, true, []Type{Kprobe}, ArgPtrToCtx, ArgAnything),

	// skb readers: sk_filter_func_proto and the types built on it.
	asm.FnSkbLoadBytes: proto(asm.FnSkbLoadBytes, false, skbLoadTypes,
		ArgPtrToCtx, ArgAnything, ArgPtrToUninitMem, ArgConstSize),
	asm.FnSkbLoadBytesRelative: proto(asm.FnSkbLoadBytesRelative, false, skbReadTypes,
		ArgPtrToCtx, ArgAnything, ArgPtrToUninitMem, ArgConstSize, ArgAnything),
	asm.FnGetSocketCookie: ctxAnd(asm.FnGetSocketCookie, skbReadTypes, 1),
	asm.FnGetSocketUid:    ctxAnd(asm.FnGetSocketUid, skbReadTypes, 1),

	// skb writers and tc helpers: tc_cls_act_func_proto.
	asm.FnSkbStoreBytes: proto(asm.FnSkbStoreBytes, false, tcTypes,
		ArgPtrToCtx, ArgAnything, memRO, ArgConstSize, ArgAnything),
	asm.FnL3CsumReplace:    ctxAnd(asm.FnL3CsumReplace, tcTypes, 5),
	asm.FnL4CsumReplace:    ctxAnd(asm.FnL4CsumReplace, tcTypes, 5),
	asm.FnCloneRedirect:    ctxAnd(asm.FnCloneRedirect, tcTypes, 3),
	asm.FnGetCgroupClassid: ctxAnd(asm.FnGetCgroupClassid, tcTypes, 1),
	asm.FnSkbVlanPush:      ctxAnd(asm.FnSkbVlanPush, tcTypes, 3),
	asm.FnSkbVlanPop:       ctxAnd(asm.FnSkbVlanPop, tcTypes, 1),
	asm.FnSkbGetTunnelKey: proto(asm.FnSkbGetTunnelKey, false, tcTypes,
		ArgPtrToCtx, ArgPtrToUninitMem, ArgConstSize, ArgAnything),
	asm.FnSkbSetTunnelKey: proto(asm.FnSkbSetTunnelKey, false, tcTypes,
		ArgPtrToCtx, memRO, ArgConstSize, ArgAnything),
	asm.FnSkbGetTunnelOpt: proto(asm.FnSkbGetTunnelOpt, false, tcTypes,
		ArgPtrToCtx, ArgPtrToUninitMem, ArgConstSize),
	asm.FnSkbSetTunnelOpt: proto(asm.FnSkbSetTunnelOpt, false, tcTypes,
		ArgPtrToCtx, memRO, ArgConstSize),
	asm.FnGetRouteRealm:  ctxAnd(asm.FnGetRouteRealm, tcTypes, 1),
	asm.FnSkbChangeProto: ctxAnd(asm.FnSkbChangeProto, tcTypes, 3),
	asm.FnSkbChangeType:  ctxAnd(asm.FnSkbChangeType, tcTypes, 2),
	asm.FnSkbUnderCgroup: proto(asm.FnSkbUnderCgroup, false, tcTypes,
		ArgPtrToCtx, ArgConstMapPtr, ArgAnything),
	asm.FnGetHashRecalc:  ctxAnd(asm.FnGetHashRecalc, tcTypes, 1),
	asm.FnSkbChangeTail:  ctxAnd(asm.FnSkbChangeTail, tcTypes, 3),
	asm.FnSkbPullData:    ctxAnd(asm.FnSkbPullData, tcTypes, 2),
	asm.FnCsumUpdate:     ctxAnd(asm.FnCsumUpdate, tcTypes, 2),
	asm.FnSetHashInvalid: ctxAnd(asm.FnSetHashInvalid, tcTypes, 1),
	asm.FnSkbChangeHead:  ctxAnd(asm.FnSkbChangeHead, tcTypes, 3),
	asm.FnSetHash:        ctxAnd(asm.FnSetHash, tcTypes, 2),
	asm.FnSkbAdjustRoom:  ctxAnd(asm.FnSkbAdjustRoom, tcTypes, 4),
	asm.FnSkbGetXfrmState: proto(asm.FnSkbGetXfrmState, false, tcTypes,
		ArgPtrToCtx, ArgAnything, ArgPtrToUninitMem, ArgConstSize, ArgAnything),

	// tc and XDP.
	asm.FnRedirect: proto(asm.FnRedirect, false, tcXDPTypes, ArgAnything, ArgAnything),
	// bpf_csum_diff(from, from_size, to, to_size, seed): either buffer may
	// be NULL with size 0.
	asm.FnCsumDiff: proto(asm.FnCsumDiff, false, tcXDPTypes,
		memRO|ArgMaybeNull, ArgConstSizeOrZero, memRO|ArgMaybeNull, ArgConstSizeOrZero, ArgAnything),
	asm.FnFibLookup: proto(asm.FnFibLookup, true, tcXDPTypes,
		ArgPtrToCtx, ArgPtrToMem, ArgConstSize, ArgAnything),

	// XDP: xdp_func_proto.
	asm.FnXdpAdjustHead: ctxAnd(asm.FnXdpAdjustHead, xdpTypes, 2),
	asm.FnXdpAdjustMeta: ctxAnd(asm.FnXdpAdjustMeta, xdpTypes, 2),
	asm.FnXdpAdjustTail: ctxAnd(asm.FnXdpAdjustTail, xdpTypes, 2),
	asm.FnRedirectMap: proto(asm.FnRedirectMap, false, xdpTypes,
		ArgConstMapPtr, ArgAnything, ArgAnything),

	// Helpers of program types dropmon does not load, known so that
	// calling one gets "cannot use helper" rather than "unknown func".
	asm.FnSetsockopt: proto(asm.FnSetsockopt, false, noTypes,
		ArgPtrToCtx, ArgAnything, ArgAnything, ArgPtrToMem, ArgConstSize),
	asm.FnGetsockopt: proto(asm.FnGetsockopt, false, noTypes,
		ArgPtrToCtx, ArgAnything, ArgAnything, ArgPtrToUninitMem, ArgConstSize),
	asm.FnSkRedirectMap: proto(asm.FnSkRedirectMap, false, noTypes,
		ArgPtrToCtx, ArgConstMapPtr, ArgAnything, ArgAnything),
	asm.FnSockMapUpdate: proto(asm.FnSockMapUpdate, false, noTypes,
		ArgPtrToCtx, ArgConstMapPtr, ArgPtrToMapKey, ArgAnything),
	asm.FnSockOpsCbFlagsSet: ctxAnd(asm.FnSockOpsCbFlagsSet, noTypes, 2),
	asm.FnMsgRedirectMap: proto(asm.FnMsgRedirectMap, false, noTypes,
		ArgPtrToCtx, ArgConstMapPtr, ArgAnything, ArgAnything),
	asm.FnMsgApplyBytes: ctxAnd(asm.FnMsgApplyBytes, noTypes, 2),
	asm.FnMsgCorkBytes:  ctxAnd(asm.FnMsgCorkBytes, noTypes, 2),
	asm.FnMsgPullData:   ctxAnd(asm.FnMsgPullData, noTypes, 4),
	asm.FnBind:          proto(asm.FnBind, false, noTypes, ArgPtrToCtx, ArgPtrToMem, ArgConstSize),
}
