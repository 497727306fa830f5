package skbuff

import (
	"encoding/binary"
	"testing"
	"unsafe"
)

// TestSet checks every field lands where the uapi struct has it, in the
// byte order the kernel presents it, and that Set clears what it does not
// write.
func TestSet(t *testing.T) {
	var c Context
	for i := range c.Bytes() {
		c.Bytes()[i] = 0xff
	}
	c.Set(&Fields{Len: 60, PktType: PacketOutgoing, Mark: 3, QueueMapping: 4, Protocol: 0x86dd,
		VlanPresent: true, VlanTCI: 0x0123, VlanProto: 0x8100, Priority: 5, IngressIfindex: 6, Ifindex: 7,
		TCIndex: 8, Hash: 9, TCClassid: 10, NapiID: 11, Tstamp: 12, WireLen: 13, GSOSegs: 14, GSOSize: 15, Hwtstamp: 16})
	b := c.Bytes()
	u32 := func(off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
	u64 := func(off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }
	tests := []struct {
		name string
		off  int
		got  uint64
		want uint64
	}{
		{"len", OffLen, uint64(u32(OffLen)), 60},
		{"pkt_type", OffPktType, uint64(u32(OffPktType)), PacketOutgoing},
		{"mark", OffMark, uint64(u32(OffMark)), 3},
		{"queue_mapping", OffQueueMapping, uint64(u32(OffQueueMapping)), 4},
		{"protocol (network order in a u32)", OffProtocol, uint64(u32(OffProtocol)), 0xdd86},
		{"vlan_present", OffVlanPresent, uint64(u32(OffVlanPresent)), 1},
		{"vlan_tci", OffVlanTCI, uint64(u32(OffVlanTCI)), 0x0123},
		{"vlan_proto (network order)", OffVlanProto, uint64(u32(OffVlanProto)), 0x0081},
		{"priority", OffPriority, uint64(u32(OffPriority)), 5},
		{"ingress_ifindex", OffIngressIfindex, uint64(u32(OffIngressIfindex)), 6},
		{"ifindex", OffIfindex, uint64(u32(OffIfindex)), 7},
		{"tc_index", OffTCIndex, uint64(u32(OffTCIndex)), 8},
		{"hash", OffHash, uint64(u32(OffHash)), 9},
		{"tc_classid", OffTCClassid, uint64(u32(OffTCClassid)), 10},
		{"napi_id", OffNapiID, uint64(u32(OffNapiID)), 11},
		{"tstamp", OffTstamp, u64(OffTstamp), 12},
		{"wire_len", OffWireLen, uint64(u32(OffWireLen)), 13},
		{"gso_segs", OffGSOSegs, uint64(u32(OffGSOSegs)), 14},
		{"gso_size", OffGSOSize, uint64(u32(OffGSOSize)), 15},
		{"hwtstamp", OffHwtstamp, u64(OffHwtstamp), 16},
		{"cb[0] cleared", OffCB, uint64(u32(OffCB)), 0},
		{"sk cleared", OffSk, u64(OffSk), 0},
		{"data pointer word cleared", PtrData, u64(PtrData), 0},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s at %d: %#x, want %#x", tt.name, tt.off, tt.got, tt.want)
		}
	}
	for i, v := range c.FlowKeys() {
		if v != 0 {
			t.Fatalf("flow keys byte %d = %#x after Set, want 0", i, v)
		}
	}
	if len(c.FlowKeys()) != FlowKeysSize || len(b) != Size {
		t.Errorf("sizes: flow keys %d, context %d", len(c.FlowKeys()), len(b))
	}
	if uintptr(unsafe.Pointer(&b[0]))%8 != 0 {
		t.Error("context not 8-byte aligned")
	}
}

func TestCB(t *testing.T) {
	var c Context
	binary.LittleEndian.PutUint32(c.Bytes()[OffCB+8:], 42)
	if got := c.CB(2); got != 42 {
		t.Errorf("cb[2] = %d, want 42", got)
	}
}
