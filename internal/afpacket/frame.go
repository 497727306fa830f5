package afpacket

import (
	"encoding/binary"
	"time"
)

// Frame is one packet of the ring. Data is a view into the ring, valid only
// until the callback that received the Frame returns: copy what must stay.
type Frame struct {
	// Data holds the captured bytes from the link-layer header on: Snaplen
	// bytes, fewer than Len when the packet did not fit.
	Data []byte
	// Len is the packet's length on the wire (tp_len), without any VLAN
	// tag the device removed.
	Len uint32
	// Snaplen is len(Data) (tp_snaplen).
	Snaplen uint32
	// Status is tp_status: unix.TP_STATUS_* bits (VLAN_VALID, LOSING,
	// CSUM_VALID, ...).
	Status uint32
	// Protocol is sll_protocol, the EtherType in host order (0x0800 for
	// IPv4); for a packet whose VLAN tag the device removed, the inner one.
	Protocol uint16
	// PktType is sll_pkttype: unix.PACKET_HOST, PACKET_BROADCAST,
	// PACKET_MULTICAST, PACKET_OTHERHOST or PACKET_OUTGOING.
	PktType uint8
	// HAType is sll_hatype, the ARPHRD_* type of the device.
	HAType uint16
	// Ifindex is sll_ifindex, the interface the packet came in or went out.
	Ifindex int
	// RxHash is the packet's flow hash (tp_rxhash), when the kernel
	// computed one.
	RxHash uint32
	// VLANValid says VLANTCI holds the tag the device removed
	// (TP_STATUS_VLAN_VALID); VLANTPID is its protocol (0x8100, 0x88a8)
	// when the kernel gives it (TP_STATUS_VLAN_TPID_VALID), else 0.
	VLANValid bool
	VLANTCI   uint16
	VLANTPID  uint16
	// Sec and Nsec are the time the kernel received or sent the packet.
	Sec, Nsec uint32
}

// Time returns the packet's time stamp.
func (f *Frame) Time() time.Time {
	return time.Unix(int64(f.Sec), int64(f.Nsec))
}

// Offsets in struct tpacket3_hdr and in the struct sockaddr_ll that
// follows it at TPACKET_ALIGN(sizeof(struct tpacket3_hdr)), from
// include/uapi/linux/if_packet.h.
const (
	hdrNextOffset = 0
	hdrSec        = 4
	hdrNsec       = 8
	hdrSnaplen    = 12
	hdrLen        = 16
	hdrStatus     = 20
	hdrMac        = 24
	hdrRxHash     = 28
	hdrVLANTCI    = 32
	hdrVLANTPID   = 36
	hdrSize       = 48 // sizeof(struct tpacket3_hdr), already aligned

	sllProtocol = hdrSize + 2 // __be16
	sllIfindex  = hdrSize + 4
	sllHAType   = hdrSize + 8
	sllPktType  = hdrSize + 10
	sllSize     = 20
)

// TP_STATUS bits this package reads (unix has them too; named here beside
// their use).
const (
	statusVLANValid     = 1 << 4 // TP_STATUS_VLAN_VALID
	statusVLANTPIDValid = 1 << 6 // TP_STATUS_VLAN_TPID_VALID
)

// decodeFrame fills f from the frame at off in block. It reports false when
// the frame's headers or data reach past the block's end.
func decodeFrame(f *Frame, block []byte, off uint32) bool {
	if uint64(off)+hdrSize+sllSize > uint64(len(block)) {
		return false
	}
	h := block[off:]
	ne := binary.NativeEndian
	snap := ne.Uint32(h[hdrSnaplen:])
	mac := uint32(ne.Uint16(h[hdrMac:]))
	if uint64(mac)+uint64(snap) > uint64(len(h)) {
		return false
	}
	f.Data = h[mac : mac+snap : mac+snap]
	f.Snaplen = snap
	f.Len = ne.Uint32(h[hdrLen:])
	f.Status = ne.Uint32(h[hdrStatus:])
	f.Sec = ne.Uint32(h[hdrSec:])
	f.Nsec = ne.Uint32(h[hdrNsec:])
	f.RxHash = ne.Uint32(h[hdrRxHash:])
	f.VLANValid = f.Status&statusVLANValid != 0
	f.VLANTCI, f.VLANTPID = 0, 0
	if f.VLANValid {
		f.VLANTCI = uint16(ne.Uint32(h[hdrVLANTCI:]))
		if f.Status&statusVLANTPIDValid != 0 {
			f.VLANTPID = ne.Uint16(h[hdrVLANTPID:])
		}
	}
	f.Protocol = binary.BigEndian.Uint16(h[sllProtocol:])
	f.Ifindex = int(int32(ne.Uint32(h[sllIfindex:])))
	f.HAType = ne.Uint16(h[sllHAType:])
	f.PktType = h[sllPktType]
	return true
}
