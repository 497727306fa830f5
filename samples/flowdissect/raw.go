package flowdissect

import "encoding/binary"

// PrepareRaw is Prepare on the kernel's 56-byte layout, for engines that
// hand a program struct bpf_flow_keys as memory: b is zeroed, then n_proto
// is copied from the frame (network order on both sides) and nhoff = thoff
// = 14 are written in the host's order.
func PrepareRaw(frame []byte, b *[KeysSize]byte) error {
	if len(frame) < EthHlen {
		return ErrShortFrame
	}
	*b = [KeysSize]byte{}
	b[OffNProto], b[OffNProto+1] = frame[12], frame[13]
	binary.NativeEndian.PutUint16(b[OffNhoff:], EthHlen)
	binary.NativeEndian.PutUint16(b[OffThoff:], EthHlen)
	return nil
}

// ClampRaw is Clamp on the kernel's 56-byte layout.
func ClampRaw(frame []byte, b *[KeysSize]byte) {
	h, hlen := binary.NativeEndian, len(frame)
	nhoff := min(max(int(h.Uint16(b[OffNhoff:])), EthHlen), hlen)
	thoff := min(max(int(h.Uint16(b[OffThoff:])), nhoff), hlen)
	h.PutUint16(b[OffNhoff:], uint16(nhoff))
	h.PutUint16(b[OffThoff:], uint16(thoff))
}
