package verifier

import (
	"strings"
	"testing"

	"github.com/dropmon/dropmon/program"
)

func TestContextAccess(t *testing.T) {
	priv := &Options{}
	unpriv := &Options{Unprivileged: true}
	tp64 := &Options{ContextSize: 64}
	type tc struct {
		name    string
		typ     program.Type
		off     int
		size    int
		write   bool
		opts    *Options
		want    RegType // when allowed
		wantErr string  // when refused
	}
	const refused = "invalid bpf_context access"
	tests := []tc{
		// tracepoint: tp_prog_is_valid_access
		{name: "tp u32 field", typ: program.Tracepoint, off: 12, size: 4, opts: priv, want: Scalar},
		{name: "tp u64 field", typ: program.Tracepoint, off: 8, size: 8, opts: priv, want: Scalar},
		{name: "tp common fields hidden", typ: program.Tracepoint, off: 0, size: 4, opts: priv, wantErr: "invalid bpf_context access off=0 size=4"},
		{name: "tp misaligned", typ: program.Tracepoint, off: 10, size: 4, opts: priv, wantErr: "invalid bpf_context access off=10 size=4"},
		{name: "tp write", typ: program.Tracepoint, off: 8, size: 8, write: true, opts: priv, wantErr: refused},
		{name: "tp last u64 of max", typ: program.Tracepoint, off: 8184, size: 8, opts: priv, want: Scalar},
		{name: "tp past PERF_MAX_TRACE_SIZE", typ: program.Tracepoint, off: 8192, size: 1, opts: priv, wantErr: refused},
		{name: "tp inside ContextSize", typ: program.Tracepoint, off: 56, size: 8, opts: tp64, want: Scalar},
		{name: "tp past ContextSize", typ: program.Tracepoint, off: 64, size: 4, opts: tp64, wantErr: "off=64 size=4"},
		{name: "tp nil opts", typ: program.Tracepoint, off: 16, size: 2, want: Scalar},

		// kprobe: struct pt_regs
		{name: "kprobe di", typ: program.Kprobe, off: 112, size: 8, opts: priv, want: Scalar},
		{name: "kprobe narrow", typ: program.Kprobe, off: 112, size: 4, opts: priv, want: Scalar},
		{name: "kprobe byte", typ: program.Kprobe, off: 3, size: 1, opts: priv, want: Scalar},
		{name: "kprobe ss last", typ: program.Kprobe, off: 160, size: 8, opts: priv, want: Scalar},
		{name: "kprobe past pt_regs", typ: program.Kprobe, off: 168, size: 8, opts: priv, wantErr: "off=168 size=8"},
		{name: "kprobe misaligned", typ: program.Kprobe, off: 4, size: 8, opts: priv, wantErr: refused},
		{name: "kprobe write", typ: program.Kprobe, off: 80, size: 8, write: true, opts: priv, wantErr: refused},
		{name: "kprobe negative", typ: program.Kprobe, off: -8, size: 8, opts: priv, wantErr: "off=-8 size=8"},

		// perf_event: struct bpf_perf_event_data
		{name: "pe regs u64", typ: program.PerfEvent, off: 128, size: 8, opts: priv, want: Scalar},
		{name: "pe regs narrow", typ: program.PerfEvent, off: 128, size: 4, opts: priv, wantErr: refused},
		{name: "pe sample_period", typ: program.PerfEvent, off: 168, size: 8, opts: priv, want: Scalar},
		{name: "pe sample_period narrow", typ: program.PerfEvent, off: 168, size: 4, opts: priv, want: Scalar},
		{name: "pe addr high half", typ: program.PerfEvent, off: 180, size: 4, opts: priv, want: Scalar},
		{name: "pe past end", typ: program.PerfEvent, off: 184, size: 8, opts: priv, wantErr: refused},
		{name: "pe write", typ: program.PerfEvent, off: 168, size: 8, write: true, opts: priv, wantErr: refused},

		// raw_tracepoint: u64 args[12]
		{name: "raw_tp arg0", typ: program.RawTracepoint, off: 0, size: 8, opts: priv, want: Scalar},
		{name: "raw_tp arg11", typ: program.RawTracepoint, off: 88, size: 8, opts: priv, want: Scalar},
		{name: "raw_tp arg12", typ: program.RawTracepoint, off: 96, size: 8, opts: priv, wantErr: refused},
		{name: "raw_tp write", typ: program.RawTracepoint, off: 0, size: 8, write: true, opts: priv, wantErr: refused},

		// socket_filter: sk_filter_is_valid_access
		{name: "sf len", typ: program.SocketFilter, off: skbLen, size: 4, opts: priv, want: Scalar},
		{name: "sf protocol narrow", typ: program.SocketFilter, off: skbProtocol, size: 2, opts: priv, want: Scalar},
		{name: "sf protocol upper byte", typ: program.SocketFilter, off: skbProtocol + 3, size: 1, opts: priv, want: Scalar},
		{name: "sf len as u64", typ: program.SocketFilter, off: skbLen, size: 8, opts: priv, wantErr: refused},
		{name: "sf data", typ: program.SocketFilter, off: skbData, size: 4, opts: priv, wantErr: "invalid bpf_context access off=76 size=4"},
		{name: "sf data_end", typ: program.SocketFilter, off: skbDataEnd, size: 4, opts: priv, wantErr: refused},
		{name: "sf tc_classid", typ: program.SocketFilter, off: skbTCClassid, size: 4, opts: priv, wantErr: refused},
		{name: "sf remote_ip4", typ: program.SocketFilter, off: skbRemoteIP4, size: 4, opts: priv, wantErr: refused},
		{name: "sf cb write", typ: program.SocketFilter, off: skbCB + 4, size: 4, write: true, opts: priv, want: Scalar},
		{name: "sf cb u64 write", typ: program.SocketFilter, off: skbCB + 8, size: 8, write: true, opts: priv, want: Scalar},
		{name: "sf cb u64 past cb[4]", typ: program.SocketFilter, off: skbCB + 16, size: 8, opts: priv, wantErr: refused},
		{name: "sf mark write", typ: program.SocketFilter, off: skbMark, size: 4, write: true, opts: priv, wantErr: refused},
		{name: "sf sk", typ: program.SocketFilter, off: skbSk, size: 8, opts: priv, want: PtrToSockCommonOrNull},
		{name: "sf past end", typ: program.SocketFilter, off: sizeofSkBuff, size: 4, opts: priv, wantErr: refused},

		// sched_cls / sched_act: tc_cls_act_is_valid_access
		{name: "tc data", typ: program.SchedCLS, off: skbData, size: 4, opts: priv, want: PtrToPacket},
		{name: "tc data_end", typ: program.SchedCLS, off: skbDataEnd, size: 4, opts: priv, want: PtrToPacketEnd},
		{name: "tc data_meta", typ: program.SchedACT, off: skbDataMeta, size: 4, opts: priv, want: PtrToPacketMeta},
		{name: "tc data narrow", typ: program.SchedCLS, off: skbData, size: 2, opts: priv, wantErr: refused},
		{name: "tc data as u64", typ: program.SchedCLS, off: skbData + 4, size: 8, opts: priv, wantErr: refused},
		{name: "tc mark write", typ: program.SchedCLS, off: skbMark, size: 4, write: true, opts: priv, want: Scalar},
		{name: "tc mark narrow write", typ: program.SchedCLS, off: skbMark, size: 2, write: true, opts: priv, wantErr: refused},
		{name: "tc tc_classid write", typ: program.SchedCLS, off: skbTCClassid, size: 4, write: true, opts: priv, want: Scalar},
		{name: "tc queue_mapping write", typ: program.SchedCLS, off: skbQueueMapping, size: 4, write: true, opts: priv, want: Scalar},
		{name: "tc tstamp write", typ: program.SchedCLS, off: skbTstamp, size: 8, write: true, opts: priv, want: Scalar},
		{name: "tc tstamp narrow", typ: program.SchedCLS, off: skbTstamp, size: 4, opts: priv, wantErr: refused},
		{name: "tc len write", typ: program.SchedCLS, off: skbLen, size: 4, write: true, opts: priv, wantErr: refused},
		{name: "tc data write", typ: program.SchedCLS, off: skbData, size: 4, write: true, opts: priv, wantErr: refused},
		{name: "tc family", typ: program.SchedCLS, off: skbFamily, size: 4, opts: priv, wantErr: refused},
		{name: "tc local_port", typ: program.SchedCLS, off: skbLocalPort, size: 4, opts: priv, wantErr: refused},
		{name: "tc tstamp_type byte", typ: program.SchedCLS, off: skbTstampType, size: 1, opts: priv, want: Scalar},
		{name: "tc tstamp_type u32", typ: program.SchedCLS, off: skbTstampType, size: 4, opts: priv, wantErr: refused},
		{name: "tc padding", typ: program.SchedCLS, off: skbTstampType + 1, size: 1, opts: priv, wantErr: refused},
		{name: "tc hwtstamp", typ: program.SchedCLS, off: skbHwtstamp, size: 8, opts: priv, want: Scalar},
		{name: "tc hwtstamp write", typ: program.SchedCLS, off: skbHwtstamp, size: 8, write: true, opts: priv, wantErr: refused},
		{name: "tc flow_keys", typ: program.SchedCLS, off: skbFlowKeys, size: 8, opts: priv, wantErr: refused},
		{name: "tc sk write", typ: program.SchedCLS, off: skbSk, size: 8, write: true, opts: priv, wantErr: refused},
		{name: "tc sk narrow", typ: program.SchedCLS, off: skbSk, size: 4, opts: priv, wantErr: refused},
		{name: "tc wire_len", typ: program.SchedCLS, off: skbWireLen, size: 4, opts: priv, want: Scalar},

		// cgroup_skb: cg_skb_is_valid_access
		{name: "cg data", typ: program.CgroupSKB, off: skbData, size: 4, opts: priv, want: PtrToPacket},
		{name: "cg data unprivileged", typ: program.CgroupSKB, off: skbData, size: 4, opts: unpriv, wantErr: refused},
		{name: "cg data_meta", typ: program.CgroupSKB, off: skbDataMeta, size: 4, opts: priv, wantErr: refused},
		{name: "cg family", typ: program.CgroupSKB, off: skbFamily, size: 4, opts: priv, want: Scalar},
		{name: "cg remote_ip6", typ: program.CgroupSKB, off: skbRemoteIP6 + 4, size: 4, opts: priv, want: Scalar},
		{name: "cg priority write", typ: program.CgroupSKB, off: skbPriority, size: 4, write: true, opts: unpriv, want: Scalar},
		{name: "cg tstamp write unprivileged", typ: program.CgroupSKB, off: skbTstamp, size: 8, write: true, opts: unpriv, wantErr: refused},
		{name: "cg tc_index write", typ: program.CgroupSKB, off: skbTCIndex, size: 4, write: true, opts: priv, wantErr: refused},

		// xdp: xdp_is_valid_access
		{name: "xdp data", typ: program.XDP, off: xdpData, size: 4, opts: priv, want: PtrToPacket},
		{name: "xdp data_end", typ: program.XDP, off: xdpDataEnd, size: 4, opts: priv, want: PtrToPacketEnd},
		{name: "xdp data_meta", typ: program.XDP, off: xdpDataMeta, size: 4, opts: priv, want: PtrToPacketMeta},
		{name: "xdp rx_queue_index", typ: program.XDP, off: xdpRxQueueIndex, size: 4, opts: priv, want: Scalar},
		{name: "xdp ingress narrow", typ: program.XDP, off: xdpIngressIfindex, size: 2, opts: priv, wantErr: refused},
		{name: "xdp data as u64", typ: program.XDP, off: xdpData, size: 8, opts: priv, wantErr: "off=0 size=8"},
		{name: "xdp egress_ifindex", typ: program.XDP, off: xdpEgressIfindex, size: 4, opts: priv, wantErr: refused},
		{name: "xdp write", typ: program.XDP, off: xdpIngressIfindex, size: 4, write: true, opts: priv, wantErr: refused},
		{name: "xdp past end", typ: program.XDP, off: sizeofXDPMd, size: 4, opts: priv, wantErr: refused},

		// others
		{name: "conformance", typ: program.Conformance, off: 0, size: 8, opts: priv, wantErr: "conformance programs have no context"},
		{name: "unknown type", typ: program.Type(99), off: 0, size: 4, opts: priv, wantErr: "no known context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := contextAccess(tt.typ, tt.off, tt.size, tt.write, tt.opts)
			if tt.wantErr != "" {
				if got.OK {
					t.Fatalf("allowed (%s), want refusal %q", got.Result, tt.wantErr)
				}
				if !strings.Contains(got.Reason, tt.wantErr) {
					t.Fatalf("reason %q, want it to contain %q", got.Reason, tt.wantErr)
				}
				return
			}
			if !got.OK {
				t.Fatalf("refused: %s", got.Reason)
			}
			if got.Result != tt.want {
				t.Fatalf("result %s, want %s", got.Result, tt.want)
			}
		})
	}
}

// TestSkBuffLayout checks the offsets against facts from the uapi header
// that are easy to get wrong: the 8-byte alignment of the __bpf_md_ptr
// fields and the struct's size.
func TestSkBuffLayout(t *testing.T) {
	if skbFlowKeys%8 != 0 || skbSk%8 != 0 || skbTstamp%8 != 0 || skbHwtstamp%8 != 0 {
		t.Error("__bpf_md_ptr and u64 fields must be 8-byte aligned")
	}
	if skbFlowKeys != skbDataMeta+4 || skbLocalIP6+16 != skbRemotePort {
		t.Error("__sk_buff offsets out of order")
	}
	if sizeofSkBuff != skbHwtstamp+8 || sizeofPerfEventCtx != 184 {
		t.Error("context sizes")
	}
}
