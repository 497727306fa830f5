// Package skbuff builds, in user space, the context the kernel gives
// socket filter, traffic control and flow dissector programs: struct
// __sk_buff as include/uapi/linux/bpf.h lays it out, and, for the flow
// dissector, the struct bpf_flow_keys its flow_keys field points to.
//
// A Context is what a user-space engine (the interpreter, the JIT) runs such
// a program over: fill it with Set from what is known about the packet
// (TPACKET_V3 headers, say), pass Bytes() as the run's context and the
// packet itself as userspacevm.RunContext.Packet. The engine writes the
// pointer fields (data, data_end, data_meta, flow_keys) for each run, so
// that they always point at the packet and the flow keys of that run.
package skbuff

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// Offsets of struct __sk_buff's fields (uapi), in bytes.
const (
	OffLen            = 0
	OffPktType        = 4
	OffMark           = 8
	OffQueueMapping   = 12
	OffProtocol       = 16
	OffVlanPresent    = 20
	OffVlanTCI        = 24
	OffVlanProto      = 28
	OffPriority       = 32
	OffIngressIfindex = 36
	OffIfindex        = 40
	OffTCIndex        = 44
	OffCB             = 48 // cb[5]
	OffHash           = 68
	OffTCClassid      = 72
	OffData           = 76 // u32 in uapi; engines load the pointer from PtrData
	OffDataEnd        = 80 // likewise, PtrDataEnd
	OffNapiID         = 84
	OffFamily         = 88
	OffRemoteIP4      = 92
	OffLocalIP4       = 96
	OffRemoteIP6      = 100 // remote_ip6[4]
	OffLocalIP6       = 116 // local_ip6[4]
	OffRemotePort     = 132
	OffLocalPort      = 136
	OffDataMeta       = 140 // likewise, PtrDataMeta
	OffFlowKeys       = 144 // a 64-bit pointer to the flow keys
	OffTstamp         = 152
	OffWireLen        = 160
	OffGSOSegs        = 164
	OffSk             = 168 // a 64-bit pointer; always NULL in user space
	OffGSOSize        = 176
	OffTstampType     = 180 // u8, then 3 bytes of padding
	OffHwtstamp       = 184

	// SkBuffSize is sizeof(struct __sk_buff).
	SkBuffSize = 192
)

// Where engines keep what the kernel computes when a program loads data,
// data_end or data_meta: those fields are u32 in the uapi struct, but the
// kernel rewrites the loads to read 64-bit pointers from its own sk_buff.
// The engines rewrite them to 64-bit loads of these words, which follow
// the uapi struct in a Context.
const (
	PtrData     = SkBuffSize
	PtrDataEnd  = SkBuffSize + 8
	PtrDataMeta = SkBuffSize + 16
)

// FlowKeysOffset is where a Context keeps the struct bpf_flow_keys that
// flow_keys points to, and FlowKeysSize its size.
const (
	FlowKeysOffset = SkBuffSize + 24
	FlowKeysSize   = 56
)

// Offsets in struct bpf_flow_keys of the fields the kernel sets before a
// flow dissector runs and clamps after it.
const (
	FlowKeysNhoff  = 0  // u16
	FlowKeysThoff  = 2  // u16
	FlowKeysNProto = 10 // __be16
)

// Size is the length of a Context's bytes: what an engine needs to run an
// __sk_buff program.
const Size = FlowKeysOffset + FlowKeysSize

// Values of pkt_type (PACKET_* in linux/if_packet.h).
const (
	PacketHost      = 0
	PacketBroadcast = 1
	PacketMulticast = 2
	PacketOtherHost = 3
	PacketOutgoing  = 4
)

// Context is an __sk_buff and the words engines add to it. Its zero value
// is an empty context: every field 0.
type Context struct {
	words [(Size + 7) / 8]uint64 // 8-byte aligned for the 64-bit fields
}

// Bytes returns the context's memory, Size bytes: what Runner.Run takes.
// Programs that may write their context (cb[], mark for tc) write here.
func (c *Context) Bytes() []byte {
	return bytesOf(c.words[:])[:Size]
}

// Fields are the __sk_buff fields a caller can know about a packet. Values
// are in host order; Set stores each as the kernel presents it.
type Fields struct {
	Len            uint32 // skb->len: the bytes of the packet present
	PktType        uint32 // PacketHost, ..., PacketOutgoing
	Mark           uint32
	QueueMapping   uint32
	Protocol       uint16 // the EtherType (ETH_P_IP = 0x0800); stored big-endian, as skb->protocol
	VlanPresent    bool
	VlanTCI        uint16
	VlanProto      uint16 // the tag's TPID (0x8100); stored big-endian
	Priority       uint32
	IngressIfindex uint32
	Ifindex        uint32
	TCIndex        uint32
	Hash           uint32
	TCClassid      uint32
	NapiID         uint32
	Tstamp         uint64
	WireLen        uint32
	GSOSegs        uint32
	GSOSize        uint32
	Hwtstamp       uint64
}

// Set writes f into the context and clears everything else (cb[], the flow
// keys, the pointer words).
func (c *Context) Set(f *Fields) {
	c.words = [len(c.words)]uint64{}
	b := c.Bytes()
	le := binary.LittleEndian
	le.PutUint32(b[OffLen:], f.Len)
	le.PutUint32(b[OffPktType:], f.PktType)
	le.PutUint32(b[OffMark:], f.Mark)
	le.PutUint32(b[OffQueueMapping:], f.QueueMapping)
	le.PutUint32(b[OffProtocol:], uint32(bits.ReverseBytes16(f.Protocol)))
	if f.VlanPresent {
		le.PutUint32(b[OffVlanPresent:], 1)
	}
	le.PutUint32(b[OffVlanTCI:], uint32(f.VlanTCI))
	le.PutUint32(b[OffVlanProto:], uint32(bits.ReverseBytes16(f.VlanProto)))
	le.PutUint32(b[OffPriority:], f.Priority)
	le.PutUint32(b[OffIngressIfindex:], f.IngressIfindex)
	le.PutUint32(b[OffIfindex:], f.Ifindex)
	le.PutUint32(b[OffTCIndex:], f.TCIndex)
	le.PutUint32(b[OffHash:], f.Hash)
	le.PutUint32(b[OffTCClassid:], f.TCClassid)
	le.PutUint32(b[OffNapiID:], f.NapiID)
	le.PutUint64(b[OffTstamp:], f.Tstamp)
	le.PutUint32(b[OffWireLen:], f.WireLen)
	le.PutUint32(b[OffGSOSegs:], f.GSOSegs)
	le.PutUint32(b[OffGSOSize:], f.GSOSize)
	le.PutUint64(b[OffHwtstamp:], f.Hwtstamp)
}

// CB returns cb[i], the scratch words programs may write.
func (c *Context) CB(i int) uint32 {
	return binary.LittleEndian.Uint32(c.Bytes()[OffCB+4*i:])
}

// FlowKeys returns the struct bpf_flow_keys inside the context, FlowKeysSize
// bytes, which a flow dissector program reads and writes through
// flow_keys: the caller sets what the kernel sets before the program runs
// (n_proto, nhoff, thoff, flags) and reads the result after.
func (c *Context) FlowKeys() []byte {
	return c.Keys()[:]
}

// Keys is FlowKeys as an array pointer, for callers that handle many
// contexts per packet burst.
func (c *Context) Keys() *[FlowKeysSize]byte {
	return (*[FlowKeysSize]byte)(unsafe.Add(unsafe.Pointer(&c.words[0]), FlowKeysOffset))
}
