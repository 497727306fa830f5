package perfring

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// Record types, as in perf_event_header.type.
const (
	RecordSample     = unix.PERF_RECORD_SAMPLE
	RecordLost       = unix.PERF_RECORD_LOST
	RecordThrottle   = unix.PERF_RECORD_THROTTLE
	RecordUnthrottle = unix.PERF_RECORD_UNTHROTTLE
	RecordComm       = unix.PERF_RECORD_COMM
)

// headerSize is sizeof(struct perf_event_header): type u32, misc u16, size u16.
const headerSize = 8

// Record is one record read from a ring. Slices are views valid until the
// next read from the same Reader; copy what must outlive it.
type Record struct {
	CPU  int    // the ring's CPU
	Type uint32 // PERF_RECORD_* (RecordSample, RecordLost, ...)
	Misc uint16 // perf_event_header.misc (PERF_RECORD_MISC_*)

	// Lost is, for a PERF_RECORD_LOST record, the number of records the
	// kernel dropped because the ring was full.
	Lost uint64

	// PERF_RECORD_SAMPLE fields, filled as the ring's sample type says.
	// ID holds PERF_SAMPLE_IDENTIFIER or PERF_SAMPLE_ID (the kernel writes the
	// same value for both), and the event id of a PERF_RECORD_LOST record.
	IP        uint64
	Pid, Tid  uint32
	Time      uint64
	Addr      uint64
	ID        uint64
	StreamID  uint64
	SampleCPU uint32
	Period    uint64

	// Callchain is PERF_SAMPLE_CALLCHAIN, with the PERF_CONTEXT_* markers
	// as the kernel gives them.
	Callchain []uint64
	// Raw is the PERF_SAMPLE_RAW payload, exactly as many bytes as the
	// kernel's u32 size prefix says (the prefix itself is stripped).
	Raw []byte

	// Comm is, for a PERF_RECORD_COMM record, the task's new name (without
	// its NUL); Pid and Tid say whose.
	Comm []byte
}

// decode fills rec from the bytes of one whole record (header included),
// which start at data-area offset off of ring r.
func (r *Ring) decode(rec *Record, b []byte, off uint64) error {
	typ := binary.NativeEndian.Uint32(b[0:])
	misc := binary.NativeEndian.Uint16(b[4:])
	*rec = Record{CPU: r.cpu, Type: typ, Misc: misc}
	switch typ {
	case RecordSample:
		if reason := r.parseSample(rec, b); reason != "" {
			return r.corrupt(off, uint64(len(b)), reason)
		}
	case RecordLost:
		// struct { header; u64 id; u64 lost; struct sample_id sample_id; }
		if len(b) < headerSize+16 {
			return r.corrupt(off, uint64(len(b)),
				fmt.Sprintf("PERF_RECORD_LOST of %d bytes, want at least %d", len(b), headerSize+16))
		}
		rec.ID = binary.NativeEndian.Uint64(b[headerSize:])
		rec.Lost = binary.NativeEndian.Uint64(b[headerSize+8:])
		r.lost.Add(rec.Lost)
	case RecordComm:
		// struct { header; u32 pid, tid; char comm[]; struct sample_id; }:
		// the name is NUL-terminated and padded to 8 bytes.
		if len(b) < headerSize+9 {
			return r.corrupt(off, uint64(len(b)),
				fmt.Sprintf("PERF_RECORD_COMM of %d bytes, want at least %d", len(b), headerSize+9))
		}
		rec.Pid = binary.NativeEndian.Uint32(b[headerSize:])
		rec.Tid = binary.NativeEndian.Uint32(b[headerSize+4:])
		comm := b[headerSize+8:]
		end := bytes.IndexByte(comm, 0)
		if end < 0 {
			return r.corrupt(off, uint64(len(b)), "PERF_RECORD_COMM without a NUL-terminated name")
		}
		rec.Comm = comm[:end]
	}
	return nil
}

// corrupt builds the error for a bad record at data-area offset off.
func (r *Ring) corrupt(off, skipped uint64, reason string) error {
	r.corrupted.Add(1)
	return &CorruptError{CPU: r.cpu, Offset: off, Reason: reason, Skipped: skipped}
}
