package protocount_test

import (
	"encoding/binary"
	"fmt"

	"github.com/dropmon/dropmon/samples/sockex/protocount"
	"github.com/dropmon/dropmon/skbuff"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// Run the counter on the interpreter over one TCP and one UDP frame, then
// read the totals from its map.
func Example() {
	v, err := verifier.Verify(protocount.Program(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	prep, err := userspacevm.PrepareVerified(v, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer prep.Close()
	r, err := userspacevm.Interp{}.Load(prep)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()

	var skb skbuff.Context
	for _, proto := range []byte{protocount.ProtoTCP, protocount.ProtoUDP} {
		frame := make([]byte, 60) // Ethernet and IPv4, zeros but the protocol
		frame[14+9] = proto
		skb.Set(&skbuff.Fields{Len: uint32(len(frame)), Protocol: 0x0800, PktType: skbuff.PacketHost})
		if _, err := r.Run(skb.Bytes(), &userspacevm.RunContext{Packet: frame}); err != nil {
			fmt.Println(err)
			return
		}
	}
	totals, err := protocount.Read(func(k uint32) ([]byte, error) {
		return prep.Maps[0].Lookup(binary.NativeEndian.AppendUint32(nil, k))
	})
	fmt.Printf("TCP %+v, UDP %+v, other %+v, %v\n", totals.TCP, totals.UDP, totals.Other, err)
	// Output: TCP {Packets:1 Bytes:60}, UDP {Packets:1 Bytes:60}, other {Packets:0 Bytes:0}, <nil>
}
