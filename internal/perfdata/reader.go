package perfdata

import (
	"fmt"
	"io"
)

// File is an opened perf.data file: its events and what its feature
// sections say. Read its records with Records or SortedRecords.
type File struct {
	Attrs []Attr
	Meta  Meta

	r        io.ReaderAt
	size     int64
	data     section
	byID     map[uint64]int
	idPos    int // byte offset of the sample id in a sample body, -1 if none
	isPos    int // byte offset of the id from the end of a non-sample record, -1 if none
	idAll    bool
	sampleID uint64 // the sample_type that places ids (attr 0's)
}

// maxAttrSize bounds the attr_size header field: perf's attrs are 64 to
// 136 bytes today; a field of thousands is garbage.
const maxAttrSize = 4096

// Open reads the header, attrs and feature sections of a perf.data file
// of size bytes read through r. It refuses pipe-mode, big-endian and
// compressed files (ErrNotSupported) and malformed ones (ErrFormat), with
// the offset of the problem.
func Open(r io.ReaderAt, size int64) (*File, error) {
	f := &File{r: r, size: size, idPos: -1, isPos: -1}
	hdr, err := f.readHeader()
	if err != nil {
		return nil, err
	}
	if err := f.readAttrs(hdr); err != nil {
		return nil, err
	}
	if err := f.readFeatures(hdr); err != nil {
		return nil, err
	}
	f.data = hdr.Data
	if err := f.indexIDs(); err != nil {
		return nil, err
	}
	return f, nil
}

// readAt reads n bytes at off, checking first that they lie in the file,
// so that no size field can cause a large allocation.
func (f *File) readAt(off, n int64, what string) ([]byte, error) {
	if off < 0 || n < 0 || off > f.size || n > f.size-off {
		return nil, corrupt(off, "%s of %d bytes at offset %d lies outside the file of %d bytes", what, n, off, f.size)
	}
	b := make([]byte, n)
	if _, err := f.r.ReadAt(b, off); err != nil && !(err == io.EOF && n == 0) {
		return nil, fmt.Errorf("read %s at offset %d: %w", what, off, err)
	}
	return b, nil
}

func (f *File) readHeader() (*fileHeader, error) {
	if f.size < 16 {
		return nil, corrupt(0, "file of %d bytes is too short for a perf.data header", f.size)
	}
	b, err := f.readAt(0, min(f.size, fileHeaderSize), "file header")
	if err != nil {
		return nil, err
	}
	var hdr fileHeader
	switch magic := string(b[:8]); magic {
	case string(fileMagic[:]):
	case "2ELIFREP":
		return nil, unsupported(0, "big-endian perf.data", "read it with perf script on a big-endian machine, or record on a little-endian one")
	case "PERFFILE":
		return nil, unsupported(0, "perf.data version 1 (perf before 2.6.37)", "record again with a newer perf")
	default:
		return nil, corrupt(0, "magic %q is not PERFILE2: not a perf.data file", magic)
	}
	size := le.Uint64(b[8:])
	if size == 16 {
		return nil, unsupported(0, "pipe-mode perf.data (perf record -o -)",
			"record to a file with -o FILE instead of a pipe")
	}
	if size != fileHeaderSize || len(b) < fileHeaderSize {
		return nil, corrupt(8, "header size %d (file %d bytes), expected %d", size, f.size, fileHeaderSize)
	}
	hdr.decode(b)
	if hdr.Data.Offset > uint64(f.size) || hdr.Data.Size > uint64(f.size)-hdr.Data.Offset {
		return nil, corrupt(40, "data section %d+%d lies outside the file of %d bytes (perf record may not have finished)",
			hdr.Data.Offset, hdr.Data.Size, f.size)
	}
	if hdr.Data.Size == 0 && hdr.Features == [4]uint64{} && uint64(f.size) > hdr.Data.Offset {
		return nil, corrupt(40, "data size is 0 but %d bytes follow the header: the recording was not finished (perf record or dropmon record was killed before writing its header)",
			uint64(f.size)-hdr.Data.Offset)
	}
	if hdr.AttrSize < unixAttrSizeVer0+16 || hdr.AttrSize > maxAttrSize {
		return nil, corrupt(16, "attr size %d out of range %d..%d", hdr.AttrSize, unixAttrSizeVer0+16, maxAttrSize)
	}
	return &hdr, nil
}

// readAttrs reads the attr section: perf_file_attr entries of AttrSize
// bytes, each a perf_event_attr and the section of its ids.
func (f *File) readAttrs(hdr *fileHeader) error {
	if hdr.Attrs.Size%hdr.AttrSize != 0 {
		return corrupt(24, "attr section of %d bytes is not a multiple of the attr size %d", hdr.Attrs.Size, hdr.AttrSize)
	}
	b, err := f.readAt(int64(hdr.Attrs.Offset), int64(hdr.Attrs.Size), "attr section")
	if err != nil {
		return err
	}
	n := int(hdr.Attrs.Size / hdr.AttrSize)
	if n == 0 {
		return corrupt(24, "no attrs: the file describes no events")
	}
	evSize := int(hdr.AttrSize) - 16
	for i := 0; i < n; i++ {
		off := int64(hdr.Attrs.Offset) + int64(i)*int64(hdr.AttrSize)
		p := b[i*int(hdr.AttrSize):]
		a := Attr{Attr: decodeAttr(p[:evSize])}
		ids := getSection(p[evSize:])
		if ids.Size%8 != 0 {
			return corrupt(off+int64(evSize), "ids section of attr %d has %d bytes, not a multiple of 8", i, ids.Size)
		}
		raw, err := f.readAt(int64(ids.Offset), int64(ids.Size), fmt.Sprintf("ids of attr %d", i))
		if err != nil {
			return err
		}
		for j := 0; j+8 <= len(raw); j += 8 {
			a.IDs = append(a.IDs, le.Uint64(raw[j:]))
		}
		f.Attrs = append(f.Attrs, a)
	}
	return nil
}

// indexIDs prepares the mapping of records to attrs. Like perf
// (evlist__valid_sample_type), it needs ids at the same place in every
// attr's records when there are several attrs.
func (f *File) indexIDs() error {
	f.byID = map[uint64]int{}
	for i, a := range f.Attrs {
		for _, id := range a.IDs {
			f.byID[id] = i
		}
	}
	first := &f.Attrs[0].Attr
	f.sampleID = first.Sample_type
	f.idAll = hasSampleIDAll(first)
	f.idPos, f.isPos = idPositions(first.Sample_type)
	if len(f.Attrs) == 1 {
		return nil
	}
	for i := range f.Attrs {
		a := &f.Attrs[i].Attr
		idPos, isPos := idPositions(a.Sample_type)
		if idPos < 0 || idPos != f.idPos || isPos != f.isPos {
			return corrupt(0, "attr %d (%s): sample_type %#x places sample ids unlike attr 0's %#x, so samples cannot be mapped to attrs",
				i, f.Attrs[i].Name, a.Sample_type, first.Sample_type)
		}
		if hasSampleIDAll(a) != f.idAll {
			return corrupt(0, "attr %d (%s): sample_id_all differs from attr 0's", i, f.Attrs[i].Name)
		}
	}
	return nil
}

// idPositions returns where a record's id lies: from the start of a
// sample's body, and from the end of a non-sample record's sample_id_all
// trailer (perf's evsel__calc_id_pos); -1 when the records carry none.
func idPositions(st uint64) (idPos, isPos int) {
	idPos, isPos = -1, -1
	if st&sampleIdentifier != 0 {
		return 0, 8
	}
	if st&sampleID == 0 {
		return -1, -1
	}
	idPos = 0
	for _, bit := range []uint64{sampleIP, sampleTID, sampleTime, sampleAddr} {
		if st&bit != 0 {
			idPos += 8
		}
	}
	isPos = 8
	for _, bit := range []uint64{sampleCPU, sampleStreamID} {
		if st&bit != 0 {
			isPos += 8
		}
	}
	return idPos, isPos
}
