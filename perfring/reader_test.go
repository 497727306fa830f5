package perfring

import (
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// seqSample is a raw sample carrying a CPU and a sequence number.
func seqSample(cpu int, seq uint64) []byte {
	raw := binary.NativeEndian.AppendUint32(nil, uint32(cpu))
	raw = binary.NativeEndian.AppendUint64(raw, seq)
	return rawSample(raw) // 8 + 4 + 12 = 24 bytes
}

func seqOf(t testing.TB, rec *Record) (int, uint64) {
	t.Helper()
	if rec.Type != RecordSample || len(rec.Raw) != 12 {
		t.Fatalf("not a sequence sample: %+v", rec)
	}
	return int(binary.NativeEndian.Uint32(rec.Raw)), binary.NativeEndian.Uint64(rec.Raw[4:])
}

func TestLostRecords(t *testing.T) {
	s := newSynthRing(t, 1, 1, unix.PERF_SAMPLE_RAW, 0, false)
	rd := newTestReader(t, s.Ring)
	var seq, written uint64
	for round, extra := range []int{10, 3} {
		for s.w.Write(seqSample(1, seq)) {
			seq++
			written++
		}
		seq++
		for range extra {
			s.w.Write(seqSample(1, seq))
			seq++
		}
		dropped := uint64(extra + 1)
		var rec Record
		for n := 0; ; n++ {
			ok, err := rd.ReadPending(&rec)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			if _, got := seqOf(t, &rec); got != seq-dropped-written+uint64(n) {
				t.Fatalf("round %d: record %d has seq %d", round, n, got)
			}
		}
		written = 0
		// The next record that fits brings the PERF_RECORD_LOST in front.
		if !s.w.Write(seqSample(1, seq)) {
			t.Fatal("write after draining did not fit")
		}
		if err := rd.ReadInto(&rec); err != nil || rec.Type != RecordLost || rec.Lost != dropped || rec.ID != 101 || rec.CPU != 1 {
			t.Fatalf("round %d: ReadInto = %v, %+v; want PERF_RECORD_LOST of %d", round, err, rec, dropped)
		}
		if err := rd.ReadInto(&rec); err != nil {
			t.Fatal(err)
		}
		if _, got := seqOf(t, &rec); got != seq {
			t.Fatalf("round %d: after the lost record: seq %d, want %d", round, got, seq)
		}
		seq++
		if s.Lost() != s.w.Total || rd.Lost() != s.w.Total {
			t.Fatalf("round %d: ring.Lost() = %d, reader.Lost() = %d, want %d", round, s.Lost(), rd.Lost(), s.w.Total)
		}
	}
}

func TestSeveralCPUs(t *testing.T) {
	const cpus = 4
	rings := make([]*synthRing, cpus)
	var all []*Ring
	for i := range rings {
		rings[i] = newSynthRing(t, i, 4, unix.PERF_SAMPLE_RAW, 0, false)
		all = append(all, rings[i].Ring)
	}
	rd := newTestReader(t, all...)

	t.Run("round-robin", func(t *testing.T) {
		for seq := range uint64(5) {
			for cpu, s := range rings {
				s.w.Write(seqSample(cpu, seq))
			}
		}
		var rec Record
		for i := range 5 * cpus {
			if err := rd.ReadInto(&rec); err != nil {
				t.Fatal(err)
			}
			cpu, seq := seqOf(t, &rec)
			if rec.CPU != cpu || cpu != i%cpus || seq != uint64(i/cpus) {
				t.Fatalf("record %d: CPU %d carries cpu %d seq %d", i, rec.CPU, cpu, seq)
			}
		}
	})

	t.Run("concurrent writers", func(t *testing.T) {
		const n = 3000
		var wg sync.WaitGroup
		var stop atomic.Bool
		defer wg.Wait() // before the rings are unmapped
		defer stop.Store(true)
		for cpu, s := range rings {
			wg.Go(func() {
				for seq := uint64(0); seq < n && !stop.Load(); {
					// Wait for space: these writers must not lose records.
					if b := seqSample(cpu, seq); s.w.Free() >= uint64(len(b)) {
						s.w.Write(b)
						seq++
					} else {
						time.Sleep(50 * time.Microsecond)
					}
				}
			})
		}
		next := make([]uint64, cpus)
		rd.SetDeadline(time.Now().Add(20 * time.Second))
		defer rd.SetDeadline(time.Time{})
		var rec Record
		for range n * cpus {
			if err := rd.ReadInto(&rec); err != nil {
				t.Fatal(err)
			}
			cpu, seq := seqOf(t, &rec)
			if rec.CPU != cpu || seq != next[cpu] {
				t.Fatalf("CPU %d: cpu %d seq %d, want seq %d", rec.CPU, cpu, seq, next[cpu])
			}
			next[cpu]++
		}
		wg.Wait()
		if rd.Lost() != 0 {
			t.Fatalf("lost %d", rd.Lost())
		}
	})
}

// TestSlowReader has a writer outrun a reader that naps, on a one-page ring,
// and checks that every record is either read or counted as lost, and that
// each PERF_RECORD_LOST accounts exactly for the gap that follows it.
func TestSlowReader(t *testing.T) {
	const n = 20000
	s := newSynthRing(t, 0, 1, unix.PERF_SAMPLE_RAW, 0, false)
	rd := newTestReader(t, s.Ring)
	done := make(chan uint64, 1)
	var stop atomic.Bool
	defer func() {
		stop.Store(true)
		<-done // before the ring is unmapped
	}()
	go func() {
		defer close(done)
		for seq := range uint64(n) {
			if stop.Load() {
				return
			}
			s.w.Write(seqSample(0, seq))
			if seq%64 == 0 {
				time.Sleep(10 * time.Microsecond)
			}
		}
		for !s.w.FlushLost() && !stop.Load() {
			time.Sleep(100 * time.Microsecond)
		}
		done <- s.w.Total
	}()
	rd.SetDeadline(time.Now().Add(30 * time.Second))
	var rec Record
	var next, read, lost uint64
	for read+lost < n {
		if err := rd.ReadInto(&rec); err != nil {
			t.Fatalf("after %d read, %d lost: %v", read, lost, err)
		}
		if rec.Type == RecordLost {
			lost += rec.Lost
			next += rec.Lost
			continue
		}
		if _, seq := seqOf(t, &rec); seq != next {
			t.Fatalf("seq %d, want %d", seq, next)
		}
		next++
		if read++; read%100 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	total := <-done
	if ok, err := rd.ReadPending(&rec); ok || err != nil {
		t.Fatalf("extra record: %v, %+v", err, rec)
	}
	if read+lost != n || lost != total || rd.Lost() != total {
		t.Fatalf("read %d + lost %d != %d (writer dropped %d, reader.Lost %d)", read, lost, n, total, rd.Lost())
	}
	if lost == 0 || read == 0 {
		t.Fatalf("read %d, lost %d: the test did not make the ring overflow", read, lost)
	}
	t.Logf("read %d, lost %d", read, lost)
}

func TestReaderOwnership(t *testing.T) {
	s := newSynthRing(t, 2, 1, unix.PERF_SAMPLE_RAW, 0, false)
	if s.CPU() != 2 || s.FD() != s.fd {
		t.Fatalf("CPU() = %d, FD() = %d", s.CPU(), s.FD())
	}
	if _, err := NewReader(); err == nil || !strings.Contains(err.Error(), "no rings") {
		t.Fatalf("NewReader(): %v", err)
	}
	if _, err := NewReader(s.Ring, nil); !errors.Is(err, errNilRing) {
		t.Fatalf("NewReader(ring, nil): %v", err)
	}
	if _, err := NewReader(s.Ring, s.Ring); err == nil || !strings.Contains(err.Error(), "cpu 2: ring is already read by another reader") {
		t.Fatalf("NewReader(ring, ring): %v", err)
	}
	rd, err := NewReader(s.Ring)
	if err != nil {
		t.Fatalf("failed NewReader calls left the ring claimed: %v", err)
	}
	if err := s.Close(); err == nil || !strings.Contains(err.Error(), "close the reader first") {
		t.Fatalf("Ring.Close under an open reader: %v", err)
	}
	if err := rd.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := NewReader(s.Ring); err == nil || !strings.Contains(err.Error(), "ring is closed") {
		t.Fatalf("NewReader(closed ring): %v", err)
	}
}

// TestNoAllocs checks the per-record path of every read method, wrapping
// records included, allocates nothing.
func TestNoAllocs(t *testing.T) {
	s := newSynthRing(t, 0, 1, unix.PERF_SAMPLE_RAW|unix.PERF_SAMPLE_CALLCHAIN, 0, false)
	s.w.NoWake = true
	rd := newTestReader(t, s.Ring)
	b := encodeSample(unix.PERF_SAMPLE_RAW|unix.PERF_SAMPLE_CALLCHAIN, &Record{Callchain: pattern64(3), Raw: pattern(44)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var rec Record
	reads := map[string]func() error{
		"ReadInto":    func() error { return rd.ReadInto(&rec) },
		"ReadContext": func() error { return rd.ReadContext(ctx, &rec) },
		"ReadPending": func() error { _, err := rd.ReadPending(&rec); return err },
	}
	for name, read := range reads {
		allocs := testing.AllocsPerRun(1000, func() {
			s.w.Write(b)
			if err := read(); err != nil || len(rec.Raw) != 44 || len(rec.Callchain) != 3 {
				t.Fatalf("%s: %v", name, err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per record", name, allocs)
		}
	}
}

// TestLeakedReader checks the cleanup under Close: a Reader dropped without
// Close lets go of its ring.
func TestLeakedReader(t *testing.T) {
	s := newSynthRing(t, 0, 1, unix.PERF_SAMPLE_RAW, 0, false)
	if _, err := NewReader(s.Ring); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.state.Load() != ringFree {
		if time.Now().After(deadline) {
			t.Fatal("the ring is still claimed by an unreachable reader")
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}
