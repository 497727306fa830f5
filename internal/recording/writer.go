package recording

import (
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/internal/perfdata"
	"github.com/dropmon/dropmon/perfring"
	"github.com/dropmon/dropmon/symbolize"
	"github.com/dropmon/dropmon/tracepoint"
)

// Sample ids of the two events: one id for all CPUs of each, since every
// sample carries its CPU.
const (
	tracepointID = 1
	markerID     = 2
)

// Options describe a recording.
type Options struct {
	Format    *tracepoint.Format // the tracepoint's, as tracefs gives it
	Callchain bool               // the samples carry their call chains (--stacks)
	Cmdline   []string
	Version   string // dropmon's version, for HEADER_VERSION
}

// Writer writes a recording. Tap may be called from several goroutines;
// the rest from one.
type Writer struct {
	file    *os.File
	w       *perfdata.Writer
	tracing *perfdata.TracingData

	mu      sync.Mutex
	sample  perfdata.Sample // scratch for Tap, under mu
	err     error           // the first error of Tap, under mu
	samples uint64
	named   map[uint32]bool // threads whose COMM record is written, by tid
	roundAt uint64          // samples at the last Round
}

// Create starts a recording at path (truncating it): the header, the
// events and the tracepoint's format, read from tracefs.
func Create(path string, opts Options) (_ *Writer, err error) {
	dir, err := tracepoint.TracefsPath()
	if err != nil {
		return nil, err
	}
	tracing, err := perfdata.ReadTracingFromTracefs(dir, opts.Format.Group+"/"+opts.Format.Name)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	meta := &perfdata.Meta{
		Version: "dropmon " + opts.Version, Arch: runtime.GOARCH, Cmdline: opts.Cmdline,
		Tracing: tracing, ClockID: unix.CLOCK_MONOTONIC, HasClockID: true,
	}
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		meta.Hostname, meta.OSRelease = unix.ByteSliceToString(uts.Nodename[:]), unix.ByteSliceToString(uts.Release[:])
		meta.Arch = unix.ByteSliceToString(uts.Machine[:])
	}
	if online, err := tracepoint.OnlineCPUs(); err == nil {
		meta.CPUsOnline = uint32(len(online))
		meta.CPUsAvail = uint32(runtime.NumCPU())
		if n := uint32(slices.Max(online) + 1); n > meta.CPUsAvail {
			meta.CPUsAvail = n
		}
	}
	if id, err := perfdata.KernelBuildID(); err == nil {
		meta.KernelBuildID = id
	}
	if text, err := perfdata.KernelText(); err == nil {
		meta.KernelText = text
	}
	meta.ClockData = &perfdata.ClockData{WallNS: uint64(time.Now().UnixNano()), ClockNS: Now()}

	sampleType := uint64(unix.PERF_SAMPLE_IDENTIFIER | unix.PERF_SAMPLE_TID | unix.PERF_SAMPLE_TIME | unix.PERF_SAMPLE_CPU | unix.PERF_SAMPLE_RAW)
	if opts.Callchain {
		sampleType |= unix.PERF_SAMPLE_CALLCHAIN
	}
	bits := uint64(unix.PerfBitUseClockID | unix.PerfBitSampleIDAll)
	attrs := []perfdata.Attr{
		{Name: opts.Format.Group + ":" + opts.Format.Name, IDs: []uint64{tracepointID}, Attr: unix.PerfEventAttr{
			Type: unix.PERF_TYPE_TRACEPOINT, Config: uint64(opts.Format.ID), Sample: 1, Sample_type: sampleType,
			Bits: bits, Clockid: unix.CLOCK_MONOTONIC}},
		{Name: MarkerEvent, IDs: []uint64{markerID}, Attr: unix.PerfEventAttr{
			Type: unix.PERF_TYPE_SOFTWARE, Config: unix.PERF_COUNT_SW_DUMMY, Sample: 1,
			Sample_type: unix.PERF_SAMPLE_IDENTIFIER | unix.PERF_SAMPLE_TID | unix.PERF_SAMPLE_TIME | unix.PERF_SAMPLE_CPU | unix.PERF_SAMPLE_RAW,
			Bits:        bits, Clockid: unix.CLOCK_MONOTONIC}},
	}
	file, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	w, err := perfdata.Create(file, attrs, meta)
	if err != nil {
		file.Close()
		os.Remove(path)
		return nil, fmt.Errorf("record %s: %w", path, err)
	}
	rw := &Writer{file: file, w: w, tracing: tracing, named: map[uint32]bool{}}
	// The markers are dropmon's own samples.
	self := uint32(os.Getpid())
	rw.named[self] = true
	if err := w.WriteComm(self, self, "dropmon"); err != nil {
		file.Close()
		return nil, fmt.Errorf("record %s: %w", path, err)
	}
	return rw, nil
}

// Now reads CLOCK_MONOTONIC, the samples' clock, in nanoseconds.
func Now() uint64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}

// Tap writes a sample or a lost-records record read from a ring: the
// monitor's Config.Tap. An error is kept for Err and Close.
func (w *Writer) Tap(rec *perfring.Record) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return
	}
	s := &w.sample
	*s = perfdata.Sample{ID: tracepointID, Pid: rec.Pid, Tid: rec.Tid, Time: rec.Time, CPU: uint32(rec.CPU),
		Callchain: rec.Callchain, Raw: rec.Raw}
	switch rec.Type {
	case perfring.RecordSample:
		if rec.Tid != 0 && !w.named[rec.Tid] {
			// perf script names a thread from its COMM record; perf record
			// synthesises them at start, a recording when it first sees one.
			w.named[rec.Tid] = true
			if comm := threadName(rec.Pid, rec.Tid); comm != "" {
				if w.err = w.w.WriteComm(rec.Pid, rec.Tid, comm); w.err != nil {
					return
				}
			}
		}
		w.err = w.w.WriteSample(0, s)
		w.samples++
	case perfring.RecordLost:
		s.Raw, s.Callchain = nil, nil
		w.err = w.w.WriteLost(0, tracepointID, rec.Lost, s)
	case perfring.RecordComm:
		// A task exec'd or renamed itself: perf names its later samples so.
		w.named[rec.Tid] = true
		w.err = w.w.WriteComm(rec.Pid, rec.Tid, string(rec.Comm))
	}
}

// threadName reads a thread's name from /proc, "" when it is gone.
func threadName(pid, tid uint32) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/comm", pid, tid))
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}

// Round ends a round of records (perf's FINISHED_ROUND): the monitor's
// Config.TapRound, after each pass over every ring. A sorting reader then
// holds two rounds at most, not two reports' worth. Nothing is written when
// no sample came since the last round.
func (w *Writer) Round() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil || w.samples == w.roundAt {
		return
	}
	w.roundAt = w.samples
	w.err = w.w.WriteFinishedRound()
}

// Mark writes a report boundary. Every sample read before it (Tap) is
// written before it.
func (w *Writer) Mark(m *Marker) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.err = w.w.WriteSample(1, &perfdata.Sample{ID: markerID, Time: m.Clock, Pid: uint32(os.Getpid()), Tid: uint32(os.Getpid()), Raw: m.encode()})
	if w.err == nil {
		// perf sorts samples of one round at the next; a marker ends one.
		w.err = w.w.WriteFinishedRound()
	}
	return w.err
}

// Samples returns how many samples were written.
func (w *Writer) Samples() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.samples
}

// Close stores the kallsyms entries of addrs (the drop locations and call
// chain frames seen) from tab, finishes the file and closes it.
func (w *Writer) Close(addrs []uint64, tab *symbolize.Table) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if tab != nil {
		w.tracing.Kallsyms = KallsymsOf(addrs, tab)
	}
	err := w.err
	if cerr := w.w.Close(); err == nil {
		err = cerr
	}
	if cerr := w.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("record %s: %w", w.file.Name(), err)
	}
	return nil
}

// KallsymsOf returns, in /proc/kallsyms's format, the symbols that cover
// addrs and the symbol after each (which bounds it), sorted.
func KallsymsOf(addrs []uint64, tab *symbolize.Table) []byte {
	lines := map[uint64]string{}
	add := func(s symbolize.Symbol) {
		line := fmt.Sprintf("%016x t %s", s.Addr, s.Name)
		if s.Module != "" {
			line += "\t[" + s.Module + "]"
		}
		lines[s.Addr] = line
	}
	for _, addr := range addrs {
		sym, _, ok := tab.Lookup(addr)
		if !ok {
			continue
		}
		add(sym)
		if sym.Size > 0 {
			if next, off, ok := tab.Lookup(sym.Addr + sym.Size); ok && off == 0 {
				add(next)
			}
		}
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(lines)) {
		b.WriteString(lines[k])
		b.WriteByte('\n')
	}
	return []byte(b.String())
}
