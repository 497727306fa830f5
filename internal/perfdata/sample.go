package perfdata

import (
	"math/bits"

	"golang.org/x/sys/unix"
)

// Sample is one PERF_RECORD_SAMPLE's fields, those a tracepoint sample
// carries. A field is written and read only when the attr's sample_type has
// its bit. For records other than samples, the reader fills the fields of
// the sample_id_all trailer (Pid, Tid, Time, ID, CPU) when the file has one.
type Sample struct {
	ID       uint64 // PERF_SAMPLE_IDENTIFIER, or PERF_SAMPLE_ID
	IP       uint64
	Pid, Tid uint32
	Time     uint64
	Addr     uint64
	StreamID uint64
	CPU      uint32
	Period   uint64
	// Callchain holds the kernel's addresses with its PERF_CONTEXT_*
	// markers (values above PERF_CONTEXT_MAX) in place.
	Callchain []uint64
	// Raw is the PERF_SAMPLE_RAW payload without its u32 size: the
	// tracepoint record. The kernel pads it so that size and payload end on
	// 8 bytes; the writer adds that padding when it is missing, so a raw
	// record of n bytes reads back with (n+4+7)/8*8-4 bytes.
	Raw []byte
}

// sampleSize returns the encoded size of s's record under sampleType.
func sampleSize(sampleType uint64, s *Sample) int {
	const fixed = sampleIdentifier | sampleIP | sampleTID | sampleTime | sampleAddr |
		sampleID | sampleStreamID | sampleCPU | samplePeriod
	n := recordHeaderSize + 8*bits.OnesCount64(sampleType&fixed)
	if sampleType&sampleCallchain != 0 {
		n += 8 + 8*len(s.Callchain)
	}
	if sampleType&sampleRaw != 0 {
		n += rawPadded(len(s.Raw))
	}
	return n
}

// rawPadded is the size of a raw field, u32 size included, padded to 8.
func rawPadded(n int) int { return (4 + n + 7) &^ 7 }

// encodeSample appends the body of a PERF_RECORD_SAMPLE (header excluded)
// to b, in the kernel's field order (perf_output_sample).
func encodeSample(b []byte, sampleType uint64, s *Sample) []byte {
	if sampleType&sampleIdentifier != 0 {
		b = le.AppendUint64(b, s.ID)
	}
	if sampleType&sampleIP != 0 {
		b = le.AppendUint64(b, s.IP)
	}
	if sampleType&sampleTID != 0 {
		b = le.AppendUint32(b, s.Pid)
		b = le.AppendUint32(b, s.Tid)
	}
	if sampleType&sampleTime != 0 {
		b = le.AppendUint64(b, s.Time)
	}
	if sampleType&sampleAddr != 0 {
		b = le.AppendUint64(b, s.Addr)
	}
	if sampleType&sampleID != 0 {
		b = le.AppendUint64(b, s.ID)
	}
	if sampleType&sampleStreamID != 0 {
		b = le.AppendUint64(b, s.StreamID)
	}
	if sampleType&sampleCPU != 0 {
		b = le.AppendUint32(b, s.CPU)
		b = le.AppendUint32(b, 0)
	}
	if sampleType&samplePeriod != 0 {
		b = le.AppendUint64(b, s.Period)
	}
	if sampleType&sampleCallchain != 0 {
		b = le.AppendUint64(b, uint64(len(s.Callchain)))
		for _, ip := range s.Callchain {
			b = le.AppendUint64(b, ip)
		}
	}
	if sampleType&sampleRaw != 0 {
		padded := rawPadded(len(s.Raw))
		b = le.AppendUint32(b, uint32(padded-4))
		b = append(b, s.Raw...)
		for i := 4 + len(s.Raw); i < padded; i++ {
			b = append(b, 0)
		}
	}
	return b
}

// encodeSampleID appends the sample_id_all trailer of a non-sample record
// (perf_event__output_id_sample), whose fields come in another order.
func encodeSampleID(b []byte, sampleType uint64, s *Sample) []byte {
	if sampleType&sampleTID != 0 {
		b = le.AppendUint32(b, s.Pid)
		b = le.AppendUint32(b, s.Tid)
	}
	if sampleType&sampleTime != 0 {
		b = le.AppendUint64(b, s.Time)
	}
	if sampleType&sampleID != 0 {
		b = le.AppendUint64(b, s.ID)
	}
	if sampleType&sampleStreamID != 0 {
		b = le.AppendUint64(b, s.StreamID)
	}
	if sampleType&sampleCPU != 0 {
		b = le.AppendUint32(b, s.CPU)
		b = le.AppendUint32(b, 0)
	}
	if sampleType&sampleIdentifier != 0 {
		b = le.AppendUint64(b, s.ID)
	}
	return b
}

// sampleIDSize is the size of the sample_id_all trailer.
func sampleIDSize(sampleType uint64) int {
	const fields = sampleTID | sampleTime | sampleID | sampleStreamID | sampleCPU | sampleIdentifier
	return 8 * bits.OnesCount64(sampleType&fields)
}

// hasSampleIDAll reports whether a's non-sample records carry the trailer.
func hasSampleIDAll(a *unix.PerfEventAttr) bool { return a.Bits&unix.PerfBitSampleIDAll != 0 }
