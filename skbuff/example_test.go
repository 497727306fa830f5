package skbuff_test

import (
	"fmt"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/skbuff"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// A socket filter that reads __sk_buff fields and the packet (LD_ABS), run
// by the interpreter over a context built from what is known about one
// packet.
func Example() {
	prog := &program.Program{Name: "proto", Type: program.SocketFilter, Insns: asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R7, asm.R1, skbuff.OffLen, asm.Word),
		asm.LoadAbs(14+9, asm.Byte), // the IPv4 protocol
		asm.LSh.Imm(asm.R7, 8),
		asm.Or.Reg(asm.R0, asm.R7), // len << 8 | protocol
		asm.Return(),
	}}
	v, err := verifier.Verify(prog, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := userspacevm.PrepareVerified(v, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	r, err := userspacevm.Interp{}.Load(p)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()

	pkt := make([]byte, 42) // Ethernet, IPv4, UDP
	pkt[12], pkt[14], pkt[23] = 0x08, 0x45, 17
	var skb skbuff.Context
	skb.Set(&skbuff.Fields{Len: uint32(len(pkt)), Protocol: 0x0800, PktType: skbuff.PacketHost})
	r0, err := r.Run(skb.Bytes(), &userspacevm.RunContext{Packet: pkt})
	fmt.Println(r0>>8, r0&0xff, err)
	// Output: 42 17 <nil>
}
