package netnstest

import (
	"encoding/binary"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// Header sizes and numbers of the frames Frame builds.
const (
	ethHeaderLen  = 14
	ipv4HeaderLen = 20
	tcpHeaderLen  = 20
	udpHeaderLen  = 8

	etherTypeIPv4 = 0x0800
	// IANA protocol numbers.
	ProtoTCP = 6
	ProtoUDP = 17
)

// Addresses the crafted frames carry: TEST-NET-1 (RFC 5737), never
// routed, and no address of the pair's (which has none).
var (
	srcIP = [4]byte{192, 0, 2, 1}
	dstIP = [4]byte{192, 0, 2, 2}
)

// Frame builds an Ethernet frame carrying an IPv4 packet with a TCP
// segment (proto ProtoTCP: a SYN) or a UDP datagram (ProtoUDP) and
// payload, from src to dst, with the IPv4, TCP and UDP checksums filled
// in. seq varies the IPv4 identification and source port so that no two
// frames of a run are alike.
func Frame(dst, src net.HardwareAddr, proto uint8, seq uint16, payload []byte) ([]byte, error) {
	var l4 int
	switch proto {
	case ProtoTCP:
		l4 = tcpHeaderLen
	case ProtoUDP:
		l4 = udpHeaderLen
	default:
		return nil, fmt.Errorf("craft frame: protocol %d: want TCP (6) or UDP (17)", proto)
	}
	if len(dst) != 6 || len(src) != 6 {
		return nil, fmt.Errorf("craft frame: MAC addresses %v and %v: want 6 bytes each", dst, src)
	}
	ipLen := ipv4HeaderLen + l4 + len(payload)
	if ipLen > 1500 {
		return nil, fmt.Errorf("craft frame: %d-byte payload does not fit a 1500-byte MTU", len(payload))
	}
	b := make([]byte, ethHeaderLen+ipLen)
	copy(b[0:6], dst)
	copy(b[6:12], src)
	binary.BigEndian.PutUint16(b[12:], etherTypeIPv4)
	ip := b[ethHeaderLen:]
	putIPv4(ip, proto, seq, ipLen)
	seg := ip[ipv4HeaderLen:]
	copy(seg[l4:], payload)
	sport, dport := 40000+seq%20000, uint16(9) // to the discard port
	binary.BigEndian.PutUint16(seg[0:], sport)
	binary.BigEndian.PutUint16(seg[2:], dport)
	if proto == ProtoTCP {
		binary.BigEndian.PutUint32(seg[4:], uint32(seq)<<16) // sequence number
		seg[12] = tcpHeaderLen / 4 << 4                      // data offset
		seg[13] = 0x02                                       // SYN
		binary.BigEndian.PutUint16(seg[14:], 65535)          // window
		binary.BigEndian.PutUint16(seg[16:], transportChecksum(ip[12:20], proto, seg))
	} else {
		binary.BigEndian.PutUint16(seg[4:], uint16(len(seg)))
		sum := transportChecksum(ip[12:20], proto, seg)
		if sum == 0 {
			sum = 0xffff // RFC 768: a computed 0 is sent as all ones
		}
		binary.BigEndian.PutUint16(seg[6:], sum)
	}
	return b, nil
}

// putIPv4 writes a 20-byte IPv4 header, with its checksum, to ip.
func putIPv4(ip []byte, proto uint8, id uint16, total int) {
	ip[0] = 0x45 // version 4, 5 words
	binary.BigEndian.PutUint16(ip[2:], uint16(total))
	binary.BigEndian.PutUint16(ip[4:], id)
	binary.BigEndian.PutUint16(ip[6:], 0x4000) // don't fragment
	ip[8] = 64                                 // TTL
	ip[9] = proto
	copy(ip[12:16], srcIP[:])
	copy(ip[16:20], dstIP[:])
	binary.BigEndian.PutUint16(ip[10:], Checksum(0, ip[:ipv4HeaderLen]))
}

// transportChecksum is the TCP or UDP checksum of seg (its checksum field
// zero) with the IPv4 pseudo-header of addrs (source and destination, 8
// bytes), RFC 793 and RFC 768.
func transportChecksum(addrs []byte, proto uint8, seg []byte) uint16 {
	pseudo := make([]byte, 0, 12)
	pseudo = append(pseudo, addrs...)
	pseudo = append(pseudo, 0, proto)
	pseudo = binary.BigEndian.AppendUint16(pseudo, uint16(len(seg)))
	return Checksum(sum(0, pseudo), seg)
}

// Checksum is the Internet checksum (RFC 1071) of b, continuing from a
// partial sum: the one's complement of the one's complement sum of its
// 16-bit big-endian words, an odd last byte padded with zero.
func Checksum(partial uint32, b []byte) uint16 {
	s := sum(partial, b)
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

func sum(s uint32, b []byte) uint32 {
	for len(b) >= 2 {
		s += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	// Fold now and then would be needed past 128 KiB; frames are smaller.
	return s
}

// Send sends tcp TCP frames and then udp UDP frames out of A to B's MAC
// address, with a raw packet socket bound to A inside the namespace. Each
// frame carries payloadLen bytes of payload. It returns once every frame
// has been handed to A; the receiving side may see them a moment later.
func (p *Pair) Send(tcp, udp, payloadLen int) error {
	payload := make([]byte, payloadLen)
	for i := range payload {
		payload[i] = byte(i)
	}
	var frames [][]byte
	for i := range tcp + udp {
		proto := uint8(ProtoTCP)
		if i >= tcp {
			proto = ProtoUDP
		}
		f, err := Frame(p.B.MAC, p.A.MAC, proto, uint16(i), payload)
		if err != nil {
			return err
		}
		frames = append(frames, f)
	}
	return p.NS.Do(func() error { return sendFrames(p.A, p.B.MAC, frames) })
}

// sendFrames writes each frame out of link with an AF_PACKET raw socket.
// Protocol 0: the socket receives nothing, it only sends.
func sendFrames(link Link, dst net.HardwareAddr, frames [][]byte) error {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netns: packet socket: %w", err)
	}
	defer unix.Close(fd)
	to := &unix.SockaddrLinklayer{Ifindex: link.Index, Halen: 6}
	copy(to.Addr[:], dst)
	for i, f := range frames {
		if err := unix.Sendto(fd, f, 0, to); err != nil {
			return fmt.Errorf("netns: send frame %d of %d out of %s: %w", i+1, len(frames), link.Name, err)
		}
	}
	return nil
}

// SendFrames sends frames (built with Frame, say) out of A to B, with a raw
// packet socket bound to A inside the namespace.
func (p *Pair) SendFrames(frames [][]byte) error {
	return p.NS.Do(func() error { return sendFrames(p.A, p.B.MAC, frames) })
}
