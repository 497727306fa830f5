package protocount

import (
	"encoding/binary"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/skbuff"
)

// Names of the program and of its map, the same in both versions (the
// kernel keeps 15 characters of each).
const (
	ProgramName = "count_protos"
	MapName     = "proto_counts"
)

// The map: an array of Entries values of ValueSize bytes, indexed by a
// u32 key, the IP protocol number (IPPROTO_TCP is 6, IPPROTO_UDP 17).
const (
	Entries   = 256
	KeySize   = 4
	ValueSize = 16 // two u64: packets, then bytes
)

// KeyNotIP is the key under which packets that are neither IPv4 nor IPv6
// (ARP, LLDP, ...) are counted. 255 is "Reserved" in IANA's protocol
// numbers, so no IP packet a host accepts carries it.
const KeyNotIP = 255

// Frame offsets the program reads with LD_ABS: the protocol byte of the
// IPv4 header and the first next-header byte of the IPv6 header, behind a
// 14-byte Ethernet header. Extension headers are not followed, as in the
// RFC's sample: an IPv6 packet with a hop-by-hop header counts under 0.
const (
	ethHeaderLen    = 14
	ipv4ProtocolOff = ethHeaderLen + 9
	ipv6NextHdrOff  = ethHeaderLen + 6
)

// EtherTypes as __sk_buff.protocol holds them.
const (
	ethPIP   = 0x0800
	ethPIPv6 = 0x86dd
)

// keyOff is the key's stack slot.
const keyOff = -4

// Program returns the counter built with cilium/ebpf's asm package. For
// each packet the socket sees, except the ones it sends
// (pkt_type PACKET_OUTGOING), it adds 1 and the packet's length (skb->len)
// to the value of the packet's IP protocol, with atomic adds; the program
// returns 0, so that the socket itself queues nothing.
func Program() *program.Program {
	insns := asm.Instructions{
		// LD_ABS reads the packet of the skb in R6.
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R0, asm.R6, skbuff.OffPktType, asm.Word),
		asm.JEq.Imm(asm.R0, skbuff.PacketOutgoing, "out"),
		// skb->protocol is in network order: compare with htons(ETH_P_*).
		asm.LoadMem(asm.R0, asm.R6, skbuff.OffProtocol, asm.Word),
		asm.JEq.Imm(asm.R0, int32(htons(ethPIP)), "ipv4"),
		asm.JEq.Imm(asm.R0, int32(htons(ethPIPv6)), "ipv6"),
		asm.Mov.Imm(asm.R0, KeyNotIP),
		asm.Ja.Label("count"),
		// LD_ABS leaves the byte in R0; past the packet's end it ends
		// the program with 0, as the kernel does.
		asm.LoadAbs(ipv4ProtocolOff, asm.Byte).WithSymbol("ipv4"),
		asm.Ja.Label("count"),
		asm.LoadAbs(ipv6NextHdrOff, asm.Byte).WithSymbol("ipv6"),

		asm.StoreMem(asm.RFP, keyOff, asm.R0, asm.Word).WithSymbol("count"),
		asm.LoadMapPtr(asm.R1, 0).WithReference(MapName),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, keyOff),
		asm.FnMapLookupElem.Call(),
		// An array lookup with a key below 256 always succeeds; the
		// verifier still wants the check.
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Imm(asm.R1, 1),
		atomicAdd(asm.R0, 0, asm.R1),
		asm.LoadMem(asm.R1, asm.R6, skbuff.OffLen, asm.Word),
		atomicAdd(asm.R0, 8, asm.R1),

		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	}
	return &program.Program{
		Name:    ProgramName,
		Type:    program.SocketFilter,
		Insns:   insns,
		License: "GPL",
		Maps:    []*program.MapSpec{MapSpec()},
	}
}

// MapSpec returns the spec of the counts map.
func MapSpec() *program.MapSpec {
	return &program.MapSpec{Name: MapName, Type: ebpf.Array, KeySize: KeySize, ValueSize: ValueSize, MaxEntries: Entries}
}

// atomicAdd is lock *(u64 *)(dst + off) += src.
func atomicAdd(dst asm.Register, off int16, src asm.Register) asm.Instruction {
	ins := asm.StoreXAdd(dst, src, asm.DWord)
	ins.Offset = off
	return ins
}

// htons is v as a u32 load of a __be16 field gives it on this machine.
func htons(v uint16) uint16 {
	return binary.NativeEndian.Uint16(binary.BigEndian.AppendUint16(nil, v))
}
