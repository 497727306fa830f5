package perfdata

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// Record types: the kernel's (include/uapi/linux/perf_event.h) and the ones
// perf adds to its files (tools/lib/perf/include/perf/event.h), from 64 up.
// Only the exported ones reach callers of Records.
const (
	RecordLost          = 2  // PERF_RECORD_LOST
	RecordSample        = 9  // PERF_RECORD_SAMPLE
	RecordFinishedRound = 68 // PERF_RECORD_FINISHED_ROUND
	recordMmap          = 1
	recordComm          = 3
	recordCompressed    = 81
)

const (
	recordHeaderSize = 8
	miscKernel       = 1       // PERF_RECORD_MISC_KERNEL
	miscBuildIDSize  = 1 << 15 // PERF_RECORD_MISC_BUILD_ID_SIZE
	maxRecordSize    = 1<<16 - 8
	hostKernelPID    = -1
	kernelMmapName   = "[kernel.kallsyms]_text"
	kernelDSOName    = "[kernel.kallsyms]"
	attrSize         = unix.PERF_ATTR_SIZE_VER7 // the size of unix.PerfEventAttr, and what perf 6.1 reads
	fileHeaderSize   = 104
	fileAttrSize     = attrSize + 16
	nameAlign        = 64
	featureBits      = 256
	sampleIDAllBit   = 1 << 18       // bit of sample_id_all in perf_event_attr's flags
	perfContextMax   = ^uint64(4095) // PERF_CONTEXT_MAX: callchain markers lie above it
)

var fileMagic = [8]byte{'P', 'E', 'R', 'F', 'I', 'L', 'E', '2'}

// Feature bits of the file header (enum HEADER_* in tools/perf/util/header.h).
const (
	featTracingData = 1
	featBuildID     = 2
	featHostname    = 3
	featOSRelease   = 4
	featVersion     = 5
	featArch        = 6
	featNRCPUs      = 7
	featCmdline     = 11
	featEventDesc   = 12
	featClockID     = 23
	featCompressed  = 27
	featClockData   = 29
)

// Sample fields that a record may carry, in the order the kernel writes
// them (perf_output_sample in kernel/events/core.c).
const (
	sampleIP         = unix.PERF_SAMPLE_IP
	sampleTID        = unix.PERF_SAMPLE_TID
	sampleTime       = unix.PERF_SAMPLE_TIME
	sampleAddr       = unix.PERF_SAMPLE_ADDR
	sampleRead       = unix.PERF_SAMPLE_READ
	sampleCallchain  = unix.PERF_SAMPLE_CALLCHAIN
	sampleID         = unix.PERF_SAMPLE_ID
	sampleCPU        = unix.PERF_SAMPLE_CPU
	samplePeriod     = unix.PERF_SAMPLE_PERIOD
	sampleStreamID   = unix.PERF_SAMPLE_STREAM_ID
	sampleRaw        = unix.PERF_SAMPLE_RAW
	sampleIdentifier = unix.PERF_SAMPLE_IDENTIFIER
	// supportedSample lists what WriteSample and the reader decode; other
	// bits (branch stack, registers, user stack, ...) come after RAW in a
	// record and so are skipped when reading, but cannot be written.
	supportedSample = sampleIP | sampleTID | sampleTime | sampleAddr | sampleID |
		sampleStreamID | sampleCPU | samplePeriod | sampleCallchain | sampleRaw | sampleIdentifier
)

var le = binary.LittleEndian

// section is perf_file_section: where a part of the file lies.
type section struct{ Offset, Size uint64 }

// fileHeader is struct perf_file_header.
type fileHeader struct {
	Magic    [8]byte
	Size     uint64
	AttrSize uint64
	Attrs    section
	Data     section
	Types    section // event_types, unused since perf 2.6.x
	Features [featureBits / 64]uint64
}

func (h *fileHeader) hasFeature(bit int) bool {
	return h.Features[bit/64]&(1<<(bit%64)) != 0
}

func (h *fileHeader) setFeature(bit int) { h.Features[bit/64] |= 1 << (bit % 64) }

func (h *fileHeader) encode(b []byte) {
	copy(b, h.Magic[:])
	le.PutUint64(b[8:], h.Size)
	le.PutUint64(b[16:], h.AttrSize)
	putSection(b[24:], h.Attrs)
	putSection(b[40:], h.Data)
	putSection(b[56:], h.Types)
	for i, f := range h.Features {
		le.PutUint64(b[72+8*i:], f)
	}
}

func (h *fileHeader) decode(b []byte) {
	copy(h.Magic[:], b)
	h.Size = le.Uint64(b[8:])
	h.AttrSize = le.Uint64(b[16:])
	h.Attrs = getSection(b[24:])
	h.Data = getSection(b[40:])
	h.Types = getSection(b[56:])
	for i := range h.Features {
		h.Features[i] = le.Uint64(b[72+8*i:])
	}
}

func putSection(b []byte, s section) {
	le.PutUint64(b, s.Offset)
	le.PutUint64(b[8:], s.Size)
}

func getSection(b []byte) section {
	return section{le.Uint64(b), le.Uint64(b[8:])}
}

// encodeAttr writes a as the 128 bytes of a PERF_ATTR_SIZE_VER7 attr, with
// its size field set to match.
func encodeAttr(b []byte, a *unix.PerfEventAttr) {
	c := *a
	c.Size = attrSize
	if _, err := binary.Encode(b[:attrSize], le, &c); err != nil {
		panic("BUG: perf_event_attr encoding: " + err.Error())
	}
}

// decodeAttr reads an attr of any size: fields past the bytes given stay
// zero, fields the file has beyond ours (config3, ...) are dropped.
func decodeAttr(b []byte) unix.PerfEventAttr {
	var buf [attrSize]byte
	copy(buf[:], b)
	var a unix.PerfEventAttr
	if _, err := binary.Decode(buf[:], le, &a); err != nil {
		panic("BUG: perf_event_attr decoding: " + err.Error())
	}
	return a
}
