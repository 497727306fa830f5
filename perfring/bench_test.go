package perfring

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkRingRead reads kfree_skb-sized samples (44 raw bytes, sample type
// RAW|TIME|CPU|TID: 80 bytes a record) from a synthetic ring refilled with
// the timer stopped. memcpy is the floor: copying each record out, no
// parsing, no publishing.
func BenchmarkRingRead(b *testing.B) {
	const st = unix.PERF_SAMPLE_RAW | unix.PERF_SAMPLE_TIME | unix.PERF_SAMPLE_CPU | unix.PERF_SAMPLE_TID
	sample := encodeSample(st, &Record{Pid: 1, Tid: 2, Time: 3, SampleCPU: 0, Raw: pattern(44)})
	ctx := context.Background()
	benches := []struct {
		name  string
		rings int // rings in the Reader; only the first has records
		read  func(rd *Reader, rec *Record) error
	}{
		{"ReadInto", 1, func(rd *Reader, rec *Record) error { return rd.ReadInto(rec) }},
		{"ReadContext", 1, func(rd *Reader, rec *Record) error { return rd.ReadContext(ctx, rec) }},
		{"ReadPending", 1, func(rd *Reader, rec *Record) error { _, err := rd.ReadPending(rec); return err }},
		{"ReadInto/8rings-1busy", 8, func(rd *Reader, rec *Record) error { return rd.ReadInto(rec) }},
		{"ReadBatch", 1, nil},
		{"ReadBatch/8rings-1busy", 8, nil},
		{"memcpy", 1, nil},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			var rings []*Ring
			var busy *synthRing
			for cpu := range bb.rings {
				s := newSynthRing(b, cpu, 256, st, 0, false)
				s.w.NoWake = true
				rings = append(rings, s.Ring)
				if busy == nil {
					busy = s
				}
			}
			rd := newTestReader(b, rings...)
			var rec Record
			var sink [128]byte
			check := func(rec *Record) {
				if len(rec.Raw) != 44 {
					b.Fatalf("raw of %d bytes", len(rec.Raw))
				}
			}
			b.SetBytes(int64(len(sample)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; {
				b.StopTimer()
				n := 0
				for busy.w.Free() >= uint64(len(sample)) {
					busy.w.Write(sample)
					n++
				}
				b.StartTimer()
				if strings.HasPrefix(bb.name, "ReadBatch") {
					got, err := rd.ReadBatch(ctx, check)
					if err != nil || got != n {
						b.Fatalf("ReadBatch = %d, %v; want %d records", got, err, n)
					}
					i += n
					continue
				}
				if bb.read == nil {
					i += copyOut(busy, sink[:], n, b.N-i)
					continue
				}
				for ; n > 0 && i < b.N; n, i = n-1, i+1 {
					if err := bb.read(rd, &rec); err != nil || len(rec.Raw) != 44 {
						b.Fatal(err)
					}
				}
				if n > 0 { // leave the ring empty for the next run
					for ok, _ := rd.ReadPending(&rec); ok; ok, _ = rd.ReadPending(&rec) {
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/record")
		})
	}
}

// copyOut copies up to min(n, max) 80-byte records out of s, wrapping, and
// then frees them; it returns how many it copied.
func copyOut(s *synthRing, sink []byte, n, max int) int {
	n = min(n, max)
	for range n {
		off := s.Ring.tail & s.mask
		c := copy(sink[:80], s.data[off:])
		copy(sink[c:80], s.data)
		s.Ring.tail += 80
	}
	s.rewind(s.w.Head)
	return n
}
