package flowdissect

import "fmt"

// Packet is one frame of the corpus.
type Packet struct {
	Name string
	// Want is the verdict the dissector is meant to give; for frames under
	// 14 bytes, which Dissect and the kernel refuse, it is Drop.
	Want  Verdict
	Frame []byte
}

// Corpus returns the packet corpus, the same on every call: a frame for each
// path through the dissector (VLAN tags, IPv4 with options and fragments,
// IPv6 with each extension header and chains of them, TCP, UDP, ICMP,
// ICMPv6, other protocols), malformed frames (bad versions and lengths, too
// many headers), every frame of a few chains cut short at each byte of its
// headers, and long ones up to 64 KiB, which only Dissect accepts (see
// MaxKernelFrame).
func Corpus() []Packet {
	var c []Packet
	add := func(name string, want Verdict, frame []byte) {
		c = append(c, Packet{Name: name, Frame: frame, Want: want})
	}
	for _, p := range wellFormed() {
		add(p.Name, p.Want, p.Frame)
	}
	for _, p := range malformed() {
		add(p.Name, p.Want, p.Frame)
	}
	for _, p := range truncatable() {
		// Every cut within the headers drops; the whole frame passes.
		for n := EthHlen; n < len(p.Frame); n++ {
			add(fmt.Sprintf("%s/cut-at-%d", p.Name, n), Drop, p.Frame[:n:n])
		}
	}
	for _, p := range oversized() {
		add(p.Name, p.Want, p.Frame)
	}
	return c
}

var (
	srcV4, dstV4 = v4(10, 0, 0, 1), v4(10, 0, 0, 2)
	srcV6, dstV6 = v6(1), v6(2)
)

// ipv4Frame is Ethernet (with tpids), IPv4 (proto, frag, opts) and l4.
func ipv4Frame(proto uint8, frag uint16, opts []byte, l4 []byte, tpids ...uint16) []byte {
	b := appendEther(nil, EthPIPv4, tpids...)
	b = ipv4{proto: proto, src: srcV4, dst: dstV4, frag: frag, opts: opts, payload: len(l4)}.append(b)
	return append(b, l4...)
}

// ipv6Frame is Ethernet (with tpids), IPv6 and rest (extension headers and
// transport), next naming rest's first header.
func ipv6Frame(next uint8, label uint32, rest []byte, tpids ...uint16) []byte {
	b := appendEther(nil, EthPIPv6, tpids...)
	b = ipv6{next: next, label: label, src: srcV6, dst: dstV6, payload: len(rest)}.append(b)
	return append(b, rest...)
}

func tcp(sport, dport uint16, payload int) []byte {
	return append(appendTCP(nil, sport, dport, 5), make([]byte, payload)...)
}

func udp(sport, dport uint16, payload int) []byte {
	return append(appendUDP(nil, sport, dport, payload), make([]byte, payload)...)
}

func icmp(typ uint8) []byte { return append(appendICMP(nil, typ, 0), make([]byte, 16)...) }

// chain builds IPv6 extension headers, each named by the protocol number it
// is; the last header's next is last.
func chain(last uint8, hdrs ...uint8) []byte {
	var b []byte
	for i, h := range hdrs {
		next := last
		if i+1 < len(hdrs) {
			next = hdrs[i+1]
		}
		if h == ipprotoFragment {
			b = appendFragHdr(b, next, 0, true)
		} else {
			b = appendExtHdr(b, next, 0)
		}
	}
	return b
}

const (
	ipprotoGRE    = 47
	ipprotoSCTP   = 132
	ipprotoNoNext = 59
	ipFlagDF      = 0x4000
	ipFlagMF      = 0x2000
)

func wellFormed() []Packet {
	nops := []byte{1, 1, 1, 1}
	ra := []byte{0x94, 0x04, 0, 0} // Router Alert (RFC 2113)
	return []Packet{
		{"ipv4/tcp", OK, ipv4Frame(ipprotoTCP, 0, nil, tcp(40000, 80, 10))},
		{"ipv4/tcp-df", OK, ipv4Frame(ipprotoTCP, ipFlagDF, nil, tcp(40001, 443, 0))},
		{"ipv4/tcp-options", OK, ipv4Frame(ipprotoTCP, 0, nil, appendTCP(nil, 40002, 22, 15))},
		{"ipv4/udp", OK, ipv4Frame(ipprotoUDP, 0, nil, udp(5353, 53, 12))},
		{"ipv4/udp-min-frame", OK, append(ipv4Frame(ipprotoUDP, 0, nil, udp(1, 2, 0)), make([]byte, 18)...)},
		{"ipv4/icmp", OK, ipv4Frame(ipprotoICMP, 0, nil, icmp(8))},
		{"ipv4/gre", OK, ipv4Frame(ipprotoGRE, 0, nil, make([]byte, 8))},
		{"ipv4/sctp", OK, ipv4Frame(ipprotoSCTP, 0, nil, make([]byte, 12))},
		{"ipv4/no-payload-other", OK, ipv4Frame(253, 0, nil, nil)},
		{"ipv4/options-ra/udp", OK, ipv4Frame(ipprotoUDP, 0, ra, udp(6000, 7000, 4))},
		{"ipv4/options-40/tcp", OK, ipv4Frame(ipprotoTCP, 0, repeat(nops, 10), tcp(1234, 5678, 0))},
		{"ipv4/first-fragment/udp", OK, ipv4Frame(ipprotoUDP, ipFlagMF, nil, udp(7, 9, 40))},
		{"ipv4/later-fragment", OK, ipv4Frame(ipprotoUDP, ipFlagMF|185, nil, make([]byte, 40))},
		{"ipv4/last-fragment", OK, ipv4Frame(ipprotoTCP, 370, nil, make([]byte, 3))},
		{"ipv4/later-fragment-empty", OK, ipv4Frame(ipprotoTCP, 1, nil, nil)},
		{"ipv4/first-fragment/icmp", OK, ipv4Frame(ipprotoICMP, ipFlagMF, nil, icmp(0))},
		{"vlan/ipv4/tcp", OK, ipv4Frame(ipprotoTCP, 0, nil, tcp(80, 40000, 0), ethP8021Q)},
		{"qinq/ipv4/udp", OK, ipv4Frame(ipprotoUDP, 0, nil, udp(4789, 4789, 8), ethP8021AD, ethP8021Q)},
		{"vlan-vlan/ipv6/tcp", OK, ipv6Frame(ipprotoTCP, 0, tcp(1, 65535, 0), ethP8021Q, ethP8021Q)},
		{"8021ad/ipv6/udp", OK, ipv6Frame(ipprotoUDP, 7, udp(443, 50000, 20), ethP8021AD)},
		{"ipv6/tcp", OK, ipv6Frame(ipprotoTCP, 0, tcp(50000, 443, 0))},
		{"ipv6/udp-flow-label", OK, ipv6Frame(ipprotoUDP, 0xabcde, udp(1000, 2000, 30))},
		{"ipv6/icmpv6", OK, ipv6Frame(ipprotoICMPv6, 0, icmp(128))},
		{"ipv6/no-next-header", OK, ipv6Frame(ipprotoNoNext, 0, nil)},
		{"ipv6/hop-by-hop/udp", OK, ipv6Frame(ipprotoHopOpts, 0, append(chain(ipprotoUDP, ipprotoHopOpts), udp(546, 547, 0)...))},
		{"ipv6/routing/tcp", OK, ipv6Frame(ipprotoRouting, 0, append(chain(ipprotoTCP, ipprotoRouting), tcp(9, 10, 0)...))},
		{"ipv6/dstopts/icmpv6", OK, ipv6Frame(ipprotoDstOpts, 0, append(chain(ipprotoICMPv6, ipprotoDstOpts), icmp(129)...))},
		{"ipv6/first-fragment/udp", OK, ipv6Frame(ipprotoFragment, 0, append(chain(ipprotoUDP, ipprotoFragment), udp(11, 12, 0)...))},
		{"ipv6/later-fragment", OK, ipv6Frame(ipprotoFragment, 0, append(appendFragHdr(nil, ipprotoUDP, 100, false), make([]byte, 8)...))},
		{"ipv6/later-fragment-then-ext", OK, ipv6Frame(ipprotoFragment, 0, appendFragHdr(nil, ipprotoDstOpts, 1, true))},
		{"ipv6/ext-255-units/udp", OK, ipv6Frame(ipprotoDstOpts, 0, append(appendExtHdr(nil, ipprotoUDP, 255), udp(1, 2, 0)...))},
		{"ipv6/chain-4/udp", OK, ipv6Frame(ipprotoHopOpts, 0, append(chain(ipprotoUDP, ipprotoHopOpts, ipprotoDstOpts, ipprotoRouting, ipprotoFragment), udp(3, 4, 0)...))},
		{"ipv6/chain-6/tcp", OK, ipv6Frame(ipprotoHopOpts, 0, append(chain(ipprotoTCP, ipprotoHopOpts, ipprotoDstOpts, ipprotoRouting, ipprotoFragment, ipprotoDstOpts, ipprotoDstOpts), tcp(5, 6, 0)...))},
		{"ipv6/chain-6-then-fragment-later", OK, ipv6Frame(ipprotoHopOpts, 0, append(chain(ipprotoUDP, ipprotoHopOpts, ipprotoDstOpts, ipprotoRouting, ipprotoDstOpts, ipprotoDstOpts), appendFragHdr(nil, ipprotoUDP, 8, false)...))},
	}
}

func malformed() []Packet {
	ihl := func(vihl byte) []byte {
		b := ipv4Frame(ipprotoUDP, 0, nil, udp(1, 2, 0))
		b[EthHlen] = vihl
		return b
	}
	tcpDoff := func(doff uint8) []byte {
		return ipv4Frame(ipprotoTCP, 0, nil, appendTCP(nil, 1, 2, doff))
	}
	v6version := ipv6Frame(ipprotoUDP, 0, udp(1, 2, 0))
	v6version[EthHlen] = 0x40
	extPastEnd := ipv6Frame(ipprotoHopOpts, 0, append(appendExtHdr(nil, ipprotoUDP, 0), udp(1, 2, 0)...))
	extPastEnd[EthHlen+40+1] = 3 // 32 bytes claimed, 16 there
	tooMany := ipv6Frame(ipprotoHopOpts, 0, append(chain(ipprotoUDP, ipprotoHopOpts, ipprotoDstOpts, ipprotoRouting, ipprotoDstOpts, ipprotoDstOpts, ipprotoDstOpts, ipprotoDstOpts), udp(1, 2, 0)...))
	bigExt := ipv6Frame(ipprotoDstOpts, 0, appendExtHdr(nil, ipprotoUDP, 255))
	doffLong := tcpDoff(5)
	doffLong[EthHlen+20+12] = 15 << 4 // 60 bytes claimed, 20 there
	return []Packet{
		{"empty", Drop, []byte{}},
		{"13-bytes", Drop, appendEther(nil, EthPIPv4)[:13]},
		{"ether-only/ipv4", Drop, appendEther(nil, EthPIPv4)},
		{"ether-only/ipv6", Drop, appendEther(nil, EthPIPv6)},
		{"ether-only/vlan", Drop, appendEther(nil, ethP8021Q)},
		{"arp", Drop, append(appendEther(nil, 0x0806), make([]byte, 28)...)},
		{"ethertype-length-field", Drop, append(appendEther(nil, 46), make([]byte, 46)...)},
		{"mpls", Drop, append(appendEther(nil, 0x8847), make([]byte, 40)...)},
		{"three-vlan-tags", Drop, ipv4Frame(ipprotoUDP, 0, nil, udp(1, 2, 0), ethP8021AD, ethP8021Q, ethP8021Q)},
		{"ipv4/ihl-0", Drop, ihl(0x40)},
		{"ipv4/ihl-4", Drop, ihl(0x44)},
		{"ipv4/ihl-15-past-end", Drop, ihl(0x4f)},
		{"ipv4/ihl-14-past-transport", Drop, ihl(0x4e)},
		{"ipv4/version-6", Drop, ihl(0x65)},
		{"ipv4/version-0", Drop, ihl(0x05)},
		{"ipv6/version-4", Drop, v6version},
		{"ipv6/ext-length-past-end", Drop, extPastEnd},
		{"ipv6/seven-ext-headers", Drop, tooMany},
		{"ipv6/ext-2048-bytes-no-transport", Drop, bigExt},
		{"ipv6/ext-2048-bytes-past-end", Drop, bigExt[:2000]},
		{"tcp/doff-0", Drop, tcpDoff(0)},
		{"tcp/doff-4", Drop, tcpDoff(4)},
		{"tcp/doff-past-end", Drop, doffLong},
	}
}

// truncatable are frames whose every byte belongs to a header the dissector
// needs, so that every cut drops.
func truncatable() []Packet {
	return []Packet{
		{"ipv4/tcp", OK, ipv4Frame(ipprotoTCP, 0, nil, appendTCP(nil, 1, 2, 6))},
		{"qinq/ipv4-options/udp", OK, ipv4Frame(ipprotoUDP, 0, []byte{1, 1, 1, 0}, appendUDP(nil, 1, 2, 0), ethP8021AD, ethP8021Q)},
		{"ipv4/icmp", OK, ipv4Frame(ipprotoICMP, 0, nil, appendICMP(nil, 8, 0))},
		{"ipv6/chain/udp", OK, ipv6Frame(ipprotoHopOpts, 0, append(chain(ipprotoUDP, ipprotoHopOpts, ipprotoRouting, ipprotoFragment, ipprotoDstOpts), appendUDP(nil, 1, 2, 0)...))},
		{"vlan/ipv6/icmpv6", OK, ipv6Frame(ipprotoICMPv6, 1, appendICMP(nil, 128, 0), ethP8021Q)},
	}
}

func oversized() []Packet {
	sized := func(frame []byte, size int) []byte {
		return append(frame, make([]byte, size-len(frame))...)
	}
	return []Packet{
		{"long/1514-ipv4-tcp", OK, sized(ipv4Frame(ipprotoTCP, 0, nil, tcp(1, 2, 0)), 1514)},
		{"long/4096-ipv4-udp", OK, sized(ipv4Frame(ipprotoUDP, 0, nil, udp(3, 4, 0)), 4096)},
		{"long/4097-ipv4-udp", OK, sized(ipv4Frame(ipprotoUDP, 0, nil, udp(5, 6, 0)), 4097)},
		{"long/9000-jumbo-ipv6-tcp", OK, sized(ipv6Frame(ipprotoTCP, 0, tcp(7, 8, 0)), 9000)},
		{"long/9000-jumbo-ipv6-ext-chain", OK, sized(ipv6Frame(ipprotoDstOpts, 0,
			append(appendExtHdr(appendExtHdr(nil, ipprotoDstOpts, 255), ipprotoUDP, 255), udp(9, 10, 0)...)), 9000)},
		{"long/65535-ipv4-udp", OK, sized(ipv4Frame(ipprotoUDP, 0, nil, udp(11, 12, 0)), 65535)},
	}
}

func repeat(b []byte, n int) []byte {
	var out []byte
	for range n {
		out = append(out, b...)
	}
	return out
}
