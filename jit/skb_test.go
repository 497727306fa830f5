//go:build amd64 && linux

package jit_test

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/jit"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/skbuff"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// TestSkBuffContext runs __sk_buff programs on both engines over an
// skbuff.Context and a packet: plain fields, LD_ABS, bpf_skb_load_bytes,
// and a flow dissector's data/data_end/flow_keys (loads the engines
// rewrite), with exact results and the flow keys written.
func TestSkBuffContext(t *testing.T) {
	requireJIT(t)
	// Ethernet (type 0x0800), then an IPv4 header of protocol 17.
	pkt := make([]byte, 42)
	binary.BigEndian.PutUint16(pkt[12:], 0x0800)
	pkt[14], pkt[23] = 0x45, 17
	fields := &skbuff.Fields{Len: 42, PktType: skbuff.PacketOtherHost, Protocol: 0x0800, Ifindex: 9, Mark: 0x55}
	ret := asm.Return()
	flowDissect := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, skbuff.OffData, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, skbuff.OffDataEnd, asm.Word),
		asm.LoadMem(asm.R4, asm.R1, skbuff.OffFlowKeys, asm.DWord),
		asm.Mov.Reg(asm.R5, asm.R2),
		asm.Add.Imm(asm.R5, 24),
		asm.JGT.Reg(asm.R5, asm.R3, "short"),
		asm.LoadMem(asm.R0, asm.R2, 23, asm.Byte), // the IP protocol
		asm.StoreMem(asm.R4, 9, asm.R0, asm.Byte), // ip_proto
		asm.LoadMem(asm.R0, asm.R4, 0, asm.Half),  // nhoff as the caller set it
		asm.Add.Imm(asm.R0, 20),
		asm.StoreMem(asm.R4, 2, asm.R0, asm.Half), // thoff
		asm.Mov.Imm(asm.R0, 0),
		ret,
		asm.Mov.Imm(asm.R0, 2).WithSymbol("short"),
		ret,
	}
	tests := []struct {
		name   string
		typ    program.Type
		insns  asm.Instructions
		pkt    []byte
		want   uint64
		wantFK map[int]uint16 // flow keys: offset -> u16 expected after the run
	}{
		{"len + ifindex", program.SocketFilter, asm.Instructions{
			asm.LoadMem(asm.R0, asm.R1, skbuff.OffLen, asm.Word),
			asm.LoadMem(asm.R2, asm.R1, skbuff.OffIfindex, asm.Word),
			asm.Mul.Imm(asm.R2, 1000), asm.Add.Reg(asm.R0, asm.R2), ret}, pkt, 9042, nil},
		{"protocol is big-endian", program.SocketFilter, asm.Instructions{
			asm.LoadMem(asm.R0, asm.R1, skbuff.OffProtocol, asm.Word), ret}, pkt, 0x0008, nil},
		{"narrow pkt_type", program.SocketFilter, asm.Instructions{
			asm.LoadMem(asm.R0, asm.R1, skbuff.OffPktType, asm.Byte), ret}, pkt, skbuff.PacketOtherHost, nil},
		{"cb written and read", program.SocketFilter, asm.Instructions{
			asm.StoreImm(asm.R1, skbuff.OffCB+4, 77, asm.Word),
			asm.LoadMem(asm.R0, asm.R1, skbuff.OffCB+4, asm.Word),
			asm.LoadMem(asm.R2, asm.R1, skbuff.OffMark, asm.Word), asm.Add.Reg(asm.R0, asm.R2), ret}, pkt, 77 + 0x55, nil},
		{"ld_abs reads the packet", program.SocketFilter, asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1), asm.LoadAbs(23, asm.Byte), ret}, pkt, 17, nil},
		{"ld_abs past the packet", program.SocketFilter, asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1), asm.LoadAbs(42, asm.Byte), asm.Mov.Imm(asm.R0, 9), ret}, pkt, 0, nil},
		{"skb_load_bytes", program.SocketFilter, asm.Instructions{
			asm.Mov.Imm(asm.R2, 12), asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, -8), asm.Mov.Imm(asm.R4, 2),
			asm.FnSkbLoadBytes.Call(),
			asm.LoadMem(asm.R1, asm.RFP, -8, asm.Half), asm.LSh.Imm(asm.R1, 32), asm.Add.Reg(asm.R0, asm.R1), ret},
			pkt, 0x0008 << 32, nil},
		{"skb_load_bytes past the end", program.SocketFilter, asm.Instructions{
			asm.Mov.Imm(asm.R2, 41), asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, -8), asm.Mov.Imm(asm.R4, 2),
			asm.FnSkbLoadBytes.Call(), ret}, pkt, uint64(1<<64 - 14), nil}, // -EFAULT
		{"sk is NULL", program.SocketFilter, asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, skbuff.OffSk, asm.DWord), asm.Mov.Imm(asm.R0, 1),
			asm.JEq.Imm(asm.R2, 0, "null"), asm.Mov.Imm(asm.R0, 2), asm.Return().WithSymbol("null")}, pkt, 1, nil},
		{"flow dissector", program.FlowDissector, flowDissect, pkt, 0, map[int]uint16{0: 14, 2: 34, 8: 17 << 8, 10: 0x0008, 12: 0, 54: 0}},
		{"flow dissector, short packet", program.FlowDissector, flowDissect, pkt[:20], 2, map[int]uint16{0: 14, 2: 14, 8: 0, 10: 0x0008}},
		{"flow dissector, thoff clamped", program.FlowDissector, asm.Instructions{
			asm.LoadMem(asm.R4, asm.R1, skbuff.OffFlowKeys, asm.DWord),
			asm.StoreImm(asm.R4, 2, 1000, asm.Half), asm.StoreImm(asm.R4, 0, 3, asm.Half), asm.Mov.Imm(asm.R0, 0), ret},
			pkt, 0, map[int]uint16{0: 14, 2: 42}},
		{"flow dissector, nhoff clamped", program.FlowDissector, asm.Instructions{
			asm.LoadMem(asm.R4, asm.R1, skbuff.OffFlowKeys, asm.DWord),
			asm.StoreImm(asm.R4, 2, 1, asm.Half), asm.StoreImm(asm.R4, 0, 500, asm.Half), asm.Mov.Imm(asm.R0, 0), ret},
			pkt, 0, map[int]uint16{0: 42, 2: 42}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := prepareSkb(t, tt.typ, tt.insns)
			for _, e := range []userspacevm.Engine{userspacevm.Interp{}, jit.Engine{}} {
				r, err := e.Load(p)
				if err != nil {
					t.Fatalf("%s: %v", e.Name(), err)
				}
				var skb skbuff.Context
				skb.Set(fields)
				copy(skb.FlowKeys(), "junk that the engine must clear before the flow dissector runs")
				// Junk in the pointer words: engines must not trust them.
				for _, off := range []int{skbuff.OffSk, skbuff.OffFlowKeys, skbuff.PtrData, skbuff.PtrDataEnd, skbuff.PtrDataMeta} {
					binary.LittleEndian.PutUint64(skb.Bytes()[off:], 0xdead0000beef)
				}
				got, err := r.Run(skb.Bytes(), &userspacevm.RunContext{Packet: tt.pkt})
				r.Close()
				if err != nil || got != tt.want {
					t.Errorf("%s: r0 %#x, %v; want %#x", e.Name(), got, err, tt.want)
				}
				for off, want := range tt.wantFK {
					if got := binary.LittleEndian.Uint16(skb.FlowKeys()[off:]); got != want {
						t.Errorf("%s: flow keys at %d: %#x, want %#x", e.Name(), off, got, want)
					}
				}
			}
		})
	}
}

// TestSkBuffShortContext: an __sk_buff program refuses a context that is
// not an skbuff.Context, on both engines, saying what it wants.
func TestSkBuffShortContext(t *testing.T) {
	requireJIT(t)
	p := prepareSkb(t, program.SocketFilter, asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()})
	for _, e := range []userspacevm.Engine{userspacevm.Interp{}, jit.Engine{}} {
		r, err := e.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Run(make([]byte, 64), nil)
		r.Close()
		if err == nil || !containsAll(err.Error(), "skbuff.Context", "RunContext.Packet") {
			t.Errorf("%s: %v, want a refusal naming skbuff.Context", e.Name(), err)
		}
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestFlowDissectorShortPacket: a flow dissector's packet must hold an
// Ethernet header (the engines take n_proto from it), on both engines, one
// run or a batch; the batch runs the items before the short one.
func TestFlowDissectorShortPacket(t *testing.T) {
	requireJIT(t)
	p := prepareSkb(t, program.FlowDissector, asm.Instructions{asm.Mov.Imm(asm.R0, 7), asm.Return()})
	for _, e := range []userspacevm.Engine{userspacevm.Interp{}, jit.Engine{}} {
		r, err := e.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		var skb [3]skbuff.Context
		if _, err := r.Run(skb[0].Bytes(), &userspacevm.RunContext{Packet: make([]byte, 13)}); !errors.Is(err, userspacevm.ErrShortPacket) {
			t.Errorf("%s: 13 bytes: %v, want ErrShortPacket", e.Name(), err)
		}
		items := []userspacevm.BatchItem{
			{Ctx: skb[0].Bytes(), Packet: make([]byte, 14)},
			{Ctx: skb[1].Bytes(), Packet: make([]byte, 60)},
			{Ctx: skb[2].Bytes(), Packet: nil},
		}
		n, err := userspacevm.RunBatch(r, items, nil)
		if n != 2 || !errors.Is(err, userspacevm.ErrShortPacket) || items[0].R0 != 7 || items[1].R0 != 7 || items[2].R0 != 0 {
			t.Errorf("%s: batch ran %d, %v, r0s %d %d %d; want 2, ErrShortPacket, 7 7 0", e.Name(), n, err, items[0].R0, items[1].R0, items[2].R0)
		}
		r.Close()
	}
}

// prepareSkb verifies and prepares a program of type typ, closed with the
// test.
func prepareSkb(t *testing.T, typ program.Type, insns asm.Instructions) *userspacevm.Prepared {
	t.Helper()
	v, err := verifier.Verify(&program.Program{Name: "skb", Type: typ, License: "GPL", Insns: insns}, nil)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	p, err := userspacevm.PrepareVerified(v, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
