package perfring

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/internal/ringsynth"
)

// synthRing is a perf ring without a kernel (ringsynth): anonymous shared
// memory written by a kernel-like writer, with an eventfd standing in for
// the perf fd.
type synthRing struct {
	*Ring
	w *ringsynth.Writer
}

// newSynthRing makes a synthetic ring whose head and tail start at pos.
// When legacy is set, data_offset and data_size stay zero, as before Linux
// 4.1, and the reader must fall back to the page size.
func newSynthRing(tb testing.TB, cpu, dataPages int, sampleType, pos uint64, legacy bool) *synthRing {
	tb.Helper()
	mem, err := ringsynth.New(dataPages, pos, legacy)
	if err != nil {
		tb.Fatal(err)
	}
	ring, err := NewRingFromMemory(mem.Mem, mem.FD, cpu, sampleType)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := ring.Close(); err != nil {
			tb.Error(err)
		}
		mem.Close()
	})
	mem.ID = uint64(100 + cpu)
	return &synthRing{Ring: ring, w: mem.Writer}
}

const lostRecordSize = ringsynth.LostRecordSize

// rewind moves an idle ring (no reader inside, all read) to position pos.
func (s *synthRing) rewind(pos uint64) {
	s.w.Rewind(pos)
	s.Ring.head, s.Ring.tail, s.Ring.dirty = pos, pos, false
}

func header(typ uint32, misc uint16, size int) []byte { return ringsynth.Header(typ, misc, size) }

func lostRecord(id, lost uint64) []byte { return ringsynth.LostRecord(id, lost) }

// commRecord lays out a PERF_RECORD_COMM: pid, tid, the name with its NUL,
// padded to 8 bytes, as perf_event_comm_output writes it.
func commRecord(pid, tid uint32, comm string) []byte {
	body := binary.NativeEndian.AppendUint32(nil, pid)
	body = binary.NativeEndian.AppendUint32(body, tid)
	body = append(body, comm...)
	body = append(body, make([]byte, 8-len(comm)%8)...)
	return append(header(RecordComm, 0, 8+len(body)), body...)
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

// testReaderOptions are the options newTestReader uses:
// TestBlockInSyscall runs the waiting tests again with epoll_wait.
var testReaderOptions *ReaderOptions

func newTestReader(tb testing.TB, rings ...*Ring) *Reader {
	tb.Helper()
	rd, err := NewReaderWithOptions(testReaderOptions, rings...)
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
