package perfdata_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"os"

	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/internal/perfdata"
)

// Write two samples of a tracepoint to a perf.data file and read them back
// in time order.
func Example() {
	f, err := os.CreateTemp("", "example-*.data")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()

	attr := perfdata.Attr{Name: "skb:kfree_skb", IDs: []uint64{7}, Attr: unix.PerfEventAttr{
		Type:        unix.PERF_TYPE_TRACEPOINT,
		Config:      2310, // the event's ID in tracefs
		Sample:      1,
		Sample_type: unix.PERF_SAMPLE_IDENTIFIER | unix.PERF_SAMPLE_TID | unix.PERF_SAMPLE_TIME | unix.PERF_SAMPLE_CPU | unix.PERF_SAMPLE_RAW,
		Bits:        unix.PerfBitSampleIDAll,
	}}
	w, err := perfdata.Create(f, []perfdata.Attr{attr}, &perfdata.Meta{Hostname: "example"})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range []perfdata.Sample{
		{ID: 7, Pid: 1, Tid: 1, Time: 200, CPU: 1, Raw: []byte("second\x00\x00\x00\x00")},
		{ID: 7, Pid: 1, Tid: 1, Time: 100, CPU: 0, Raw: []byte("first\x00\x00\x00\x00\x00")},
	} {
		if err := w.WriteSample(0, &s); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	size, _ := f.Seek(0, io.SeekEnd)
	pf, err := perfdata.Open(f, size)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pf.Attrs[0].Name, pf.Meta.Hostname)
	err = pf.SortedRecords(func(r *perfdata.Record) error {
		raw := r.Sample.Raw[:bytes.IndexByte(r.Sample.Raw, 0)]
		fmt.Printf("time %d cpu %d %s\n", r.Sample.Time, r.Sample.CPU, raw)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// skb:kfree_skb example
	// time 100 cpu 0 first
	// time 200 cpu 1 second
}
