package flowdissect

import (
	"encoding/binary"
	"errors"
)

// ErrShortFrame is returned for a frame shorter than an Ethernet header:
// BPF_PROG_TEST_RUN refuses it (EINVAL), since the kernel reads n_proto from
// the Ethernet header before it runs the program.
var ErrShortFrame = errors.New("frame shorter than an Ethernet header (14 bytes)")

// EthHlen is the length of an Ethernet header (ETH_HLEN), the network header
// offset the kernel's test run passes to the program.
const EthHlen = 14

// The header fields and protocol numbers of samples/bpf/flowdissect.h.
const (
	ethP8021Q  = 0x8100
	ethP8021AD = 0x88A8

	ipprotoHopOpts  = 0
	ipprotoICMP     = 1
	ipprotoTCP      = 6
	ipprotoUDP      = 17
	ipprotoRouting  = 43
	ipprotoFragment = 44
	ipprotoICMPv6   = 58
	ipprotoDstOpts  = 60

	maxExtHdrs = 6   // FD_MAX_EXTHDRS
	maxNhoff   = 255 // FD_MAX_NHOFF
)

// Dissect dissects an Ethernet frame into k as the kernel's
// BPF_PROG_TEST_RUN runs samples/bpf/flowdissect.bpf.o on it: Prepare, the
// dissector, then Clamp. For every frame the test run accepts, the verdict
// and k.Encode's 56 bytes equal the kernel's. Dissect allocates nothing.
func Dissect(frame []byte, k *Keys) (Verdict, error) {
	if err := Prepare(frame, k); err != nil {
		return Drop, err
	}
	v := dissect(frame, k)
	Clamp(frame, k)
	return v, nil
}

// Prepare sets k as bpf_flow_dissect (net/core/flow_dissector.c) does before
// it runs the program, called by BPF_PROG_TEST_RUN with the Ethernet
// header's protocol and ETH_HLEN: zeroed, then n_proto from the frame and
// nhoff = thoff = 14. Flags stay 0: the test run passes the flags of a
// context, and dropmon passes none.
func Prepare(frame []byte, k *Keys) error {
	if len(frame) < EthHlen {
		return ErrShortFrame
	}
	*k = Keys{NProto: binary.BigEndian.Uint16(frame[12:14]), Nhoff: EthHlen, Thoff: EthHlen}
	return nil
}

// Clamp does what bpf_flow_dissect does after the program: nhoff is clamped
// to [14, len(frame)] and thoff to [nhoff, len(frame)]. (Kernels before 6.16
// cast the bounds to u16 first, which differs only for frames over 64 KiB,
// which the test run refuses.)
func Clamp(frame []byte, k *Keys) {
	hlen := len(frame)
	k.Nhoff = uint16(min(max(int(k.Nhoff), EthHlen), hlen))
	k.Thoff = uint16(min(max(int(k.Thoff), int(k.Nhoff)), hlen))
}

// dissect is fd_dissect of samples/bpf/flowdissect.h in Go, statement for
// statement, with subslices of pkt where the C code has packet pointers
// (each length check lets the compiler drop the bounds checks after it).
func dissect(pkt []byte, k *Keys) Verdict {
	nhoff := int(k.Nhoff)
	proto := k.NProto
	if nhoff > maxNhoff {
		return Drop
	}
	for range 2 {
		if proto != ethP8021Q && proto != ethP8021AD {
			break
		}
		tag := pkt[min(nhoff, len(pkt)):]
		if len(tag) < 4 {
			return Drop
		}
		proto = binary.BigEndian.Uint16(tag[2:4])
		nhoff += 4
	}

	var (
		thoff                      int
		ipProto                    uint8
		isFrag, isFirst, laterFrag bool
	)
	switch proto {
	case EthPIPv4:
		ip := pkt[min(nhoff, len(pkt)):]
		if len(ip) < 20 {
			return Drop
		}
		vihl := ip[0]
		if vihl>>4 != 4 || vihl&0xf < 5 {
			return Drop
		}
		thoff = nhoff + int(vihl&0xf)*4
		if thoff > len(pkt) {
			return Drop
		}
		// saddr and daddr, 8 bytes in network order, as one load.
		binary.LittleEndian.PutUint64(k.Addrs[0:8], binary.LittleEndian.Uint64(ip[12:20]))
		ipProto = ip[9]
		if frag := binary.BigEndian.Uint16(ip[6:8]); frag&0x3fff != 0 {
			isFrag = true
			laterFrag = frag&0x1fff != 0
			isFirst = !laterFrag
		}
	case EthPIPv6:
		ip := pkt[min(nhoff, len(pkt)):]
		if len(ip) < 40 {
			return Drop
		}
		if ip[0]>>4 != 6 {
			return Drop
		}
		k.FlowLabel = binary.BigEndian.Uint32(ip[0:4]) & 0xfffff
		le := binary.LittleEndian
		le.PutUint64(k.Addrs[0:8], le.Uint64(ip[8:16]))
		le.PutUint64(k.Addrs[8:16], le.Uint64(ip[16:24]))
		le.PutUint64(k.Addrs[16:24], le.Uint64(ip[24:32]))
		le.PutUint64(k.Addrs[24:32], le.Uint64(ip[32:40]))
		ipProto = ip[6]
		thoff = nhoff + 40
		if isExtHdr(ipProto) {
			var v Verdict
			thoff, ipProto, v = walkExtHdrs(pkt, thoff, ipProto, &isFrag, &isFirst, &laterFrag)
			if v != OK {
				return v
			}
		}
	default:
		return Drop
	}

	var sport, dport uint16
	if !laterFrag {
		switch ipProto {
		case ipprotoTCP:
			th := pkt[thoff:]
			if len(th) < 20 {
				return Drop
			}
			doff := int(th[12] >> 4)
			if doff < 5 || doff*4 > len(th) {
				return Drop
			}
			sport, dport = binary.BigEndian.Uint16(th[0:2]), binary.BigEndian.Uint16(th[2:4])
		case ipprotoUDP:
			uh := pkt[thoff:]
			if len(uh) < 8 {
				return Drop
			}
			sport, dport = binary.BigEndian.Uint16(uh[0:2]), binary.BigEndian.Uint16(uh[2:4])
		case ipprotoICMP, ipprotoICMPv6:
			if thoff+8 > len(pkt) {
				return Drop
			}
		}
	}

	k.Nhoff = uint16(nhoff)
	k.Thoff = uint16(thoff)
	k.AddrProto = proto
	k.IsFrag = b2u(isFrag)
	k.IsFirstFrag = b2u(isFirst)
	k.IPProto = ipProto
	k.NProto = proto
	k.Sport, k.Dport = sport, dport
	return OK
}

// walkExtHdrs walks at most maxExtHdrs IPv6 extension headers from thoff
// (RFC 8200 section 4) and returns the transport header's offset and
// protocol; one extension header more is Drop.
func walkExtHdrs(pkt []byte, thoff int, next uint8, isFrag, isFirst, laterFrag *bool) (int, uint8, Verdict) {
	for range maxExtHdrs {
		switch next {
		case ipprotoHopOpts, ipprotoRouting, ipprotoDstOpts:
			eh := pkt[thoff:]
			if len(eh) < 8 {
				return thoff, next, Drop
			}
			next, thoff = eh[0], thoff+(int(eh[1])+1)*8
			if thoff > len(pkt) {
				return thoff, next, Drop
			}
		case ipprotoFragment:
			fh := pkt[thoff:]
			if len(fh) < 8 {
				return thoff, next, Drop
			}
			next, thoff = fh[0], thoff+8
			*isFrag = true
			if binary.BigEndian.Uint16(fh[2:4])&0xfff8 != 0 {
				*laterFrag = true
				return thoff, next, OK
			}
			*isFirst = true
		default:
			return thoff, next, OK
		}
	}
	if isExtHdr(next) {
		return thoff, next, Drop
	}
	return thoff, next, OK
}

func isExtHdr(p uint8) bool {
	return p == ipprotoHopOpts || p == ipprotoRouting || p == ipprotoDstOpts || p == ipprotoFragment
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
