package monitor

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/dropcount"
	"github.com/dropmon/dropmon/internal/ringsynth"
	"github.com/dropmon/dropmon/jit"
	"github.com/dropmon/dropmon/perfring"
	"github.com/dropmon/dropmon/tracepoint"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// pipelineSampleType is what the monitor's event asks for without a pid
// filter (tracepoint.Options.RawOnly).
const pipelineSampleType = unix.PERF_SAMPLE_RAW

// pipelineKeys is how many (location, reason) pairs the synthetic storm
// has; they are drawn from a Zipf distribution, as drops are: a few sites
// take most of them.
const pipelineKeys = 256

// BenchmarkPipeline is the record path without a kernel: kfree_skb samples
// in the kernel's ring layout (Linux 6.18's record, 56 bytes), keyed by 256
// (location, reason) pairs in a Zipf mix, written into a 1 MiB ring in
// memory that wraps, read in batches by perfring, run through the drop
// counter by the worker's record function and counted in its hash map.
// native is the floor: a plain-Go loop that decodes the same records from
// the same ring and counts them in a Go map.
func BenchmarkPipeline(b *testing.B) {
	format := kfreeSkbFormat(b)
	records := stormRecords(b, format, 4096)
	for _, engine := range []string{"native", "jit", "interp"} {
		b.Run(engine, func(b *testing.B) {
			ring, rd := pipelineRing(b)
			var drain func() int
			var check func(n uint64)
			if engine == "native" {
				counts := map[[2]uint64]uint64{}
				loc, _ := format.Field("location")
				reason, _ := format.Field("reason")
				drain = func() int { return nativeDrain(ring, loc.Offset, reason.Offset, counts) }
				check = func(n uint64) {
					var sum uint64
					for _, c := range counts {
						sum += c
					}
					if sum != n {
						b.Fatalf("native counted %d records, want %d", sum, n)
					}
				}
			} else {
				w, sum := pipelineWorker(b, format, engine, rd)
				drain = func() int {
					n, err := rd.Drain(w.handle)
					if err != nil || w.nRunErrors != 0 {
						b.Fatalf("drain: %v, %d run errors", err, w.nRunErrors)
					}
					return n
				}
				check = func(n uint64) {
					if got := sum(); got != n {
						b.Fatalf("%s counted %d records, want %d", engine, got, n)
					}
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			var done uint64
			next := 0
			for done < uint64(b.N) {
				b.StopTimer()
				for n := 0; done+uint64(n) < uint64(b.N) && ring.Free() >= uint64(len(records[next])); n++ {
					ring.Write(records[next])
					if next++; next == len(records) {
						next = 0
					}
				}
				b.StartTimer()
				done += uint64(drain())
			}
			b.StopTimer()
			check(done)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/record")
		})
	}
}

// kfreeSkbFormat parses Linux 6.18's skb:kfree_skb format (with rx_sk).
func kfreeSkbFormat(tb testing.TB) *tracepoint.Format {
	tb.Helper()
	text, err := os.ReadFile(filepath.Join("..", "..", "tracepoint", "testdata", "kfree_skb_6.18.format"))
	if err != nil {
		tb.Fatal(err)
	}
	format, err := tracepoint.ParseFormat("skb", "kfree_skb", text)
	if err != nil {
		tb.Fatal(err)
	}
	return format
}

// stormRecords encodes n kfree_skb samples as the kernel writes them for
// PERF_SAMPLE_RAW: the perf header, then the raw record (u32 size and the
// format's bytes, padded so the sample ends on 8 bytes).
func stormRecords(tb testing.TB, format *tracepoint.Format, n int) [][]byte {
	tb.Helper()
	loc, err := format.Field("location")
	if err != nil {
		tb.Fatal(err)
	}
	reason, err := format.Field("reason")
	if err != nil {
		tb.Fatal(err)
	}
	rawSize := format.Size() + 4 // the kernel pads raw so that u32 size + raw is a multiple of 8
	zipf := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.2, 1, pipelineKeys-1)
	out := make([][]byte, n)
	for i := range out {
		k := zipf.Uint64()
		rec := ringsynth.Header(unix.PERF_RECORD_SAMPLE, 0, 8+4+rawSize)
		rec = binary.NativeEndian.AppendUint32(rec, uint32(rawSize))
		raw := make([]byte, rawSize)
		binary.NativeEndian.PutUint64(raw[loc.Offset:], 0xffffffff81000000+k*0x40)
		binary.NativeEndian.PutUint32(raw[reason.Offset:], uint32(2+k%16))
		out[i] = append(rec, raw...)
	}
	return out
}

// pipelineRing makes a 1 MiB synthetic ring and a Reader over it.
func pipelineRing(tb testing.TB) (*ringsynth.Ring, *perfring.Reader) {
	tb.Helper()
	mem, err := ringsynth.New((1<<20)/os.Getpagesize(), 0, false)
	if err != nil {
		tb.Fatal(err)
	}
	mem.NoWake = true
	ring, err := perfring.NewRingFromMemory(mem.Mem, mem.FD, 0, pipelineSampleType)
	if err != nil {
		tb.Fatal(err)
	}
	rd, err := perfring.NewReader(ring)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		rd.Close()
		ring.Close()
		mem.Close()
	})
	return mem, rd
}

// pipelineWorker loads the drop counter on engine and returns the worker
// that runs it, and a function that sums the counter's map.
func pipelineWorker(tb testing.TB, format *tracepoint.Format, engine string, rd *perfring.Reader) (*worker, func() uint64) {
	tb.Helper()
	prog, err := dropcount.Program(format, DefaultMaxEntries)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := verifier.Verify(prog, &verifier.Options{ContextSize: format.Size()})
	if err != nil {
		tb.Fatal(err)
	}
	prep, err := userspacevm.PrepareVerified(v, nil)
	if err != nil {
		tb.Fatal(err)
	}
	eng, err := engineByName(engine)
	if err != nil {
		tb.Fatal(err)
	}
	if je, ok := eng.(jit.Engine); ok {
		je.Exclusive = true // one runner, as the monitor's one reader
		eng = je
	}
	runner, err := eng.Load(prep)
	if err == jit.ErrNotSupported {
		tb.Skipf("engine %s: %v", engine, err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		runner.Close()
		prep.Close()
	})
	m := &Monitor{format: format, preps: []*userspacevm.Prepared{prep}, counts: prep.Maps[0]}
	sum := func() uint64 {
		counts, err := m.Counts()
		if err != nil {
			tb.Fatal(err)
		}
		var n uint64
		for _, c := range counts {
			n += c
		}
		return n
	}
	return newWorker(m, rd, runner), sum
}

// nativeDrain is the plain-Go floor: it decodes each sample of the ring
// (header, raw size, location, reason) and counts it in a Go map, then
// hands the space back, as perfring does, once per batch.
func nativeDrain(ring *ringsynth.Ring, locOff, reasonOff int, counts map[[2]uint64]uint64) int {
	meta := (*unix.PerfEventMmapPage)(unsafePointer(ring.Mem))
	head := loadAcquire(&meta.Data_head)
	tail := meta.Data_tail
	mask := uint64(len(ring.Data) - 1)
	var n int
	var scratch [128]byte
	for tail != head {
		off := tail & mask
		size := uint64(binary.NativeEndian.Uint16(ring.Data[off+6:]))
		rec := ring.Data[off:min(off+size, uint64(len(ring.Data)))]
		if uint64(len(rec)) < size { // wraps: reassemble
			c := copy(scratch[:], rec)
			copy(scratch[c:size], ring.Data)
			rec = scratch[:size]
		}
		if binary.NativeEndian.Uint32(rec) == unix.PERF_RECORD_SAMPLE {
			raw := rec[8+4:]
			key := [2]uint64{binary.NativeEndian.Uint64(raw[locOff:]), uint64(binary.NativeEndian.Uint32(raw[reasonOff:]))}
			counts[key]++
			n++
		}
		tail += size
	}
	storeRelease(&meta.Data_tail, tail)
	return n
}
