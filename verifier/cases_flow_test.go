package verifier

import (
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
)

const fd = program.FlowDissector

// flowKeys loads flow_keys into R5 after the packet checks of skbPacket.
var flowKeys = asm.LoadMem(asm.R5, asm.R1, 144, asm.DWord)

// flowDissectorCases: the context of a flow dissector (data, data_end and
// flow_keys only, read-only), its struct bpf_flow_keys (56 bytes,
// constant offsets), its read-only packet and its helpers.
var flowDissectorCases = []verifierCase{
	{name: "flow dissector reads data, data_end, flow_keys", progType: fd, insns: cat(flowKeys, skbPacket(14),
		asm.LoadMem(asm.R0, asm.R2, 12, asm.Half), asm.StoreMem(asm.R5, 10, asm.R0, asm.Half), out), want: accept},
	{name: "flow dissector reads len", progType: fd, insns: cat(asm.LoadMem(asm.R0, asm.R1, 0, asm.Word), asm.Return()),
		want: reject, msg: "invalid bpf_context access off=0 size=4"},
	{name: "flow dissector reads half of data", progType: fd, insns: cat(asm.LoadMem(asm.R0, asm.R1, 76, asm.Half), asm.Return()),
		want: reject, msg: "invalid bpf_context access off=76 size=2"},
	{name: "flow dissector reads flow_keys as u32", progType: fd, insns: cat(asm.LoadMem(asm.R0, asm.R1, 144, asm.Word), asm.Return()),
		want: reject, msg: "invalid bpf_context access off=144 size=4"},
	{name: "flow dissector writes cb", progType: fd, insns: cat(stImm(asm.R1, 48, 0, asm.Word), out),
		want: reject, msg: "invalid bpf_context access off=48 size=4"},
	{name: "flow dissector reads the last flow key", progType: fd, insns: cat(flowKeys,
		asm.LoadMem(asm.R0, asm.R5, 52, asm.Word), asm.Return()), want: accept},
	{name: "flow dissector writes past the flow keys", progType: fd, insns: cat(flowKeys,
		stImm(asm.R5, 56, 0, asm.Byte), out), want: reject, msg: "invalid access to flow keys off=56 size=1"},
	{name: "flow dissector reads a u64 across the end of the flow keys", progType: fd, insns: cat(flowKeys,
		asm.LoadMem(asm.R0, asm.R5, 52, asm.DWord), asm.Return()), want: reject, msg: "invalid access to flow keys off=52 size=8"},
	{name: "flow dissector moves the flow keys pointer by a constant", progType: fd, insns: cat(flowKeys,
		asm.Add.Imm(asm.R5, 16), stImm(asm.R5, 0, 1, asm.Word), stImm(asm.R5, 36, 1, asm.Word), out), want: accept},
	{name: "flow dissector moves the flow keys pointer past the end", progType: fd, insns: cat(flowKeys,
		asm.Add.Imm(asm.R5, 50), stImm(asm.R5, 0, 1, asm.DWord), out), want: reject, msg: "invalid access to flow keys off=50 size=8"},
	{name: "flow dissector moves the flow keys pointer by a variable", progType: fd, insns: cat(asm.Mov.Reg(asm.R6, asm.R1),
		asm.FnGetPrandomU32.Call(), asm.LoadMem(asm.R5, asm.R6, 144, asm.DWord), asm.And.Imm(asm.R0, 7), asm.Add.Reg(asm.R5, asm.R0), stImm(asm.R5, 0, 1, asm.Byte), out),
		want: reject, msg: "R5 pointer arithmetic on flow_keys prohibited"},
	{name: "flow dissector writes the packet", progType: fd, insns: cat(skbPacket(14), stImm(asm.R2, 0, 0, asm.Byte), out),
		want: reject, msg: "cannot write into packet"},
	{name: "flow dissector reads past the checked packet", progType: fd, insns: cat(skbPacket(14),
		asm.LoadMem(asm.R0, asm.R2, 12, asm.Word), asm.Return(), out),
		want: reject, msg: "invalid access to packet, off=12 size=4, R2(id=0,off=12,r=14)"},
	{name: "flow dissector uses LD_ABS", progType: fd, insns: cat(asm.Mov.Reg(asm.R6, asm.R1), asm.LoadAbs(12, asm.Half), asm.Return()),
		want: reject, msg: "BPF_LD_[ABS|IND] instructions not allowed for this program type"},
	{name: "flow dissector calls skb_load_bytes", progType: fd, insns: cat(asm.Mov.Imm(asm.R2, 12),
		asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, -8), asm.Mov.Imm(asm.R4, 2), asm.FnSkbLoadBytes.Call(), out),
		want: accept},
	{name: "flow dissector calls get_socket_cookie", progType: fd, insns: cat(asm.FnGetSocketCookie.Call(), out),
		want: reject, msg: "program of this type cannot use helper bpf_get_socket_cookie#46"},
}
