package tracepoint_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/dropmon/dropmon/perfring"
	"github.com/dropmon/dropmon/tracepoint"
)

// Count the packets the kernel frees as dropped (skb:kfree_skb) for one
// second, and name the reason of each from the running kernel's format.
func Example() {
	ev, err := tracepoint.Open("skb", "kfree_skb", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ev.Close()

	reason, err := ev.Format().Field("reason")
	hasReason := err == nil // kernels before 5.17 give no reason

	rd, err := ev.NewReader()
	if err != nil {
		log.Fatal(err)
	}
	if err := ev.Enable(); err != nil {
		log.Fatal(err)
	}
	rd.SetDeadline(time.Now().Add(time.Second))

	byReason := map[string]int{}
	var rec perfring.Record
	for {
		err := rd.ReadInto(&rec)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		if rec.Type != perfring.RecordSample {
			continue
		}
		name := "unknown"
		if hasReason {
			v, _ := reason.Uint(rec.Raw)
			name, _ = ev.Format().SymbolName("reason", v)
		}
		byReason[name]++
	}
	fmt.Println(byReason, "lost:", ev.Lost())
}

// Count drops per location in a storm: records come in batches, the kernel
// wakes the reader only once a ring is a quarter full, and a deadline
// bounds how long a record below that mark may wait. Each batch moves the
// ring's tail once.
func ExampleEvent_NewReader_batches() {
	const ringSize = 512 << 10
	ev, err := tracepoint.Open("skb", "kfree_skb", &tracepoint.Options{
		RingPages: ringSize / os.Getpagesize(),
		Watermark: ringSize / 4,
		RawOnly:   true, // the tracepoint's data alone: smaller records
	})
	if err != nil {
		log.Fatal(err)
	}
	defer ev.Close()
	location, err := ev.Format().Field("location")
	if err != nil {
		log.Fatal(err)
	}
	rd, err := ev.NewReader()
	if err != nil {
		log.Fatal(err)
	}
	if err := ev.Enable(); err != nil {
		log.Fatal(err)
	}

	drops := map[uint64]int{}
	count := func(rec *perfring.Record) { // a view, valid until it returns
		if rec.Type == perfring.RecordSample {
			loc, _ := location.Uint(rec.Raw)
			drops[loc]++
		}
	}
	end := time.Now().Add(time.Second)
	for time.Now().Before(end) {
		rd.SetDeadline(time.Now().Add(100 * time.Millisecond))
		_, err := rd.ReadBatch(context.Background(), count)
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, perfring.ErrCorrupt) {
			log.Fatal(err)
		}
	}
	rd.Drain(count) // what came in since the last batch
	fmt.Println(len(drops), "locations,", ev.Lost(), "records lost")
}
