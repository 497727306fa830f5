package recording

import (
	"encoding/binary"
	"fmt"
	"time"
)

// MarkerEvent is the name of the report-boundary event in a recording.
const MarkerEvent = "dropmon:report"

// Kinds of boundary.
const (
	KindStart   uint32 = 0 // the run started: the first report's interval starts here
	KindReport  uint32 = 1 // an interval's report was made
	KindSummary uint32 = 2 // the run's summary was made; the last marker
)

// markerMagic opens a marker's raw data.
var markerMagic = [8]byte{'d', 'r', 'o', 'p', 'm', 'o', 'n', '1'}

// Marker is one report boundary.
type Marker struct {
	Kind uint32
	// Wall is when the live run made the report (its time), Clock the same
	// instant on the samples' clock (CLOCK_MONOTONIC): samples up to Clock
	// belong to the report.
	Wall  time.Time
	Clock uint64
	// CPUs are the CPUs watched, Lost the records each CPU's ring had lost
	// since start, in the same order.
	CPUs []int
	Lost []uint64
}

// encode lays the marker out as its sample's raw data: the magic, kind,
// CPU count, wall-clock nanoseconds, then per CPU its number (u32) and
// its lost records (u64), little-endian.
func (m *Marker) encode() []byte {
	le := binary.LittleEndian
	b := append([]byte{}, markerMagic[:]...)
	b = le.AppendUint32(b, m.Kind)
	b = le.AppendUint32(b, uint32(len(m.CPUs)))
	b = le.AppendUint64(b, uint64(m.Wall.UnixNano()))
	for i, cpu := range m.CPUs {
		var lost uint64
		if i < len(m.Lost) {
			lost = m.Lost[i]
		}
		b = le.AppendUint32(b, uint32(cpu))
		b = le.AppendUint64(b, lost)
	}
	return b
}

// maxCPUs bounds a marker's CPU count: Linux's NR_CPUS is at most 8192.
const maxCPUs = 8192

// decodeMarker reads a marker's raw data; the raw data of a perf.data
// sample may carry padding after it.
func decodeMarker(raw []byte, clock uint64) (*Marker, error) {
	le := binary.LittleEndian
	if len(raw) < 24 || [8]byte(raw[:8]) != markerMagic {
		return nil, fmt.Errorf("%s sample: not a dropmon marker (%d bytes)", MarkerEvent, len(raw))
	}
	m := &Marker{Kind: le.Uint32(raw[8:]), Clock: clock, Wall: time.Unix(0, int64(le.Uint64(raw[16:])))}
	n := int(le.Uint32(raw[12:]))
	if m.Kind > KindSummary || n > maxCPUs || len(raw) < 24+12*n {
		return nil, fmt.Errorf("%s sample: kind %d, %d CPUs in %d bytes: corrupt", MarkerEvent, m.Kind, n, len(raw))
	}
	for i := range n {
		off := 24 + 12*i
		m.CPUs = append(m.CPUs, int(le.Uint32(raw[off:])))
		m.Lost = append(m.Lost, le.Uint64(raw[off+4:]))
	}
	return m, nil
}
