package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/dropmon/dropmon/internal/afpacket"
	"github.com/dropmon/dropmon/samples/sockex/protocount"
)

// report runs the counter until ctx ends, writing the counts of each
// interval to w, then the totals, which it returns. The counting stops
// before the totals are read, so they are final.
func report(ctx context.Context, c counter, interval time.Duration, w io.Writer) (protocount.Totals, error) {
	done := make(chan error, 1)
	go func() { done <- c.run(ctx) }()

	fmt.Fprintf(w, "%-8s  %10s %11s  %10s %11s  %10s %11s  %7s\n",
		"time", "tcp pkts", "tcp bytes", "udp pkts", "udp bytes", "other pkts", "other bytes", "drops")
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var last protocount.Totals
	var lastSt afpacket.Stats
	for {
		select {
		case <-ctx.Done():
			if err := <-done; err != nil {
				return last, err
			}
			return finish(c, w)
		case err := <-done:
			if err == nil && ctx.Err() != nil {
				return finish(c, w) // ctx ended: both cases were ready
			}
			if err == nil {
				err = fmt.Errorf("counting on the %s engine stopped early", c.engine())
			}
			return last, err
		case now := <-tick.C:
			t, err := c.totals()
			if err != nil {
				return last, err
			}
			st, _ := c.stats()
			printRow(w, now.Format(time.TimeOnly), t.Sub(last), st.Drops-lastSt.Drops)
			last, lastSt = t, st
		}
	}
}

// finish prints the totals, the ring's counts and any failed runs.
func finish(c counter, w io.Writer) (protocount.Totals, error) {
	t, err := c.totals()
	if err != nil {
		return t, err
	}
	st, err := c.stats()
	if err != nil {
		return t, err
	}
	printRow(w, "total", t, st.Drops)
	fmt.Fprintf(w, "not IP (in other): %d packets, %d bytes\n", t.NotIP.Packets, t.NotIP.Bytes)
	if c.engine() == "kernel" {
		fmt.Fprintln(w, "ring: unused (the program runs in the kernel and passes no packet to the socket)")
	} else {
		fmt.Fprintf(w, "ring: %d packets (outgoing ones included), %d dropped, full %d times\n",
			st.Packets, st.Drops, st.FreezeQueueCount)
	}
	if n, last := c.runErrors(); n > 0 {
		fmt.Fprintf(w, "%d runs failed, the last with: %v\n", n, last)
	}
	return t, nil
}

func printRow(w io.Writer, label string, t protocount.Totals, drops uint64) {
	fmt.Fprintf(w, "%-8s  %10d %11d  %10d %11d  %10d %11d  %7d\n", label,
		t.TCP.Packets, t.TCP.Bytes, t.UDP.Packets, t.UDP.Bytes, t.Other.Packets, t.Other.Bytes, drops)
}
