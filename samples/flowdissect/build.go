package flowdissect

import "encoding/binary"

// Frame builders for the corpus and the generator. Each appends one header
// to b, in network byte order, and returns the longer slice; lengths and
// checksums are filled as a sender would, though the dissector reads
// neither.

var (
	macDst = [6]byte{0x02, 0, 0, 0, 0, 0x02}
	macSrc = [6]byte{0x02, 0, 0, 0, 0, 0x01}
)

// appendEther appends an Ethernet header whose type is proto, with a VLAN
// tag (TPID, then TCI) for each of tpids, outermost first.
func appendEther(b []byte, proto uint16, tpids ...uint16) []byte {
	b = append(b, macDst[:]...)
	b = append(b, macSrc[:]...)
	for i, tpid := range tpids {
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, uint16(100+i)) // TCI: VLAN 100, 101
	}
	return binary.BigEndian.AppendUint16(b, proto)
}

// ipv4 describes an IPv4 header.
type ipv4 struct {
	proto    uint8
	src, dst [4]byte
	frag     uint16 // flags and fragment offset, host order
	opts     []byte // options, a multiple of 4 bytes long
	payload  int    // bytes after the header, for the total length
}

func (h ipv4) append(b []byte) []byte {
	start := len(b)
	hlen := 20 + len(h.opts)
	b = append(b, 0x40|byte(hlen/4), 0)
	b = binary.BigEndian.AppendUint16(b, uint16(hlen+h.payload))
	b = append(b, 0x12, 0x34) // identification
	b = binary.BigEndian.AppendUint16(b, h.frag)
	b = append(b, 64, h.proto, 0, 0)
	b = append(b, h.src[:]...)
	b = append(b, h.dst[:]...)
	b = append(b, h.opts...)
	binary.BigEndian.PutUint16(b[start+10:], ipChecksum(b[start:]))
	return b
}

func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// ipv6 describes an IPv6 header.
type ipv6 struct {
	next     uint8
	label    uint32
	src, dst [16]byte
	payload  int // bytes after the header, extension headers included
}

func (h ipv6) append(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, 6<<28|h.label&0xfffff)
	b = binary.BigEndian.AppendUint16(b, uint16(h.payload))
	b = append(b, h.next, 64)
	b = append(b, h.src[:]...)
	return append(b, h.dst[:]...)
}

// appendExtHdr appends a hop-by-hop, routing or destination options header
// of (units+1)*8 bytes whose next header is next, padded with PadN.
func appendExtHdr(b []byte, next, units uint8) []byte {
	size := (int(units) + 1) * 8
	b = append(b, next, units, 1, byte(size-4)) // PadN over the rest
	return append(b, make([]byte, size-4)...)
}

// appendFragHdr appends an IPv6 fragment header: offset in 8-byte units.
func appendFragHdr(b []byte, next uint8, offset uint16, more bool) []byte {
	v := offset << 3
	if more {
		v |= 1
	}
	b = append(b, next, 0)
	b = binary.BigEndian.AppendUint16(b, v)
	return append(b, 0xde, 0xad, 0xbe, 0xef) // identification
}

// appendTCP appends a TCP header with doff 32-bit words (options as NOPs).
func appendTCP(b []byte, sport, dport uint16, doff uint8) []byte {
	b = binary.BigEndian.AppendUint16(b, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	b = append(b, 0, 0, 0, 1, 0, 0, 0, 0) // seq, ack
	b = append(b, doff<<4, 0x18, 0xff, 0xff, 0, 0, 0, 0)
	for i := 20; i < int(doff)*4; i++ {
		b = append(b, 1) // NOP
	}
	return b
}

func appendUDP(b []byte, sport, dport uint16, payload int) []byte {
	b = binary.BigEndian.AppendUint16(b, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	b = binary.BigEndian.AppendUint16(b, uint16(8+payload))
	return append(b, 0, 0)
}

// appendICMP appends an 8-byte ICMP or ICMPv6 header (echo request: type
// 8 or 128).
func appendICMP(b []byte, typ, code uint8) []byte {
	return append(b, typ, code, 0, 0, 0, 1, 0, 1)
}

func v4(a, b, c, d byte) [4]byte { return [4]byte{a, b, c, d} }

func v6(last uint16) [16]byte {
	a := [16]byte{0x20, 0x01, 0x0d, 0xb8}
	binary.BigEndian.PutUint16(a[14:], last)
	return a
}
