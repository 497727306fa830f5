package perfring

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestReadBatch writes random streams of samples and lost-record
// notifications through rings that wrap, reads them in batches, and checks
// every record, that fn sees data_tail unmoved (it is published once per
// batch). Bases that are not 8-byte aligned take the checked decoding path
// for every record, the others the fast path for most.
func TestReadBatch(t *testing.T) {
	kfree := uint64(unix.PERF_SAMPLE_RAW | unix.PERF_SAMPLE_TIME | unix.PERF_SAMPLE_CPU | unix.PERF_SAMPLE_TID)
	types := []struct {
		name string
		st   uint64
	}{
		{"kfree_skb", kfree},
		{"raw only", unix.PERF_SAMPLE_RAW},
		{"no raw", unix.PERF_SAMPLE_TID | unix.PERF_SAMPLE_TIME},
		{"identifier and period", kfree | unix.PERF_SAMPLE_IDENTIFIER | unix.PERF_SAMPLE_PERIOD | unix.PERF_SAMPLE_IP},
		{"callchain", kfree | unix.PERF_SAMPLE_CALLCHAIN},
		{"all bits", supportedSampleType},
	}
	for _, tt := range types {
		for _, base := range []uint64{0, (^uint64(0) - 5000) &^ 7, 1<<40 + 4} {
			t.Run(fmt.Sprintf("%s/base %#x", tt.name, base), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(len(tt.name)), base))
				s := newSynthRing(t, 3, 1, tt.st, base, false)
				s.w.NoWake = true
				rd := newTestReader(t, s.Ring)
				var want, got []Record
				tailAtStart := uint64(0)
				check := func(rec *Record) {
					if tail := atomic.LoadUint64(s.tailp); tail != tailAtStart {
						t.Fatalf("data_tail moved from %d to %d during a batch", tailAtStart, tail)
					}
					c := *rec
					c.Raw, c.Callchain = slices.Clone(rec.Raw), slices.Clone(rec.Callchain)
					got = append(got, c)
				}
				for round := range 40 {
					for range rng.IntN(60) {
						rec := randomRecord(rng, tt.st)
						b := encodeSample(tt.st, &rec)
						if rec.Type == RecordLost {
							b = lostRecord(rec.ID, rec.Lost)
						}
						if s.w.Free() < uint64(len(b)) {
							break
						}
						if !s.w.Write(b) {
							t.Fatal("write did not fit")
						}
						rec.CPU = 3
						want = append(want, rec)
					}
					tailAtStart = atomic.LoadUint64(s.tailp)
					n, err := rd.Drain(check)
					if err != nil {
						t.Fatalf("round %d: %v", round, err)
					}
					if n != len(want)-(len(got)-n) || len(got) != len(want) {
						t.Fatalf("round %d: batch of %d, %d of %d records read", round, n, len(got), len(want))
					}
					if tail := atomic.LoadUint64(s.tailp); tail != s.w.Head {
						t.Fatalf("round %d: data_tail %d after the batch, want data_head %d", round, tail, s.w.Head)
					}
				}
				for i := range want {
					if d := diffRecord(&got[i], &want[i]); d != "" {
						t.Fatalf("record %d: %s", i, d)
					}
				}
			})
		}
	}
}

// randomRecord makes a sample of sample type st with random fields, or now
// and then a lost-record notification.
func randomRecord(rng *rand.Rand, st uint64) Record {
	if rng.IntN(10) == 0 {
		return Record{Type: RecordLost, ID: rng.Uint64(), Lost: rng.Uint64N(100) + 1}
	}
	full := Record{Type: RecordSample, Misc: uint16(rng.IntN(4)), IP: rng.Uint64(), Pid: rng.Uint32(),
		Tid: rng.Uint32(), Time: rng.Uint64(), Addr: rng.Uint64(), ID: rng.Uint64(), StreamID: rng.Uint64(),
		SampleCPU: rng.Uint32N(64), Period: rng.Uint64(), Callchain: pattern64(rng.IntN(5)), Raw: pattern(rng.IntN(70))}
	r := Record{Type: RecordSample, Misc: full.Misc}
	if st&(unix.PERF_SAMPLE_IDENTIFIER|unix.PERF_SAMPLE_ID) != 0 {
		r.ID = full.ID
	}
	if st&unix.PERF_SAMPLE_IP != 0 {
		r.IP = full.IP
	}
	if st&unix.PERF_SAMPLE_TID != 0 {
		r.Pid, r.Tid = full.Pid, full.Tid
	}
	if st&unix.PERF_SAMPLE_TIME != 0 {
		r.Time = full.Time
	}
	if st&unix.PERF_SAMPLE_ADDR != 0 {
		r.Addr = full.Addr
	}
	if st&unix.PERF_SAMPLE_STREAM_ID != 0 {
		r.StreamID = full.StreamID
	}
	if st&unix.PERF_SAMPLE_CPU != 0 {
		r.SampleCPU = full.SampleCPU
	}
	if st&unix.PERF_SAMPLE_PERIOD != 0 {
		r.Period = full.Period
	}
	if st&unix.PERF_SAMPLE_CALLCHAIN != 0 && len(full.Callchain) > 0 {
		r.Callchain = full.Callchain
	}
	if st&unix.PERF_SAMPLE_RAW != 0 {
		r.Raw = full.Raw
	}
	return r
}

// TestReadBatchCorrupt puts a sample whose raw size runs past its record
// between good ones: the batch goes on past it and reports it once.
func TestReadBatchCorrupt(t *testing.T) {
	s := newSynthRing(t, 0, 1, unix.PERF_SAMPLE_RAW, 0, false)
	rd := newTestReader(t, s.Ring)
	good := rawSample(pattern(12))
	bad := rawSample(pattern(12))
	bad[headerSize] = 200 // raw size 200 in a 24-byte record
	for _, b := range [][]byte{good, bad, good} {
		s.w.Write(b)
	}
	var raws int
	n, err := rd.ReadBatch(context.Background(), func(rec *Record) {
		if len(rec.Raw) != 12 {
			t.Errorf("raw of %d bytes", len(rec.Raw))
		}
		raws++
	})
	var ce *CorruptError
	if n != 2 || raws != 2 || !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("ReadBatch = %d, %v; want 2 records and a *CorruptError", n, err)
	}
	if rd.Corrupt() != 1 {
		t.Errorf("Corrupt() = %d, want 1", rd.Corrupt())
	}
}

// TestReadBatchWake checks that Wake ends a blocked batch read, and that a
// Wake before the read makes it return at once.
func TestReadBatchWake(t *testing.T) {
	s := newSynthRing(t, 0, 1, unix.PERF_SAMPLE_RAW, 0, false)
	rd := newTestReader(t, s.Ring)
	noop := func(*Record) {}
	later(t, 50*time.Millisecond, rd.Wake)
	start := time.Now()
	if n, err := rd.ReadBatch(context.Background(), noop); n != 0 || err != nil {
		t.Fatalf("ReadBatch = %d, %v after Wake; want 0, nil", n, err)
	}
	if el := time.Since(start); el < 40*time.Millisecond {
		t.Fatalf("ReadBatch returned after %s, before Wake", el)
	}
	rd.Wake()
	if n, err := rd.ReadBatch(context.Background(), noop); n != 0 || err != nil {
		t.Fatalf("ReadBatch = %d, %v after an earlier Wake; want 0, nil", n, err)
	}
}

// TestReadBatchDeadline writes records without waking the reader, as the
// kernel does below the wakeup watermark: the deadline hands them out.
func TestReadBatchDeadline(t *testing.T) {
	s := newSynthRing(t, 0, 1, unix.PERF_SAMPLE_RAW, 0, false)
	s.w.NoWake = true
	rd := newTestReader(t, s.Ring)
	ctx := context.Background()
	rd.SetDeadline(time.Now().Add(100 * time.Millisecond))
	later(t, 20*time.Millisecond, func() {
		for range 3 {
			s.w.Write(rawSample(pattern(8)))
		}
	})
	var n int
	var err error
	for n == 0 && err == nil {
		n, err = rd.ReadBatch(ctx, func(*Record) {})
	}
	if n != 3 || err != nil {
		t.Fatalf("ReadBatch = %d, %v; want the 3 records below the watermark", n, err)
	}
	if n, err := rd.ReadBatch(ctx, func(*Record) {}); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadBatch on an empty ring past the deadline = %d, %v", n, err)
	}
}
