package perfring

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// supportedSampleType lists the PERF_SAMPLE_* bits parseSample decodes: the
// fixed-size fields, the callchain and the raw payload. The others (READ,
// BRANCH_STACK, REGS_*, STACK_USER, ...) come after RAW or have layouts that
// depend on more of perf_event_attr than a sample type.
const supportedSampleType = unix.PERF_SAMPLE_IDENTIFIER | unix.PERF_SAMPLE_IP |
	unix.PERF_SAMPLE_TID | unix.PERF_SAMPLE_TIME | unix.PERF_SAMPLE_ADDR |
	unix.PERF_SAMPLE_ID | unix.PERF_SAMPLE_STREAM_ID | unix.PERF_SAMPLE_CPU |
	unix.PERF_SAMPLE_PERIOD | unix.PERF_SAMPLE_CALLCHAIN | unix.PERF_SAMPLE_RAW

// fixedSampleBits are the fields of 8 bytes each (TID and CPU are u32 pairs)
// that come before the callchain.
const fixedSampleBits = supportedSampleType &^ (unix.PERF_SAMPLE_CALLCHAIN | unix.PERF_SAMPLE_RAW)

var sampleBitNames = [...]string{
	"IP", "TID", "TIME", "ADDR", "READ", "CALLCHAIN", "ID", "CPU", "PERIOD",
	"STREAM_ID", "RAW", "BRANCH_STACK", "REGS_USER", "STACK_USER", "WEIGHT",
	"DATA_SRC", "IDENTIFIER", "TRANSACTION", "REGS_INTR", "PHYS_ADDR", "AUX",
	"CGROUP", "DATA_PAGE_SIZE", "CODE_PAGE_SIZE", "WEIGHT_STRUCT",
}

// checkSampleType rejects sample types parseSample cannot decode and returns
// the size of the fixed fields.
func checkSampleType(st uint64) (int, error) {
	if extra := st &^ supportedSampleType; extra != 0 {
		return 0, fmt.Errorf("sample type %#x: bits %s: %w (supported: IDENTIFIER, IP, TID, "+
			"TIME, ADDR, ID, STREAM_ID, CPU, PERIOD, CALLCHAIN, RAW)", st, sampleBits(extra), ErrNotSupported)
	}
	return 8 * bits.OnesCount64(st&fixedSampleBits), nil
}

// sampleBits names the bits of st: "READ|BRANCH_STACK".
func sampleBits(st uint64) string {
	var names []string
	for st != 0 {
		i := bits.TrailingZeros64(st)
		st &^= 1 << i
		if i < len(sampleBitNames) {
			names = append(names, "PERF_SAMPLE_"+sampleBitNames[i])
		} else {
			names = append(names, fmt.Sprintf("bit %d", i))
		}
	}
	return strings.Join(names, "|")
}

// sampleLayout holds where each fixed field of a sample lies, as an offset
// from the start of the record (header included), or -1 when the sample
// type leaves it out. The fixed fields come first, in the order of struct
// perf_record_sample in perf_event_open(2), so their offsets depend on the
// sample type alone; it is worked out once per ring, not per record.
type sampleLayout struct {
	identifier, ip, tid, time, addr, id, streamID, cpu, period int
	fixedEnd                                                   int  // offset just past the fixed fields
	callchain                                                  bool // a callchain follows the fixed fields
	raw                                                        bool // a raw payload follows (the callchain, if any)
}

func newSampleLayout(st uint64) sampleLayout {
	o := headerSize
	field := func(bit uint64) int {
		if st&bit == 0 {
			return -1
		}
		o += 8 // every fixed field is 8 bytes (TID and CPU are u32 pairs)
		return o - 8
	}
	l := sampleLayout{
		identifier: field(unix.PERF_SAMPLE_IDENTIFIER),
		ip:         field(unix.PERF_SAMPLE_IP),
		tid:        field(unix.PERF_SAMPLE_TID),
		time:       field(unix.PERF_SAMPLE_TIME),
		addr:       field(unix.PERF_SAMPLE_ADDR),
		id:         field(unix.PERF_SAMPLE_ID),
		streamID:   field(unix.PERF_SAMPLE_STREAM_ID),
		cpu:        field(unix.PERF_SAMPLE_CPU),
		period:     field(unix.PERF_SAMPLE_PERIOD),
		callchain:  st&unix.PERF_SAMPLE_CALLCHAIN != 0,
		raw:        st&unix.PERF_SAMPLE_RAW != 0,
	}
	l.fixedEnd = o
	return l
}

// readFixed reads the fixed fields of a sample from b, the whole record,
// which holds at least l.fixedEnd bytes.
func (l *sampleLayout) readFixed(rec *Record, b []byte) {
	b = b[:l.fixedEnd]
	u64 := func(off int) uint64 { return binary.NativeEndian.Uint64(b[off:]) }
	if l.identifier >= 0 {
		rec.ID = u64(l.identifier)
	}
	if l.ip >= 0 {
		rec.IP = u64(l.ip)
	}
	if l.tid >= 0 {
		rec.Pid = binary.NativeEndian.Uint32(b[l.tid:])
		rec.Tid = binary.NativeEndian.Uint32(b[l.tid+4:])
	}
	if l.time >= 0 {
		rec.Time = u64(l.time)
	}
	if l.addr >= 0 {
		rec.Addr = u64(l.addr)
	}
	if l.id >= 0 {
		rec.ID = u64(l.id)
	}
	if l.streamID >= 0 {
		rec.StreamID = u64(l.streamID)
	}
	if l.cpu >= 0 {
		rec.SampleCPU = binary.NativeEndian.Uint32(b[l.cpu:]) // u32 cpu, u32 res
	}
	if l.period >= 0 {
		rec.Period = u64(l.period)
	}
}

// parseSample decodes a PERF_RECORD_SAMPLE (b holds the whole record) with
// the ring's layout. It returns a reason when the record is too short for
// what its sample type declares.
func (r *Ring) parseSample(rec *Record, b []byte) string {
	l := &r.layout
	if len(b) < l.fixedEnd {
		return fmt.Sprintf("sample of %d bytes, its sample type needs %d", len(b), l.fixedEnd)
	}
	l.readFixed(rec, b)
	o := l.fixedEnd
	if l.callchain {
		n, reason := r.parseCallchain(rec, b[o:])
		if reason != "" {
			return reason
		}
		o += n
	}
	if l.raw {
		return parseRaw(rec, b[o:])
	}
	return ""
}

// parseCallchain decodes { u64 nr; u64 ips[nr]; } at the start of b and
// returns how many bytes it used. The ips are a view of b when b is 8-byte
// aligned, as records in the ring and in the scratch buffer are; otherwise
// they are copied into the ring's reused buffer.
func (r *Ring) parseCallchain(rec *Record, b []byte) (int, string) {
	if len(b) < 8 {
		return 0, fmt.Sprintf("callchain nr needs 8 bytes, %d left in the record", len(b))
	}
	nr := binary.NativeEndian.Uint64(b)
	if nr > uint64(len(b)-8)/8 {
		return 0, fmt.Sprintf("callchain of %d entries runs past the record (%d bytes left)", nr, len(b)-8)
	}
	if nr == 0 {
		return 8, ""
	}
	ips := b[8 : 8+8*nr]
	if p := unsafe.Pointer(&ips[0]); uintptr(p)%8 == 0 {
		rec.Callchain = unsafe.Slice((*uint64)(p), nr)
	} else {
		if uint64(cap(r.chain)) < nr {
			r.chain = make([]uint64, nr)
		}
		rec.Callchain = r.chain[:nr]
		for i := range rec.Callchain {
			rec.Callchain[i] = binary.NativeEndian.Uint64(ips[8*i:])
		}
	}
	return 8 + 8*int(nr), ""
}

// parseRaw decodes { u32 size; char data[size]; } at the start of b.
func parseRaw(rec *Record, b []byte) string {
	if len(b) < 4 {
		return fmt.Sprintf("raw size needs 4 bytes, %d left in the record", len(b))
	}
	n := binary.NativeEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return fmt.Sprintf("raw data of %d bytes runs past the record (%d bytes left)", n, len(b)-4)
	}
	rec.Raw = b[4 : 4+n : 4+n]
	return ""
}
