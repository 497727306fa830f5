package tracepoint_test

import (
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
