package perfdata

import (
	"fmt"
	"math/bits"
)

// Feature sections follow the data section: first a table with one
// perf_file_section per bit set in the header's bitmap, in bit order, then
// their contents (perf_header__adds_write in tools/perf/util/header.c).

// encodeFeatures sets hdr's feature bits and returns the bytes that go
// right after the data section.
func (w *Writer) encodeFeatures(hdr *fileHeader) []byte {
	type feat struct {
		bit  int
		body []byte
	}
	m := &w.meta
	var feats []feat
	add := func(bit int, body []byte) { feats = append(feats, feat{bit, body}) }
	if m.Tracing != nil {
		add(featTracingData, m.Tracing.encode())
	}
	if len(m.KernelBuildID) > 0 {
		add(featBuildID, encodeBuildID(m.KernelBuildID))
	}
	add(featHostname, appendString(nil, m.Hostname))
	add(featOSRelease, appendString(nil, m.OSRelease))
	add(featVersion, appendString(nil, m.Version))
	add(featArch, appendString(nil, m.Arch))
	add(featNRCPUs, le.AppendUint32(le.AppendUint32(nil, m.CPUsAvail), m.CPUsOnline))
	cmd := le.AppendUint32(nil, uint32(len(m.Cmdline)))
	for _, a := range m.Cmdline {
		cmd = appendString(cmd, a)
	}
	add(featCmdline, cmd)
	add(featEventDesc, w.encodeEventDesc())
	if m.HasClockID {
		add(featClockID, le.AppendUint64(nil, uint64(int64(m.ClockID))))
		if m.ClockData != nil {
			b := le.AppendUint32(nil, 1) // version
			b = le.AppendUint32(b, uint32(m.ClockID))
			b = le.AppendUint64(b, m.ClockData.WallNS)
			b = le.AppendUint64(b, m.ClockData.ClockNS)
			add(featClockData, b)
		}
	}
	start := w.dataStart + w.dataSize
	off := uint64(start) + uint64(16*len(feats))
	out := make([]byte, 16*len(feats))
	for i, f := range feats {
		hdr.setFeature(f.bit)
		putSection(out[16*i:], section{Offset: off, Size: uint64(len(f.body))})
		off += uint64(len(f.body))
	}
	for _, f := range feats {
		out = append(out, f.body...)
	}
	return out
}

// appendString appends a perf header string (do_write_string): a u32
// length, then the text with a NUL, padded with zeros to 64 bytes.
func appendString(b []byte, s string) []byte {
	n := (len(s) + 1 + nameAlign - 1) / nameAlign * nameAlign
	b = le.AppendUint32(b, uint32(n))
	return appendPadded(b, s, nameAlign)
}

// encodeBuildID writes one build_id_event for the host kernel.
func encodeBuildID(id []byte) []byte {
	if len(id) > 20 {
		id = id[:20]
	}
	name := kernelDSOName
	size := 8 + 4 + 24 + (len(name)+1+nameAlign-1)/nameAlign*nameAlign
	b := le.AppendUint32(nil, 0) // type: unused in the section
	b = le.AppendUint16(b, miscKernel|miscBuildIDSize)
	b = le.AppendUint16(b, uint16(size))
	b = le.AppendUint32(b, ^uint32(0)) // pid -1: the host kernel
	var raw [24]byte
	copy(raw[:], id)
	raw[20] = byte(len(id))
	b = append(b, raw[:]...)
	return appendPadded(b, name, nameAlign)
}

// encodeEventDesc writes HEADER_EVENT_DESC: the attrs again, with their
// names and ids (write_event_desc).
func (w *Writer) encodeEventDesc() []byte {
	b := le.AppendUint32(nil, uint32(len(w.attrs)))
	b = le.AppendUint32(b, attrSize)
	for i := range w.attrs {
		a := &w.attrs[i]
		var raw [attrSize]byte
		encodeAttr(raw[:], &a.Attr)
		b = append(b, raw[:]...)
		b = le.AppendUint32(b, uint32(len(a.IDs)))
		b = appendString(b, a.Name)
		for _, id := range a.IDs {
			b = le.AppendUint64(b, id)
		}
	}
	return b
}

// readFeatures reads the feature sections the reader knows into f.Meta,
// and refuses compressed files.
func (f *File) readFeatures(hdr *fileHeader) error {
	n := 0
	for _, w := range hdr.Features {
		n += bits.OnesCount64(w)
	}
	tableOff := int64(hdr.Data.Offset + hdr.Data.Size)
	table, err := f.readAt(tableOff, int64(16*n), "feature section table")
	if err != nil {
		return err
	}
	idx := 0
	for bit := 0; bit < featureBits; bit++ {
		if !hdr.hasFeature(bit) {
			continue
		}
		sec := getSection(table[16*idx:])
		idx++
		if bit == featCompressed {
			return unsupported(tableOff, "records are compressed (perf record -z)",
				"record again without -z")
		}
		parse := featureParsers[bit]
		if parse == nil {
			continue
		}
		body, err := f.readAt(int64(sec.Offset), int64(sec.Size), fmt.Sprintf("feature %d section", bit))
		if err != nil {
			return err
		}
		if err := parse(f, body); err != nil {
			return corrupt(int64(sec.Offset), "feature %d: %v", bit, err)
		}
	}
	return nil
}

var featureParsers = map[int]func(f *File, b []byte) error{
	featTracingData: func(f *File, b []byte) error {
		t, err := decodeTracing(b)
		f.Meta.Tracing = t
		return err
	},
	featBuildID:   (*File).parseBuildID,
	featHostname:  func(f *File, b []byte) error { return parseString(b, &f.Meta.Hostname) },
	featOSRelease: func(f *File, b []byte) error { return parseString(b, &f.Meta.OSRelease) },
	featVersion:   func(f *File, b []byte) error { return parseString(b, &f.Meta.Version) },
	featArch:      func(f *File, b []byte) error { return parseString(b, &f.Meta.Arch) },
	featNRCPUs: func(f *File, b []byte) error {
		d := decoder{b: b}
		f.Meta.CPUsAvail, f.Meta.CPUsOnline = d.u32(), d.u32()
		return d.err
	},
	featCmdline:   (*File).parseCmdline,
	featEventDesc: (*File).parseEventDesc,
	featClockID: func(f *File, b []byte) error {
		d := decoder{b: b}
		f.Meta.ClockID, f.Meta.HasClockID = int32(d.u64()), true
		return d.err
	},
	featClockData: func(f *File, b []byte) error {
		d := decoder{b: b}
		if v := d.u32(); d.err == nil && v != 1 {
			return fmt.Errorf("clock data version %d, expected 1", v)
		}
		d.u32()
		cd := &ClockData{WallNS: d.u64(), ClockNS: d.u64()}
		if d.err == nil {
			f.Meta.ClockData = cd
		}
		return d.err
	},
}

func parseString(b []byte, dst *string) error {
	d := decoder{b: b}
	*dst = d.str()
	return d.err
}

func (f *File) parseCmdline(b []byte) error {
	d := decoder{b: b}
	n := d.count(4)
	f.Meta.Cmdline = nil
	for i := 0; i < n && d.err == nil; i++ {
		f.Meta.Cmdline = append(f.Meta.Cmdline, d.str())
	}
	return d.err
}

// parseBuildID finds the host kernel's entry among the build_id_events.
func (f *File) parseBuildID(b []byte) error {
	for len(b) > 0 {
		if len(b) < 8+4+24 {
			return fmt.Errorf("build-id entry of %d bytes is too short", len(b))
		}
		misc := le.Uint16(b[4:])
		size := int(le.Uint16(b[6:]))
		if size < 8+4+24 || size > len(b) {
			return fmt.Errorf("build-id entry size %d out of range (%d bytes left)", size, len(b))
		}
		pid := int32(le.Uint32(b[8:]))
		id := b[12:32]
		if misc&miscBuildIDSize != 0 && int(b[32]) <= 20 {
			id = id[:b[32]]
		}
		name := cString(b[36:size])
		if pid == hostKernelPID && misc&7 == miscKernel && name == kernelDSOName {
			f.Meta.KernelBuildID = append([]byte(nil), id...)
		}
		b = b[size:]
	}
	return nil
}

// parseEventDesc takes the attrs' names from HEADER_EVENT_DESC, which lists
// them in the order of the attr section.
func (f *File) parseEventDesc(b []byte) error {
	d := decoder{b: b}
	n := d.count(4)
	sz := int(d.u32())
	if d.err == nil && (sz < unixAttrSizeVer0 || sz > len(b)) {
		return fmt.Errorf("event desc attr size %d out of range", sz)
	}
	for i := 0; i < n && d.err == nil; i++ {
		d.bytes(sz)
		nids := d.count(8)
		name := d.str()
		d.bytes(8 * nids)
		if i < len(f.Attrs) && d.err == nil {
			f.Attrs[i].Name = name
		}
	}
	return d.err
}
