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

// parseSample decodes a PERF_RECORD_SAMPLE (b holds the whole record) in the
// order of struct perf_record_sample in perf_event_open(2). It returns a
// reason when the record is too short for what its sample type declares.
func (r *Ring) parseSample(rec *Record, b []byte) string {
	st := r.sampleType
	if len(b) < headerSize+r.fixedSize {
		return fmt.Sprintf("sample of %d bytes, its sample type needs %d", len(b), headerSize+r.fixedSize)
	}
	o := headerSize
	u64 := func() uint64 { v := binary.NativeEndian.Uint64(b[o:]); o += 8; return v }
	if st&unix.PERF_SAMPLE_IDENTIFIER != 0 {
		rec.ID = u64()
	}
	if st&unix.PERF_SAMPLE_IP != 0 {
		rec.IP = u64()
	}
	if st&unix.PERF_SAMPLE_TID != 0 {
		rec.Pid = binary.NativeEndian.Uint32(b[o:])
		rec.Tid = binary.NativeEndian.Uint32(b[o+4:])
		o += 8
	}
	if st&unix.PERF_SAMPLE_TIME != 0 {
		rec.Time = u64()
	}
	if st&unix.PERF_SAMPLE_ADDR != 0 {
		rec.Addr = u64()
	}
	if st&unix.PERF_SAMPLE_ID != 0 {
		rec.ID = u64()
	}
	if st&unix.PERF_SAMPLE_STREAM_ID != 0 {
		rec.StreamID = u64()
	}
	if st&unix.PERF_SAMPLE_CPU != 0 {
		rec.SampleCPU = binary.NativeEndian.Uint32(b[o:])
		o += 8 // u32 cpu, u32 res
	}
	if st&unix.PERF_SAMPLE_PERIOD != 0 {
		rec.Period = u64()
	}
	if st&unix.PERF_SAMPLE_CALLCHAIN != 0 {
		n, reason := r.parseCallchain(rec, b[o:])
		if reason != "" {
			return reason
		}
		o += n
	}
	if st&unix.PERF_SAMPLE_RAW != 0 {
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
