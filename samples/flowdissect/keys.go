package flowdissect

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// KeysSize is the size of struct bpf_flow_keys (include/uapi/linux/bpf.h).
const KeysSize = 56

// Offsets of struct bpf_flow_keys's fields, for engines that hand the
// program the 56 bytes.
const (
	OffNhoff       = 0
	OffThoff       = 2
	OffAddrProto   = 4
	OffIsFrag      = 6
	OffIsFirstFrag = 7
	OffIsEncap     = 8
	OffIPProto     = 9
	OffNProto      = 10
	OffSport       = 12
	OffDport       = 14
	OffAddrs       = 16 // ipv4_src, ipv4_dst or ipv6_src, ipv6_dst
	OffFlags       = 48
	OffFlowLabel   = 52
)

// EtherType values of addr_proto and n_proto.
const (
	EthPIPv4 = 0x0800
	EthPIPv6 = 0x86DD
)

// Keys mirrors struct bpf_flow_keys. Every field holds its number as Go
// reads it: NProto 0x0800 is IPv4, Sport 80 is port 80. The kernel keeps
// n_proto, sport, dport and flow_label in network byte order and the others
// in the host's, and so do Encode and Decode; the addresses are bytes in
// network order either way.
type Keys struct {
	Nhoff       uint16 // offset of the network header
	Thoff       uint16 // offset of the transport header
	AddrProto   uint16 // EthPIPv4 or EthPIPv6: which addresses Addrs holds
	IsFrag      uint8
	IsFirstFrag uint8
	IsEncap     uint8
	IPProto     uint8
	NProto      uint16 // network protocol (after VLAN tags)
	Sport       uint16
	Dport       uint16
	// Addrs is the union of ipv4_src, ipv4_dst (bytes 0-7) and ipv6_src,
	// ipv6_dst (bytes 0-31).
	Addrs     [32]byte
	Flags     uint32
	FlowLabel uint32 // the IPv6 flow label, 20 bits
}

// Encode writes k in the kernel's layout of struct bpf_flow_keys.
func (k *Keys) Encode(b *[KeysSize]byte) {
	h := binary.NativeEndian
	h.PutUint16(b[OffNhoff:], k.Nhoff)
	h.PutUint16(b[OffThoff:], k.Thoff)
	h.PutUint16(b[OffAddrProto:], k.AddrProto)
	b[OffIsFrag] = k.IsFrag
	b[OffIsFirstFrag] = k.IsFirstFrag
	b[OffIsEncap] = k.IsEncap
	b[OffIPProto] = k.IPProto
	binary.BigEndian.PutUint16(b[OffNProto:], k.NProto)
	binary.BigEndian.PutUint16(b[OffSport:], k.Sport)
	binary.BigEndian.PutUint16(b[OffDport:], k.Dport)
	copy(b[OffAddrs:OffFlags], k.Addrs[:])
	h.PutUint32(b[OffFlags:], k.Flags)
	binary.BigEndian.PutUint32(b[OffFlowLabel:], k.FlowLabel)
}

// Decode reads k from the kernel's layout of struct bpf_flow_keys; every
// byte lands in a field, so Decode then Encode gives back the same bytes.
func (k *Keys) Decode(b *[KeysSize]byte) {
	h := binary.NativeEndian
	k.Nhoff = h.Uint16(b[OffNhoff:])
	k.Thoff = h.Uint16(b[OffThoff:])
	k.AddrProto = h.Uint16(b[OffAddrProto:])
	k.IsFrag = b[OffIsFrag]
	k.IsFirstFrag = b[OffIsFirstFrag]
	k.IsEncap = b[OffIsEncap]
	k.IPProto = b[OffIPProto]
	k.NProto = binary.BigEndian.Uint16(b[OffNProto:])
	k.Sport = binary.BigEndian.Uint16(b[OffSport:])
	k.Dport = binary.BigEndian.Uint16(b[OffDport:])
	copy(k.Addrs[:], b[OffAddrs:OffFlags])
	k.Flags = h.Uint32(b[OffFlags:])
	k.FlowLabel = binary.BigEndian.Uint32(b[OffFlowLabel:])
}

// Src returns the source address by AddrProto, or the zero Addr when the
// keys hold none.
func (k *Keys) Src() netip.Addr {
	switch k.AddrProto {
	case EthPIPv4:
		return netip.AddrFrom4([4]byte(k.Addrs[0:4]))
	case EthPIPv6:
		return netip.AddrFrom16([16]byte(k.Addrs[0:16]))
	}
	return netip.Addr{}
}

// Dst returns the destination address by AddrProto, or the zero Addr when
// the keys hold none.
func (k *Keys) Dst() netip.Addr {
	switch k.AddrProto {
	case EthPIPv4:
		return netip.AddrFrom4([4]byte(k.Addrs[4:8]))
	case EthPIPv6:
		return netip.AddrFrom16([16]byte(k.Addrs[16:32]))
	}
	return netip.Addr{}
}

// String prints the keys on one line, for test failures and the example:
//
//	nhoff=14 thoff=34 n_proto=0x0800 tcp 10.0.0.1:1234 > 10.0.0.2:80
func (k *Keys) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "nhoff=%d thoff=%d n_proto=%#04x", k.Nhoff, k.Thoff, k.NProto)
	if k.AddrProto != 0 {
		fmt.Fprintf(&b, " %s", protoName(k.IPProto))
		if k.AddrProto == EthPIPv4 || k.AddrProto == EthPIPv6 {
			fmt.Fprintf(&b, " %s > %s", netip.AddrPortFrom(k.Src(), k.Sport), netip.AddrPortFrom(k.Dst(), k.Dport))
		} else {
			fmt.Fprintf(&b, " addr_proto=%#04x", k.AddrProto)
		}
	} else if k.IPProto != 0 || k.Sport != 0 || k.Dport != 0 || k.Addrs != [32]byte{} {
		fmt.Fprintf(&b, " ip_proto=%d ports=%d>%d addrs=%x", k.IPProto, k.Sport, k.Dport, k.Addrs)
	}
	if k.IsFrag != 0 || k.IsFirstFrag != 0 {
		fmt.Fprintf(&b, " frag=%d first=%d", k.IsFrag, k.IsFirstFrag)
	}
	if k.IsEncap != 0 {
		fmt.Fprintf(&b, " encap=%d", k.IsEncap)
	}
	if k.FlowLabel != 0 {
		fmt.Fprintf(&b, " label=%#05x", k.FlowLabel)
	}
	if k.Flags != 0 {
		fmt.Fprintf(&b, " flags=%#x", k.Flags)
	}
	return b.String()
}

func protoName(p uint8) string {
	switch p {
	case ipprotoICMP:
		return "icmp"
	case ipprotoTCP:
		return "tcp"
	case ipprotoUDP:
		return "udp"
	case ipprotoICMPv6:
		return "icmpv6"
	}
	return "proto " + strconv.Itoa(int(p))
}

// Verdict is a flow dissector's return code (enum bpf_ret_code).
type Verdict uint32

// The verdicts this dissector returns.
const (
	OK   Verdict = 0 // BPF_OK: the keys describe the frame
	Drop Verdict = 2 // BPF_DROP: the frame is malformed or cut short
)

func (v Verdict) String() string {
	switch v {
	case OK:
		return "BPF_OK"
	case Drop:
		return "BPF_DROP"
	}
	return "verdict(" + strconv.FormatUint(uint64(v), 10) + ")"
}
