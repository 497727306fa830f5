package perfring

import (
	"errors"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// contextUser is PERF_CONTEXT_USER as it appears in a callchain.
const contextUser = uint64(1<<64 + unix.PERF_CONTEXT_USER)

// requirePerf skips when the kernel refuses perf events, or fails when
// DROPMON_REQUIRE_PRIVILEGED=1 says it must not.
func requirePerf(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	refused := errors.Is(err, os.ErrPermission) || errors.Is(err, unix.ENOENT) ||
		errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP)
	if !refused || os.Getenv("DROPMON_REQUIRE_PRIVILEGED") == "1" {
		t.Fatal(err)
	}
	t.Skipf("perf events unavailable: %v", err)
}

// TestRealPerfEvent samples a spinning thread with the cpu-clock software
// event (user space only, so kernel.perf_event_paranoid up to 2 allows it)
// and reads the kernel's own ring: wakeups through epoll, the
// perf_event_mmap_page offsets, the sample layout, and lost records.
func TestRealPerfEvent(t *testing.T) {
	const st = unix.PERF_SAMPLE_IDENTIFIER | unix.PERF_SAMPLE_IP | unix.PERF_SAMPLE_TID |
		unix.PERF_SAMPLE_TIME | unix.PERF_SAMPLE_CPU | unix.PERF_SAMPLE_PERIOD | unix.PERF_SAMPLE_CALLCHAIN
	type opened struct {
		fd, tid int
		err     error
	}
	openc := make(chan opened)
	var stop atomic.Bool
	defer stop.Store(true)
	go func() {
		// pid 0, cpu -1: this thread wherever it runs, so stay on it.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		attr := unix.PerfEventAttr{
			Type:        unix.PERF_TYPE_SOFTWARE,
			Config:      unix.PERF_COUNT_SW_CPU_CLOCK,
			Size:        uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
			Sample:      50_000, // ns of CPU time
			Sample_type: st,
			Bits:        unix.PerfBitExcludeKernel | unix.PerfBitExcludeHv,
			Wakeup:      1,
		}
		fd, err := unix.PerfEventOpen(&attr, 0, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
		openc <- opened{fd, unix.Gettid(), err}
		for x := 0; !stop.Load(); x++ {
			_ = x * x
		}
	}()
	o := <-openc
	requirePerf(t, o.err)
	defer unix.Close(o.fd)
	ring, err := NewRing(o.fd, -1, 2, st)
	requirePerf(t, err)
	defer ring.Close()
	rd, err := NewReaderWithOptions(testReaderOptions, ring)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()

	rd.SetDeadline(time.Now().Add(10 * time.Second))
	var rec Record
	var samples int
	var lastTime uint64
	for samples < 200 {
		if err := rd.ReadInto(&rec); err != nil {
			t.Fatalf("after %d samples: %v", samples, err)
		}
		if rec.Type != RecordSample {
			continue
		}
		samples++
		if rec.Pid != uint32(os.Getpid()) || rec.Tid != uint32(o.tid) || rec.IP == 0 || rec.Period == 0 ||
			int(rec.SampleCPU) >= runtime.NumCPU() || rec.Time < lastTime || rec.ID == 0 {
			t.Fatalf("sample %d: %+v (pid %d, tid %d)", samples, rec, os.Getpid(), o.tid)
		}
		if len(rec.Callchain) == 0 || rec.Callchain[0] != contextUser {
			t.Fatalf("sample %d: callchain %x, want PERF_CONTEXT_USER first", samples, rec.Callchain)
		}
		lastTime = rec.Time
		if samples%50 == 0 {
			time.Sleep(20 * time.Millisecond) // let the ring overflow now and then
		}
	}
	t.Logf("%d samples, %d lost", samples, ring.Lost())
}
