// Command countdrops counts the packets the kernel drops (skb:kfree_skb) and
// prints the count per drop reason every interval. It is the smallest user of
// packages tracepoint and perfring:
//
//	go build -o countdrops ./samples/countdrops && sudo ./countdrops -i 1s
package main

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	flag "github.com/spf13/pflag"

	"github.com/dropmon/dropmon/perfring"
	"github.com/dropmon/dropmon/tracepoint"
)

func main() {
	interval := flag.DurationP("interval", "i", time.Second, "time between reports (a Go duration: 1s, 500ms)")
	count := flag.IntP("count", "c", 0, "stop after this many reports (0: run until Ctrl-C)")
	flag.Parse()
	if *interval <= 0 {
		fmt.Fprintln(os.Stderr, "countdrops: --interval must be positive")
		os.Exit(2)
	}
	if err := run(*interval, *count); err != nil {
		fmt.Fprintln(os.Stderr, "countdrops:", err)
		os.Exit(1)
	}
}

func run(interval time.Duration, count int) error {
	ev, err := tracepoint.Open("skb", "kfree_skb", nil)
	if err != nil {
		return err
	}
	defer ev.Close()
	reason, reasonErr := ev.Format().Field("reason")

	rd, err := ev.NewReader()
	if err != nil {
		return err
	}
	if err := ev.Enable(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "watching skb:kfree_skb on %d CPUs\n", len(ev.CPUs()))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)

	byReason := map[uint64]uint64{}
	var rec perfring.Record
	for reports := 0; count == 0 || reports < count; reports++ {
		rd.SetDeadline(time.Now().Add(interval))
		for {
			err := rd.ReadInto(&rec)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				return err
			}
			if rec.Type != perfring.RecordSample {
				continue
			}
			var r uint64
			if reasonErr == nil {
				r, _ = reason.Uint(rec.Raw)
			}
			byReason[r]++
		}
		report(ev, byReason)
		clear(byReason)
		select {
		case <-stop:
			return nil
		default:
		}
	}
	return nil
}

func report(ev *tracepoint.Event, byReason map[uint64]uint64) {
	var total uint64
	reasons := make([]uint64, 0, len(byReason))
	for r, n := range byReason {
		reasons = append(reasons, r)
		total += n
	}
	slices.SortFunc(reasons, func(a, b uint64) int { return cmp.Compare(byReason[b], byReason[a]) })
	fmt.Printf("%s  drops: %d  lost: %d\n", time.Now().Format(time.TimeOnly), total, ev.Lost())
	for _, r := range reasons {
		name, ok := ev.Format().SymbolName("reason", r)
		if !ok {
			name = fmt.Sprintf("reason#%d", r)
		}
		fmt.Printf("  %8d  %s\n", byReason[r], name)
	}
}
