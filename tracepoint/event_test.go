package tracepoint_test

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/internal/testutil"
	"github.com/dropmon/dropmon/perfring"
	"github.com/dropmon/dropmon/tracepoint"
)

func reasonCode(t *testing.T, f *tracepoint.Format, name string) uint64 {
	t.Helper()
	for v, n := range f.Symbols["reason"] {
		if n == name {
			return v
		}
	}
	t.Fatalf("the kernel's kfree_skb format has no reason %s", name)
	return 0
}

func TestKfreeSkbExactCount(t *testing.T) {
	const n = 1000
	ev, err := tracepoint.Open("skb", "kfree_skb", &tracepoint.Options{RingPages: 64})
	testutil.Privileged(t, err)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()

	format := ev.Format()
	reason, err := format.Field("reason")
	if err != nil {
		t.Skipf("kernel gives kfree_skb no reason: %v", err)
	}
	noSocket := reasonCode(t, format, "NO_SOCKET")
	location, err := format.Field("location")
	if err != nil {
		t.Fatal(err)
	}

	rd := dropsInRings(t, ev, n)

	pid := uint32(os.Getpid())
	var got, samples int
	locations := map[uint64]int{}
	var rec perfring.Record
	rd.SetDeadline(time.Now().Add(200 * time.Millisecond))
	for {
		err := rd.ReadInto(&rec)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.Type != perfring.RecordSample {
			continue
		}
		samples++
		r, ok := reason.Uint(rec.Raw)
		if !ok {
			t.Fatalf("record of %d bytes has no reason field", len(rec.Raw))
		}
		if rec.Pid == pid && r == noSocket {
			got++
			loc, _ := location.Uint(rec.Raw)
			locations[loc]++
		}
	}
	if lost := ev.Lost(); lost != 0 {
		t.Errorf("lost %d records", lost)
	}
	if got != n {
		t.Errorf("read %d NO_SOCKET records from pid %d, want %d (%d samples in all)", got, pid, n, samples)
	}
	if len(locations) != 1 {
		t.Errorf("drops came from %d locations, want 1 (__udp4_lib_rcv): %v", len(locations), locations)
	}
}

func TestKfreeSkbPerCPUReaders(t *testing.T) {
	const n = 200
	ev, err := tracepoint.Open("skb", "kfree_skb", &tracepoint.Options{Watermark: 4096, Callchain: true, ClockMonotonic: true})
	testutil.Privileged(t, err)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	readers, err := ev.NewCPUReaders()
	if err != nil {
		t.Fatal(err)
	}
	if len(readers) != len(ev.CPUs()) {
		t.Fatalf("%d readers for %d cpus", len(readers), len(ev.CPUs()))
	}
	if err := ev.Enable(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	testutil.SendToClosedPort(t, n)
	ev.Disable()

	pid := uint32(os.Getpid())
	got := 0
	var rec perfring.Record
	for i, rd := range readers {
		for {
			ok, err := rd.ReadPending(&rec)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			if rec.Type != perfring.RecordSample || rec.Pid != pid {
				continue
			}
			got++
			if rec.CPU != ev.CPUs()[i] || int(rec.SampleCPU) != rec.CPU {
				t.Errorf("record from reader of cpu %d says cpu %d (sample cpu %d)", ev.CPUs()[i], rec.CPU, rec.SampleCPU)
			}
			if len(rec.Callchain) == 0 {
				t.Errorf("record has no callchain")
			}
			// CLOCK_MONOTONIC: within the test's own lifetime.
			if now := monotonicNow(t); rec.Time > now || now-rec.Time > uint64(time.Since(start)+time.Second) {
				t.Errorf("record time %d is not CLOCK_MONOTONIC near %d", rec.Time, now)
			}
		}
	}
	if got < n {
		t.Errorf("read %d records from pid %d, want at least %d", got, pid, n)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name    string
		group   string
		event   string
		opts    *tracepoint.Options
		wantErr string
		is      error
	}{
		{name: "unknown event suggests", group: "skb", event: "kfree_skbb", wantErr: "kfree_skb", is: tracepoint.ErrNotFound},
		{name: "unknown group", group: "nosuchgroup", event: "x", is: tracepoint.ErrNotFound},
		{name: "path in name", group: "skb", event: "../../x", wantErr: "invalid"},
		{name: "ring not power of two", group: "skb", event: "kfree_skb", opts: &tracepoint.Options{RingPages: 3}, wantErr: "power of two"},
		{name: "bad filter", group: "skb", event: "kfree_skb", opts: &tracepoint.Options{Filter: "nosuchfield == 1"}, wantErr: "set filter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := tracepoint.Open(tt.group, tt.event, tt.opts)
			if err == nil {
				ev.Close()
				t.Fatal("Open succeeded")
			}
			testutil.Privileged(t, err)
			if tt.wantErr != "" && !strings.Contains(strings.ToLower(err.Error()), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
		})
	}
}

func TestCloseTwiceAndAfterClose(t *testing.T) {
	ev, err := tracepoint.Open("skb", "kfree_skb", nil)
	testutil.Privileged(t, err)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := ev.NewReader()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		var rec perfring.Record
		for {
			if err := rd.ReadInto(&rec); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	if err := ev.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, perfring.ErrClosed) {
		t.Errorf("blocked reader returned %v, want ErrClosed", err)
	}
	if err := ev.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := ev.Enable(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Enable after Close: %v", err)
	}
}

// TestKfreeSkbRawOnly reads records without pid, time or CPU (what dropmon
// asks for) in batches, as the monitor does, and counts this process's
// drops by the records' own common_pid, a thread of this process.
func TestKfreeSkbRawOnly(t *testing.T) {
	const n = 1000
	ev, err := tracepoint.Open("skb", "kfree_skb", &tracepoint.Options{RawOnly: true, Watermark: 64 << 10})
	testutil.Privileged(t, err)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	if ev.SampleType() != unix.PERF_SAMPLE_RAW {
		t.Fatalf("sample type %#x, want PERF_SAMPLE_RAW alone", ev.SampleType())
	}
	format := ev.Format()
	commonPid, err := format.Field("common_pid")
	if err != nil {
		t.Fatal(err)
	}
	rd := dropsInRings(t, ev, n)
	threads := map[uint64]bool{}
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		tid, _ := strconv.ParseUint(e.Name(), 10, 32)
		threads[tid] = true
	}
	var got, other int
	count := func(rec *perfring.Record) {
		if rec.Type != perfring.RecordSample {
			return
		}
		if rec.Pid != 0 || rec.Time != 0 || len(rec.Raw) < format.Size() {
			t.Fatalf("raw-only record %+v", rec)
		}
		if pid, _ := commonPid.Uint(rec.Raw); threads[pid] {
			got++
		} else {
			other++
		}
	}
	// Below the watermark the kernel wakes nobody: Drain takes what is there.
	if _, err := rd.Drain(count); err != nil {
		t.Fatal(err)
	}
	if lost := ev.Lost(); lost != 0 {
		t.Errorf("lost %d records", lost)
	}
	if got != n {
		t.Errorf("read %d records from this process's threads, want %d (%d from others)", got, n, other)
	}
}

// dropsInRings makes a reader over ev's rings, enables ev, makes n drops
// and disables ev: the drops are in the rings.
func dropsInRings(t *testing.T, ev *tracepoint.Event, n int) *perfring.Reader {
	t.Helper()
	rd, err := ev.NewReader()
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Enable(); err != nil {
		t.Fatal(err)
	}
	testutil.SendToClosedPort(t, n)
	if err := ev.Disable(); err != nil {
		t.Fatal(err)
	}
	return rd
}
