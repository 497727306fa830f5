package perfdata

import (
	"bufio"
	"fmt"
	"io"
)

// Record is one record of the data section, as Records yields it.
type Record struct {
	Type uint32 // RecordSample, RecordLost or RecordFinishedRound
	Misc uint16
	// Attr is the index in File.Attrs of the record's event, -1 when the
	// record names none (FINISHED_ROUND) or an id the file does not list.
	Attr int
	// Sample holds a sample's fields; for LOST records, those of the
	// sample_id_all trailer when the attr has it (CPU, Time, ...) and ID.
	Sample Sample
	Lost   uint64 // number of records lost, for RecordLost
	// Offset is where the record starts in the file.
	Offset int64
}

// Records calls fn for each SAMPLE, LOST and FINISHED_ROUND record in file
// order and skips the other types (COMM, MMAP, perf's own records). The
// Record and the slices in it are reused: they are valid only until fn
// returns. An error from fn stops the walk and is returned as is.
func (f *File) Records(fn func(*Record) error) error {
	sr := io.NewSectionReader(f.r, int64(f.data.Offset), int64(f.data.Size))
	br := bufio.NewReaderSize(sr, int(min(f.data.Size, 256<<10)))
	var (
		rec Record
		buf = make([]byte, 4096)
		off = int64(f.data.Offset)
		end = int64(f.data.Offset + f.data.Size)
	)
	for off < end {
		if end-off < recordHeaderSize {
			return corrupt(off, "%d bytes at the end of the data section are too few for a record header", end-off)
		}
		if _, err := io.ReadFull(br, buf[:recordHeaderSize]); err != nil {
			return fmt.Errorf("read record header at offset %d: %w", off, err)
		}
		typ, misc, size := le.Uint32(buf), le.Uint16(buf[4:]), int64(le.Uint16(buf[6:]))
		if size < recordHeaderSize {
			return corrupt(off, "record of type %d has size %d, less than its 8-byte header", typ, size)
		}
		if size > end-off {
			return corrupt(off, "record of type %d and %d bytes overruns the data section, which ends at %d", typ, size, end)
		}
		if int(size) > len(buf) {
			buf = append(buf, make([]byte, int(size)-len(buf))...) // at most 64 KiB: size is a u16
		}
		body := buf[recordHeaderSize:size]
		if _, err := io.ReadFull(br, body); err != nil {
			return fmt.Errorf("read record at offset %d: %w", off, err)
		}
		ok, err := f.decode(&rec, typ, misc, body, off)
		if err != nil {
			return err
		}
		if ok {
			if err := fn(&rec); err != nil {
				return err
			}
		}
		off += size
	}
	return nil
}

// decode fills rec from one record's body and reports whether the record
// is of a type Records yields.
func (f *File) decode(rec *Record, typ uint32, misc uint16, body []byte, off int64) (bool, error) {
	callchain := rec.Sample.Callchain[:0]
	*rec = Record{Type: typ, Misc: misc, Attr: -1, Offset: off}
	rec.Sample.Callchain = callchain
	switch typ {
	case RecordSample:
		return true, f.decodeSample(rec, body, off)
	case RecordLost:
		d := decoder{b: body}
		rec.Sample.ID, rec.Lost = d.u64(), d.u64()
		if d.err != nil {
			return false, corrupt(off, "LOST record: %v", d.err)
		}
		rec.Attr = f.attrOf(rec.Sample.ID)
		if f.idAll && rec.Attr >= 0 {
			id := rec.Sample.ID
			f.decodeSampleID(rec, body[16:], f.Attrs[rec.Attr].Attr.Sample_type)
			rec.Sample.ID = id
		}
		return true, nil
	case RecordFinishedRound:
		return true, nil
	case recordCompressed:
		return false, unsupported(off, "compressed records (perf record -z)", "record again without -z")
	}
	return false, nil
}

// attrOf maps an id to its attr; the only attr takes every record.
func (f *File) attrOf(id uint64) int {
	if len(f.Attrs) == 1 {
		return 0
	}
	if i, ok := f.byID[id]; ok {
		return i
	}
	return -1
}

// decodeSample decodes a PERF_RECORD_SAMPLE body per its attr's
// sample_type. A sample whose id names no attr keeps only its ID.
func (f *File) decodeSample(rec *Record, body []byte, off int64) error {
	if len(f.Attrs) > 1 {
		if f.idPos+8 > len(body) {
			return corrupt(off, "sample of %d bytes too short to hold its id at %d", len(body)+8, f.idPos)
		}
		rec.Sample.ID = le.Uint64(body[f.idPos:])
	}
	rec.Attr = f.attrOf(rec.Sample.ID)
	if rec.Attr < 0 {
		return nil
	}
	if err := decodeSampleBody(&rec.Sample, f.Attrs[rec.Attr].Attr.Sample_type, f.Attrs[rec.Attr].Attr.Read_format, body); err != nil {
		return corrupt(off, "sample of %s: %v", f.Attrs[rec.Attr].Name, err)
	}
	return nil
}

// decodeSampleBody reads the fields in perf_output_sample order up to RAW;
// fields after RAW are ignored. s.Callchain is appended to; s.Raw points
// into body.
func decodeSampleBody(s *Sample, st, readFormat uint64, body []byte) error {
	d := decoder{b: body}
	if st&sampleIdentifier != 0 {
		s.ID = d.u64()
	}
	if st&sampleIP != 0 {
		s.IP = d.u64()
	}
	if st&sampleTID != 0 {
		s.Pid, s.Tid = d.u32(), d.u32()
	}
	if st&sampleTime != 0 {
		s.Time = d.u64()
	}
	if st&sampleAddr != 0 {
		s.Addr = d.u64()
	}
	if st&sampleID != 0 {
		s.ID = d.u64()
	}
	if st&sampleStreamID != 0 {
		s.StreamID = d.u64()
	}
	if st&sampleCPU != 0 {
		s.CPU = d.u32()
		d.u32()
	}
	if st&samplePeriod != 0 {
		s.Period = d.u64()
	}
	if st&sampleRead != 0 {
		skipRead(&d, readFormat)
	}
	if st&sampleCallchain != 0 {
		for n := d.count64(8); n > 0 && d.err == nil; n-- {
			s.Callchain = append(s.Callchain, d.u64())
		}
	}
	if st&sampleRaw != 0 {
		n := d.count(1)
		s.Raw = d.bytes(n)
	}
	return d.err
}

// skipRead skips a PERF_SAMPLE_READ value (perf_output_read): a group's
// values or one value, with the optional fields read_format asks for.
func skipRead(d *decoder, rf uint64) {
	const (
		enabled = 1 << 0 // PERF_FORMAT_TOTAL_TIME_ENABLED
		running = 1 << 1
		withID  = 1 << 2
		group   = 1 << 3
		lost    = 1 << 4
	)
	per := 8
	if rf&withID != 0 {
		per += 8
	}
	if rf&lost != 0 {
		per += 8
	}
	times := 0
	if rf&enabled != 0 {
		times += 8
	}
	if rf&running != 0 {
		times += 8
	}
	if rf&group == 0 {
		d.bytes(per + times)
		return
	}
	n := d.u64()
	d.bytes(times)
	if d.err == nil && n > uint64(len(d.b)-d.off)/uint64(per) {
		d.err = fmt.Errorf("read group of %d values overruns the sample", n)
		return
	}
	d.bytes(int(n) * per)
}

// decodeSampleID reads the sample_id_all trailer at the end of a
// non-sample record body.
func (f *File) decodeSampleID(rec *Record, body []byte, st uint64) {
	n := sampleIDSize(st)
	if n > len(body) {
		return
	}
	d := decoder{b: body[len(body)-n:]}
	s := &rec.Sample
	if st&sampleTID != 0 {
		s.Pid, s.Tid = d.u32(), d.u32()
	}
	if st&sampleTime != 0 {
		s.Time = d.u64()
	}
	if st&sampleID != 0 {
		s.ID = d.u64()
	}
	if st&sampleStreamID != 0 {
		s.StreamID = d.u64()
	}
	if st&sampleCPU != 0 {
		s.CPU = d.u32()
	}
}
