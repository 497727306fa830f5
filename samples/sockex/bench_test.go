package main

import (
	"testing"

	"github.com/dropmon/dropmon/internal/afpacket"
	"github.com/dropmon/dropmon/verifier"
)

// BenchmarkRunFrame measures the user-space engines' work per packet, from
// a ring frame to the counted map (the __sk_buff built, the program run);
// it allocates nothing.
func BenchmarkRunFrame(b *testing.B) {
	frame := make([]byte, 60)
	frame[12], frame[14+9] = 0x08, 6 // IPv4, TCP
	f := &afpacket.Frame{Data: frame, Len: 60, Snaplen: 60, Protocol: 0x0800, Ifindex: 2}
	for _, engine := range []string{"interp", "jit"} {
		b.Run(engine, func(b *testing.B) {
			prog, err := buildProgram("asm")
			if err != nil {
				b.Fatal(err)
			}
			v, err := verifier.Verify(prog, nil)
			if err != nil {
				b.Fatal(err)
			}
			u, err := openUserEngine(v, config{engine: engine})
			if err != nil {
				b.Fatal(err)
			}
			defer u.close()
			b.ReportAllocs()
			for b.Loop() {
				u.runFrame(f)
			}
			b.StopTimer()
			if t, _ := u.totals(); t.TCP.Packets != uint64(b.N) {
				b.Fatalf("counted %d TCP packets of %d", t.TCP.Packets, b.N)
			}
		})
	}
}
