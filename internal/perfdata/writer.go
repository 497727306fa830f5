package perfdata

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// Attr is one event of a file: its perf_event_attr, the name perf shows
// (HEADER_EVENT_DESC, e.g. "skb:kfree_skb") and the sample ids the kernel
// gave its per-CPU instances (PERF_SAMPLE_ID / IDENTIFIER values).
type Attr struct {
	Attr unix.PerfEventAttr
	Name string
	IDs  []uint64
}

// Meta is what a file says about the machine and the recording, in its
// feature sections. The zero value is valid; empty strings are written as
// empty.
type Meta struct {
	Hostname, OSRelease, Version, Arch string
	CPUsOnline, CPUsAvail              uint32
	Cmdline                            []string
	// KernelBuildID is the HEADER_BUILD_ID entry of "[kernel.kallsyms]"
	// (pid -1, PERF_RECORD_MISC_KERNEL); see KernelBuildID.
	KernelBuildID []byte
	// Tracing is HEADER_TRACING_DATA: the tracepoints' formats, which perf
	// needs to print their fields.
	Tracing *TracingData
	// ClockID is the attrs' clockid (HEADER_CLOCKID), when HasClockID.
	ClockID    int32
	HasClockID bool
	// ClockData, when set with HasClockID, is HEADER_CLOCK_DATA: the
	// wall-clock time and the ClockID clock's time at one instant, which
	// lets `perf script -F tod` print wall-clock times.
	ClockData *ClockData
	// KernelText, when non-zero, is the address of _text: the writer then
	// adds a PERF_RECORD_MMAP of "[kernel.kallsyms]_text" as perf record
	// does, so that perf relocates kernel symbols like the ones of a
	// capture of its own.
	KernelText uint64
}

// ClockData pairs a wall-clock time with a reading of the sample clock.
type ClockData struct {
	WallNS  uint64 // nanoseconds since the Unix epoch (CLOCK_REALTIME)
	ClockNS uint64 // the same instant on the ClockID clock
}

// Writer writes a perf.data file. Records are buffered; nothing is
// complete until Close writes the feature sections and the header.
type Writer struct {
	ws        io.WriteSeeker
	bw        *bufio.Writer
	attrs     []Attr
	meta      Meta
	dataStart int64
	dataSize  int64
	buf       []byte
	err       error // sticky: the first write error
	closed    bool
}

// Create starts a perf.data file on w with the given events. Samples of
// several attrs can only be told apart when every attr has
// PERF_SAMPLE_IDENTIFIER in its sample_type, which Create then requires.
func Create(w io.WriteSeeker, attrs []Attr, meta *Meta) (*Writer, error) {
	if err := checkAttrs(attrs); err != nil {
		return nil, err
	}
	wr := &Writer{ws: w, attrs: attrs, buf: make([]byte, 0, 1024)}
	if meta != nil {
		wr.meta = *meta
	}
	start, err := w.Seek(0, io.SeekStart)
	if err != nil || start != 0 {
		return nil, fmt.Errorf("create perf.data: seek to start: %w (the output must be a seekable file, not a pipe)", errOr(err))
	}
	head := wr.encodeHead()
	wr.dataStart = int64(len(head))
	// A provisional header: a file never closed says so when opened.
	hdr := wr.header()
	hdr.encode(head)
	if _, err := w.Write(head); err != nil {
		return nil, fmt.Errorf("create perf.data: write header: %w", err)
	}
	wr.bw = bufio.NewWriterSize(w, 256<<10)
	if wr.meta.KernelText != 0 {
		wr.writeKernelMmap()
	}
	return wr, wr.err
}

func errOr(err error) error {
	if err == nil {
		return errors.New("not at offset 0")
	}
	return err
}

// checkAttrs refuses what perf could not read back: sample fields the
// writer cannot encode, and several attrs whose samples cannot be told
// apart (evlist__valid_sample_type in perf).
func checkAttrs(attrs []Attr) error {
	if len(attrs) == 0 {
		return errors.New("create perf.data: no attrs (give at least the tracepoint's)")
	}
	for i := range attrs {
		a := &attrs[i].Attr
		if extra := a.Sample_type &^ supportedSample; extra != 0 {
			return fmt.Errorf("create perf.data: attr %d (%s): sample_type %#x has fields the writer cannot encode (%#x); use only IDENTIFIER, IP, TID, TIME, ADDR, ID, STREAM_ID, CPU, PERIOD, CALLCHAIN, RAW",
				i, attrs[i].Name, a.Sample_type, extra)
		}
		if len(attrs) > 1 && a.Sample_type&sampleIdentifier == 0 {
			return fmt.Errorf("create perf.data: attr %d (%s): several attrs need PERF_SAMPLE_IDENTIFIER in every sample_type so that samples can be mapped to their attr", i, attrs[i].Name)
		}
		if hasSampleIDAll(a) != hasSampleIDAll(&attrs[0].Attr) {
			return fmt.Errorf("create perf.data: attr %d (%s): sample_id_all differs from attr 0's; perf requires it to be the same on all", i, attrs[i].Name)
		}
	}
	return nil
}

// encodeHead lays out the start of the file as perf record does: the file
// header (rewritten by Close), each attr's ids, then the attrs.
func (w *Writer) encodeHead() []byte {
	nids := 0
	for _, a := range w.attrs {
		nids += len(a.IDs)
	}
	idsStart := fileHeaderSize
	attrsStart := idsStart + 8*nids
	b := make([]byte, attrsStart+fileAttrSize*len(w.attrs))
	off := idsStart
	for i, a := range w.attrs {
		ids := section{Offset: uint64(off), Size: uint64(8 * len(a.IDs))}
		for _, id := range a.IDs {
			le.PutUint64(b[off:], id)
			off += 8
		}
		p := b[attrsStart+i*fileAttrSize:]
		encodeAttr(p, &a.Attr)
		putSection(p[attrSize:], ids)
	}
	return b
}

// header returns the file header for the current state.
func (w *Writer) header() fileHeader {
	return fileHeader{
		Magic:    fileMagic,
		Size:     fileHeaderSize,
		AttrSize: fileAttrSize,
		Attrs: section{
			Offset: uint64(w.dataStart) - uint64(fileAttrSize*len(w.attrs)),
			Size:   uint64(fileAttrSize * len(w.attrs)),
		},
		Data: section{Offset: uint64(w.dataStart), Size: uint64(w.dataSize)},
	}
}

// emit writes one record from w.buf, whose first 8 bytes are its header
// to be filled in here.
func (w *Writer) emit(typ uint32, misc uint16) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("perf.data writer: write after Close")
	}
	if len(w.buf) > maxRecordSize {
		return fmt.Errorf("perf.data writer: record of %d bytes is over perf's limit of %d (shorten the raw payload or callchain)", len(w.buf), maxRecordSize)
	}
	le.PutUint32(w.buf[0:], typ)
	le.PutUint16(w.buf[4:], misc)
	le.PutUint16(w.buf[6:], uint16(len(w.buf)))
	if _, err := w.bw.Write(w.buf); err != nil {
		w.err = fmt.Errorf("perf.data writer: write record: %w", err)
		return w.err
	}
	w.dataSize += int64(len(w.buf))
	return nil
}

func (w *Writer) attr(i int) (*Attr, error) {
	if i < 0 || i >= len(w.attrs) {
		return nil, fmt.Errorf("perf.data writer: attr index %d out of range (the file has %d attrs)", i, len(w.attrs))
	}
	return &w.attrs[i], nil
}

// WriteSample writes s as a PERF_RECORD_SAMPLE of attr (an index into the
// attrs given to Create), encoded per that attr's sample_type. Samples of a
// tracepoint get PERF_RECORD_MISC_KERNEL, as the kernel gives them.
func (w *Writer) WriteSample(attr int, s *Sample) error {
	a, err := w.attr(attr)
	if err != nil {
		return err
	}
	w.begin()
	w.buf = encodeSample(w.buf, a.Attr.Sample_type, s)
	return w.emit(RecordSample, miscKernel)
}

// WriteLost writes a PERF_RECORD_LOST: lost records of the event instance
// id. When the attr has sample_id_all, sid gives the trailer's pid, tid,
// time and cpu (the kernel's LOST record carries them); nil means zeros.
func (w *Writer) WriteLost(attr int, id, lost uint64, sid *Sample) error {
	a, err := w.attr(attr)
	if err != nil {
		return err
	}
	w.begin()
	w.buf = le.AppendUint64(w.buf, id)
	w.buf = le.AppendUint64(w.buf, lost)
	if hasSampleIDAll(&a.Attr) {
		var zero Sample
		if sid == nil {
			sid = &zero
		}
		t := *sid
		t.ID = id
		w.buf = encodeSampleID(w.buf, a.Attr.Sample_type, &t)
	}
	return w.emit(RecordLost, 0)
}

// WriteFinishedRound writes a PERF_RECORD_FINISHED_ROUND: the writer has
// emptied every ring once, so no record read later is older than the
// newest one before the previous round (see File.SortedRecords).
func (w *Writer) WriteFinishedRound() error {
	w.begin()
	return w.emit(RecordFinishedRound, 0)
}

// WriteComm writes a PERF_RECORD_COMM naming thread tid of process pid, as
// perf record synthesises for running threads: with a zero timestamp, so
// that perf applies it as soon as it reads it, and perf script shows comm
// instead of ":pid" for that thread's samples. Write it before them.
func (w *Writer) WriteComm(pid, tid uint32, comm string) error {
	w.begin()
	w.buf = le.AppendUint32(w.buf, pid)
	w.buf = le.AppendUint32(w.buf, tid)
	if len(comm) > 15 {
		comm = comm[:15] // TASK_COMM_LEN - 1, as the kernel keeps it
	}
	w.buf = appendPadded(w.buf, comm, 8)
	if a := &w.attrs[0].Attr; hasSampleIDAll(a) {
		w.buf = encodeSampleID(w.buf, a.Sample_type, &Sample{Pid: pid, Tid: tid})
	}
	return w.emit(recordComm, 0)
}

// writeKernelMmap writes the PERF_RECORD_MMAP perf record synthesises for
// the kernel (perf_event__synthesize_kernel_mmap): pid -1, from _text to
// the end of the address space, pgoff = _text.
func (w *Writer) writeKernelMmap() {
	w.begin()
	w.buf = le.AppendUint32(w.buf, ^uint32(0)) // pid
	w.buf = le.AppendUint32(w.buf, 0)          // tid
	w.buf = le.AppendUint64(w.buf, w.meta.KernelText)
	w.buf = le.AppendUint64(w.buf, ^uint64(0)-w.meta.KernelText) // len
	w.buf = le.AppendUint64(w.buf, w.meta.KernelText)            // pgoff
	w.buf = appendPadded(w.buf, kernelMmapName, 8)
	if a := &w.attrs[0].Attr; hasSampleIDAll(a) {
		w.buf = encodeSampleID(w.buf, a.Sample_type, &Sample{Pid: ^uint32(0), Tid: ^uint32(0)})
	}
	_ = w.emit(recordMmap, miscKernel) // a failure sticks in w.err
}

// appendPadded appends s, a NUL and zeros up to a multiple of align.
func appendPadded(b []byte, s string, align int) []byte {
	n := (len(s) + 1 + align - 1) / align * align
	b = append(b, s...)
	for i := len(s); i < n; i++ {
		b = append(b, 0)
	}
	return b
}

// Close flushes the records, writes the feature sections after the data
// and then the final header. It does not close the underlying file.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	hdr := w.header()
	feats := w.encodeFeatures(&hdr)
	if _, err := w.bw.Write(feats); err != nil {
		return fmt.Errorf("perf.data writer: write features: %w", err)
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("perf.data writer: flush: %w", err)
	}
	if _, err := w.ws.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("perf.data writer: seek to header: %w", err)
	}
	var b [fileHeaderSize]byte
	hdr.encode(b[:])
	if _, err := w.ws.Write(b[:]); err != nil {
		return fmt.Errorf("perf.data writer: write header: %w", err)
	}
	if _, err := w.ws.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("perf.data writer: seek to end: %w", err)
	}
	return nil
}

// begin starts a record in w.buf with room for its header.
func (w *Writer) begin() { w.buf = append(w.buf[:0], 0, 0, 0, 0, 0, 0, 0, 0) }
