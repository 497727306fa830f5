package perfring

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fuzzSampleBits are the sample_type bits a fuzz input picks from.
var fuzzSampleBits = []uint64{
	unix.PERF_SAMPLE_IDENTIFIER, unix.PERF_SAMPLE_IP, unix.PERF_SAMPLE_TID, unix.PERF_SAMPLE_TIME,
	unix.PERF_SAMPLE_ADDR, unix.PERF_SAMPLE_ID, unix.PERF_SAMPLE_STREAM_ID, unix.PERF_SAMPLE_CPU,
	unix.PERF_SAMPLE_PERIOD, unix.PERF_SAMPLE_CALLCHAIN, unix.PERF_SAMPLE_RAW,
}

func fuzzSampleType(sel uint16) uint64 {
	var st uint64
	for i, bit := range fuzzSampleBits {
		if sel&(1<<i) != 0 {
			st |= bit
		}
	}
	return st
}

// FuzzRing puts arbitrary bytes into a ring's data area, at an arbitrary
// position and with data_head possibly past them, and reads them back with
// ReadBatch and ReadInto. Reading must not panic or loop, every error must
// be a *CorruptError that the corrupt count reflects, each record's views
// must lie within the record, and a good record written afterwards must
// read back whole.
func FuzzRing(f *testing.F) {
	full := uint16(1<<len(fuzzSampleBits) - 1)
	withRaw := uint16(1 << 10)
	f.Add(rawSample([]byte("hello")), withRaw, uint16(0), uint16(0), false)
	f.Add(append(rawSample(pattern(12)), lostRecord(7, 3)...), withRaw, uint16(4090), uint16(0), true)
	f.Add(encodeSample(fuzzSampleType(full), &Record{IP: 1, Pid: 2, Callchain: []uint64{3, 4}, Raw: []byte("x")}),
		full, uint16(4000), uint16(0), false)
	f.Add(header(RecordSample, 0, 0)[:8], uint16(0), uint16(0), uint16(100), false)
	f.Fuzz(func(t *testing.T, data []byte, sel uint16, pos uint16, extraHead uint16, batch bool) {
		st := fuzzSampleType(sel)
		s := newSynthRing(t, 1, 1, st, uint64(pos), false)
		rd := newTestReader(t, s.Ring)
		if len(data) > len(s.w.Data) {
			data = data[:len(s.w.Data)]
		}
		s.w.Put(data)
		s.w.Head += uint64(extraHead) // a data_head past what was written
		s.w.Commit()

		check := func(rec *Record) {
			if uint64(len(rec.Raw)) > uint64(len(s.w.Data)) || uint64(len(rec.Callchain))*8 > uint64(len(s.w.Data)) {
				t.Fatalf("record views larger than the ring: raw %d bytes, callchain %d entries", len(rec.Raw), len(rec.Callchain))
			}
		}
		var corrupt int
		// Each read either moves the tail by a record's size (at least 8
		// bytes) or resyncs to data_head: the ring empties in a bounded
		// number of reads.
		limit := len(data)/8 + int(extraHead)/8 + 4
		for i := 0; ; i++ {
			if i > limit {
				t.Fatalf("still reading after %d reads of %d bytes", i, len(data)+int(extraHead))
			}
			rd.SetDeadline(time.Now())
			var err error
			if batch {
				_, err = rd.ReadBatch(context.Background(), check)
			} else {
				var rec Record
				if err = rd.ReadInto(&rec); err == nil {
					check(&rec)
				}
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			var ce *CorruptError
			switch {
			case errors.As(err, &ce):
				corrupt++
			case err != nil:
				t.Fatalf("read: %v, want a record, a *CorruptError or the deadline", err)
			}
		}
		if corrupt > 0 && rd.Corrupt() == 0 {
			t.Fatalf("%d corrupt records reported, Corrupt() = 0", corrupt)
		}

		// Whatever came before, the framing is back at data_head.
		s.rewind(s.w.Head)
		good := encodeSample(st, &Record{IP: 5, Pid: 6, Tid: 7, Time: 8, Raw: []byte("ok")})
		if !s.w.Write(good) {
			t.Fatal("no room for the good record")
		}
		rd.SetDeadline(time.Now().Add(time.Second))
		var rec Record
		if err := rd.ReadInto(&rec); err != nil {
			t.Fatalf("good record after the fuzzed ones: %v", err)
		}
		if st&unix.PERF_SAMPLE_RAW != 0 && string(rec.Raw) != "ok" {
			t.Fatalf("good record read back with raw %q", rec.Raw)
		}
	})
}
