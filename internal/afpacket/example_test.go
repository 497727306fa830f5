package afpacket_test

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/dropmon/dropmon/internal/afpacket"
)

// Count IPv4 packets on eth0 until Ctrl-C, then print the count and the
// packets the ring had no room for.
func ExampleReader_Read() {
	r, err := afpacket.Open("eth0", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT)
	defer stop()
	ipv4 := 0
	count := func(f *afpacket.Frame) {
		if f.Protocol == 0x0800 {
			ipv4++
		}
	}
	for {
		if _, err := r.Read(ctx, count); err != nil {
			break
		}
	}
	st, _ := r.Stats()
	fmt.Printf("%d IPv4 packets, %d dropped\n", ipv4, st.Drops)
}
