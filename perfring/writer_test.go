package perfring

import (
	"encoding/binary"
	"os"
	"sync/atomic"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// synthRing is a perf ring without a kernel: anonymous shared memory laid
// out as perf_event_mmap_page plus data pages, written by a kernelWriter,
// with an eventfd standing in for the perf fd.
type synthRing struct {
	*Ring
	w *kernelWriter
}

// newSynthRing makes a synthetic ring whose head and tail start at pos.
// When legacy is set, data_offset and data_size stay zero, as before Linux
// 4.1, and the reader must fall back to the page size.
func newSynthRing(tb testing.TB, cpu, dataPages int, sampleType, pos uint64, legacy bool) *synthRing {
	tb.Helper()
	page := os.Getpagesize()
	mem, err := unix.Mmap(-1, 0, (1+dataPages)*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		tb.Fatal(err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		tb.Fatal(err)
	}
	meta := (*unix.PerfEventMmapPage)(unsafe.Pointer(&mem[0]))
	if !legacy {
		meta.Data_offset, meta.Data_size = uint64(page), uint64(dataPages*page)
	}
	meta.Data_head, meta.Data_tail = pos, pos
	ring, err := newRingFromMemory(mem, efd, cpu, sampleType)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := ring.Close(); err != nil {
			tb.Error(err)
		}
		unix.Close(efd)
		unix.Munmap(mem)
	})
	w := &kernelWriter{
		data:  mem[page : page+dataPages*page],
		headp: &meta.Data_head,
		tailp: &meta.Data_tail,
		head:  pos,
		fd:    efd,
		id:    uint64(100 + cpu),
	}
	return &synthRing{Ring: ring, w: w}
}

// kernelWriter writes records the way kernel/events/ring_buffer.c does in
// non-overwrite mode: free space is checked against data_tail, bytes go at
// head modulo the size and wrap, data_head is published with a release
// store after the bytes, and the fd is signalled. A record that does not fit
// is dropped and counted; the count goes out as PERF_RECORD_LOST{id, lost}
// in front of the next record that fits together with it.
type kernelWriter struct {
	data    []byte
	headp   *uint64
	tailp   *uint64
	head    uint64
	fd      int
	id      uint64
	noWake  bool   // do not signal the fd (records below the watermark)
	dropped uint64 // dropped since the last PERF_RECORD_LOST
	total   uint64 // dropped in all
}

const lostRecordSize = headerSize + 16

// write emits rec (a whole record, header included). It reports whether rec
// made it into the ring.
func (w *kernelWriter) write(rec []byte) bool {
	need := uint64(len(rec))
	if w.dropped > 0 {
		need += lostRecordSize
	}
	if w.free() < need {
		w.dropped++
		w.total++
		return false
	}
	if w.dropped > 0 {
		w.put(lostRecord(w.id, w.dropped))
		w.dropped = 0
	}
	w.put(rec)
	w.commit()
	return true
}

// flushLost emits the pending PERF_RECORD_LOST alone, if there is space.
// The kernel waits for the next record instead; tests use this to account
// for every record at the end.
func (w *kernelWriter) flushLost() bool {
	if w.dropped == 0 {
		return true
	}
	if w.free() < lostRecordSize {
		return false
	}
	w.put(lostRecord(w.id, w.dropped))
	w.dropped = 0
	w.commit()
	return true
}

// free loads data_tail (the kernel's READ_ONCE plus smp_mb, pairing with
// the reader's release store) and returns the free bytes.
func (w *kernelWriter) free() uint64 {
	return uint64(len(w.data)) - (w.head - atomic.LoadUint64(w.tailp))
}

// put copies b at head, wrapping around the end of the data area. It is
// also used by corruption tests to write arbitrary bytes.
func (w *kernelWriter) put(b []byte) {
	off := w.head % uint64(len(w.data))
	n := copy(w.data[off:], b)
	copy(w.data, b[n:])
	w.head += uint64(len(b))
}

// commit publishes data_head and signals the reader.
func (w *kernelWriter) commit() {
	atomic.StoreUint64(w.headp, w.head)
	if !w.noWake {
		var one [8]byte
		binary.NativeEndian.PutUint64(one[:], 1)
		unix.Write(w.fd, one[:])
	}
}

// rewind moves an idle ring (no reader inside, all read) to position pos.
func (s *synthRing) rewind(pos uint64) {
	atomic.StoreUint64(s.w.headp, pos)
	atomic.StoreUint64(s.w.tailp, pos)
	s.w.head = pos
	s.Ring.head, s.Ring.tail, s.Ring.dirty = pos, pos, false
}

func header(typ uint32, misc uint16, size int) []byte {
	b := make([]byte, headerSize, max(size, headerSize))
	binary.NativeEndian.PutUint32(b, typ)
	binary.NativeEndian.PutUint16(b[4:], misc)
	binary.NativeEndian.PutUint16(b[6:], uint16(size))
	return b
}

func lostRecord(id, lost uint64) []byte {
	b := header(RecordLost, 0, lostRecordSize)
	b = binary.NativeEndian.AppendUint64(b, id)
	return binary.NativeEndian.AppendUint64(b, lost)
}

// encodeSample lays out s as a PERF_RECORD_SAMPLE of sample type st, in the
// order perf_event_open(2) gives, padding the raw data to 8 bytes as the
// kernel does. It is written independently of parseSample on purpose.
func encodeSample(st uint64, s *Record) []byte {
	var body []byte
	u64 := func(v uint64) { body = binary.NativeEndian.AppendUint64(body, v) }
	u32s := func(a, b uint32) {
		body = binary.NativeEndian.AppendUint32(body, a)
		body = binary.NativeEndian.AppendUint32(body, b)
	}
	fields := []struct {
		bit uint64
		put func()
	}{
		{unix.PERF_SAMPLE_IDENTIFIER, func() { u64(s.ID) }},
		{unix.PERF_SAMPLE_IP, func() { u64(s.IP) }},
		{unix.PERF_SAMPLE_TID, func() { u32s(s.Pid, s.Tid) }},
		{unix.PERF_SAMPLE_TIME, func() { u64(s.Time) }},
		{unix.PERF_SAMPLE_ADDR, func() { u64(s.Addr) }},
		{unix.PERF_SAMPLE_ID, func() { u64(s.ID) }},
		{unix.PERF_SAMPLE_STREAM_ID, func() { u64(s.StreamID) }},
		{unix.PERF_SAMPLE_CPU, func() { u32s(s.SampleCPU, 0) }},
		{unix.PERF_SAMPLE_PERIOD, func() { u64(s.Period) }},
		{unix.PERF_SAMPLE_CALLCHAIN, func() {
			u64(uint64(len(s.Callchain)))
			for _, ip := range s.Callchain {
				u64(ip)
			}
		}},
		{unix.PERF_SAMPLE_RAW, func() {
			body = binary.NativeEndian.AppendUint32(body, uint32(len(s.Raw)))
			body = append(body, s.Raw...)
			for len(body)%8 != 0 {
				body = append(body, 0)
			}
		}},
	}
	for _, f := range fields {
		if st&f.bit != 0 {
			f.put()
		}
	}
	b := header(RecordSample, s.Misc, headerSize+len(body))
	return append(b, body...)
}

// rawSample is a sample of type RAW carrying payload.
func rawSample(payload []byte) []byte {
	return encodeSample(unix.PERF_SAMPLE_RAW, &Record{Raw: payload})
}

func newTestReader(tb testing.TB, rings ...*Ring) *Reader {
	tb.Helper()
	rd, err := NewReader(rings...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := rd.Close(); err != nil {
			tb.Error(err)
		}
	})
	return rd
}
