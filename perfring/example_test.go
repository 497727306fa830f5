package perfring_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"time"
	"unsafe"

	"github.com/dropmon/dropmon/perfring"
	"golang.org/x/sys/unix"
)

// Read the samples of a perf event, here a CPU-clock sampler of this thread's
// user space (tracepoint.Open gives such fds for tracepoints, one per CPU).
func Example() {
	const sampleType = unix.PERF_SAMPLE_TID | unix.PERF_SAMPLE_TIME | unix.PERF_SAMPLE_CALLCHAIN
	attr := unix.PerfEventAttr{
		Type:        unix.PERF_TYPE_SOFTWARE,
		Config:      unix.PERF_COUNT_SW_CPU_CLOCK,
		Size:        uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Sample:      1_000_000, // every ms of CPU time
		Sample_type: sampleType,
		Bits:        unix.PerfBitExcludeKernel,
		Wakeup:      1,
	}
	fd, err := unix.PerfEventOpen(&attr, 0, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		log.Fatal(err)
	}
	defer unix.Close(fd)

	ring, err := perfring.NewRing(fd, -1, 8, sampleType) // -1: follows the thread; 8 data pages
	if err != nil {
		log.Fatal(err) // an EPERM here says which locked-memory limit to raise
	}
	defer ring.Close() // after the reader's Close, deferred below

	rd, err := perfring.NewReader(ring) // or NewReader(rings...) for every CPU
	if err != nil {
		log.Fatal(err)
	}
	defer rd.Close()

	var rec perfring.Record // reused: reading allocates nothing
	rd.SetDeadline(time.Now().Add(time.Second))
	for {
		err := rd.ReadInto(&rec)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			fmt.Println("lost:", rd.Lost())
			return
		case errors.Is(err, perfring.ErrCorrupt):
			log.Print(err) // skipped; reading goes on
			continue
		case err != nil:
			log.Fatal(err)
		}
		if rec.Type == perfring.RecordSample {
			fmt.Println(rec.CPU, rec.Tid, rec.Time, len(rec.Callchain))
		}
	}
}
