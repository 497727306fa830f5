package main

import (
	"testing"
	"unsafe"
)

func TestNewBatchPort(t *testing.T) {
	b := newBatch(0x1234, 3, 0)
	defer b.pin.Unpin()
	if len(b.msgs) != 3 {
		t.Fatalf("len(msgs) = %d, want 3", len(b.msgs))
	}
	name := b.msgs[2].Hdr.Name
	raw := (*[4]byte)(unsafe.Pointer(name))
	// family (2 bytes, host order), then the port in network order.
	if raw[2] != 0x12 || raw[3] != 0x34 {
		t.Errorf("sin_port bytes = %#x %#x, want 0x12 0x34", raw[2], raw[3])
	}
	if b.msgs[0].Hdr.Iov.Len != 0 {
		t.Errorf("iov_len = %d, want 0", b.msgs[0].Hdr.Iov.Len)
	}
}
